//! The send guards, the request fingerprint and the submit command.

use parlay_kit::config::MessagingConfig;
use parlay_proto::common::v1::Callback;

use super::*;

fn sms(addresses: &[&str], text: &str) -> pb::OutboundMessage {
    pb::OutboundMessage {
        sender_address: "tel:+15550000".into(),
        addresses: addresses.iter().map(|a| a.to_string()).collect(),
        content: Some(PbContent::Sms(pb::SmsText {
            message: text.into(),
        })),
        ..Default::default()
    }
}

fn mms(sizes: &[usize]) -> pb::OutboundMessage {
    pb::OutboundMessage {
        sender_address: "tel:+15550000".into(),
        addresses: vec!["tel:+15551111".into()],
        content: Some(PbContent::Mms(pb::OutboundMms {
            subject: Some("Holiday".into()),
            priority: pb::Priority::Normal as i32,
            message: None,
            attachments: sizes
                .iter()
                .enumerate()
                .map(|(i, n)| pb::Attachment {
                    name: format!("f{i}"),
                    content_type: "image/jpeg".into(),
                    data: vec![7; *n],
                })
                .collect(),
        })),
        ..Default::default()
    }
}

fn refusal(m: &pb::OutboundMessage, config: &MessagingConfig) -> String {
    match check(config, m) {
        Err(e) => format!("{e:?}"),
        Ok(_) => "accepted".into(),
    }
}

#[test]
fn addresses_must_be_present_distinct_and_few_enough() {
    let config = MessagingConfig {
        max_addresses: 2,
        ..Default::default()
    };
    assert_eq!(
        refusal(&sms(&[], "hi"), &config),
        r#"NoAddresses("address")"#
    );
    assert_eq!(
        refusal(&sms(&["tel:+1", " "], "hi"), &config),
        r#"NoAddresses("address")"#
    );
    assert_eq!(
        refusal(&sms(&["sip:Bob@x.org", "sip:bob@X.org"], "hi"), &config),
        r#"DuplicateAddress("address")"#
    );
    assert_eq!(
        refusal(&sms(&["tel:+1", "tel:+2", "tel:+3"], "hi"), &config),
        r#"TooManyAddresses("address")"#
    );
    assert_eq!(
        refusal(&sms(&["tel:+1", "tel:+2"], "hi"), &config),
        "accepted"
    );
}

#[test]
fn a_text_over_max_segments_reports_the_encodings_maximum() {
    let config = MessagingConfig::default();
    assert_eq!(
        refusal(&sms(&["tel:+1"], &"b".repeat(1530)), &config),
        "accepted"
    );
    assert_eq!(
        refusal(&sms(&["tel:+1"], &"b".repeat(1531)), &config),
        "TooLong(1530)"
    );
    assert_eq!(
        refusal(&sms(&["tel:+1"], &"ж".repeat(671)), &config),
        "TooLong(670)"
    );
    let one = MessagingConfig {
        max_segments: 1,
        ..Default::default()
    };
    assert_eq!(
        refusal(&sms(&["tel:+1"], &"b".repeat(161)), &one),
        "TooLong(160)"
    );
}

#[test]
fn mms_files_over_the_limit_are_refused() {
    let config = MessagingConfig {
        max_attachment_bytes: 100,
        ..Default::default()
    };
    assert_eq!(refusal(&mms(&[60, 40]), &config), "accepted");
    assert_eq!(
        refusal(&mms(&[60, 41]), &config),
        r#"Invalid("attachments")"#
    );
    let mut none = mms(&[]);
    none.content = None;
    assert_eq!(
        refusal(&none, &config),
        r#"Invalid("outboundSMSTextMessage")"#
    );
}

#[test]
fn the_fingerprint_covers_the_content_but_not_the_correlator() {
    let config = MessagingConfig::default();
    let hash = |m: &pb::OutboundMessage| check(&config, m).unwrap().hash;
    let base = sms(&["tel:+1", "tel:+2"], "hello");
    let mut with_correlator = base.clone();
    with_correlator.client_correlator = Some("c1".into());
    assert_eq!(hash(&base), hash(&with_correlator));
    let mut other_text = base.clone();
    other_text.content = Some(PbContent::Sms(pb::SmsText {
        message: "hello!".into(),
    }));
    let mut other_order = base.clone();
    other_order.addresses.reverse();
    let mut with_callback = base.clone();
    with_callback.receipt_request = Some(Callback {
        notify_url: "https://app/x".into(),
        callback_data: None,
    });
    let mut other_data = with_callback.clone();
    other_data.receipt_request.as_mut().unwrap().callback_data = Some("d".into());
    let mut named = base.clone();
    named.sender_name = Some("Shop".into());
    let all = [
        hash(&base),
        hash(&other_text),
        hash(&other_order),
        hash(&with_callback),
        hash(&other_data),
        hash(&named),
    ];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let mut bigger = mms(&[10]);
    assert_eq!(hash(&bigger), hash(&mms(&[10])));
    if let Some(PbContent::Mms(m)) = &mut bigger.content {
        m.attachments[0].data[0] = 8;
    }
    assert_ne!(hash(&bigger), hash(&mms(&[10])));
}

#[test]
fn a_long_text_is_submitted_in_numbered_segments_with_one_reference() {
    let config = MessagingConfig::default();
    let m = sms(&["tel:+1", "tel:+2"], &"a".repeat(307));
    let c = check(&config, &m).unwrap();
    let command = submit("rq1", &m, &c);
    assert_eq!(command.destinations, ["tel:+1", "tel:+2"]);
    let Some(message_submit::Kind::Sms(s)) = command.kind else {
        panic!("not an SMS: {command:?}");
    };
    assert_eq!(s.encoding, SmsEncoding::Gsm7 as i32);
    assert_eq!(s.segments.len(), 3);
    let reference = s.segments[0].reference;
    assert!((1..=255).contains(&reference));
    for (i, seg) in s.segments.iter().enumerate() {
        assert_eq!(
            (seg.reference, seg.sequence, seg.total),
            (reference, i as u32 + 1, 3)
        );
    }
    assert_eq!(
        s.segments
            .iter()
            .map(|x| x.text.as_str())
            .collect::<String>(),
        "a".repeat(307)
    );
    // A single segment carries no reference.
    let m = sms(&["tel:+1"], "short");
    let c = check(&config, &m).unwrap();
    let Some(message_submit::Kind::Sms(s)) = submit("rq2", &m, &c).kind else {
        panic!("not an SMS");
    };
    assert_eq!((s.segments[0].reference, s.segments[0].total), (0, 1));
}

#[test]
fn references_spread_over_1_to_255() {
    let refs: std::collections::HashSet<u32> =
        (0..2000).map(|i| reference(&format!("rq{i}"))).collect();
    assert!(refs.iter().all(|r| (1..=255).contains(r)));
    assert!(refs.len() > 200, "{}", refs.len());
}

#[test]
fn an_mms_is_submitted_whole_with_its_priority_name() {
    let m = mms(&[3]);
    let c = check(&MessagingConfig::default(), &m).unwrap();
    let Some(message_submit::Kind::Mms(x)) = submit("rq3", &m, &c).kind else {
        panic!("not an MMS");
    };
    assert_eq!(x.subject.as_deref(), Some("Holiday"));
    assert_eq!(x.priority.as_deref(), Some("Normal"));
    assert_eq!(x.attachments[0].data, vec![7; 3]);
}
