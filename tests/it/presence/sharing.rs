//! The RCS presence-sharing scenarios across the address-list and presence services.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    add, mutual, note, note_text, person_path, presence_of, remove, three, three_with,
    watch_contacts, watch_watchers, watcher_events,
};
use crate::{
    addresslist::member_path,
    harness::{Mode, eventually, unique_tel},
    messaging::enc,
    receiver::Receiver,
};

fn contact(user: &str, presentity: &str) -> String {
    format!(
        "/presence/{}/presenceContact/{}",
        enc(user),
        enc(presentity)
    )
}

fn watchers(user: &str) -> String {
    format!("/presence/{}/watchers", enc(user))
}

/// Invitation → B's watchers subscription and watcher list show A pending; accept → both
/// see each other, by a contact, the contact list and A's presence-list subscription.
pub async fn an_invitation_reaches_the_watchers_and_accepting_it_shares_presence_both_ways(
    mode: Mode,
) {
    let t = three(mode).await;
    let (app, a, b) = (&t.app, &t.a, &t.b);
    let b_watchers = Receiver::start().await;
    let sub = watch_watchers(app, b, &b_watchers).await;
    let a_contacts = Receiver::start().await;
    watch_contacts(app, a, &a_contacts).await;
    note(app, b, "Gym").await;

    add(app, a, "rcs", b).await;
    let invited = b_watchers
        .until("B is told of A's invitation", 10, |r| {
            r.body["watcherNotification"]["watcher"][0]["watcherId"] == a.as_str()
        })
        .await;
    let n = &invited.body["watcherNotification"];
    assert_eq!(n["watcher"][0]["status"], "Pending");
    assert_eq!(n["callbackData"], "w");
    assert_eq!(n["link"][0]["href"], sub.as_str());
    let list = app.send(Method::GET, &watchers(b), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["watcherList"]["watcher"],
        json!([{"watcherId": a, "status": "Pending"}])
    );
    assert_eq!(
        list.body["watcherList"]["resourceURL"],
        app.url(&watchers(b)).as_str()
    );
    // Pending: A does not see B yet.
    let early = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(early.status, StatusCode::FORBIDDEN);
    assert_eq!(early.exception(), ("POL0002", vec![b.clone()]));
    assert!(presence_of(&a_contacts, b).is_empty());

    // Accept.
    add(app, b, "rcs", a).await;
    let seen = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    let c = &seen.body["presenceContact"];
    assert_eq!(c["presentityUserId"], b.as_str());
    assert_eq!(c["person"]["noteList"]["note"][0]["text"], "Gym");
    assert_eq!(c["resourceURL"], app.url(&contact(a, b)).as_str());
    assert!(c["lastUpdated"].is_string());
    let back = app.send(Method::GET, &contact(b, a), None).await;
    assert_eq!(back.status, StatusCode::OK, "mutual: B sees A");
    let polled = app
        .send(
            Method::GET,
            &format!("/presence/{}/presenceContactList/rcs", enc(a)),
            None,
        )
        .await;
    assert_eq!(polled.status, StatusCode::OK);
    let contacts = polled.body["presenceContactList"]["presenceContact"]
        .as_array()
        .unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(note_text(&contacts[0]), "Gym");
    let notified = b_watchers
        .until("B is told A is active", 10, |r| {
            r.body["watcherNotification"]["watcher"][0]["status"] == "Active"
        })
        .await;
    assert_eq!(
        notified.body["watcherNotification"]["watcher"][0]["watcherId"],
        a.as_str()
    );
    let first = a_contacts
        .until("A's list subscription gets B's presence", 10, |r| {
            r.body["presenceNotification"]["presenceContact"][0]["presentityUserId"] == b.as_str()
        })
        .await;
    assert_eq!(
        note_text(&first.body["presenceNotification"]["presenceContact"][0]),
        "Gym"
    );
    assert_eq!(first.body["presenceNotification"]["callbackData"], "c");
    // A later change reaches A too.
    note(app, b, "Back home").await;
    eventually("A is told of B's new note", 10, || async {
        presence_of(&a_contacts, b)
            .iter()
            .any(|c| note_text(c) == "Back home")
            .then_some(())
    })
    .await;
    let list = app.send(Method::GET, &watchers(b), None).await;
    assert_eq!(list.body["watcherList"]["watcher"][0]["status"], "Active");
}

/// Cancel: A takes B out of `rcs`; B's watchers are told A is terminated, A no longer
/// watches B.
pub async fn cancelling_stops_the_sharing(mode: Mode) {
    let t = three(mode).await;
    let (app, a, b) = (&t.app, &t.a, &t.b);
    let b_watchers = Receiver::start().await;
    watch_watchers(app, b, &b_watchers).await;
    mutual(app, a, b).await;
    remove(app, a, "rcs", b).await;
    let gone = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(gone.status, StatusCode::BAD_REQUEST);
    assert_eq!(gone.exception(), ("SVC0221", vec![a.clone(), b.clone()]));
    b_watchers
        .until("B is told A's watching ended", 10, |r| {
            r.body["watcherNotification"]["watcher"][0]["status"] == "Terminated"
        })
        .await;
    let list = app.send(Method::GET, &watchers(b), None).await;
    assert_eq!(list.body["watcherList"]["watcher"], json!([]));
    // A cancelled invitation before any answer, likewise.
    let c = &t.c;
    add(app, c, "rcs", b).await;
    remove(app, c, "rcs", b).await;
    let list = app.send(Method::GET, &watchers(b), None).await;
    assert_eq!(list.body["watcherList"]["watcher"], json!([]));
    eventually("B is told of C's invitation and its end", 10, || async {
        let events = watcher_events(&b_watchers);
        (events.contains(&(c.clone(), "Pending".into()))
            && events.contains(&(c.clone(), "Terminated".into())))
        .then_some(())
    })
    .await;
}

/// Block: B puts A in `rcs_revoke`: A is out of B's `rcs`, A's view of B ends before the
/// PUT answers, and a notification that was coalescing for A is never sent.
pub async fn blocking_takes_effect_at_once_even_for_a_coalescing_notification(mode: Mode) {
    // A long interval, so B's second change is still coalescing when B blocks A.
    let t = three_with(mode, |c| c.presence.notify_interval_ms = 3_000).await;
    let (app, a, b, c) = (&t.app, &t.a, &t.b, &t.c);
    let a_contacts = Receiver::start().await;
    let c_contacts = Receiver::start().await;
    watch_contacts(app, a, &a_contacts).await;
    watch_contacts(app, c, &c_contacts).await;
    note(app, b, "public").await;
    mutual(app, a, b).await;
    mutual(app, c, b).await;
    eventually("A and C get B's first presence", 10, || async {
        (presence_of(&a_contacts, b).len() == 1 && presence_of(&c_contacts, b).len() == 1)
            .then_some(())
    })
    .await;
    note(app, b, "secret").await;
    add(app, b, "rcs_revoke", a).await;
    let blocked = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(blocked.exception().0, "POL0002");
    let in_rcs = app.send(Method::GET, &member_path(b, "rcs", a), None).await;
    assert_eq!(
        in_rcs.status,
        StatusCode::NOT_FOUND,
        "blocking removed A from B's rcs"
    );
    let list = app.send(Method::GET, &watchers(b), None).await;
    let entries = list.body["watcherList"]["watcher"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        entries.contains(&json!({"watcherId": a, "status": "Terminated"})),
        "{entries:?}"
    );
    // C, still authorised, gets the coalesced "secret", due when A's would have been.
    eventually("C gets B's coalesced note", 15, || async {
        presence_of(&c_contacts, b)
            .iter()
            .any(|c| note_text(c) == "secret")
            .then_some(())
    })
    .await;
    note(app, b, "after").await;
    eventually("C gets B's note after the block", 15, || async {
        presence_of(&c_contacts, b)
            .iter()
            .any(|c| note_text(c) == "after")
            .then_some(())
    })
    .await;
    let to_a = presence_of(&a_contacts, b);
    assert_eq!(to_a.len(), 1, "nothing after the block reached A: {to_a:?}");
    assert_eq!(note_text(&to_a[0]), "public");
}

/// Ignore: B never answers A's invitation; it stays pending and A sees nothing.
pub async fn an_ignored_invitation_stays_pending(mode: Mode) {
    let t = three(mode).await;
    let (app, a, b) = (&t.app, &t.a, &t.b);
    add(app, a, "rcs", b).await;
    note(app, b, "private").await;
    let list = app.send(Method::GET, &watchers(b), None).await;
    assert_eq!(
        list.body["watcherList"]["watcher"],
        json!([{"watcherId": a, "status": "Pending"}])
    );
    let r = app.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(r.exception().0, "POL0002");
    let polled = app
        .send(
            Method::GET,
            &format!("/presence/{}/presenceContactList/rcs", enc(a)),
            None,
        )
        .await;
    assert_eq!(
        polled.body["presenceContactList"]["presenceContact"],
        json!([])
    );
}

/// Ten quick updates within the interval: the first goes at once, the other nine become
/// one notification, which carries the tenth note.
pub async fn ten_quick_updates_give_at_most_two_notifications_the_last_current(mode: Mode) {
    let t = three_with(mode, |c| c.presence.notify_interval_ms = 3_000).await;
    let (app, a, b) = (&t.app, &t.a, &t.b);
    mutual(app, a, b).await;
    let a_contacts = Receiver::start().await;
    watch_contacts(app, a, &a_contacts).await;
    eventually("A gets B's initial presence", 10, || async {
        (presence_of(&a_contacts, b).len() == 1).then_some(())
    })
    .await;
    for i in 1..=10 {
        note(app, b, &format!("update {i}")).await;
    }
    eventually("A gets B's tenth note", 15, || async {
        presence_of(&a_contacts, b)
            .iter()
            .any(|c| note_text(c) == "update 10")
            .then_some(())
    })
    .await;
    let seen = presence_of(&a_contacts, b);
    // The initial one, then at most two for the ten updates.
    assert!(seen.len() <= 3, "{} notifications: {seen:?}", seen.len());
    assert_eq!(note_text(seen.last().unwrap()), "update 10");
}

/// A stranger, a pending watcher and another application see nothing.
pub async fn nobody_sees_a_presentity_or_a_subscription_they_are_not_entitled_to(mode: Mode) {
    let t = three(mode).await;
    let (app, a, b, c) = (&t.app, &t.a, &t.b, &t.c);
    note(app, b, "mine").await;
    mutual(app, a, b).await;
    let stranger = app.send(Method::GET, &contact(c, b), None).await;
    assert_eq!(stranger.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        stranger.exception(),
        ("SVC0221", vec![c.clone(), b.clone()])
    );
    let polled = app
        .send(
            Method::GET,
            &format!("/presence/{}/presenceContactList/rcs", enc(c)),
            None,
        )
        .await;
    assert_eq!(
        polled.body["presenceContactList"]["presenceContact"],
        json!([])
    );
    // Another application, acting for its own user only, cannot act for B or A.
    let d = unique_tel();
    let other = t.suite.app("other", &[&d]).await;
    let r = other
        .send(Method::GET, &person_path(b, "noteList"), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.exception(), ("POL0002", vec![b.clone()]));
    let r = other.send(Method::GET, &contact(a, b), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An application acting for A too does not see the first application's subscriptions.
    let receiver = Receiver::start().await;
    let sub = watch_watchers(app, a, &receiver).await;
    let list_sub = watch_contacts(app, a, &receiver).await;
    let twin = t.suite.app("twin", &[a]).await;
    for url in [&sub, &list_sub] {
        assert_eq!(twin.get_url(url).await.status, StatusCode::NOT_FOUND);
        assert_eq!(twin.delete_url(url).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get_url(url).await.status, StatusCode::OK);
    }
    let listed = twin
        .send(
            Method::GET,
            &format!(
                "/presence/{}/subscriptions/presenceListSubscriptions/rcs",
                enc(a)
            ),
            None,
        )
        .await;
    assert_eq!(
        listed.body["subscriptionList"]["presenceListSubscription"],
        json!([])
    );
    let mine = app
        .send(
            Method::GET,
            &format!(
                "/presence/{}/subscriptions/presenceListSubscriptions/rcs",
                enc(a)
            ),
            None,
        )
        .await;
    assert_eq!(
        mine.body["subscriptionList"]["presenceListSubscription"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.delete_url(&sub).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_url(&sub).await.status, StatusCode::NOT_FOUND);
    // An unknown list.
    let r = app
        .send(
            Method::POST,
            &format!("/presence/{}/subscriptions/presenceListSubscriptions/nolist", enc(a)),
            Some(json!({"presenceListSubscription": {"callbackReference": {"notifyURL": receiver.url}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// `watcher.displayName` is the name the presentity gave the watcher in its lists (`rcs`
/// first, then its other lists), in the watcher list and in watcher notifications; a
/// rename in the list shows at once; no name in any list, no `displayName`.
pub async fn a_watcher_carries_the_display_name_the_presentity_gave_it(mode: Mode) {
    let t = three(mode).await;
    let (app, a, b, c) = (&t.app, &t.a, &t.b, &t.c);
    let b_watchers = Receiver::start().await;
    watch_watchers(app, b, &b_watchers).await;
    let put_named = |list: &'static str, member: String, name: &'static str| async move {
        let r = app
            .send(
                Method::PUT,
                &member_path(b, list, &member),
                Some(json!({"member": {"displayName": name}})),
            )
            .await;
        assert!(r.status.is_success(), "{list}: {:?}", r.body);
    };
    let lists = format!("/addresslistmgt/{}/contactLists", enc(b));
    let created = app
        .send(
            Method::POST,
            &lists,
            Some(json!({"contactList": {"contactListId": "work"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    put_named("work", a.clone(), "Alice (work)").await;

    // A invites B: B knows A from its `work` list; C, unnamed, invites too.
    add(app, a, "rcs", b).await;
    add(app, c, "rcs", b).await;
    let invited = b_watchers
        .until("B is told of A's invitation", 10, |r| {
            r.body["watcherNotification"]["watcher"][0]["watcherId"] == a.as_str()
        })
        .await;
    assert_eq!(
        invited.body["watcherNotification"]["watcher"],
        json!([{"watcherId": a, "displayName": "Alice (work)", "status": "Pending"}])
    );
    let list = app.send(Method::GET, &watchers(b), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body["watcherList"]["watcher"],
        json!([
            {"watcherId": a, "displayName": "Alice (work)", "status": "Pending"},
            {"watcherId": c, "status": "Pending"},
        ])
    );

    // B accepts A under another name: the `rcs` entry's name wins.
    put_named("rcs", a.clone(), "Alice").await;
    let active = b_watchers
        .until("B is told A is active", 10, |r| {
            r.body["watcherNotification"]["watcher"][0]["status"] == "Active"
        })
        .await;
    assert_eq!(
        active.body["watcherNotification"]["watcher"][0]["displayName"],
        "Alice"
    );
    // A rename in the list shows at once (the list is applied before the PUT answers).
    put_named("rcs", a.clone(), "Ally").await;
    let list = app.send(Method::GET, &watchers(b), None).await;
    let entries = list.body["watcherList"]["watcher"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        entries.contains(&json!({"watcherId": a, "displayName": "Ally", "status": "Active"})),
        "{entries:?}"
    );
    assert!(entries.contains(&json!({"watcherId": c, "status": "Pending"})));
}
