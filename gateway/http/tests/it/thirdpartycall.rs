//! Third Party Call through the router to a fake call service: statuses, `Location`,
//! absolute `resourceURL`s, and the error table.

use axum::http::{Method, StatusCode, header};
use serde_json::json;

use crate::{
    fake_call::{ALICE, BOB, FakeCall},
    helpers::{Harness, ROOT, harness},
};

const SESSIONS: &str = "/1/thirdpartycall/callSessions";

async fn gateway(users: &[&str]) -> (Harness, FakeCall) {
    let (url, fake) = FakeCall::spawn().await;
    (harness(users, &url).await, fake)
}

fn create_body(correlator: &str) -> String {
    json!({"callSessionInformation": {
        "clientCorrelator": correlator,
        "participant": [
            {"participantAddress": "acr:Authorization", "participantName": "Alice"},
            {"participantAddress": BOB, "participantName": "Bob"}
        ]
    }})
    .to_string()
}

#[tokio::test]
async fn creating_a_session_answers_201_with_location_and_urls() {
    let (h, fake) = gateway(&[ALICE]).await;
    let reply = h
        .call(Method::POST, SESSIONS, Some(&create_body("c2c-000117")))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/thirdpartycall/callSessions/cs7f31");
    assert_eq!(reply.header(header::LOCATION), url);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(
        reply.body,
        json!({"callSessionInformation": {
            "clientCorrelator": "c2c-000117",
            "participant": [
                {"participantAddress": ALICE, "participantName": "Alice",
                 "participantStatus": "CallParticipantInitial",
                 "resourceURL": format!("{url}/participants/pt1")},
                {"participantAddress": BOB, "participantName": "Bob",
                 "participantStatus": "CallParticipantInitial",
                 "resourceURL": format!("{url}/participants/pt2")}
            ],
            "resourceURL": url
        }})
    );
    // acr:Authorization reached the service as the key's user, with the app id.
    let creates = fake.creates.lock().unwrap().clone();
    assert_eq!(creates[0].participants[0].address, ALICE);
    let apps = fake.apps.lock().unwrap().clone();
    assert!(apps[0].starts_with("app"), "{apps:?}");

    // A clientCorrelator retry answers the same way.
    let again = h
        .call(Method::POST, SESSIONS, Some(&create_body("again")))
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header(header::LOCATION), url);
}

#[tokio::test]
async fn sessions_are_read_listed_and_deleted() {
    let (h, _) = gateway(&[]).await;
    let url = format!("{ROOT}/thirdpartycall/callSessions/cs7f31");
    let reply = h
        .call(Method::GET, &format!("{SESSIONS}/cs7f31"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let info = &reply.body["callSessionInformation"];
    assert_eq!(info["resourceURL"], url);
    assert_eq!(
        info["participant"][1]["resourceURL"],
        format!("{url}/participants/pt2")
    );

    let reply = h
        .call(
            Method::GET,
            &format!("{SESSIONS}/cs7f31/participants"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let list = &reply.body["callParticipantList"];
    assert_eq!(list["resourceURL"], format!("{url}/participants"));
    assert_eq!(list["participant"].as_array().unwrap().len(), 2);

    let reply = h
        .call(Method::DELETE, &format!("{SESSIONS}/cs7f31"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_null());
}

#[tokio::test]
async fn participants_are_added_read_and_removed() {
    let (h, _) = gateway(&[]).await;
    let url = format!("{ROOT}/thirdpartycall/callSessions/cs7f31/participants");
    let body = json!({"callParticipantInformation": {
        "clientCorrelator": "c2c-000118",
        "participantAddress": "sip:+15551230003@ims.example.com",
        "participantName": "Carol"}})
    .to_string();
    let reply = h
        .call(
            Method::POST,
            &format!("{SESSIONS}/cs7f31/participants"),
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.header(header::LOCATION), format!("{url}/pt3"));
    assert_eq!(
        reply.body,
        json!({"callParticipantInformation": {
            "clientCorrelator": "c2c-000118",
            "participantAddress": "sip:+15551230003@ims.example.com",
            "participantName": "Carol",
            "participantStatus": "CallParticipantInitial",
            "resourceURL": format!("{url}/pt3")}})
    );

    let reply = h
        .call(
            Method::GET,
            &format!("{SESSIONS}/cs7f31/participants/pt1"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["callParticipantInformation"]["resourceURL"],
        format!("{url}/pt1")
    );

    let reply = h
        .call(
            Method::DELETE,
            &format!("{SESSIONS}/cs7f31/participants/pt2"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn service_errors_follow_the_table() {
    let (h, _) = gateway(&[]).await;
    let gone = h
        .call(Method::GET, &format!("{SESSIONS}/csgone"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.exception(),
        ("SVC0002".into(), json!(["callSessionId"]))
    );

    let no_participant = h
        .call(
            Method::GET,
            &format!("{SESSIONS}/cs7f31/participants/pt9"),
            None,
        )
        .await;
    assert_eq!(no_participant.status, StatusCode::NOT_FOUND);
    assert_eq!(
        no_participant.exception(),
        ("SVC0002".into(), json!(["participantId"]))
    );

    let add = json!({"callParticipantInformation": {"participantAddress": BOB}}).to_string();
    let ended = h
        .call(
            Method::POST,
            &format!("{SESSIONS}/csended/participants"),
            Some(&add),
        )
        .await;
    assert_eq!(ended.status, StatusCode::BAD_REQUEST);
    assert_eq!(ended.exception(), ("SVC0261".into(), json!(["csended"])));

    let broken = h
        .call(Method::GET, &format!("{SESSIONS}/csbroken"), None)
        .await;
    assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        broken.exception(),
        ("SVC0001".into(), json!(["internal error"]))
    );
    assert!(!broken.body.to_string().contains("secret"));
}

#[tokio::test]
async fn a_slow_service_gets_503_after_the_upstream_timeout() {
    let (h, _) = gateway(&[]).await;
    let started = std::time::Instant::now();
    let reply = h
        .call(Method::GET, &format!("{SESSIONS}/csslow"), None)
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header(header::RETRY_AFTER), "1");
    assert!(started.elapsed() < std::time::Duration::from_millis(2900));
}
