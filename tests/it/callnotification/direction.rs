//! Call-direction subscriptions end to end: the application is asked what to do with a
//! network call and answers in the HTTP response (Call Decline, routing), or fails to, and
//! the subscription's default applies. netsim shows the decision the network carried out.

use serde_json::{Value, json};

use super::{call_subscription, created, notification, subscribe, until_logged};
use crate::{
    harness::{Mode, Suite, both_modes, eventually, unique_tel},
    receiver::{Answer as Plan, Receiver},
};

both_modes!(
    call_decline_ends_the_call,
    route_rings_the_routing_address_instead,
    a_failing_or_late_application_gets_the_default,
    default_end_call_releases_the_call,
    deferred_applies_the_default_at_once,
    the_oldest_direction_subscription_decides,
    a_busy_called_party_is_asked_about_and_routed,
);

/// Subscribes `hook` to decide `CalledNumber` calls to `callee`, with `extra` fields; checks
/// the 201 and returns the subscription (its representation and URL).
async fn ask_for(
    suite: &Suite,
    app: &crate::harness::App,
    hook: &Receiver,
    callee: &str,
    extra: Value,
) -> (Value, String) {
    let mut body = call_subscription(&hook.url, &[callee], Some(&["CalledNumber"]), "direct");
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let answer = subscribe(app, "callDirection", body).await;
    let url = created(suite, "callDirection", &answer);
    (answer.body["callDirectionSubscription"].clone(), url)
}

/// Waits until netsim shows a decision for the call; returns the call.
async fn decided(suite: &Suite, call_id: &str) -> Value {
    suite
        .until_network_call(call_id, "a decision", |c| c["decision"].is_object())
        .await
}

/// Whether the network was ever asked to ring `address` in `session`.
async fn rung(suite: &Suite, session: &str, address: &str) -> bool {
    suite
        .network_log(session)
        .await
        .iter()
        .any(|c| c["kind"] == "connect" && c["address"] == address)
}

/// The decision is counted on the admin `/metrics` (embedded mode only: distributed mode
/// gives each service its own admin listener, and the test no single one to ask).
async fn counted(suite: &Suite, action: &str, source: &str, reason: &str) {
    if suite.mode != Mode::Embedded {
        return;
    }
    let labels = [
        format!("action=\"{action}\""),
        format!("source=\"{source}\""),
        format!("reason=\"{reason}\""),
    ];
    eventually(
        &format!("parlay_call_decisions_total{{{}}}", labels.join(",")),
        10,
        || async {
            let text = suite.metrics().await;
            text.lines()
                .any(|l| {
                    l.starts_with("parlay_call_decisions_total{")
                        && labels.iter().all(|label| l.contains(label.as_str()))
                })
                .then_some(())
        },
    )
    .await;
}

/// Call Decline: the application answers `EndCall`; the caller is released and the called
/// party never rung.
async fn call_decline_ends_the_call(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("decliner", &[]).await;
    let hook = Receiver::start().await;
    hook.plan(&[Plan::action("EndCall")]);
    let (caller, callee) = (unique_tel(), unique_tel());
    let (sub, sub_url) = ask_for(&suite, &app, &hook, &callee, json!({})).await;
    assert_eq!(sub["filter"]["criteria"], json!(["CalledNumber"]));
    assert_eq!(sub["filter"]["address"], json!([callee]));

    let call_id = suite.dial(&caller, &callee).await;
    let asked = hook
        .until("the call-direction question", 10, |r| {
            r.notification_type() == "CallDirection"
        })
        .await;
    let n = notification(&asked);
    assert_eq!(n["eventDescription"]["callEvent"], "CalledNumber");
    assert_eq!(n["callingParticipant"], caller.as_str());
    assert_eq!(n["calledParticipant"], callee.as_str());
    assert_eq!(n["callbackData"], "direct");
    assert_eq!(
        n["link"],
        json!([{"rel": "CallDirectionSubscription", "href": sub_url}])
    );
    let session = asked.call_session().to_string();
    assert!(!session.is_empty(), "{n}");

    let call = decided(&suite, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "EndCall", "source": "application"})
    );
    assert_eq!(call["callSessionId"], session.as_str());
    until_logged(&suite, &session, "release", &caller).await;
    suite
        .until_network_call(&call_id, "ended", |c| c["state"] == "ended")
        .await;
    assert!(
        !rung(&suite, &session, &callee).await,
        "declined, yet the called party was rung: {:?}",
        suite.network_log(&session).await
    );
    assert_eq!(hook.received().len(), 1, "asked once");
    counted(&suite, "EndCall", "application", "answered").await;
}

/// Route: the routing address is rung instead of the called party.
async fn route_rings_the_routing_address_instead(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("router", &[]).await;
    let hook = Receiver::start().await;
    let (caller, callee, voicemail) = (unique_tel(), unique_tel(), unique_tel());
    hook.plan(&[Plan::Json(
        200,
        json!({"action": {"actionToPerform": "Route", "routingAddress": voicemail}}),
    )]);
    ask_for(&suite, &app, &hook, &callee, json!({})).await;
    let call_id = suite.dial(&caller, &callee).await;
    let call = decided(&suite, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "Route", "source": "application", "routingAddress": voicemail})
    );
    let session = call["callSessionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    until_logged(&suite, &session, "connect", &voicemail).await;
    suite
        .until_network_call(&call_id, "proceeding", |c| c["state"] == "proceeding")
        .await;
    assert!(
        !rung(&suite, &session, &callee).await,
        "routed, yet the called party was rung: {:?}",
        suite.network_log(&session).await
    );
    counted(&suite, "Route", "application", "answered").await;
}

/// An application answering 500, or answering after the response timeout, does not decide:
/// the default (`Continue`) rings the called party.
async fn a_failing_or_late_application_gets_the_default(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("unreliable", &[]).await;
    let failing = Receiver::start().await;
    failing.plan(&[Plan::Status(500)]);
    let slow = Receiver::start().await;
    slow.plan(&[Plan::Delay(2_500, Box::new(Plan::action("EndCall")))]);
    let caller = unique_tel();
    let (to_failing, to_slow) = (unique_tel(), unique_tel());
    ask_for(&suite, &app, &failing, &to_failing, json!({})).await;
    let (sub, _) = ask_for(&suite, &app, &slow, &to_slow, json!({"responseTimeout": 1})).await;
    assert_eq!(sub["responseTimeout"], 1);

    let failed_call = suite.dial(&caller, &to_failing).await;
    let late_call = suite.dial(&caller, &to_slow).await;
    for (call_id, callee) in [(&failed_call, &to_failing), (&late_call, &to_slow)] {
        let call = decided(&suite, call_id).await;
        assert_eq!(
            call["decision"],
            json!({"action": "Continue", "source": "default"}),
            "call to {callee}"
        );
        let session = call["callSessionId"].as_str().unwrap_or_default();
        until_logged(&suite, session, "connect", callee).await;
    }
    assert_eq!(failing.received().len(), 1, "a question is asked once");
    assert_eq!(slow.received().len(), 1, "a question is asked once");
    // The late EndCall changed nothing: the called party still talks.
    suite
        .until_network_call(&late_call, "proceeding", |c| c["state"] == "proceeding")
        .await;
    counted(&suite, "Continue", "default", "status").await;
    counted(&suite, "Continue", "default", "timeout").await;
}

/// `"defaultAction": "EndCall"`: an application that never answers gets its call ended.
async fn default_end_call_releases_the_call(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("strict", &[]).await;
    let hook = Receiver::start().await;
    hook.plan(&[Plan::Hang]);
    let (caller, callee) = (unique_tel(), unique_tel());
    let (sub, _) = ask_for(
        &suite,
        &app,
        &hook,
        &callee,
        json!({"defaultAction": "EndCall", "responseTimeout": 1}),
    )
    .await;
    assert_eq!(sub["defaultAction"], "EndCall");
    assert_eq!(sub["responseTimeout"], 1);
    let call_id = suite.dial(&caller, &callee).await;
    let call = decided(&suite, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "EndCall", "source": "default"})
    );
    let session = call["callSessionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    until_logged(&suite, &session, "release", &caller).await;
    suite
        .until_network_call(&call_id, "ended", |c| c["state"] == "ended")
        .await;
    assert!(!rung(&suite, &session, &callee).await);
    counted(&suite, "EndCall", "default", "timeout").await;
}

/// `Deferred` is "no decision now": the default applies at once, not at the deadline.
async fn deferred_applies_the_default_at_once(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("undecided", &[]).await;
    let hook = Receiver::start().await;
    hook.plan(&[Plan::action("Deferred")]);
    let (caller, callee) = (unique_tel(), unique_tel());
    // 30 s to answer: a decision within `decided`'s 10 s cannot be the timeout's.
    ask_for(&suite, &app, &hook, &callee, json!({"responseTimeout": 30})).await;
    let call_id = suite.dial(&caller, &callee).await;
    let call = decided(&suite, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "Continue", "source": "default"})
    );
    let session = call["callSessionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    until_logged(&suite, &session, "connect", &callee).await;
    counted(&suite, "Continue", "default", "deferred").await;
    assert_eq!(hook.received().len(), 1, "asked once");
}

/// Two applications' direction subscriptions match: the oldest is asked and decides; the
/// other is not asked, though its call-event subscription is still told.
async fn the_oldest_direction_subscription_decides(mode: Mode) {
    let suite = Suite::start(mode).await;
    let first = suite.app("first", &[]).await;
    let second = suite.app("second", &[]).await;
    let (older, newer, events) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    older.plan(&[Plan::action("Continue")]);
    newer.plan(&[Plan::action("EndCall")]);
    let (caller, callee) = (unique_tel(), unique_tel());
    ask_for(&suite, &first, &older, &callee, json!({})).await;
    ask_for(&suite, &second, &newer, &callee, json!({})).await;
    let body = call_subscription(
        &events.url,
        &[&callee],
        Some(&["CalledNumber", "Answer"]),
        "e",
    );
    created(
        &suite,
        "callEvent",
        &subscribe(&second, "callEvent", body).await,
    );

    let call_id = suite.dial(&caller, &callee).await;
    let call = decided(&suite, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "Continue", "source": "application"})
    );
    assert_eq!(older.received().len(), 1);
    // The Answer comes after the decision: had the newer been asked, it would have been by then.
    let answered = events
        .until("the second application's Answer", 10, |r| {
            r.call_event() == "Answer"
        })
        .await;
    assert_eq!(
        answered.call_session(),
        call["callSessionId"].as_str().unwrap()
    );
    assert!(
        events
            .received()
            .iter()
            .any(|r| r.call_event() == "CalledNumber")
    );
    assert!(
        newer.received().is_empty(),
        "the newer subscription was asked too: {:?}",
        newer.received()
    );
}

/// A `Busy` criterion: the called party is rung (nothing to decide on the attempt), is
/// busy, the application is asked and routes the call elsewhere.
async fn a_busy_called_party_is_asked_about_and_routed(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (caller, callee, voicemail) = (unique_tel(), unique_tel(), unique_tel());
    suite
        .set_rules(json!([{"address": callee, "call": "busy", "callDelayMs": 10}]))
        .await;
    let app = suite.app("busy-router", &[]).await;
    let hook = Receiver::start().await;
    hook.plan(&[Plan::Json(
        200,
        json!({"action": {"actionToPerform": "Route", "routingAddress": voicemail}}),
    )]);
    let body = call_subscription(&hook.url, &[&callee], Some(&["Busy"]), "busy");
    created(
        &suite,
        "callDirection",
        &subscribe(&app, "callDirection", body).await,
    );
    let call_id = suite.dial(&caller, &callee).await;
    let asked = hook
        .until("the Busy question", 10, |r| {
            r.notification_type() == "CallDirection"
        })
        .await;
    assert_eq!(asked.call_event(), "Busy");
    assert_eq!(asked.called(), callee);
    let call = decided(&suite, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "Route", "source": "application", "routingAddress": voicemail})
    );
    let session = call["callSessionId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(asked.call_session(), session);
    assert!(
        rung(&suite, &session, &callee).await,
        "the called party was never rung"
    );
    until_logged(&suite, &session, "connect", &voicemail).await;
    assert_eq!(hook.received().len(), 1, "asked once");
}
