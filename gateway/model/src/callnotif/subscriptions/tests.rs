//! Subscription bodies against the examples of callnotif.md §4.

use serde_json::{Value, json};

use super::*;
use crate::{error::RequestError, from_json};

const CE91: &str =
    "http://api.example.com/exampleAPI/1/callnotification/subscriptions/callEvent/ce91";

/// callnotif.md §4.1 (request)
const CREATE_EVENT: &str = r#"{"callEventSubscription": {
  "callbackReference": {"notifyURL": "https://app.example.org/cn/events",
                        "callbackData": "alice-events", "notificationFormat": "JSON"},
  "filter": {"address": ["tel:+15551230001"],
             "criteria": ["CalledNumber", "Answer", "Busy", "NoAnswer", "Disconnected"],
             "addressDirection": "Called"},
  "clientCorrelator": "sub-77"}}"#;

/// callnotif.md §4.3 (request)
const CREATE_DIRECTION: &str = r#"{"callDirectionSubscription": {
  "callbackReference": {"notifyURL": "https://app.example.org/cn/direct"},
  "filter": {"address": ["sip:+15551230001@ims.example.com"],
             "criteria": ["CalledNumber", "Busy", "NoAnswer", "NotReachable"],
             "addressDirection": "Called"},
  "clientCorrelator": "dir-5"}}"#;

/// callnotif.md §4.4 (request)
const CREATE_RECORDING: &str = r#"{"playAndRecordInteractionSubscription": {
  "callbackReference": {"notifyURL": "https://app.example.org/cn/recordings",
                        "callbackData": "vm-box-1"},
  "callSessionIdentifier": "cs7f31",
  "clientCorrelator": "rec-1"}}"#;

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, RequestError>, field: &str) {
    let error = result.expect_err("the body should be rejected");
    assert_eq!(
        (error.message_id.as_str(), error.variables.as_slice()),
        ("SVC0002", &[field.to_owned()][..])
    );
}

#[test]
fn spec_call_event_subscription_parses() {
    let request: CallEventSubscriptionRequest = from_json(CREATE_EVENT.as_bytes()).unwrap();
    let s = request.call_event_subscription;
    assert_eq!(
        s.callback_reference.notify_url,
        "https://app.example.org/cn/events"
    );
    assert_eq!(s.filter.address, ["tel:+15551230001"]);
    assert_eq!(
        s.filter.criteria,
        [
            CallEvent::CalledNumber,
            CallEvent::Answer,
            CallEvent::Busy,
            CallEvent::NoAnswer,
            CallEvent::Disconnected
        ]
    );
    assert_eq!(s.filter.address_direction, Some(AddressDirection::Called));
    assert_eq!(s.client_correlator.as_deref(), Some("sub-77"));
    assert_eq!(s.duration, None);
}

#[test]
fn spec_call_direction_subscription_parses_with_extensions() {
    let request: CallDirectionSubscriptionRequest = from_json(CREATE_DIRECTION.as_bytes()).unwrap();
    let s = request.call_direction_subscription;
    assert_eq!(s.filter.address, ["sip:+15551230001@ims.example.com"]);
    assert_eq!(s.filter.criteria.len(), 4);
    assert_eq!(s.default_action, None);

    let extended = r#"{"callDirectionSubscription": {
      "callbackReference": {"notifyURL": "https://app.example.org/cn/direct"},
      "filter": {"address": "tel:+15551230001", "criteria": "Busy"},
      "defaultAction": "EndCall", "responseTimeout": "3", "duration": 60}}"#;
    let s = from_json::<CallDirectionSubscriptionRequest>(extended.as_bytes())
        .unwrap()
        .call_direction_subscription;
    assert_eq!(s.filter.address, ["tel:+15551230001"]);
    assert_eq!(s.filter.criteria, [CallEvent::Busy]);
    assert_eq!(s.filter.address_direction, None);
    assert_eq!(s.default_action, Some(DefaultAction::EndCall));
    assert_eq!(s.response_timeout, Some(3));
    assert_eq!(s.duration, Some(60));
}

#[test]
fn bad_subscription_bodies_name_the_field() {
    let with = |filter: Value| {
        json!({"callEventSubscription": {
            "callbackReference": {"notifyURL": "http://a.example"}, "filter": filter}})
        .to_string()
    };
    let parse = |body: String| from_json::<CallEventSubscriptionRequest>(body.as_bytes());
    assert_invalid(
        parse(with(json!({"address": "tel:+1", "criteria": ["Hold"]}))),
        "criteria",
    );
    assert_invalid(
        parse(with(json!({"address": "tel:+1", "criteria": "Hold"}))),
        "criteria",
    );
    assert_invalid(
        parse(with(
            json!({"address": "tel:+1", "addressDirection": "Both"}),
        )),
        "addressDirection",
    );
    assert_invalid(parse(with(json!({"criteria": ["Busy"]}))), "address");
    // The call-direction extensions are not part of a call-event subscription.
    assert_invalid(
        parse(
            json!({"callEventSubscription": {
                "callbackReference": {"notifyURL": "http://a.example"},
                "filter": {"address": "tel:+1"}, "responseTimeout": 5}})
            .to_string(),
        ),
        "responseTimeout",
    );
    // Read-only fields cannot be set.
    assert_invalid(
        parse(
            json!({"callEventSubscription": {
                "callbackReference": {"notifyURL": "http://a.example"},
                "filter": {"address": "tel:+1"}, "resourceURL": "http://x"}})
            .to_string(),
        ),
        "resourceURL",
    );
    let direction = |action: &str| {
        json!({"callDirectionSubscription": {
            "callbackReference": {"notifyURL": "http://a.example"},
            "filter": {"address": "tel:+1"}, "defaultAction": action}})
        .to_string()
    };
    assert_invalid(
        from_json::<CallDirectionSubscriptionRequest>(direction("Route").as_bytes()),
        "defaultAction",
    );
}

#[test]
fn created_subscription_renders_like_the_spec() {
    let response = CallEventSubscriptionResponse {
        call_event_subscription: CallSubscription {
            callback_reference: CallbackReference {
                notify_url: "https://app.example.org/cn/events".into(),
                callback_data: Some("alice-events".into()),
                notification_format: Some("JSON".into()),
            },
            filter: CallEventFilter {
                address: vec!["tel:+15551230001".into()],
                criteria: vec![
                    CallEvent::CalledNumber,
                    CallEvent::Answer,
                    CallEvent::Busy,
                    CallEvent::NoAnswer,
                    CallEvent::Disconnected,
                ],
                address_direction: AddressDirection::Called,
            },
            client_correlator: Some("sub-77".into()),
            duration: None,
            default_action: None,
            response_timeout: None,
            resource_url: CE91.into(),
        },
    };
    let expected = json!({"callEventSubscription": {
      "callbackReference": {"notifyURL": "https://app.example.org/cn/events",
                            "callbackData": "alice-events", "notificationFormat": "JSON"},
      "filter": {"address": ["tel:+15551230001"],
                 "criteria": ["CalledNumber", "Answer", "Busy", "NoAnswer", "Disconnected"],
                 "addressDirection": "Called"},
      "clientCorrelator": "sub-77",
      "resourceURL": CE91}});
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(value, expected);
    let back: CallEventSubscriptionResponse = serde_json::from_value(value).unwrap();
    assert_eq!(back, response);
}

#[test]
fn direction_subscription_echoes_extensions_and_duration() {
    let subscription = CallSubscription {
        callback_reference: CallbackReference {
            notify_url: "https://app.example.org/cn/direct".into(),
            ..Default::default()
        },
        filter: CallEventFilter {
            address: vec!["tel:+15551230001".into()],
            criteria: vec![],
            address_direction: AddressDirection::Calling,
        },
        client_correlator: None,
        duration: Some(2_592_000),
        default_action: Some(DefaultAction::Continue),
        response_timeout: Some(5),
        resource_url: "http://x/cd12".into(),
    };
    let value = serde_json::to_value(CallDirectionSubscriptionResponse {
        call_direction_subscription: subscription,
    })
    .unwrap();
    let inner = &value["callDirectionSubscription"];
    assert_eq!(
        inner["filter"],
        json!({"address": ["tel:+15551230001"], "addressDirection": "Calling"})
    );
    assert_eq!(inner["duration"], 2_592_000);
    assert_eq!(inner["defaultAction"], "Continue");
    assert_eq!(inner["responseTimeout"], 5);
}

#[test]
fn lists_hold_one_kind_and_an_empty_array_stays() {
    let list = SubscriptionListResponse {
        subscription_list: SubscriptionList {
            call_event_subscription: Some(vec![]),
            call_direction_subscription: None,
            resource_url: "http://x/callEvent".into(),
        },
    };
    let value = serde_json::to_value(&list).unwrap();
    assert_eq!(
        value,
        json!({"subscriptionList": {"callEventSubscription": [], "resourceURL": "http://x/callEvent"}})
    );
    let back: SubscriptionListResponse = serde_json::from_value(value).unwrap();
    assert_eq!(back, list);
}

#[test]
fn spec_recording_subscription_parses_and_renders() {
    let request: PlayAndRecordInteractionSubscriptionRequest =
        from_json(CREATE_RECORDING.as_bytes()).unwrap();
    let s = request.play_and_record_interaction_subscription;
    assert_eq!(s.call_session_identifier.as_deref(), Some("cs7f31"));
    assert_eq!(s.client_correlator.as_deref(), Some("rec-1"));
    assert_eq!(
        s.callback_reference.callback_data.as_deref(),
        Some("vm-box-1")
    );

    let url = "http://api.example.com/exampleAPI/1/callnotification/subscriptions/recording/rs3";
    let response = PlayAndRecordInteractionSubscriptionResponse {
        play_and_record_interaction_subscription: MediaInteractionSubscription {
            callback_reference: s.callback_reference,
            call_session_identifier: s.call_session_identifier,
            client_correlator: s.client_correlator,
            duration: None,
            resource_url: url.into(),
        },
    };
    assert_eq!(
        serde_json::to_value(response).unwrap(),
        json!({"playAndRecordInteractionSubscription": {
          "callbackReference": {"notifyURL": "https://app.example.org/cn/recordings",
                                "callbackData": "vm-box-1"},
          "callSessionIdentifier": "cs7f31",
          "clientCorrelator": "rec-1",
          "resourceURL": url}})
    );
}

#[test]
fn collection_subscription_accepts_alu_session_id() {
    let body = r#"{"playAndCollectInteractionSubscription": {
      "callbackReference": {"notifyURL": "https://app.example.org/cn/digits"},
      "callSessionId": "cs7f31", "duration": "30"}}"#;
    let s = from_json::<PlayAndCollectInteractionSubscriptionRequest>(body.as_bytes())
        .unwrap()
        .play_and_collect_interaction_subscription;
    assert_eq!(s.call_session_identifier.as_deref(), Some("cs7f31"));
    assert_eq!(s.duration, Some(30));
    let bad = r#"{"playAndCollectInteractionSubscription": {
      "callbackReference": {"notifyURL": "https://a.example"}, "link": []}}"#;
    assert_invalid(
        from_json::<PlayAndCollectInteractionSubscriptionRequest>(bad.as_bytes()),
        "link",
    );
}
