//! Call Notification through the router to a fake call service: statuses, `Location`,
//! absolute `resourceURL`s, the bad-input errors and the service's errors.

use axum::http::{Method, StatusCode, header};
use parlay_proto::call::v1::{AddressDirection, DefaultAction, SubscriptionKind};
use serde_json::{Value, json};

use crate::{
    fake_media::{FakeMedia, GRANTED_SECS, OVERLAPPING},
    helpers::{Harness, ROOT, harness},
};

const ALICE: &str = "tel:+15551230001";
const SUBSCRIPTIONS: &str = "/1/callnotification/subscriptions";

async fn gateway(users: &[&str]) -> (Harness, FakeMedia) {
    let (url, fake) = FakeMedia::spawn().await;
    (harness(users, &url).await, fake)
}

fn event_body(filter: Value) -> String {
    json!({"callEventSubscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/cn/events",
                              "callbackData": "alice-events", "notificationFormat": "JSON"},
        "filter": filter,
        "clientCorrelator": "sub-77"}})
    .to_string()
}

fn direction_body(extra: Value) -> String {
    let mut body = json!({"callDirectionSubscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/cn/direct"},
        "filter": {"address": [ALICE],
                   "criteria": ["CalledNumber", "Busy", "NoAnswer", "NotReachable"],
                   "addressDirection": "Called"},
        "clientCorrelator": "dir-5"}});
    let inner = body["callDirectionSubscription"].as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        inner.insert(k.clone(), v.clone());
    }
    body.to_string()
}

#[tokio::test]
async fn a_call_event_subscription_is_created_like_the_spec_example() {
    let (h, fake) = gateway(&[ALICE]).await;
    let filter = json!({"address": ["acr:Authorization"],
        "criteria": ["CalledNumber", "Answer", "Busy", "NoAnswer", "Disconnected"],
        "addressDirection": "Called"});
    let reply = h
        .call(
            Method::POST,
            &format!("{SUBSCRIPTIONS}/callEvent"),
            Some(&event_body(filter)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/callnotification/subscriptions/callEvent/ce91");
    assert_eq!(reply.header(header::LOCATION), url);
    assert_eq!(
        reply.body,
        json!({"callEventSubscription": {
          "callbackReference": {"notifyURL": "https://app.example.org/cn/events",
                                "callbackData": "alice-events"},
          "filter": {"address": [ALICE],
                     "criteria": ["CalledNumber", "Answer", "Busy", "NoAnswer", "Disconnected"],
                     "addressDirection": "Called"},
          "clientCorrelator": "sub-77",
          "duration": GRANTED_SECS,
          "resourceURL": url}})
    );
    let seen = fake.subscriptions.lock().unwrap()[0].clone();
    assert_eq!(seen.kind(), SubscriptionKind::CallEvent);
    assert_eq!(seen.addresses, [ALICE]);
    assert_eq!(seen.criteria.len(), 5);
    assert_eq!(seen.duration_secs, None);
    assert!(fake.apps.lock().unwrap()[0].starts_with("app"));
}

#[tokio::test]
async fn call_event_subscriptions_are_listed_read_and_deleted() {
    let (h, fake) = gateway(&[]).await;
    let collection = format!("{SUBSCRIPTIONS}/callEvent");
    let reply = h.call(Method::GET, &collection, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list = &reply.body["subscriptionList"];
    assert_eq!(
        list["resourceURL"],
        format!("{ROOT}/callnotification/subscriptions/callEvent")
    );
    let items = list["callEventSubscription"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1]["resourceURL"],
        format!("{ROOT}/callnotification/subscriptions/callEvent/ce92")
    );
    assert!(list.get("callDirectionSubscription").is_none());

    let reply = h
        .call(Method::GET, &format!("{collection}/ce91"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let s = &reply.body["callEventSubscription"];
    assert_eq!(s["filter"]["address"], json!([ALICE]));
    assert!(s.get("defaultAction").is_none());

    let reply = h
        .call(Method::DELETE, &format!("{collection}/ce91"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_null());

    let gone = h
        .call(Method::DELETE, &format!("{collection}/ce99"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.exception(),
        ("SVC0002".into(), json!(["subscriptionId"]))
    );
    let refs = fake.refs.lock().unwrap().clone();
    assert!(
        refs.iter()
            .all(|(kind, _)| *kind == SubscriptionKind::CallEvent as i32)
    );

    let bad_id = h
        .call(Method::GET, &format!("{collection}/a.b"), None)
        .await;
    assert_eq!(bad_id.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_call_direction_subscription_carries_the_extensions() {
    let (h, fake) = gateway(&[]).await;
    let body = direction_body(json!({"defaultAction": "EndCall", "responseTimeout": 3,
                                     "duration": 60}));
    let reply = h
        .call(
            Method::POST,
            &format!("{SUBSCRIPTIONS}/callDirection"),
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/callnotification/subscriptions/callDirection/ce91");
    assert_eq!(reply.header(header::LOCATION), url);
    let s = &reply.body["callDirectionSubscription"];
    assert_eq!(s["resourceURL"], url);
    assert_eq!(s["defaultAction"], "EndCall");
    assert_eq!(s["responseTimeout"], 3);
    assert_eq!(s["duration"], 60);
    assert_eq!(s["filter"]["criteria"].as_array().unwrap().len(), 4);
    let seen = fake.subscriptions.lock().unwrap()[0].clone();
    assert_eq!(seen.kind(), SubscriptionKind::CallDirection);
    assert_eq!(seen.default_action(), DefaultAction::EndCall);
    assert_eq!(seen.response_timeout_ms, Some(3000));
    assert_eq!(seen.address_direction(), AddressDirection::Called);

    let list = h
        .call(Method::GET, &format!("{SUBSCRIPTIONS}/callDirection"), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["subscriptionList"]["callDirectionSubscription"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn bad_subscriptions_are_400_or_403_never_500() {
    let (h, fake) = gateway(&["tel:+1555*"]).await;
    let events = format!("{SUBSCRIPTIONS}/callEvent");
    let directions = format!("{SUBSCRIPTIONS}/callDirection");
    let cases: Vec<(&str, String, u16, &str, Value)> = vec![
        (
            &events,
            event_body(json!({"address": ALICE, "criteria": ["Hold"]})),
            400,
            "SVC0002",
            json!(["criteria"]),
        ),
        (
            &events,
            event_body(json!({"address": "tel:12"})),
            400,
            "SVC0004",
            json!(["address"]),
        ),
        (
            &events,
            event_body(json!({"address": []})),
            400,
            "SVC0004",
            json!(["address"]),
        ),
        (
            &events,
            event_body(json!({"address": "tel:+4930123"})),
            403,
            "POL0002",
            json!(["tel:+4930123"]),
        ),
        (
            &events,
            event_body(json!({"address": "acr:Authorization"})),
            403,
            "POL0002",
            json!(["acr:Authorization"]),
        ),
        (
            &events,
            event_body(json!({"addresses": ALICE})),
            400,
            "SVC0002",
            json!(["addresses"]),
        ),
        (
            &directions,
            direction_body(json!({"filter": {"address": ALICE, "criteria": ["Answer"]}})),
            400,
            "SVC0002",
            json!(["criteria"]),
        ),
        (
            &directions,
            direction_body(json!({"filter": {"address": ALICE, "criteria": "Disconnected"}})),
            400,
            "SVC0002",
            json!(["criteria"]),
        ),
        (
            &directions,
            direction_body(json!({"responseTimeout": 0})),
            400,
            "SVC0002",
            json!(["responseTimeout"]),
        ),
        (
            &directions,
            direction_body(json!({"responseTimeout": 61})),
            400,
            "SVC0002",
            json!(["responseTimeout"]),
        ),
        (
            &directions,
            direction_body(json!({"defaultAction": "Route"})),
            400,
            "SVC0002",
            json!(["defaultAction"]),
        ),
        (
            &directions,
            direction_body(json!({"duration": -1})),
            400,
            "SVC0002",
            json!(["duration"]),
        ),
        (
            &directions,
            direction_body(json!({"callbackReference": {"notifyURL": "mailto:x@y"}})),
            400,
            "SVC0002",
            json!(["notifyURL"]),
        ),
        (
            &directions,
            direction_body(json!({"resourceURL": "http://x"})),
            400,
            "SVC0002",
            json!(["resourceURL"]),
        ),
    ];
    for (path, body, status, id, variables) in cases {
        let reply = h.call(Method::POST, path, Some(&body)).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.body);
        assert_eq!(reply.exception(), (id.to_owned(), variables), "{body}");
    }
    // Nothing refused at the edge reached the service.
    assert!(fake.subscriptions.lock().unwrap().is_empty());

    let put = h.call(Method::PUT, &events, Some("{}")).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.header(header::ALLOW), "GET, POST");
}

#[tokio::test]
async fn overlapping_criteria_are_400_svc0008() {
    let (h, _) = gateway(&[]).await;
    let reply = h
        .call(
            Method::POST,
            &format!("{SUBSCRIPTIONS}/callEvent"),
            Some(&event_body(
                json!({"address": OVERLAPPING, "criteria": "Busy"}),
            )),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.exception(), ("SVC0008".into(), json!(["Busy"])));
    assert_eq!(
        reply.body["requestError"]["serviceException"]["text"],
        "Overlapped criteria %1"
    );
}

#[tokio::test]
async fn media_interaction_subscriptions() {
    let (h, fake) = gateway(&[]).await;
    let body = json!({"playAndRecordInteractionSubscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/cn/recordings",
                              "callbackData": "vm-box-1"},
        "callSessionIdentifier": "cs7f31",
        "clientCorrelator": "rec-1"}})
    .to_string();
    let recording = format!("{SUBSCRIPTIONS}/recording");
    let reply = h.call(Method::POST, &recording, Some(&body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/callnotification/subscriptions/recording/ce91");
    assert_eq!(reply.header(header::LOCATION), url);
    assert_eq!(
        reply.body,
        json!({"playAndRecordInteractionSubscription": {
          "callbackReference": {"notifyURL": "https://app.example.org/cn/recordings",
                                "callbackData": "vm-box-1"},
          "callSessionIdentifier": "cs7f31",
          "clientCorrelator": "rec-1",
          "duration": GRANTED_SECS,
          "resourceURL": url}})
    );
    assert_eq!(
        fake.subscriptions.lock().unwrap()[0].kind(),
        SubscriptionKind::Recording
    );

    let collection = format!("{SUBSCRIPTIONS}/collection");
    let alu = json!({"playAndCollectInteractionSubscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/cn/digits"},
        "callSessionId": "cs7f31"}})
    .to_string();
    let reply = h.call(Method::POST, &collection, Some(&alu)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["playAndCollectInteractionSubscription"]["callSessionIdentifier"],
        "cs7f31"
    );

    let read = h
        .call(Method::GET, &format!("{collection}/ce91"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(
        read.body["playAndCollectInteractionSubscription"]["resourceURL"],
        format!("{ROOT}/callnotification/subscriptions/collection/ce91")
    );
    let deleted = h
        .call(Method::DELETE, &format!("{recording}/ce91"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    // Unknown sessions are 400 naming the body field, however the service says it.
    for session in ["csgone", "csnotfound"] {
        let body = json!({"playAndRecordInteractionSubscription": {
            "callbackReference": {"notifyURL": "https://app.example.org/cn/recordings"},
            "callSessionIdentifier": session}})
        .to_string();
        let reply = h.call(Method::POST, &recording, Some(&body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{session}");
        assert_eq!(
            reply.exception(),
            ("SVC0002".into(), json!(["callSessionIdentifier"]))
        );
    }
    let bad = json!({"playAndRecordInteractionSubscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/cn/recordings"},
        "callSessionIdentifier": "no such/session"}})
    .to_string();
    let reply = h.call(Method::POST, &recording, Some(&bad)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.exception(),
        ("SVC0002".into(), json!(["callSessionIdentifier"]))
    );

    let list = h.call(Method::GET, &recording, None).await;
    assert_eq!(list.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(list.header(header::ALLOW), "POST");
}
