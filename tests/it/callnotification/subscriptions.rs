//! The subscription resources end to end: who may see them, how long they live, which
//! ones may coexist, and `clientCorrelator` replays.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{call_subscription, created, subscribe, subscribed};
use crate::{
    harness::{App, Mode, Suite, both_modes, eventually, unique_tel},
    receiver::Receiver,
};

both_modes!(
    another_application_sees_neither_your_subscriptions_nor_your_calls,
    an_expired_subscription_notifies_no_more,
    overlapping_or_impossible_criteria_are_refused,
    client_correlator_replays_the_subscription,
);

/// `GET subscriptions/{kind}` as `app`: the array of the list (checked to be one).
async fn list(suite: &Suite, app: &App, kind: &str) -> Vec<Value> {
    let r = app
        .send(
            Method::GET,
            &format!("/callnotification/subscriptions/{kind}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let l = &r.body["subscriptionList"];
    assert_eq!(
        l["resourceURL"],
        format!("{}/callnotification/subscriptions/{kind}", suite.api)
    );
    l[format!("{kind}Subscription")]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind}Subscription array: {}", r.body))
        .clone()
}

/// The `resourceURL`s of a list.
fn urls(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["resourceURL"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Asserts a 400 with `messageId` (and `variables`, when given).
fn refused(r: &crate::harness::Answer, id: &str, variables: Option<&[&str]>) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let (got, vars) = r.exception();
    assert_eq!(got, id, "{:?}", r.body);
    if let Some(expected) = variables {
        assert_eq!(vars, expected, "{:?}", r.body);
    }
}

async fn another_application_sees_neither_your_subscriptions_nor_your_calls(mode: Mode) {
    let suite = Suite::start(mode).await;
    let owner = suite.app("owner", &[]).await;
    let intruder = suite.app("intruder", &[]).await;
    let (mine, theirs) = (Receiver::start().await, Receiver::start().await);
    let (caller, watched, elsewhere, undialled) =
        (unique_tel(), unique_tel(), unique_tel(), unique_tel());
    let event = subscribed(
        &suite,
        &owner,
        "callEvent",
        call_subscription(&mine.url, &[&watched], None, "mine"),
    )
    .await;
    let direction = subscribed(
        &suite,
        &owner,
        "callDirection",
        call_subscription(&mine.url, &[&undialled], None, "mine"),
    )
    .await;
    for url in [&event, &direction] {
        for r in [intruder.get_url(url).await, intruder.delete_url(url).await] {
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{url}: {:?}", r.body);
            assert_eq!(
                r.exception(),
                ("SVC0002", vec!["subscriptionId".to_string()])
            );
        }
        let still = owner.get_url(url).await;
        assert_eq!(still.status, StatusCode::OK, "{:?}", still.body);
    }
    assert!(list(&suite, &intruder, "callEvent").await.is_empty());
    assert!(list(&suite, &intruder, "callDirection").await.is_empty());
    assert_eq!(
        urls(&list(&suite, &owner, "callEvent").await),
        [event.as_str()]
    );
    assert_eq!(
        urls(&list(&suite, &owner, "callDirection").await),
        [direction.as_str()]
    );

    // The intruder watches another address; the owner's call comes first, the intruder's
    // own call after it is the marker that the owner's notifications went out before.
    subscribed(
        &suite,
        &intruder,
        "callEvent",
        call_subscription(&theirs.url, &[&elsewhere], None, "theirs"),
    )
    .await;
    suite.dial(&caller, &watched).await;
    mine.until("the owner's Answer", 10, |r| r.call_event() == "Answer")
        .await;
    suite.dial(&caller, &elsewhere).await;
    theirs
        .until("the intruder's own Answer", 10, |r| {
            r.call_event() == "Answer"
        })
        .await;
    assert!(
        theirs.received().iter().all(|r| r.called() == elsewhere),
        "another application's call notified: {:?}",
        theirs.received()
    );
    assert!(
        mine.received().iter().all(|r| r.called() == watched),
        "{:?}",
        mine.received()
    );
}

/// `"duration": 1`: granted as asked; once past, a call to the address notifies it no
/// more (shown by another application's subscription on the same address that is told),
/// and the subscription is gone.
async fn an_expired_subscription_notifies_no_more(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("brief", &[]).await;
    let witness = suite.app("witness", &[]).await;
    let (expiring, watching) = (Receiver::start().await, Receiver::start().await);
    let (caller, watched) = (unique_tel(), unique_tel());
    let mut body = call_subscription(&expiring.url, &[&watched], None, "brief");
    body["duration"] = json!(1);
    let answer = subscribe(&app, "callEvent", body).await;
    let granted_at = tokio::time::Instant::now();
    let url = created(&suite, "callEvent", &answer);
    assert_eq!(answer.body["callEventSubscription"]["duration"], 1);
    subscribed(
        &suite,
        &witness,
        "callEvent",
        call_subscription(&watching.url, &[&watched], None, "witness"),
    )
    .await;
    // The lifetime passing is what is under test: wait it out, with a margin.
    tokio::time::sleep_until(granted_at + Duration::from_millis(1_500)).await;
    suite.dial(&caller, &watched).await;
    let seen = watching
        .until("the witness's Answer", 10, |r| r.call_event() == "Answer")
        .await;
    assert!(
        watching
            .received()
            .iter()
            .any(|r| r.call_event() == "CalledNumber")
    );
    assert!(
        expiring.received().is_empty(),
        "an expired subscription was notified: {:?}",
        expiring.received()
    );
    assert!(!seen.call_session().is_empty());
    eventually("the expired subscription is gone", 10, || async {
        (app.get_url(&url).await.status == StatusCode::NOT_FOUND).then_some(())
    })
    .await;
    assert!(!urls(&list(&suite, &app, "callEvent").await).contains(&url));
}

async fn overlapping_or_impossible_criteria_are_refused(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("watcher", &[]).await;
    let other = suite.app("other", &[]).await;
    let hook = Receiver::start().await;
    let (x, y, z) = (unique_tel(), unique_tel(), unique_tel());
    let sub = |addresses: &[&str], criteria: Option<&[&str]>| {
        call_subscription(&hook.url, addresses, criteria, "o")
    };
    subscribed(
        &suite,
        &app,
        "callEvent",
        sub(&[&x], Some(&["CalledNumber", "Busy"])),
    )
    .await;
    let r = subscribe(&app, "callEvent", sub(&[&y, &x], Some(&["Busy", "Answer"]))).await;
    refused(&r, "SVC0008", Some(&["Busy"]));

    // No overlap: another criterion, another address, the calling side, another
    // application, the other kind of subscription.
    subscribed(
        &suite,
        &app,
        "callEvent",
        sub(&[&x], Some(&["Answer", "Disconnected"])),
    )
    .await;
    subscribed(&suite, &app, "callEvent", sub(&[&y], Some(&["Busy"]))).await;
    let mut calling = sub(&[&x], Some(&["Busy"]));
    calling["filter"]["addressDirection"] = json!("Calling");
    subscribed(&suite, &app, "callEvent", calling).await;
    subscribed(
        &suite,
        &other,
        "callEvent",
        sub(&[&x], Some(&["CalledNumber", "Busy"])),
    )
    .await;
    subscribed(&suite, &app, "callDirection", sub(&[&x], Some(&["Busy"]))).await;

    // Absent criteria mean all of them, so they share y's Busy.
    let r = subscribe(&app, "callEvent", sub(&[&y], None)).await;
    refused(&r, "SVC0008", Some(&["Busy"]));
    let r = subscribe(
        &app,
        "callDirection",
        sub(&[&x], Some(&["NoAnswer", "Busy"])),
    )
    .await;
    refused(&r, "SVC0008", Some(&["Busy"]));

    // Nothing is left to decide after an answer or a hang-up.
    for criterion in ["Answer", "Disconnected"] {
        let r = subscribe(&app, "callDirection", sub(&[&z], Some(&[criterion]))).await;
        refused(&r, "SVC0002", Some(&["criteria"]));
    }
    let r = subscribe(&app, "callEvent", sub(&[&z], Some(&["Ringing"]))).await;
    refused(&r, "SVC0002", Some(&["criteria"]));

    // Durations: negative refused, too long shortened to call.max_subscription_secs.
    let mut negative = sub(&[&z], None);
    negative["duration"] = json!(-5);
    refused(
        &subscribe(&app, "callEvent", negative).await,
        "SVC0002",
        None,
    );
    for timeout in [0, 61] {
        let mut body = sub(&[&z], Some(&["CalledNumber"]));
        body["responseTimeout"] = json!(timeout);
        let r = subscribe(&app, "callDirection", body).await;
        refused(&r, "SVC0002", None);
    }
    // Read-only fields and other formats cannot be sent.
    let mut read_only = sub(&[&z], None);
    read_only["resourceURL"] = json!(format!(
        "{}/callnotification/subscriptions/callEvent/x",
        suite.api
    ));
    let r = subscribe(&app, "callEvent", read_only).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let mut xml = sub(&[&z], None);
    xml["callbackReference"]["notificationFormat"] = json!("XML");
    let r = subscribe(&app, "callEvent", xml).await;
    assert!(r.status.is_client_error(), "{} {:?}", r.status, r.body);
    let mut long = sub(&[&z], None);
    long["duration"] = json!(99_999_999);
    let r = subscribe(&app, "callEvent", long).await;
    created(&suite, "callEvent", &r);
    assert_eq!(r.body["callEventSubscription"]["duration"], 2_592_000);
}

async fn client_correlator_replays_the_subscription(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("retrying", &[]).await;
    let other = suite.app("other", &[]).await;
    let hook = Receiver::start().await;
    let (x, y) = (unique_tel(), unique_tel());
    // One correlator per kind: whether a value is shared across kinds is not specified
    // (docs/call-notification.md: "a different request with the same value is SVC0005").
    for (kind, address, correlator) in [
        ("callEvent", &x, "sub-0077"),
        ("callDirection", &y, "sub-0078"),
    ] {
        let mut body = call_subscription(&hook.url, &[address], Some(&["CalledNumber"]), "r");
        body["clientCorrelator"] = json!(correlator);
        let first = subscribe(&app, kind, body.clone()).await;
        let url = created(&suite, kind, &first);
        let again = subscribe(&app, kind, body.clone()).await;
        assert_eq!(created(&suite, kind, &again), url, "{kind} replay");
        assert_eq!(
            again.body[format!("{kind}Subscription")]["clientCorrelator"],
            correlator
        );
        assert_eq!(urls(&list(&suite, &app, kind).await), [url.as_str()]);

        let mut changed = body.clone();
        changed["filter"]["criteria"] = json!(["Busy"]);
        let r = subscribe(&app, kind, changed).await;
        refused(&r, "SVC0005", None);
        assert_eq!(list(&suite, &app, kind).await.len(), 1);

        // A correlator belongs to one application.
        let theirs = subscribe(&other, kind, body).await;
        assert_ne!(created(&suite, kind, &theirs), url);
    }
}
