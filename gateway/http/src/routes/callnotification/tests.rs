//! Call Notification validation (every rule) and the representations built from replies.

use parlay_model::{
    callnotif::{
        AddressDirection, CallDirectionSubscriptionIn, CallEvent, CallEventFilterIn,
        CallEventSubscriptionIn, DefaultAction, MediaInteractionSubscriptionIn,
    },
    common::CallbackReference,
};
use parlay_proto::{call::v1 as pb, common::v1::Callback};

use super::{Kind, convert, validate};
use crate::validate::tests::{app, refusal};

const ALICE: &str = "tel:+15551230001";
const BOB: &str = "tel:+15551230002";
const ROOT: &str = "http://api.example.com/exampleAPI/1";

fn callback_reference() -> CallbackReference {
    CallbackReference {
        notify_url: "https://app.example.org/cn/events".into(),
        callback_data: Some("alice-events".into()),
        notification_format: Some("JSON".into()),
    }
}

fn filter(addresses: &[&str], criteria: &[CallEvent]) -> CallEventFilterIn {
    CallEventFilterIn {
        address: addresses.iter().map(|a| a.to_string()).collect(),
        criteria: criteria.to_vec(),
        address_direction: None,
    }
}

fn event(addresses: &[&str], criteria: &[CallEvent]) -> CallEventSubscriptionIn {
    CallEventSubscriptionIn {
        callback_reference: callback_reference(),
        filter: filter(addresses, criteria),
        client_correlator: None,
        duration: None,
    }
}

fn direction(addresses: &[&str], criteria: &[CallEvent]) -> CallDirectionSubscriptionIn {
    CallDirectionSubscriptionIn {
        callback_reference: callback_reference(),
        filter: filter(addresses, criteria),
        client_correlator: None,
        duration: None,
        default_action: None,
        response_timeout: None,
    }
}

type Refusal = (u16, String, Vec<String>);

fn refused_event(body: CallEventSubscriptionIn, users: &[&str]) -> Refusal {
    refusal(validate::call_event(&app(users), body).unwrap_err())
}

fn refused_direction(body: CallDirectionSubscriptionIn) -> Refusal {
    refusal(validate::call_direction(&app(&[]), body, 60).unwrap_err())
}

fn svc0002(field: &str) -> Refusal {
    (400, "SVC0002".into(), vec![field.into()])
}

#[test]
fn a_valid_call_event_subscription_becomes_the_grpc_message() {
    let mut body = event(
        &["acr:Authorization", BOB],
        &[CallEvent::Busy, CallEvent::Answer, CallEvent::Busy],
    );
    body.filter.address_direction = Some(AddressDirection::Calling);
    body.client_correlator = Some("sub-77".into());
    body.duration = Some(3600);
    let m = validate::call_event(&app(&["tel:+1555*"]), body).unwrap_err();
    // acr:Authorization needs a key bound to one user.
    assert_eq!(refusal(m).1, "POL0002");

    let mut body = event(
        &["acr:Authorization"],
        &[CallEvent::Busy, CallEvent::Answer, CallEvent::Busy],
    );
    body.filter.address_direction = Some(AddressDirection::Calling);
    body.client_correlator = Some("sub-77".into());
    body.duration = Some(3600);
    let m = validate::call_event(&app(&[ALICE]), body).unwrap();
    assert_eq!(m.kind(), pb::SubscriptionKind::CallEvent);
    assert_eq!(m.addresses, [ALICE]);
    let criteria: Vec<_> = m.criteria().collect();
    assert_eq!(
        criteria,
        [pb::CallEventKind::Busy, pb::CallEventKind::Answer]
    );
    assert_eq!(m.address_direction(), pb::AddressDirection::Calling);
    assert_eq!(m.client_correlator.as_deref(), Some("sub-77"));
    assert_eq!(m.duration_secs, Some(3600));
    let callback = m.callback.unwrap();
    assert_eq!(callback.notify_url, "https://app.example.org/cn/events");
    assert_eq!(callback.callback_data.as_deref(), Some("alice-events"));
    assert_eq!(m.response_timeout_ms, None);
}

#[test]
fn absent_criteria_and_direction_mean_all_and_called() {
    let m = validate::call_event(&app(&[]), event(&[ALICE], &[])).unwrap();
    assert!(m.criteria.is_empty());
    assert_eq!(m.address_direction(), pb::AddressDirection::Called);
    assert_eq!(m.duration_secs, None);
}

#[test]
fn addresses_are_checked() {
    assert_eq!(
        refused_event(event(&[], &[]), &[]),
        (400, "SVC0004".into(), vec!["address".into()])
    );
    for bad in ["tel:123", "acr:opaque", "mailto:a@b"] {
        assert_eq!(
            refused_event(event(&[ALICE, bad], &[]), &[]),
            (400, "SVC0004".into(), vec!["address".into()]),
            "{bad}"
        );
    }
    assert_eq!(
        refused_event(event(&[ALICE, "TEL:+15551230001"], &[]), &[]),
        (403, "POL0013".into(), vec!["address".into()])
    );
    let many: Vec<String> = (0..=validate::MAX_ADDRESSES)
        .map(|i| format!("tel:+1555{i:07}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        refused_event(event(&many, &[]), &[]),
        (403, "POL0003".into(), vec!["address".into()])
    );
}

#[test]
fn restricted_apps_may_monitor_only_their_users() {
    assert!(validate::call_event(&app(&["tel:+1555*"]), event(&[ALICE, BOB], &[])).is_ok());
    assert_eq!(
        refused_event(event(&[ALICE, "tel:+4930123"], &[]), &["tel:+1555*"]),
        (403, "POL0002".into(), vec!["tel:+4930123".into()])
    );
}

#[test]
fn callback_correlator_and_duration_are_checked() {
    let mut body = event(&[ALICE], &[]);
    body.callback_reference.notify_url = "ftp://app.example.org/x".into();
    assert_eq!(refused_event(body, &[]), svc0002("notifyURL"));
    let mut body = event(&[ALICE], &[]);
    body.callback_reference.notification_format = Some("XML".into());
    assert_eq!(refused_event(body, &[]), svc0002("notificationFormat"));
    let mut body = event(&[ALICE], &[]);
    body.client_correlator = Some(String::new());
    assert_eq!(refused_event(body, &[]), svc0002("clientCorrelator"));
    let mut body = event(&[ALICE], &[]);
    body.duration = Some(-1);
    assert_eq!(refused_event(body, &[]), svc0002("duration"));
    let mut body = event(&[ALICE], &[]);
    body.duration = Some(i64::MAX);
    let m = validate::call_event(&app(&[]), body).unwrap();
    assert_eq!(m.duration_secs, Some(u32::MAX));
}

#[test]
fn direction_criteria_exclude_answer_and_disconnected() {
    for undecidable in [CallEvent::Answer, CallEvent::Disconnected] {
        assert_eq!(
            refused_direction(direction(&[ALICE], &[CallEvent::Busy, undecidable])),
            svc0002("criteria")
        );
    }
    let all = [
        CallEvent::CalledNumber,
        CallEvent::Busy,
        CallEvent::NotReachable,
        CallEvent::NoAnswer,
    ];
    let m = validate::call_direction(&app(&[]), direction(&[ALICE], &all), 60).unwrap();
    assert_eq!(m.kind(), pb::SubscriptionKind::CallDirection);
    assert_eq!(m.criteria.len(), 4);
    assert_eq!(m.default_action(), pb::DefaultAction::Unspecified);
}

#[test]
fn direction_extensions_are_checked_and_passed() {
    let mut body = direction(&[ALICE], &[]);
    body.default_action = Some(DefaultAction::EndCall);
    body.response_timeout = Some(60);
    let m = validate::call_direction(&app(&[]), body, 60).unwrap();
    assert_eq!(m.default_action(), pb::DefaultAction::EndCall);
    assert_eq!(m.response_timeout_ms, Some(60_000));
    for bad in [0, -1, 61, i64::MAX] {
        let mut body = direction(&[ALICE], &[]);
        body.response_timeout = Some(bad);
        assert_eq!(refused_direction(body), svc0002("responseTimeout"), "{bad}");
    }
}

#[test]
fn media_subscriptions_check_the_session_id() {
    let body = MediaInteractionSubscriptionIn {
        callback_reference: callback_reference(),
        call_session_identifier: Some("cs7f31".into()),
        client_correlator: Some("rec-1".into()),
        duration: Some(0),
    };
    let m = validate::media(body.clone(), Kind::Recording).unwrap();
    assert_eq!(m.kind(), pb::SubscriptionKind::Recording);
    assert_eq!(m.call_session_id.as_deref(), Some("cs7f31"));
    assert_eq!(m.duration_secs, Some(0));
    let m = validate::media(
        MediaInteractionSubscriptionIn {
            call_session_identifier: None,
            ..body.clone()
        },
        Kind::Collection,
    )
    .unwrap();
    assert_eq!(m.kind(), pb::SubscriptionKind::Collection);
    assert_eq!(m.call_session_id, None);
    for bad in ["a/b", "x", ""] {
        let error = validate::media(
            MediaInteractionSubscriptionIn {
                call_session_identifier: Some(bad.into()),
                ..body.clone()
            },
            Kind::Recording,
        )
        .unwrap_err();
        assert_eq!(refusal(error), svc0002("callSessionIdentifier"), "{bad}");
    }
}

fn stored(kind: pb::SubscriptionKind) -> pb::Subscription {
    let mut s = pb::Subscription {
        id: "ce91".into(),
        callback: Some(Callback {
            notify_url: "https://app.example.org/cn/events".into(),
            callback_data: None,
        }),
        addresses: vec![ALICE.into()],
        criteria: vec![pb::CallEventKind::Busy as i32],
        duration_secs: Some(2_592_000),
        response_timeout_ms: Some(5000),
        ..Default::default()
    };
    s.set_kind(kind);
    s.set_default_action(pb::DefaultAction::Continue);
    s
}

#[test]
fn subscriptions_render_with_absolute_urls_and_extensions_only_for_direction() {
    let event = convert::call_subscription(
        ROOT,
        Kind::CallEvent,
        stored(pb::SubscriptionKind::CallEvent),
    );
    assert_eq!(
        event.resource_url,
        format!("{ROOT}/callnotification/subscriptions/callEvent/ce91")
    );
    assert_eq!(event.filter.criteria, [CallEvent::Busy]);
    assert_eq!(event.filter.address_direction, AddressDirection::Called);
    assert_eq!(event.duration, Some(2_592_000));
    assert_eq!((event.default_action, event.response_timeout), (None, None));
    assert_eq!(event.callback_reference.notification_format, None);

    let direction = convert::call_subscription(
        ROOT,
        Kind::CallDirection,
        stored(pb::SubscriptionKind::CallDirection),
    );
    assert_eq!(direction.default_action, Some(DefaultAction::Continue));
    assert_eq!(direction.response_timeout, Some(5));

    let media = convert::media_subscription(
        ROOT,
        Kind::Collection,
        pb::Subscription {
            call_session_id: Some("cs7f31".into()),
            ..stored(pb::SubscriptionKind::Collection)
        },
    );
    assert_eq!(
        media.resource_url,
        format!("{ROOT}/callnotification/subscriptions/collection/ce91")
    );
    assert_eq!(media.call_session_identifier.as_deref(), Some("cs7f31"));
    assert_eq!(
        convert::collection_url(ROOT, Kind::Recording),
        format!("{ROOT}/callnotification/subscriptions/recording")
    );
}
