//! Temporary presence sources: hyper-availability on and off, expiry without DELETE, and
//! service capabilities seen by a watcher ("who can I invite").

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{mutual, presence_of, three_with, watch_contacts};
use crate::{
    harness::{Mode, eventually},
    messaging::enc,
    receiver::Receiver,
};

fn sources(user: &str) -> String {
    format!("/presence/{}/presenceSource", enc(user))
}

fn contact(user: &str, presentity: &str) -> String {
    format!(
        "/presence/{}/presenceContact/{}",
        enc(user),
        enc(presentity)
    )
}

fn willingness(contact: &Value) -> &Value {
    &contact["person"]["overridingWillingness"]["basic"]
}

pub async fn hyper_availability_is_switched_on_and_off_and_expires_without_delete(mode: Mode) {
    let t = three_with(mode, |_| {}).await;
    let (app, a, b) = (&t.app, &t.a, &t.b);
    mutual(app, a, b).await;
    let a_contacts = Receiver::start().await;
    watch_contacts(app, a, &a_contacts).await;
    let post = app
        .send(
            Method::POST,
            &sources(b),
            Some(json!({"presenceSource": {
                "person": {"overridingWillingness": {"basic": "open"}},
                "duration": 1800, "clientCorrelator": "hyper-1"}})),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{:?}", post.body);
    let url = post.header("location").to_string();
    let s = &post.body["presenceSource"];
    assert_eq!(s["resourceURL"], url.as_str());
    assert_eq!(s["duration"], 1800);
    assert!(s["expiry"].is_string());
    assert_eq!(s["clientCorrelator"], "hyper-1");
    let seen = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(willingness(&seen.body["presenceContact"]), "open");
    eventually("A is told B is hyper-available", 10, || async {
        presence_of(&a_contacts, b)
            .iter()
            .any(|c| willingness(c) == "open")
            .then_some(())
    })
    .await;
    assert_eq!(app.get_url(&url).await.status, StatusCode::OK);
    assert_eq!(app.delete_url(&url).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_url(&url).await.status, StatusCode::NOT_FOUND);
    let seen = app.send(Method::GET, &contact(a, b), None).await;
    assert!(willingness(&seen.body["presenceContact"]).is_null());
    // A lifetime longer than allowed is shortened; a short one runs out by itself.
    let long = app
        .send(
            Method::POST,
            &sources(b),
            Some(json!({"presenceSource": {"serviceCapabilities": [{"serviceId": "chat", "status": "open"}], "duration": 999_999_999}})),
        )
        .await;
    assert_eq!(long.body["presenceSource"]["duration"], 86_400);
    let short = app
        .send(
            Method::POST,
            &sources(b),
            Some(json!({"presenceSource": {"person": {"overridingWillingness": {"basic": "open"}}, "duration": 1}})),
        )
        .await;
    assert_eq!(short.status, StatusCode::CREATED);
    assert_eq!(short.body["presenceSource"]["duration"], 1);
    let short_url = short.header("location").to_string();
    let before = presence_of(&a_contacts, b).len();
    eventually("the short source expires and A is told", 15, || async {
        let notes = presence_of(&a_contacts, b);
        let last = notes.last()?;
        (notes.len() > before + 1 && willingness(last).is_null()).then_some(())
    })
    .await;
    assert_eq!(app.get_url(&short_url).await.status, StatusCode::NOT_FOUND);
    let seen = app.send(Method::GET, &contact(a, b), None).await;
    assert!(willingness(&seen.body["presenceContact"]).is_null());
}

pub async fn service_capabilities_are_seen_by_a_watcher(mode: Mode) {
    let t = three_with(mode, |c| c.presence.max_sources = 2).await;
    let (app, a, b) = (&t.app, &t.a, &t.b);
    mutual(app, a, b).await;
    let post = app
        .send(
            Method::POST,
            &sources(b),
            Some(json!({"presenceSource": {"serviceCapabilities": [
                {"serviceId": "chat", "version": "1.0", "status": "open"},
                {"serviceId": "ft", "status": "OPEN"}]}})),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED, "{:?}", post.body);
    let url = post.header("location").to_string();
    let seen = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(
        seen.body["presenceContact"]["serviceCapabilities"],
        json!([{"serviceId": "chat", "version": "1.0", "status": "open"},
               {"serviceId": "ft", "status": "open"}])
    );
    let list = app
        .send(
            Method::GET,
            &format!("/presence/{}/presenceContactList/rcs", enc(a)),
            None,
        )
        .await;
    assert_eq!(
        list.body["presenceContactList"]["presenceContact"][0]["serviceCapabilities"][0]["serviceId"],
        "chat"
    );
    // Refresh: chat closes.
    let refreshed = app
        .send(
            Method::PUT,
            &url,
            Some(json!({"presenceSource": {"serviceCapabilities": {"serviceId": "chat", "status": "closed"}, "duration": 60, "resourceURL": url}})),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{:?}", refreshed.body);
    assert_eq!(refreshed.body["presenceSource"]["duration"], 60);
    let seen = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(
        seen.body["presenceContact"]["serviceCapabilities"],
        json!([{"serviceId": "chat", "status": "closed"}])
    );
    let key = app
        .send(
            Method::PUT,
            &url,
            Some(json!({"presenceSource": {"serviceCapabilities": {"serviceId": "x", "status": "open"}, "resourceURL": format!("{url}x")}})),
        )
        .await;
    assert_eq!(key.exception().0, "SVC0222");
    let empty = app
        .send(
            Method::POST,
            &sources(b),
            Some(json!({"presenceSource": {}})),
        )
        .await;
    assert_eq!(
        (empty.status, empty.exception().0),
        (StatusCode::BAD_REQUEST, "SVC0002")
    );
    let bad = app
        .send(Method::POST, &sources(b), Some(json!({"presenceSource": {"serviceCapabilities": [{"serviceId": "chat", "status": "maybe"}]}})))
        .await;
    assert_eq!(bad.exception(), ("SVC0002", vec!["status".to_string()]));
    let second = app
        .send(Method::POST, &sources(b), Some(json!({"presenceSource": {"person": {"overridingWillingness": {"basic": "closed"}}}})))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let third = app
        .send(
            Method::POST,
            &sources(b),
            Some(
                json!({"presenceSource": {"person": {"overridingWillingness": {"basic": "open"}}}}),
            ),
        )
        .await;
    assert_eq!(third.status, StatusCode::FORBIDDEN);
    assert_eq!(
        third.exception(),
        ("POL0260", vec!["presenceSource".to_string()])
    );
    // A stranger sees none of it.
    let c = &t.c;
    let r = app.send(Method::GET, &contact(c, b), None).await;
    assert_eq!(r.exception().0, "SVC0221");
}
