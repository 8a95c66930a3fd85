//! Network-originated calls: the attempt on the bus, the call held until a command names
//! it, the caller's connected leg, decisions recorded, the call's state, and hangups by
//! call id or call session id.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use parlay_proto::net::v1::{CallAction, DecisionSource, LegOutcome, MediaOutcome};
use serde_json::{Value, json};

use crate::harness::{Sim, connect, deciding, for_network_call, play, release, start};

const CALLER: &str = "tel:+15551111";

/// Starts a call from [`CALLER`] to `called`; returns its id once the attempt is out.
async fn originate(sim: &Sim, called: &str) -> String {
    let body = json!({"callingParticipant": CALLER, "calledParticipant": called});
    let (status, reply) = sim
        .call(Method::POST, "/netsim/v1/calls", Some(&body.to_string()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let call_id = reply["callId"].as_str().unwrap().to_string();
    sim.attempt(&call_id).await;
    call_id
}

async fn get_call(sim: &Sim, call_id: &str) -> Value {
    let (status, body) = sim
        .call(Method::GET, &format!("/netsim/v1/calls/{call_id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    without_times(body)
}

/// The call without its timestamps, checked for shape: `attemptedAt` always, and
/// `decidedAt` exactly when a decision is shown, not before the attempt.
fn without_times(mut body: Value) -> Value {
    let time = |v: Option<Value>| {
        v.and_then(|v| v.as_str().map(str::to_string))
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
    };
    let object = body.as_object_mut().unwrap();
    let attempted = time(object.remove("attemptedAt")).expect("attemptedAt");
    let decided = time(object.remove("decidedAt"));
    assert_eq!(decided.is_some(), object.contains_key("decision"));
    assert!(decided.is_none_or(|d| d >= attempted));
    body
}

async fn hang_up(sim: &Sim, id: &str, address: &str) -> (StatusCode, Value) {
    let body = json!({"participantAddress": address}).to_string();
    sim.call(
        Method::POST,
        &format!("/netsim/v1/calls/{id}/hangup"),
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn an_attempt_is_published_and_the_call_waits() {
    let sim = start().await;
    let body = r#"{"callingParticipant": "tel:+15551111",
                   "calledParticipant": "sip:bob@example.com",
                   "callingParticipantName": "Alice"}"#;
    let (status, reply) = sim.call(Method::POST, "/netsim/v1/calls", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let call_id = reply["callId"].as_str().unwrap().to_string();
    assert_eq!(reply, json!({"callId": call_id}));

    let attempt = sim.attempt(&call_id).await;
    assert_eq!(attempt.calling_address, "tel:+15551111");
    assert_eq!(attempt.called_address, "sip:bob@example.com");
    assert_eq!(attempt.calling_name.as_deref(), Some("Alice"));
    assert!(attempt.event_id.starts_with("ev"));
    assert!(attempt.occurred_at.is_some());

    assert_eq!(
        get_call(&sim, &call_id).await,
        json!({
            "callId": call_id,
            "callingParticipant": "tel:+15551111",
            "calledParticipant": "sip:bob@example.com",
            "state": "waiting"
        })
    );
    let log = sim.log_query(&format!("callId={call_id}")).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "attempt");
    assert_eq!(log[0]["callId"], call_id.as_str());
    assert_eq!(log[0]["address"], "sip:bob@example.com");
    assert_eq!(log[0]["callingAddress"], "tel:+15551111");
    assert_eq!(log[0]["name"], "Alice");
    assert!(log[0].get("callSessionId").is_none());
    assert!(
        sim.events().is_empty(),
        "nothing rings before the suite decides"
    );

    let (status, body) = hang_up(&sim, &call_id, CALLER).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a waiting call has no leg: {body}"
    );
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn continue_binds_the_call_and_rings_the_called_party() {
    let sim = start().await;
    let call_id = originate(&sim, "tel:+4670111").await;
    let ring = for_network_call(connect("c1", "cs1", "p2", "tel:+4670111"), &call_id, "p1");
    let ring = deciding(
        ring,
        CallAction::Continue,
        DecisionSource::Application,
        None,
    );
    sim.send(&ring).await;
    sim.event("p2", LegOutcome::Answered).await;
    assert_eq!(
        get_call(&sim, &call_id).await,
        json!({
            "callId": call_id,
            "callingParticipant": CALLER,
            "calledParticipant": "tel:+4670111",
            "callSessionId": "cs1",
            "state": "proceeding",
            "decision": {"action": "Continue", "source": "application"}
        })
    );

    // The caller is a connected leg: media plays to it, and it can hang up.
    sim.send(&for_network_call(
        play("m1", "cs1", "p1", "med1"),
        &call_id,
        "p1",
    ))
    .await;
    sim.media_event("med1", MediaOutcome::Played).await;
    let (status, body) = hang_up(&sim, &call_id, CALLER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"hungUp": ["p1"]}));
    let disconnected = sim.event("p1", LegOutcome::Disconnected).await;
    assert_eq!(disconnected.call_session_id, "cs1");
    assert_eq!(disconnected.address, CALLER);
    assert_eq!(get_call(&sim, &call_id).await["state"], "proceeding");

    sim.send(&for_network_call(
        release("r1", "cs1", "p2", "tel:+4670111"),
        &call_id,
        "p1",
    ))
    .await;
    assert_eq!(get_call(&sim, &call_id).await["state"], "ended");

    let log = sim.log(Some("cs1")).await;
    let kinds: Vec<_> = log.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["connect", "play", "hangup", "release"]);
    assert_eq!(log[0]["callId"], call_id.as_str());
    assert_eq!(
        log[0]["decision"],
        json!({"action": "Continue", "source": "application"})
    );
    let by_call = sim.log_query(&format!("callId={call_id}")).await;
    assert_eq!(
        by_call.len(),
        4,
        "the attempt and the commands naming the call"
    );
}

#[tokio::test(start_paused = true)]
async fn end_call_releases_the_caller_and_ends_the_call() {
    let sim = start().await;
    let call_id = originate(&sim, "tel:+4670111").await;
    let end = for_network_call(release("r1", "cs2", "p1", CALLER), &call_id, "p1");
    sim.send(&deciding(
        end,
        CallAction::EndCall,
        DecisionSource::Default,
        None,
    ))
    .await;
    assert_eq!(
        get_call(&sim, &call_id).await,
        json!({
            "callId": call_id,
            "callingParticipant": CALLER,
            "calledParticipant": "tel:+4670111",
            "callSessionId": "cs2",
            "state": "ended",
            "decision": {"action": "EndCall", "source": "default"}
        })
    );
    let log = sim.log(Some("cs2")).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "release");
    assert_eq!(log[0]["participantId"], "p1");
    assert_eq!(log[0]["address"], CALLER);
    assert_eq!(log[0]["callId"], call_id.as_str());

    let (status, _) = hang_up(&sim, &call_id, CALLER).await;
    assert_eq!(status, StatusCode::CONFLICT, "the caller was released");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        sim.events().is_empty(),
        "a release is silent: {:?}",
        sim.events()
    );
}

#[tokio::test]
async fn route_after_busy_rings_the_routing_address() {
    let sim = start().await;
    let rules = r#"{"rules": [{"address": "tel:+4670222", "call": "busy", "callDelayMs": 5}]}"#;
    let (status, _) = sim.call(Method::PUT, "/netsim/v1/rules", Some(rules)).await;
    assert_eq!(status, StatusCode::OK);
    let call_id = originate(&sim, "tel:+4670222").await;

    let ring = for_network_call(connect("c1", "cs3", "p2", "tel:+4670222"), &call_id, "p1");
    sim.send(&deciding(
        ring,
        CallAction::Continue,
        DecisionSource::Default,
        None,
    ))
    .await;
    sim.event("p2", LegOutcome::Busy).await;
    assert_eq!(
        get_call(&sim, &call_id).await["state"],
        "proceeding",
        "the caller still holds the call"
    );

    let route = for_network_call(connect("c2", "cs3", "p3", "tel:+4670333"), &call_id, "p1");
    sim.send(&deciding(
        route,
        CallAction::Route,
        DecisionSource::Application,
        Some("tel:+4670333"),
    ))
    .await;
    sim.event("p3", LegOutcome::Answered).await;
    let call = get_call(&sim, &call_id).await;
    assert_eq!(
        call["decision"],
        json!({"action": "Route", "source": "application", "routingAddress": "tel:+4670333"})
    );

    // A hangup may name the call session instead of the call.
    let (status, body) = hang_up(&sim, "cs3", CALLER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sim.event("p1", LegOutcome::Disconnected).await;
    let (status, body) = hang_up(&sim, &call_id, "tel:+4670333").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sim.event("p3", LegOutcome::Disconnected).await;
    assert_eq!(get_call(&sim, &call_id).await["state"], "ended");
}

#[tokio::test]
async fn bad_call_requests_are_refused() {
    let sim = start().await;
    for bad in [
        r#"{"callingParticipant": "tel:+15551111"}"#,
        r#"{"callingParticipant": "tel:+15551111", "calledParticipant": "4670"}"#,
        r#"{"callingParticipant": "alice", "calledParticipant": "tel:+4670"}"#,
        r#"{"callingParticipant": "tel:+1555", "calledParticipant": "tel:+4670", "x": 1}"#,
        r#"{"callingParticipant": "tel:+1555", "calledParticipant": "tel:+4670",
            "callingParticipantName": "a\u0007b"}"#,
        r#"{"callingParticipant": "#,
        "",
    ] {
        let (status, body) = sim.call(Method::POST, "/netsim/v1/calls", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let long_name = json!({
        "callingParticipant": "tel:+1555",
        "calledParticipant": "tel:+4670",
        "callingParticipantName": "x".repeat(257)
    });
    let (status, _) = sim
        .call(
            Method::POST,
            "/netsim/v1/calls",
            Some(&long_name.to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(sim.attempts().is_empty());
    assert!(sim.log(None).await.is_empty());

    let (status, body) = sim.call(Method::GET, "/netsim/v1/calls/nc404", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("nc404")));
    let (status, _) = hang_up(&sim, "nc404", CALLER).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(start_paused = true)]
async fn a_command_for_an_unknown_call_acts_like_any_other() {
    let sim = start().await;
    let ring = for_network_call(connect("c1", "cs4", "p2", "tel:+4670"), "nc-unknown", "p1");
    sim.send(&ring).await;
    sim.event("p2", LegOutcome::Answered).await;
    let (status, _) = hang_up(&sim, "cs4", CALLER).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "no caller leg without the call"
    );
    let (status, _) = sim
        .call(Method::GET, "/netsim/v1/calls/nc-unknown", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
