//! Changes at once. With the coalescing flusher, on the same presentity's rows: every
//! change succeeds and every subscription ends up with the last state (on PostgreSQL the
//! flusher and a change used to lock those rows in different orders and could deadlock;
//! one of them was then aborted, a change answering 500). First PUTs of one attribute at
//! once: one creates it (201), the others replace it (200), none fails.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{mutual, note_text, person_path, presence_of};
use crate::{
    harness::{Mode, Suite, eventually, unique_tel},
    messaging::enc,
    receiver::Receiver,
};

pub async fn concurrent_changes_while_notifications_go_out_all_succeed(mode: Mode) {
    let suite = Suite::start_with(mode, |c| c.presence.notify_interval_ms = 1).await;
    let p = unique_tel();
    let watchers: Vec<String> = (0..6).map(|_| unique_tel()).collect();
    let mut users: Vec<&str> = watchers.iter().map(String::as_str).collect();
    users.push(&p);
    let app = suite.app("contention", &users).await;
    let receiver = Receiver::start().await;
    for w in &watchers {
        mutual(&app, w, &p).await;
        for n in 0..2 {
            let r = app
                .send(
                    Method::POST,
                    &format!(
                        "/presence/{}/subscriptions/presenceListSubscriptions/rcs",
                        enc(w)
                    ),
                    Some(json!({"presenceListSubscription": {
                        "callbackReference": {"notifyURL": receiver.url, "callbackData": format!("{w}-{n}")}}})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        }
    }
    let path = person_path(&p, "noteList");
    let first = app
        .send(
            Method::PUT,
            &path,
            Some(json!({"noteList": {"note": [{"text": "first"}]}})),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let writers = (0..4).map(|k| {
        let (app, path) = (&app, &path);
        async move {
            for i in 0..15 {
                let body = json!({"noteList": {"note": [{"text": format!("w{k} n{i}")}]}});
                let r = app.send(Method::PUT, path, Some(body)).await;
                assert!(
                    r.status.is_success(),
                    "PUT {k}/{i}: {} {:?}",
                    r.status,
                    r.body
                );
            }
        }
    });
    futures::future::join_all(writers).await;
    let last = app.send(Method::GET, &path, None).await;
    assert_eq!(last.status, StatusCode::OK);
    let last = last.body["noteList"]["note"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    // Every one of the 12 subscriptions is told the last note.
    eventually("every subscription gets the last note", 20, || async {
        let got = receiver
            .received()
            .iter()
            .filter(|r| {
                let c = &r.body["presenceNotification"]["presenceContact"][0];
                c["presentityUserId"] == p.as_str() && note_text(c) == last
            })
            .map(|r| r.body["presenceNotification"]["callbackData"].to_string())
            .collect::<std::collections::HashSet<_>>();
        (got.len() == 12).then_some(())
    })
    .await;
    assert!(!presence_of(&receiver, &p).is_empty());
}

pub async fn concurrent_first_puts_of_an_attribute_create_it_once(mode: Mode) {
    let suite = Suite::start(mode).await;
    let a = unique_tel();
    let app = suite.app("first-puts", &[&a]).await;
    let path = person_path(&a, "location");
    let puts = (0..12).map(|k| {
        let (app, path) = (&app, &path);
        async move {
            let body = json!({"location": {"placeName": format!("place {k}")}});
            app.send(Method::PUT, path, Some(body)).await
        }
    });
    let answers = futures::future::join_all(puts).await;
    let created: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 1, "one creates it: {answers:?}");
    assert!(
        answers
            .iter()
            .all(|r| r.status == StatusCode::CREATED || r.status == StatusCode::OK),
        "the others replace it: {answers:?}"
    );
    assert_eq!(created[0].header("location"), app.url(&path));
    let read = app.send(Method::GET, &path, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(
        read.body["location"]["placeName"]
            .as_str()
            .unwrap()
            .starts_with("place ")
    );
}
