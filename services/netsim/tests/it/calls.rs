//! Call commands in, leg events out: default answer, scripted outcomes, release,
//! de-duplication and hangup.
//!
//! Tests that assert something did *not* happen run on a paused clock: tokio only moves
//! it forward when every task is idle, so once the test's own timer fires, every timer due
//! earlier (the suppressed outcome included) has already run.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use parlay_proto::net::v1::LegOutcome;

use crate::harness::{Sim, connect, release, start};

async fn put_rules(sim: &Sim, body: &str) {
    let (status, reply) = sim.call(Method::PUT, "/netsim/v1/rules", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

#[tokio::test]
async fn a_connect_without_rule_is_answered_and_logged() {
    let sim = start().await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+46701234567"))
        .await;
    let event = sim.event("p1", LegOutcome::Answered).await;
    assert_eq!(event.call_session_id, "cs1");
    assert_eq!(event.address, "tel:+46701234567");
    assert!(event.event_id.starts_with("ev"));
    assert!(event.occurred_at.is_some());

    let log = sim.log(None).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "connect");
    assert_eq!(log[0]["callSessionId"], "cs1");
    assert_eq!(log[0]["participantId"], "p1");
    assert_eq!(log[0]["address"], "tel:+46701234567");
    assert_eq!(log[0]["callingAddress"], "tel:+15550000");
    assert!(log[0]["at"].is_string());
}

#[tokio::test]
async fn a_busy_rule_yields_busy_and_ends_the_leg() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "tel:+1555*", "call": "busy", "callDelayMs": 5}]}"#,
    )
    .await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+15551234")).await;
    sim.event("p1", LegOutcome::Busy).await;
    let (status, _) = sim
        .call(
            Method::POST,
            "/netsim/v1/calls/cs1/hangup",
            Some(r#"{"participantAddress": "tel:+15551234"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a busy leg never connected");
}

#[tokio::test]
async fn other_rules_map_to_their_outcomes() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [
            {"address": "tel:+1666*", "call": "noAnswer"},
            {"address": "sip:*@down.example", "call": "notReachable", "callDelayMs": 0}
        ]}"#,
    )
    .await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+16661234")).await;
    sim.send(&connect("c2", "cs1", "p2", "sip:bob@down.example"))
        .await;
    sim.event("p1", LegOutcome::NoAnswer).await;
    sim.event("p2", LegOutcome::NotReachable).await;
}

#[tokio::test(start_paused = true)]
async fn a_release_before_the_delay_suppresses_the_outcome() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "tel:+1555*", "call": "answer", "callDelayMs": 1000}]}"#,
    )
    .await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+15551234")).await;
    sim.send(&release("r1", "cs1", "p1", "tel:+15551234")).await;
    // A release for a leg not seen yet is remembered: its late connect is ignored.
    sim.send(&release("r2", "cs1", "p2", "tel:+4670")).await;
    sim.send(&connect("c2", "cs1", "p2", "tel:+4670")).await;

    tokio::time::sleep(Duration::from_secs(5)).await;
    sim.send(&connect("c3", "cs2", "marker", "tel:+4671")).await;
    sim.event("marker", LegOutcome::Answered).await;
    let events = sim.events();
    assert_eq!(
        events.len(),
        1,
        "only the marker has an outcome: {events:?}"
    );

    let log = sim.log(Some("cs1")).await;
    let kinds: Vec<_> = log
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["connect", "release", "release", "connect"]);
    assert_eq!(log[3]["ignored"], true);
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_command_acts_once_and_logs_once() {
    let sim = start().await;
    let command = connect("c1", "cs1", "p1", "tel:+4670");
    sim.send(&command).await;
    sim.send(&command).await;
    sim.event("p1", LegOutcome::Answered).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sim.events().len(), 1);
    assert_eq!(sim.log(None).await.len(), 1);

    let release = release("r1", "cs1", "p1", "tel:+4670");
    sim.send(&release).await;
    sim.send(&release).await;
    assert_eq!(sim.log(None).await.len(), 2);
}

#[tokio::test]
async fn a_hangup_disconnects_the_connected_leg() {
    let sim = start().await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+4670")).await;
    sim.send(&connect("c2", "cs1", "p2", "tel:+4671")).await;
    sim.event("p1", LegOutcome::Answered).await;
    sim.event("p2", LegOutcome::Answered).await;

    let hangup = Some(r#"{"participantAddress": "tel:+4670"}"#);
    let (status, body) = sim
        .call(Method::POST, "/netsim/v1/calls/cs1/hangup", hangup)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, serde_json::json!({"hungUp": ["p1"]}));
    let event = sim.event("p1", LegOutcome::Disconnected).await;
    assert_eq!(event.address, "tel:+4670");

    let (status, body) = sim
        .call(Method::POST, "/netsim/v1/calls/cs1/hangup", hangup)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());
    let (status, _) = sim
        .call(Method::POST, "/netsim/v1/calls/nope/hangup", hangup)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let log = sim.log(Some("cs1")).await;
    let hangups: Vec<_> = log.iter().filter(|e| e["kind"] == "hangup").collect();
    assert_eq!(hangups.len(), 1);
    assert_eq!(hangups[0]["participantId"], "p1");
    assert_eq!(hangups[0]["address"], "tel:+4670");
}

#[tokio::test]
async fn an_undecodable_command_is_acknowledged_and_skipped() {
    let sim = start().await;
    // `publish` returns only once netsim acknowledged the garbage.
    sim.send_raw(b"\xff\xff\xff not protobuf").await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+4670")).await;
    sim.event("p1", LegOutcome::Answered).await;
    assert_eq!(sim.log(None).await.len(), 1);
}
