//! Outbound requests: submits, guards, correlator retries, ownership, retention.

use parlay_proto::{
    common::v1::Callback,
    messaging::v1::{self as pb, outbound_message::Content},
    net::v1::{DeliveryState, SmsEncoding, message_submit},
};
use tonic::Code;

use crate::harness::{APP, Backend, Harness, OTHER_APP, eventually, receipt, refusal, req};

pub const SENDER: &str = "tel:+15551230001";

pub fn sms(addresses: &[&str], text: &str) -> pb::OutboundMessage {
    pb::OutboundMessage {
        sender_address: SENDER.into(),
        addresses: addresses.iter().map(|a| a.to_string()).collect(),
        content: Some(Content::Sms(pb::SmsText {
            message: text.into(),
        })),
        root: pb::RequestRoot::Message as i32,
        ..Default::default()
    }
}

pub fn with_receipts(mut m: pb::OutboundMessage, data: &str) -> pb::OutboundMessage {
    m.receipt_request = Some(Callback {
        notify_url: "https://app.example.org/dlr".into(),
        callback_data: Some(data.into()),
    });
    m
}

pub async fn send(h: &Harness, app: &str, m: pb::OutboundMessage) -> pb::SendMessageResponse {
    h.client()
        .send_message(req(app, pb::SendMessageRequest { message: Some(m) }))
        .await
        .unwrap()
        .into_inner()
}

async fn send_err(h: &Harness, m: pb::OutboundMessage) -> (Code, String, Vec<String>) {
    refusal(
        h.client()
            .send_message(req(APP, pb::SendMessageRequest { message: Some(m) }))
            .await
            .unwrap_err(),
    )
}

pub async fn get(
    h: &Harness,
    app: &str,
    sender: &str,
    id: &str,
) -> Result<pb::OutboundMessage, tonic::Status> {
    h.client()
        .get_outbound_request(req(
            app,
            pb::OutboundRef {
                sender_address: sender.into(),
                request_id: id.into(),
            },
        ))
        .await
        .map(|r| r.into_inner())
}

pub fn statuses(m: &pb::OutboundMessage) -> Vec<(String, pb::DeliveryStatus, Option<String>)> {
    m.delivery_infos
        .iter()
        .map(|d| (d.address.clone(), d.status(), d.description.clone()))
        .collect()
}

#[tokio::test]
async fn a_send_stores_the_request_and_writes_one_submit_with_its_segments() {
    let h = Harness::start().await;
    let to = ["tel:+15557654321", "sip:bob@example.org"];
    let text = "a".repeat(307);
    let sent = send(&h, APP, sms(&to, &text)).await;
    assert!(sent.created);
    let m = sent.message.unwrap();
    assert!(m.request_id.starts_with("rq"));
    assert_eq!(m.segments, 3);
    assert_eq!(m.addresses, to);
    assert_eq!(m.root(), pb::RequestRoot::Message);
    assert!(
        statuses(&m)
            .iter()
            .all(|(_, s, _)| *s == pb::DeliveryStatus::MessageWaiting)
    );
    assert_eq!(
        statuses(&m)
            .iter()
            .map(|(a, ..)| a.as_str())
            .collect::<Vec<_>>(),
        to
    );

    let ucs2 = send(&h, APP, sms(&to[..1], &("ж".repeat(70) + "😀"))).await;
    assert_eq!(ucs2.message.unwrap().segments, 2);
    h.drained().await;
    let submits = h.submits();
    assert_eq!(submits.len(), 2, "{submits:?}");
    let first = submits
        .iter()
        .find(|s| s.request_id == m.request_id)
        .unwrap();
    assert_eq!(first.destinations, to);
    assert_eq!(first.sender_address, SENDER);
    let Some(message_submit::Kind::Sms(s)) = &first.kind else {
        panic!("not an SMS: {first:?}");
    };
    assert_eq!(s.encoding(), SmsEncoding::Gsm7);
    assert_eq!(
        s.segments
            .iter()
            .map(|x| (x.sequence, x.total, x.text.chars().count()))
            .collect::<Vec<_>>(),
        [(1, 3, 153), (2, 3, 153), (3, 3, 1)]
    );
    assert!(
        s.segments
            .iter()
            .all(|x| x.reference == s.segments[0].reference && x.reference > 0)
    );
    let second = submits
        .iter()
        .find(|s| s.request_id != m.request_id)
        .unwrap();
    let Some(message_submit::Kind::Sms(s)) = &second.kind else {
        panic!("not an SMS");
    };
    assert_eq!((s.encoding(), s.segments.len()), (SmsEncoding::Ucs2, 2));
    // The request reads back as answered, under its sender's URL in any case.
    let read = get(&h, APP, &SENDER.to_uppercase(), &m.request_id)
        .await
        .unwrap();
    assert_eq!(read, m);
    h.finish().await;
}

#[tokio::test]
async fn an_mms_is_submitted_whole_and_reads_back_without_its_bytes() {
    let h = Harness::start().await;
    let m = pb::OutboundMessage {
        sender_address: SENDER.into(),
        addresses: vec!["tel:+15557654321".into()],
        content: Some(Content::Mms(pb::OutboundMms {
            subject: Some("Holiday".into()),
            priority: pb::Priority::Normal as i32,
            message: Some("Greetings".into()),
            attachments: vec![pb::Attachment {
                name: "beach.jpg".into(),
                content_type: "image/jpeg".into(),
                data: vec![1; 5000],
            }],
        })),
        ..Default::default()
    };
    let sent = send(&h, APP, m).await.message.unwrap();
    let Some(Content::Mms(mms)) = &sent.content else {
        panic!("not an MMS: {sent:?}");
    };
    assert_eq!(mms.attachments[0].name, "beach.jpg");
    assert!(mms.attachments[0].data.is_empty());
    assert_eq!(mms.priority(), pb::Priority::Normal);
    h.drained().await;
    let submit = &h.submits()[0];
    let Some(message_submit::Kind::Mms(x)) = &submit.kind else {
        panic!("not an MMS: {submit:?}");
    };
    assert_eq!(x.subject.as_deref(), Some("Holiday"));
    assert_eq!(x.priority.as_deref(), Some("Normal"));
    assert_eq!(x.text.as_deref(), Some("Greetings"));
    assert_eq!(x.attachments[0].data.len(), 5000);
    h.finish().await;
}

#[tokio::test]
async fn the_service_guards_what_the_gateway_cannot_know() {
    let h = Harness::start_with(Backend::Sqlite, |c| c.messaging.max_addresses = 2).await;
    assert_eq!(
        send_err(&h, sms(&[], "hi")).await,
        (
            Code::InvalidArgument,
            "SVC0004".into(),
            vec!["address".into()]
        )
    );
    assert_eq!(
        send_err(&h, sms(&["tel:+1555", "TEL:+1555"], "hi")).await,
        (
            Code::PermissionDenied,
            "POL0013".into(),
            vec!["address".into()]
        )
    );
    assert_eq!(
        send_err(&h, sms(&["tel:+1", "tel:+2", "tel:+3"], "hi")).await,
        (
            Code::PermissionDenied,
            "POL0003".into(),
            vec!["address".into()]
        )
    );
    assert_eq!(
        send_err(&h, sms(&["tel:+1"], &"b".repeat(1531))).await,
        (Code::InvalidArgument, "SVC0280".into(), vec!["1530".into()])
    );
    assert_eq!(
        send_err(&h, sms(&["tel:+1"], &"ж".repeat(671))).await,
        (Code::InvalidArgument, "SVC0280".into(), vec!["670".into()])
    );
    let mut big = sms(&["tel:+1"], "");
    big.content = Some(Content::Mms(pb::OutboundMms {
        attachments: vec![pb::Attachment {
            name: "big.bin".into(),
            content_type: "application/octet-stream".into(),
            data: vec![0; h.config.messaging.max_attachment_bytes + 1],
        }],
        ..Default::default()
    }));
    assert_eq!(
        send_err(&h, big).await,
        (
            Code::InvalidArgument,
            "SVC0002".into(),
            vec!["attachments".into()]
        )
    );
    // Without an application id nothing is served.
    let anonymous = h
        .client()
        .send_message(tonic::Request::new(pb::SendMessageRequest {
            message: Some(sms(&["tel:+1"], "hi")),
        }))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    h.drained().await;
    assert!(h.submits().is_empty(), "refused requests send nothing");
    h.finish().await;
}

#[tokio::test]
async fn a_correlator_retry_answers_the_first_request_and_sends_once() {
    let h = Harness::start().await;
    let mut m = sms(&["tel:+15557654321"], "once only");
    m.client_correlator = Some("sms-000981".into());
    let first = send(&h, APP, m.clone()).await;
    let again = send(&h, APP, m.clone()).await;
    assert!(first.created && !again.created);
    assert_eq!(first.message, again.message);
    let mut other = m.clone();
    other.content = Some(Content::Sms(pb::SmsText {
        message: "twice?".into(),
    }));
    assert_eq!(
        send_err(&h, other).await,
        (
            Code::InvalidArgument,
            "SVC0005".into(),
            vec!["sms-000981".into(), "clientCorrelator".into()]
        )
    );
    // Another application may use the same correlator for its own request.
    let theirs = send(&h, OTHER_APP, m).await;
    assert!(theirs.created);
    assert_ne!(
        theirs.message.unwrap().request_id,
        first.message.unwrap().request_id
    );
    h.drained().await;
    assert_eq!(h.submits().len(), 2, "one per application");
    h.finish().await;
}

#[tokio::test]
async fn only_the_owner_reads_a_request_and_only_under_its_sender() {
    let h = Harness::start().await;
    let id = send(&h, APP, sms(&["tel:+1"], "private"))
        .await
        .message
        .unwrap()
        .request_id;
    assert!(get(&h, APP, SENDER, &id).await.is_ok());
    for (app, sender, rid) in [
        (OTHER_APP, SENDER, id.as_str()),
        (APP, "tel:+15559999999", id.as_str()),
        (APP, SENDER, "rqunknown"),
    ] {
        let e = get(&h, app, sender, rid).await.unwrap_err();
        assert_eq!(
            refusal(e),
            (Code::NotFound, "SVC0002".into(), vec!["requestId".into()])
        );
    }
    h.finish().await;
}

#[tokio::test]
async fn a_request_past_retention_is_not_found_then_purged() {
    let h = Harness::start_with(Backend::Sqlite, |c| c.messaging.request_retention_secs = 1).await;
    let id = send(&h, APP, sms(&["tel:+1"], "short-lived"))
        .await
        .message
        .unwrap()
        .request_id;
    eventually("the request to expire", || async {
        get(&h, APP, SENDER, &id).await.is_err().then_some(())
    })
    .await;
    eventually("the janitor to purge it", || async {
        let n = crate::count(&h, "messaging_requests").await
            + crate::count(&h, "messaging_deliveries").await;
        (n == 0).then_some(())
    })
    .await;
    // A receipt for the purged request is acknowledged and changes nothing.
    h.receipt(receipt(
        &id,
        "tel:+1",
        DeliveryState::DeliveredToTerminal,
        None,
    ))
    .await;
    h.finish().await;
}
