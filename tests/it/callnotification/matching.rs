//! Which calls a subscription sees: Third Party Call legs (not the first, and never asked
//! about), the users an application is bound to, addresses in any letter case.

use reqwest::StatusCode;
use serde_json::json;

use super::{CONNECTED, call_subscription, subscribe, subscribed, until_statuses};
use crate::{
    harness::{Mode, Suite, both_modes, unique, unique_tel},
    receiver::Receiver,
};

both_modes!(
    third_party_call_legs_are_seen_but_never_asked_about,
    bound_applications_monitor_only_their_users,
    addresses_match_whatever_their_letter_case,
);

/// A Third Party Call session's second leg is a call from the first participant: call-event
/// subscriptions see it; the first leg is not matched; call direction is not asked.
async fn third_party_call_legs_are_seen_but_never_asked_about(mode: Mode) {
    let suite = Suite::start(mode).await;
    let owner = suite.app("owner", &[]).await;
    let watcher = suite.app("watcher", &[]).await;
    let (on_b, on_a, asked) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let (a, b) = (unique_tel(), unique_tel());
    subscribed(
        &suite,
        &watcher,
        "callEvent",
        call_subscription(&on_b.url, &[&b], None, "b"),
    )
    .await;
    subscribed(
        &suite,
        &watcher,
        "callEvent",
        call_subscription(&on_a.url, &[&a], None, "a"),
    )
    .await;
    subscribed(
        &suite,
        &watcher,
        "callDirection",
        call_subscription(&asked.url, &[&b], None, "d"),
    )
    .await;

    let created = owner.create_call(&[&a, &b], None, None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let url = created.header("location").to_string();
    let id = url.rsplit('/').next().unwrap().to_string();
    until_statuses(&owner, &url, &[CONNECTED, CONNECTED]).await;
    let answered = on_b
        .until("B's Answer", 10, |r| r.call_event() == "Answer")
        .await;
    assert_eq!(answered.call_session(), id);
    assert_eq!(
        answered.body["callEventNotification"]["callingParticipant"],
        a.as_str()
    );
    assert_eq!(answered.called(), b);
    suite.hang_up(&id, &b).await;
    on_b.until("B's Disconnected", 10, |r| r.call_event() == "Disconnected")
        .await;
    assert!(
        on_a.received().is_empty(),
        "the first leg was matched: {:?}",
        on_a.received()
    );
    assert!(
        asked.received().is_empty(),
        "a Third Party Call session was put to call direction: {:?}",
        asked.received()
    );
}

/// An application bound to users monitors `acr:Authorization` (its user) and nobody else.
async fn bound_applications_monitor_only_their_users(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (user, caller, stranger) = (unique_tel(), unique_tel(), unique_tel());
    let app = suite.app("bound", &[&user]).await;
    let hook = Receiver::start().await;
    for addresses in [
        vec![stranger.as_str()],
        vec![user.as_str(), stranger.as_str()],
    ] {
        let r = subscribe(
            &app,
            "callEvent",
            call_subscription(&hook.url, &addresses, None, "x"),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{addresses:?}: {:?}",
            r.body
        );
        assert_eq!(r.exception().0, "POL0002", "{:?}", r.body);
    }
    subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(
            &hook.url,
            &["acr:Authorization"],
            Some(&["CalledNumber"]),
            "me",
        ),
    )
    .await;
    suite.dial(&caller, &user).await;
    let got = hook
        .until("the user's call", 10, |r| r.call_event() == "CalledNumber")
        .await;
    assert_eq!(got.called(), user);
}

async fn addresses_match_whatever_their_letter_case(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sip", &[]).await;
    let hook = Receiver::start().await;
    let user = unique("bob.");
    let caller = unique_tel();
    subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(
            &hook.url,
            &[&format!("sip:{}@IMS.Example.COM", user.to_uppercase())],
            Some(&["CalledNumber"]),
            "case",
        ),
    )
    .await;
    let dialled = format!("sip:{user}@ims.example.com");
    let r = suite
        .dial_raw(json!({"callingParticipant": caller, "calledParticipant": dialled}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let got = hook
        .until("a call to the address in other letters", 10, |r| {
            r.call_event() == "CalledNumber"
        })
        .await;
    assert!(
        got.called().eq_ignore_ascii_case(&dialled),
        "{:?}",
        got.body
    );
}
