//! Third Party Call validation (every rule) and the representations built from replies.

use parlay_model::{
    common::{CallbackReference, ChargingInformation},
    thirdpartycall::{CallParticipantIn, CallSessionInformationIn, ParticipantStatus},
};
use parlay_proto::call::v1 as pb;
use serde_json::json;

use super::{convert, validate};
use crate::validate::tests::{app, refusal};

fn participant(address: &str) -> CallParticipantIn {
    CallParticipantIn {
        participant_address: address.into(),
        participant_name: None,
        client_correlator: None,
    }
}

fn session(addresses: &[&str]) -> CallSessionInformationIn {
    CallSessionInformationIn {
        participant: addresses.iter().map(|a| participant(a)).collect(),
        client_correlator: None,
        charging: None,
        callback_reference: None,
    }
}

const ALICE: &str = "tel:+15551230001";
const BOB: &str = "tel:+15551230002";

fn refused(body: CallSessionInformationIn, users: &[&str]) -> (u16, String, Vec<String>) {
    refusal(validate::create_session(&app(users), body).unwrap_err())
}

#[test]
fn a_valid_session_becomes_the_grpc_message() {
    let mut body = session(&[ALICE, "sip:bob@ims.example.com"]);
    body.participant[0].participant_name = Some("Alice".into());
    body.participant[1].client_correlator = Some("ignored".into());
    body.client_correlator = Some("c2c-000117".into());
    body.callback_reference = Some(CallbackReference {
        notify_url: "http://app.example.org/events".into(),
        callback_data: Some("cb".into()),
        notification_format: Some("JSON".into()),
    });
    let m = validate::create_session(&app(&[]), body).unwrap();
    assert_eq!(m.participants.len(), 2);
    assert_eq!(m.participants[0].address, ALICE);
    assert_eq!(m.participants[0].name.as_deref(), Some("Alice"));
    assert_eq!(m.participants[1].address, "sip:bob@ims.example.com");
    assert_eq!(m.participants[1].name, None);
    assert_eq!(m.client_correlator.as_deref(), Some("c2c-000117"));
    let callback = m.callback.unwrap();
    assert_eq!(callback.notify_url, "http://app.example.org/events");
    assert_eq!(callback.callback_data.as_deref(), Some("cb"));
}

#[test]
fn participants_are_required() {
    assert_eq!(
        refused(session(&[]), &[]),
        (400, "SVC0004".into(), vec!["participant".into()])
    );
}

#[test]
fn bad_and_anonymous_addresses_are_unusable() {
    for bad in ["tel:123", "acr:opaque", "http://x", ""] {
        assert_eq!(
            refused(session(&[ALICE, bad]), &[]),
            (400, "SVC0004".into(), vec!["participantAddress".into()]),
            "{bad}"
        );
    }
}

#[test]
fn acr_authorization_needs_a_bound_key() {
    let m = validate::create_session(&app(&[ALICE]), session(&["acr:Authorization", BOB])).unwrap();
    assert_eq!(m.participants[0].address, ALICE);
    assert_eq!(
        refused(session(&["acr:Authorization", BOB]), &[]),
        (403, "POL0002".into(), vec!["acr:Authorization".into()])
    );
}

#[test]
fn the_same_address_twice_is_refused() {
    assert_eq!(
        refused(session(&[ALICE, BOB, "TEL:+15551230001"]), &[]),
        (403, "POL0013".into(), vec!["participantAddress".into()])
    );
    // acr:Authorization is resolved before comparing.
    assert_eq!(
        refused(session(&["acr:Authorization", ALICE]), &[ALICE]),
        (403, "POL0013".into(), vec!["participantAddress".into()])
    );
}

#[test]
fn restricted_apps_must_involve_one_of_their_users() {
    assert!(
        validate::create_session(&app(&["tel:+1555*"]), session(&["tel:+4930123", BOB])).is_ok()
    );
    assert!(validate::create_session(&app(&[ALICE]), session(&[BOB, ALICE])).is_ok());
    assert_eq!(
        refused(session(&["tel:+4930123", "tel:+4930124"]), &["tel:+1555*"]),
        (403, "POL0002".into(), vec!["tel:+4930123".into()])
    );
}

#[test]
fn names_and_correlators_are_bounded() {
    let mut body = session(&[ALICE]);
    body.participant[0].participant_name = Some("n".repeat(257));
    assert_eq!(
        refused(body, &[]),
        (400, "SVC0002".into(), vec!["participantName".into()])
    );
    for bad in [String::new(), "c".repeat(257)] {
        let mut body = session(&[ALICE]);
        body.client_correlator = Some(bad);
        assert_eq!(
            refused(body, &[]),
            (400, "SVC0002".into(), vec!["clientCorrelator".into()])
        );
    }
}

#[test]
fn names_correlators_and_callback_data_refuse_control_characters() {
    let mut body = session(&[ALICE, BOB]);
    body.participant[1].participant_name = Some("a\u{0}b".into());
    assert_eq!(
        refused(body, &[]),
        (400, "SVC0002".into(), vec!["participantName".into()])
    );
    let mut body = session(&[ALICE]);
    body.client_correlator = Some("a\u{0}b".into());
    assert_eq!(
        refused(body, &[]),
        (400, "SVC0002".into(), vec!["clientCorrelator".into()])
    );
    for (url, data, field) in [
        ("http://x.org/a\u{0}b", "cb", "notifyURL"),
        ("http://x.org/", "a\u{0}b", "callbackData"),
    ] {
        let mut body = session(&[ALICE]);
        body.callback_reference = Some(CallbackReference {
            notify_url: url.into(),
            callback_data: Some(data.into()),
            notification_format: None,
        });
        assert_eq!(
            refused(body, &[]),
            (400, "SVC0002".into(), vec![field.into()])
        );
    }
    // A participant's own clientCorrelator means nothing in a new session: it is ignored,
    // never sent on, so it is not checked either.
    let mut body = session(&[ALICE]);
    body.participant[0].client_correlator = Some("a\u{0}b".into());
    assert!(validate::create_session(&app(&[]), body).is_ok());

    let refuse = |p: CallParticipantIn| {
        refusal(validate::add_participant(&app(&[]), "cs1".into(), p).unwrap_err())
    };
    let mut named = participant(BOB);
    named.participant_name = Some("Bob\u{0}".into());
    assert_eq!(
        refuse(named),
        (400, "SVC0002".into(), vec!["participantName".into()])
    );
    let mut correlated = participant(BOB);
    correlated.client_correlator = Some("c\u{0}".into());
    assert_eq!(
        refuse(correlated),
        (400, "SVC0002".into(), vec!["clientCorrelator".into()])
    );
}

#[test]
fn charging_is_not_supported() {
    let mut body = session(&[ALICE]);
    body.charging = Some(ChargingInformation {
        description: vec!["call".into()],
        ..Default::default()
    });
    assert_eq!(
        refused(body, &[]),
        (403, "POL0008".into(), vec!["charging".into()])
    );
}

#[test]
fn callback_references_are_checked() {
    let reference = |url: &str, format: Option<&str>| CallbackReference {
        notify_url: url.into(),
        callback_data: None,
        notification_format: format.map(str::to_owned),
    };
    let mut body = session(&[ALICE]);
    body.callback_reference = Some(reference("ftp://x.org/", None));
    assert_eq!(
        refused(body, &[]),
        (400, "SVC0002".into(), vec!["notifyURL".into()])
    );
    let mut body = session(&[ALICE]);
    body.callback_reference = Some(reference("https://x.org/", Some("XML")));
    assert_eq!(
        refused(body, &[]),
        (400, "SVC0002".into(), vec!["notificationFormat".into()])
    );
}

#[test]
fn an_added_participant_follows_the_address_rules_only() {
    let bound = app(&[ALICE]);
    let mut p = participant("sip:carol@ims.example.com");
    p.participant_name = Some("Carol".into());
    p.client_correlator = Some("c2c-000118".into());
    // Carol is not one of the app's users: adding her to its session is fine.
    let m = validate::add_participant(&bound, "cs1".into(), p).unwrap();
    assert_eq!(m.call_session_id, "cs1");
    assert_eq!(m.client_correlator.as_deref(), Some("c2c-000118"));
    let spec = m.participant.unwrap();
    assert_eq!(
        (spec.address.as_str(), spec.name.as_deref()),
        ("sip:carol@ims.example.com", Some("Carol"))
    );
    let resolved =
        validate::add_participant(&bound, "cs1".into(), participant("acr:Authorization"));
    assert_eq!(resolved.unwrap().participant.unwrap().address, ALICE);

    let refuse = |users: &[&str], p: CallParticipantIn| {
        refusal(validate::add_participant(&app(users), "cs1".into(), p).unwrap_err())
    };
    assert_eq!(
        refuse(&[], participant("acr:x")),
        (400, "SVC0004".into(), vec!["participantAddress".into()])
    );
    assert_eq!(
        refuse(&[], participant("acr:Authorization")),
        (403, "POL0002".into(), vec!["acr:Authorization".into()])
    );
    let mut long_name = participant(BOB);
    long_name.participant_name = Some("n".repeat(257));
    assert_eq!(
        refuse(&[], long_name),
        (400, "SVC0002".into(), vec!["participantName".into()])
    );
    let mut empty_correlator = participant(BOB);
    empty_correlator.client_correlator = Some(String::new());
    assert_eq!(
        refuse(&[], empty_correlator),
        (400, "SVC0002".into(), vec!["clientCorrelator".into()])
    );
}

#[test]
fn replies_become_representations_with_absolute_urls() {
    let root = "http://api.example.com/exampleAPI/1";
    let reply = pb::CallSession {
        id: "cs7f31".into(),
        client_correlator: Some("c2c-000117".into()),
        participants: vec![
            pb::Participant {
                id: "p1".into(),
                address: ALICE.into(),
                name: Some("Alice".into()),
                status: pb::ParticipantStatus::Connected as i32,
                start_time: Some(prost_types::Timestamp {
                    seconds: 1_343_124_902,
                    nanos: 0,
                }),
                duration_seconds: Some(48),
                ..Default::default()
            },
            pb::Participant {
                id: "p2".into(),
                address: BOB.into(),
                status: pb::ParticipantStatus::Terminated as i32,
                termination_cause: pb::TerminationCause::HangUp as i32,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let info = convert::session(root, reply);
    let url = "http://api.example.com/exampleAPI/1/thirdpartycall/callSessions/cs7f31";
    assert_eq!(
        serde_json::to_value(&info).unwrap(),
        json!({
            "clientCorrelator": "c2c-000117",
            "participant": [
                {"participantAddress": ALICE, "participantName": "Alice",
                 "participantStatus": "CallParticipantConnected",
                 "startTime": "2012-07-24T10:15:02Z", "duration": 48,
                 "resourceURL": format!("{url}/participants/p1")},
                {"participantAddress": BOB,
                 "participantStatus": "CallParticipantTerminated",
                 "terminationCause": "CallParticipantHangUp",
                 "resourceURL": format!("{url}/participants/p2")}
            ],
            "resourceURL": url
        })
    );
    let list = convert::participant_list(root, "cs7f31", pb::ParticipantList::default());
    assert_eq!(list.resource_url, format!("{url}/participants"));
    assert!(list.participant.is_empty());
    let unspecified = convert::participant(root, "cs7f31", pb::Participant::default());
    assert_eq!(
        unspecified.participant_status,
        ParticipantStatus::CallParticipantInitial
    );
    assert_eq!(
        convert::participant_url(root, "cs 1", "p/2"),
        "http://api.example.com/exampleAPI/1/thirdpartycall/callSessions/cs%201/participants/p%2F2"
    );
}
