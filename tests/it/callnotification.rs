//! Call Notification end to end (docs/call-notification.md): calls the network originates
//! (netsim's `POST /netsim/v1/calls`) seen through call-event subscriptions, and what the
//! notified application may then do with the call's session. Call-direction decisions are in
//! [`direction`], the subscription resources themselves in [`subscriptions`].

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    harness::{Answer, App, Mode, Suite, both_modes, causes, eventually, statuses, unique_tel},
    receiver::{Received, Receiver},
};

mod direction;
mod matching;
mod subscriptions;

both_modes!(
    a_call_to_a_monitored_address_is_notified,
    an_answer_is_notified_and_the_session_is_the_applications,
    the_notified_application_ends_the_call_by_deleting_its_session,
    disconnects_are_followed_then_the_subscriptions_deleted,
);

pub(crate) const CONNECTED: &str = "CallParticipantConnected";
pub(crate) const TERMINATED: &str = "CallParticipantTerminated";

/// The root element of a subscription kind's body.
fn root_of(kind: &str) -> &'static str {
    match kind {
        "callEvent" => "callEventSubscription",
        "callDirection" => "callDirectionSubscription",
        "recording" => "playAndRecordInteractionSubscription",
        "collection" => "playAndCollectInteractionSubscription",
        other => panic!("no subscription kind {other}"),
    }
}

/// POSTs `{root: subscription}` to `callnotification/subscriptions/{kind}`.
pub(crate) async fn subscribe(app: &App, kind: &str, subscription: Value) -> Answer {
    app.send(
        Method::POST,
        &format!("/callnotification/subscriptions/{kind}"),
        Some(json!({ root_of(kind): subscription })),
    )
    .await
}

/// A call-event or call-direction subscription body; `criteria` None leaves them out.
pub(crate) fn call_subscription(
    notify_url: &str,
    addresses: &[&str],
    criteria: Option<&[&str]>,
    callback_data: &str,
) -> Value {
    let mut filter = json!({ "address": addresses });
    if let Some(criteria) = criteria {
        filter["criteria"] = json!(criteria);
    }
    json!({
        "callbackReference": {
            "notifyURL": notify_url,
            "callbackData": callback_data,
            "notificationFormat": "JSON",
        },
        "filter": filter,
    })
}

/// Checks a `201 Created` subscription answer (status, `Location` = `resourceURL` under
/// the kind's collection, JSON) and returns the subscription's URL.
pub(crate) fn created(suite: &Suite, kind: &str, answer: &Answer) -> String {
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "POST subscriptions/{kind}: {:?}",
        answer.body
    );
    let url = answer.body[root_of(kind)]["resourceURL"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(answer.header("location"), url, "{:?}", answer.body);
    let collection = format!("{}/callnotification/subscriptions/{kind}/", suite.api);
    assert!(
        url.starts_with(&collection),
        "{url} is not under {collection}"
    );
    assert_eq!(answer.header("content-type"), "application/json");
    url
}

/// Subscribes and checks the 201; returns the subscription's URL.
pub(crate) async fn subscribed(suite: &Suite, app: &App, kind: &str, body: Value) -> String {
    let answer = subscribe(app, kind, body).await;
    created(suite, kind, &answer)
}

/// `callEventNotification` of a received webhook.
pub(crate) fn notification(r: &Received) -> &Value {
    &r.body["callEventNotification"]
}

/// The Third Party Call URL of a call session.
pub(crate) fn session_url(suite: &Suite, id: &str) -> String {
    format!("{}/thirdpartycall/callSessions/{id}", suite.api)
}

/// Polls a session as `app` until its participants have `expected` statuses; returns it.
pub(crate) async fn until_statuses(app: &App, url: &str, expected: &[&str]) -> Value {
    let mut last = Value::Null;
    for _ in 0..400 {
        let r = app.get_url(url).await;
        if r.status == StatusCode::OK && statuses(&r.body) == expected {
            return r.body;
        }
        last = json!({"status": r.status.as_u16(), "body": r.body});
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("not within 10s: {url} statuses {expected:?}; last seen {last}");
}

/// Waits until the netsim log of `session` has an entry of `kind` towards `address`.
pub(crate) async fn until_logged(suite: &Suite, session: &str, kind: &str, address: &str) {
    eventually(
        &format!("a {kind} of {address} in session {session}"),
        10,
        || async {
            let log = suite.network_log(session).await;
            log.iter()
                .any(|c| c["kind"] == kind && c["address"] == address)
                .then_some(())
        },
    )
    .await;
}

/// Receive Call / Call Alerting: a `CalledNumber` subscription is told of the attempt, with
/// everything an application needs to act on the call; criteria are honoured.
async fn a_call_to_a_monitored_address_is_notified(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("alerting", &[]).await;
    let (caller, callee) = (unique_tel(), unique_tel());
    let alerts = Receiver::start().await;
    let later = Receiver::start().await;
    let outgoing = Receiver::start().await;

    let answer = subscribe(
        &app,
        "callEvent",
        call_subscription(&alerts.url, &[&callee], Some(&["CalledNumber"]), "alerting"),
    )
    .await;
    let sub_url = created(&suite, "callEvent", &answer);
    let s = &answer.body["callEventSubscription"];
    assert_eq!(s["filter"]["address"], json!([callee]));
    assert_eq!(s["filter"]["criteria"], json!(["CalledNumber"]));
    assert_eq!(s["filter"]["addressDirection"], "Called");
    assert_eq!(s["callbackReference"]["notifyURL"], alerts.url.as_str());
    assert_eq!(s["callbackReference"]["callbackData"], "alerting");
    // No duration asked: call.max_subscription_secs (30 days) is granted.
    assert_eq!(s["duration"], 2_592_000);
    // Other events of the same address (no criterion in common), and the caller's side.
    subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(
            &later.url,
            &[&callee],
            Some(&["Answer", "Disconnected"]),
            "later",
        ),
    )
    .await;
    let mut calling = call_subscription(&outgoing.url, &[&caller], Some(&["CalledNumber"]), "out");
    calling["filter"]["addressDirection"] = json!("Calling");
    subscribed(&suite, &app, "callEvent", calling).await;

    let dialled = suite
        .dial_raw(
            json!({"callingParticipant": caller, "calledParticipant": callee,
                         "callingParticipantName": "Alice"}),
        )
        .await;
    assert_eq!(dialled.status, StatusCode::CREATED, "{:?}", dialled.body);
    let call_id = dialled.body["callId"].as_str().unwrap().to_string();

    let alert = alerts
        .until("a CalledNumber notification", 10, |r| {
            r.call_event() == "CalledNumber"
        })
        .await;
    let n = notification(&alert);
    assert_eq!(n["notificationType"], "CallEvent", "{n}");
    assert_eq!(n["callingParticipant"], caller.as_str());
    assert_eq!(n["calledParticipant"], callee.as_str());
    assert_eq!(n["callingParticipantName"], "Alice");
    assert_eq!(n["callbackData"], "alerting");
    assert_eq!(
        n["link"],
        json!([{"rel": "CallEventSubscription", "href": sub_url}])
    );
    assert!(
        n["timestamp"].as_str().is_some_and(|t| t.contains('T')),
        "timestamp not RFC 3339: {n}"
    );
    let session = alert.call_session().to_string();
    assert!(!session.is_empty(), "no callSessionIdentifier: {n}");
    assert_eq!(
        alert.headers.get("content-type").unwrap(),
        "application/json"
    );
    assert!(!alert.notification_id().is_empty());

    // The network call is the notified session.
    let call = suite
        .until_network_call(&call_id, "bound to the session", |c| {
            c["callSessionId"] == session.as_str()
        })
        .await;
    assert_eq!(call["callingParticipant"], caller.as_str());
    assert_eq!(call["calledParticipant"], callee.as_str());
    let seen = outgoing
        .until("the caller's CalledNumber", 10, |r| {
            r.call_event() == "CalledNumber"
        })
        .await;
    assert_eq!(seen.call_session(), session);
    assert_eq!(notification(&seen)["callbackData"], "out");

    // The callee answers (netsim's default), then hangs up: the later events arrive at the
    // other subscription, after which the CalledNumber-only ones would have had theirs.
    let answered = later
        .until("an Answer notification", 10, |r| r.call_event() == "Answer")
        .await;
    assert_eq!(answered.call_session(), session);
    suite
        .until_network_call(&call_id, "proceeding", |c| c["state"] == "proceeding")
        .await;
    suite.hang_up(&call_id, &callee).await;
    later
        .until("a Disconnected notification", 10, |r| {
            r.call_event() == "Disconnected" && r.called() == callee
        })
        .await;
    suite
        .until_network_call(&call_id, "ended", |c| c["state"] == "ended")
        .await;
    let events = |r: &Receiver| {
        r.received()
            .iter()
            .map(|r| r.call_event().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(events(&alerts), ["CalledNumber"], "criteria not honoured");
    assert_eq!(events(&outgoing), ["CalledNumber"], "criteria not honoured");
}

/// Call Answer: an `Answer` subscription is told when the called party answers; the
/// notified application may read the call's session, another application may not.
async fn an_answer_is_notified_and_the_session_is_the_applications(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("answering", &[]).await;
    let other = suite.app("other", &[]).await;
    let hook = Receiver::start().await;
    let (caller, callee) = (unique_tel(), unique_tel());
    subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(&hook.url, &[&callee], Some(&["Answer"]), "answers"),
    )
    .await;
    let call_id = suite.dial(&caller, &callee).await;
    let answered = hook
        .until("an Answer notification", 10, |r| r.call_event() == "Answer")
        .await;
    let n = notification(&answered);
    assert_eq!(n["notificationType"], "CallEvent");
    assert_eq!(n["callingParticipant"], caller.as_str());
    assert_eq!(n["calledParticipant"], callee.as_str());
    assert_eq!(n["callbackData"], "answers");
    let id = answered.call_session().to_string();

    let url = session_url(&suite, &id);
    let s = until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;
    let addresses: Vec<_> = s["callSessionInformation"]["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["participantAddress"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(addresses, [caller.clone(), callee.clone()]);
    let list = app.get_url(&format!("{url}/participants")).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let refused = other.get_url(&url).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{:?}", refused.body);

    until_logged(&suite, &id, "connect", &callee).await;
    let call = suite
        .until_network_call(&call_id, "proceeding", |c| c["state"] == "proceeding")
        .await;
    assert_eq!(call["callSessionId"], id.as_str());
    assert_eq!(hook.received().len(), 1, "only Answer was asked for");
}

/// End Call (first reading): the notified application DELETEs the network call's session;
/// the network releases both parties.
async fn the_notified_application_ends_the_call_by_deleting_its_session(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("ender", &[]).await;
    let other = suite.app("other", &[]).await;
    let hook = Receiver::start().await;
    let (caller, callee) = (unique_tel(), unique_tel());
    subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(&hook.url, &[&callee], Some(&["Answer"]), "end"),
    )
    .await;
    let call_id = suite.dial(&caller, &callee).await;
    let id = hook
        .until("an Answer notification", 10, |r| r.call_event() == "Answer")
        .await
        .call_session()
        .to_string();
    let url = session_url(&suite, &id);
    until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;

    let refused = other.delete_url(&url).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{:?}", refused.body);
    let deleted = app.delete_url(&url).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    let s = until_statuses(&app, &url, &[TERMINATED, TERMINATED]).await;
    assert_eq!(causes(&s).len(), 2);
    until_logged(&suite, &id, "release", &caller).await;
    until_logged(&suite, &id, "release", &callee).await;
    suite
        .until_network_call(&call_id, "ended", |c| c["state"] == "ended")
        .await;
    let again = app.delete_url(&url).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.exception(), ("SVC0261", vec![id.clone()]));
}

/// End Call (second reading): follow `Disconnected` for the participants, re-read the
/// session after the notification, subscribe for a new participant, then delete the
/// subscriptions.
async fn disconnects_are_followed_then_the_subscriptions_deleted(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("follower", &[]).await;
    let hook = Receiver::start().await;
    let (caller, callee, newcomer) = (unique_tel(), unique_tel(), unique_tel());
    let first = subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(
            &hook.url,
            &[&callee],
            Some(&["Answer", "Disconnected"]),
            "f",
        ),
    )
    .await;
    let call_id = suite.dial(&caller, &callee).await;
    let id = hook
        .until("an Answer notification", 10, |r| r.call_event() == "Answer")
        .await
        .call_session()
        .to_string();
    let url = session_url(&suite, &id);
    until_statuses(&app, &url, &[CONNECTED, CONNECTED]).await;
    // netsim's hangup takes the call session id as well as the call id.
    suite.hang_up(&id, &callee).await;
    let gone = hook
        .until("a Disconnected notification", 10, |r| {
            r.call_event() == "Disconnected"
        })
        .await;
    assert_eq!(gone.called(), callee);
    assert_eq!(gone.call_session(), id);
    assert_eq!(notification(&gone)["notificationType"], "CallEvent");
    let s = until_statuses(&app, &url, &[TERMINATED, TERMINATED]).await;
    assert_eq!(causes(&s)[1], "CallParticipantHangUp", "{s}");
    suite
        .until_network_call(&call_id, "ended", |c| c["state"] == "ended")
        .await;

    let second = subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(&hook.url, &[&newcomer], Some(&["Disconnected"]), "new"),
    )
    .await;
    for url in [&first, &second] {
        let read = app.get_url(url).await;
        assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
        assert_eq!(
            read.body["callEventSubscription"]["resourceURL"],
            url.as_str()
        );
        let deleted = app.delete_url(url).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
        assert_eq!(deleted.body, Value::Null);
        let missing = app.get_url(url).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(
            missing.exception(),
            ("SVC0002", vec!["subscriptionId".to_string()])
        );
        assert_eq!(app.delete_url(url).await.status, StatusCode::NOT_FOUND);
    }
}
