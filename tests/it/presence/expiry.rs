//! Subscriptions whose `duration` runs out: the application is sent a
//! `subscriptionCancellationNotification`, the subscription reads 404 and notifies nothing
//! more; a longer one lives on.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{add, three, watch_watchers, watcher_events};
use crate::{harness::Mode, messaging::enc, receiver::Receiver};

pub async fn a_subscription_whose_duration_runs_out_is_cancelled_and_gone(mode: Mode) {
    let t = three(mode).await;
    let (app, a, b, c) = (&t.app, &t.a, &t.b, &t.c);
    let short = Receiver::start().await;
    let watchers = app
        .send(
            Method::POST,
            &format!("/presence/{}/subscriptions/watchersSubscriptions", enc(b)),
            Some(json!({"watchersSubscription": {
                "callbackReference": {"notifyURL": short.url, "callbackData": "w-short"},
                "duration": 2}})),
        )
        .await;
    assert_eq!(watchers.status, StatusCode::CREATED, "{:?}", watchers.body);
    assert_eq!(watchers.body["watchersSubscription"]["duration"], 2);
    let watchers_url = watchers.header("location").to_string();
    let lists = format!(
        "/presence/{}/subscriptions/presenceListSubscriptions/rcs",
        enc(a)
    );
    let list = app
        .send(
            Method::POST,
            &lists,
            Some(json!({"presenceListSubscription": {
                "callbackReference": {"notifyURL": short.url},
                "duration": 3}})),
        )
        .await;
    assert_eq!(list.status, StatusCode::CREATED, "{:?}", list.body);
    assert_eq!(list.body["presenceListSubscription"]["duration"], 3);
    let list_url = list.header("location").to_string();
    let long = Receiver::start().await;
    let long_url = watch_watchers(app, b, &long).await;
    assert_eq!(app.get_url(&watchers_url).await.status, StatusCode::OK);

    let cancelled = short
        .until("the watchers subscription is cancelled", 15, |r| {
            r.body["subscriptionCancellationNotification"]["link"][0]["href"]
                == watchers_url.as_str()
        })
        .await;
    assert_eq!(
        cancelled.body,
        json!({"subscriptionCancellationNotification": {
            "callbackData": "w-short",
            "link": [{"rel": "WatchersSubscription", "href": watchers_url}]}})
    );
    let gone = app.get_url(&watchers_url).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.exception(),
        ("SVC0002", vec!["subscriptionId".to_string()])
    );
    assert_eq!(
        app.delete_url(&watchers_url).await.status,
        StatusCode::NOT_FOUND
    );

    let cancelled = short
        .until("the presence-list subscription is cancelled", 15, |r| {
            r.body["subscriptionCancellationNotification"]["link"][0]["href"] == list_url.as_str()
        })
        .await;
    assert_eq!(
        cancelled.body,
        json!({"subscriptionCancellationNotification": {
            "link": [{"rel": "PresenceListSubscription", "href": list_url}]}}),
        "no callbackData was given"
    );
    assert_eq!(app.get_url(&list_url).await.status, StatusCode::NOT_FOUND);
    let remaining = app.send(Method::GET, &lists, None).await;
    assert_eq!(remaining.status, StatusCode::OK);
    assert_eq!(
        remaining.body["subscriptionList"]["presenceListSubscription"],
        json!([])
    );

    // The long one lives on and is notified; the ended one is not.
    assert_eq!(app.get_url(&long_url).await.status, StatusCode::OK);
    add(app, c, "rcs", b).await;
    long.until("the long subscription is told of C", 10, |r| {
        r.body["watcherNotification"]["watcher"][0]["watcherId"] == c.as_str()
    })
    .await;
    assert!(watcher_events(&short).is_empty(), "{:?}", short.received());
    let cancellations = short
        .received()
        .iter()
        .filter(|r| r.body["subscriptionCancellationNotification"].is_object())
        .count();
    assert_eq!(cancellations, 2, "each is cancelled once");
}
