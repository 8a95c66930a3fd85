//! Presence end to end, with the address lists that authorise it (docs/presence.md): the
//! persistent person attributes; invitation, accept (mutual), cancel, block/revoke and
//! ignore through the `rcs` lists, seen by watchers subscriptions and by polling the
//! watchers, a contact and a contact list, and by presence-list subscriptions; coalesced
//! notifications; and nobody sees what they are not authorised to.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    addresslist::member_path,
    harness::{App, Mode, Suite, both_modes, unique_tel},
    messaging::enc,
    receiver::{Received, Receiver},
};

mod attributes;
mod contention;
mod expiry;
mod sharing;
mod sources;

use attributes::*;
use contention::*;
use expiry::*;
use sharing::*;
use sources::*;

both_modes!(
    an_invitation_reaches_the_watchers_and_accepting_it_shares_presence_both_ways,
    cancelling_stops_the_sharing,
    blocking_takes_effect_at_once_even_for_a_coalescing_notification,
    an_ignored_invitation_stays_pending,
    ten_quick_updates_give_at_most_two_notifications_the_last_current,
    nobody_sees_a_presentity_or_a_subscription_they_are_not_entitled_to,
    a_watcher_carries_the_display_name_the_presentity_gave_it,
    the_note_is_set_read_replaced_and_deleted,
    icon_links_and_location_are_published,
    bad_attributes_are_refused_and_change_nothing,
    the_persistent_source_is_read_whole,
    hyper_availability_is_switched_on_and_off_and_expires_without_delete,
    service_capabilities_are_seen_by_a_watcher,
    a_subscription_whose_duration_runs_out_is_cancelled_and_gone,
    concurrent_changes_while_notifications_go_out_all_succeed,
    concurrent_first_puts_of_an_attribute_create_it_once,
);

pub fn person_path(user: &str, name: &str) -> String {
    format!(
        "/presence/{}/presenceSource/persistent/person/{name}",
        enc(user)
    )
}

/// `owner` puts `member` in its list `list` (201 or 200).
pub async fn add(app: &App, owner: &str, list: &str, member: &str) {
    let r = app
        .send(
            Method::PUT,
            &member_path(owner, list, member),
            Some(json!({})),
        )
        .await;
    assert!(
        r.status == StatusCode::CREATED || r.status == StatusCode::OK,
        "{owner} adds {member} to {list}: {} {:?}",
        r.status,
        r.body
    );
}

pub async fn remove(app: &App, owner: &str, list: &str, member: &str) {
    let r = app
        .send(Method::DELETE, &member_path(owner, list, member), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

/// `user` publishes the note `text`.
pub async fn note(app: &App, user: &str, text: &str) {
    let r = app
        .send(
            Method::PUT,
            &person_path(user, "noteList"),
            Some(json!({"noteList": {"note": [{"text": text}]}})),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
}

/// A watchers subscription of `user` to `receiver`; its URL.
pub async fn watch_watchers(app: &App, user: &str, receiver: &Receiver) -> String {
    let r = app
        .send(
            Method::POST,
            &format!(
                "/presence/{}/subscriptions/watchersSubscriptions",
                enc(user)
            ),
            Some(json!({"watchersSubscription": {
                "callbackReference": {"notifyURL": receiver.url, "callbackData": "w"},
                "duration": 3600}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        r.header("location"),
        r.body["watchersSubscription"]["resourceURL"]
            .as_str()
            .unwrap()
    );
    r.header("location").to_string()
}

/// A presence-list subscription of `user`'s `rcs` list to `receiver`; its URL.
pub async fn watch_contacts(app: &App, user: &str, receiver: &Receiver) -> String {
    let r = app
        .send(
            Method::POST,
            &format!(
                "/presence/{}/subscriptions/presenceListSubscriptions/rcs",
                enc(user)
            ),
            Some(json!({"presenceListSubscription": {
                "callbackReference": {"notifyURL": receiver.url, "callbackData": "c"},
                "clientCorrelator": "pls-1"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.header("location").to_string()
}

/// The `watcherNotification` entries received: (watcherId, status).
pub fn watcher_events(receiver: &Receiver) -> Vec<(String, String)> {
    receiver
        .received()
        .iter()
        .flat_map(|r| {
            r.body["watcherNotification"]["watcher"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|w| {
            (
                w["watcherId"].as_str().unwrap_or_default().to_string(),
                w["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The presence notifications about `presentity`.
pub fn presence_of(receiver: &Receiver, presentity: &str) -> Vec<Value> {
    receiver
        .received()
        .iter()
        .flat_map(|r: &Received| {
            r.body["presenceNotification"]["presenceContact"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|c| c["presentityUserId"] == presentity)
        .collect()
}

pub fn note_text(contact: &Value) -> &str {
    contact["person"]["noteList"]["note"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

/// A suite and one application acting for three users.
pub struct Three {
    pub suite: Suite,
    pub app: App,
    pub a: String,
    pub b: String,
    pub c: String,
}

pub async fn three(mode: Mode) -> Three {
    three_with(mode, |_| {}).await
}

pub async fn three_with(mode: Mode, tweak: impl FnOnce(&mut parlay_kit::Config)) -> Three {
    let suite = Suite::start_with(mode, tweak).await;
    let (a, b, c) = (unique_tel(), unique_tel(), unique_tel());
    let app = suite.app("presence", &[&a, &b, &c]).await;
    Three {
        suite,
        app,
        a,
        b,
        c,
    }
}

/// A and B share presence (each in the other's `rcs`).
pub async fn mutual(app: &App, a: &str, b: &str) {
    add(app, a, "rcs", b).await;
    add(app, b, "rcs", a).await;
    // The lists are applied before the PUT answers: no waiting.
    let contact = format!("/presence/{}/presenceContact/{}", enc(a), enc(b));
    let seen = app.send(Method::GET, &contact, None).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
}
