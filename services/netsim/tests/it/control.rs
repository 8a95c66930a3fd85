//! The control API: rules round-trip, refusals as 4xx JSON, log filtering.

use axum::http::{Method, StatusCode};
use parlay_proto::net::v1::LegOutcome;
use serde_json::json;

use crate::harness::{Sim, connect, release, start};

fn log_kinds(log: &[serde_json::Value]) -> Vec<&str> {
    log.iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect()
}

async fn assert_refused(sim: &Sim, method: Method, uri: &str, body: Option<&str>) {
    let (status, reply) = sim.call(method, uri, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri} {body:?}: {reply}");
    assert!(
        reply["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{reply}"
    );
}

#[tokio::test]
async fn rules_are_replaced_and_read_back() {
    let sim = start().await;
    let (status, body) = sim.call(Method::GET, "/netsim/v1/rules", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"rules": []}));

    let rules = json!({"rules": [
        {"address": "tel:+1555*", "call": "busy", "callDelayMs": 20},
        {"address": "*", "call": "answer"}
    ]});
    let (status, body) = sim
        .call(Method::PUT, "/netsim/v1/rules", Some(&rules.to_string()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, rules);
    let (_, body) = sim.call(Method::GET, "/netsim/v1/rules", None).await;
    assert_eq!(body, rules);

    let fewer = json!({"rules": [{"address": "tel:+1666?", "call": "noAnswer"}]});
    sim.call(Method::PUT, "/netsim/v1/rules", Some(&fewer.to_string()))
        .await;
    let (_, body) = sim.call(Method::GET, "/netsim/v1/rules", None).await;
    assert_eq!(body, fewer, "a PUT replaces every rule");
}

#[tokio::test]
async fn media_fields_of_rules_are_stored_and_read_back() {
    let sim = start().await;
    let rules = json!({"rules": [
        {"address": "tel:+1555*", "call": "answer", "playMs": 1500,
         "recording": {"durationMs": 4000, "contentType": "audio/amr"}, "digits": "12*#"},
        {"address": "tel:+1666*", "call": "answer", "recording": {"durationMs": 10}},
        {"address": "*", "call": "answer", "digits": ""}
    ]});
    let (status, body) = sim
        .call(Method::PUT, "/netsim/v1/rules", Some(&rules.to_string()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, rules);
    let (_, body) = sim.call(Method::GET, "/netsim/v1/rules", None).await;
    assert_eq!(body, rules);
}

#[tokio::test]
async fn delivery_fields_of_rules_are_stored_and_read_back() {
    let sim = start().await;
    let rules = json!({"rules": [
        {"address": "tel:+1555*", "delivery": "DeliveryImpossible", "deliveryDelayMs": 30,
         "deliveryDescription": "unknown subscriber"},
        {"address": "tel:+1666*", "call": "busy", "deliverySteps": [
            {"status": "MessageWaiting", "delayMs": 50, "description": "phone off"},
            {"status": "DeliveredToTerminal", "delayMs": 10}
        ]},
        {"address": "tel:+1777*", "delivery": "DeliveryNotificationNotSupported"},
        {"address": "*"}
    ]});
    let (status, body) = sim
        .call(Method::PUT, "/netsim/v1/rules", Some(&rules.to_string()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, rules);
    let (_, body) = sim.call(Method::GET, "/netsim/v1/rules", None).await;
    assert_eq!(body, rules);
}

#[tokio::test]
async fn bad_rules_are_refused_and_change_nothing() {
    let sim = start().await;
    let good = r#"{"rules": [{"address": "*", "call": "answer"}]}"#;
    sim.call(Method::PUT, "/netsim/v1/rules", Some(good)).await;
    for bad in [
        r#"{"rules": [{"address": "*", "call": "answer", "messageDelivery": "ok"}]}"#,
        r#"{"rules": [], "mode": "strict"}"#,
        r#"{"rules": [{"address": "*", "call": "hangUp"}]}"#,
        r#"{"rules": [{"call": "answer"}]}"#,
        r#"{"rules": [{"address": "*", "delivery": "DeliveredToTerminal",
                       "deliverySteps": [{"status": "MessageWaiting", "delayMs": 5}]}]}"#,
        r#"{"rules": [{"address": "*", "deliveryDelayMs": 5, "deliverySteps": []}]}"#,
        r#"{"rules": [{"address": "*", "delivery": "Delivered"}]}"#,
        r#"{"rules": [{"address": "*", "deliveryDelayMs": 86400000}]}"#,
        r#"{"rules": [{"address": "*", "deliverySteps": [{"status": "MessageWaiting"}]}]}"#,
        r#"{"rules": [{"address": "*",
                       "deliverySteps": [{"status": "MessageWaiting", "delayMs": 1, "x": 2}]}]}"#,
        r#"{"rules": [{"address": "", "call": "answer"}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "callDelayMs": -5}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "callDelayMs": 86400000}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "playMs": -1}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "digits": "12a"}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "digits": 12}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "recording": {"seconds": 1}}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "recording": {"contentType": "wav"}}]}"#,
        r#"{"rules": [{"address": "*", "call": "answer", "recording": 5}]}"#,
        r#"{"rules": "#,
        "",
    ] {
        assert_refused(&sim, Method::PUT, "/netsim/v1/rules", Some(bad)).await;
    }
    let (_, body) = sim.call(Method::GET, "/netsim/v1/rules", None).await;
    assert_eq!(
        body,
        serde_json::from_str::<serde_json::Value>(good).unwrap()
    );
}

#[tokio::test]
async fn bad_hangups_are_refused() {
    let sim = start().await;
    let uri = "/netsim/v1/calls/cs1/hangup";
    assert_refused(
        &sim,
        Method::POST,
        uri,
        Some(r#"{"participantAddress": "+4670"}"#),
    )
    .await;
    assert_refused(
        &sim,
        Method::POST,
        uri,
        Some(r#"{"participantAddress": "tel:+4670", "reason": "x"}"#),
    )
    .await;
    assert_refused(&sim, Method::POST, uri, Some("{}")).await;
}

#[tokio::test]
async fn the_log_filters_by_session() {
    let sim = start().await;
    sim.send(&connect("c1", "cs1", "p1", "tel:+4670")).await;
    sim.send(&connect("c2", "cs2", "p2", "tel:+4671")).await;
    sim.send(&release("r1", "cs1", "p1", "tel:+4670")).await;
    sim.event("p2", LegOutcome::Answered).await;

    let all = sim.log(None).await;
    assert_eq!(all.len(), 3);
    let cs1 = sim.log(Some("cs1")).await;
    assert_eq!(log_kinds(&cs1), ["connect", "release"]);
    assert!(cs1.iter().all(|e| e["callSessionId"] == "cs1"));
    assert_eq!(cs1[1]["commandId"], "r1");
    assert!(sim.log(Some("unknown")).await.is_empty());
    let to_4670 = sim.log_query("address=tel:%2B4670").await;
    assert_eq!(log_kinds(&to_4670), ["connect", "release"]);
    assert!(sim.log_query("address=tel:%2B4672").await.is_empty());
    assert_refused(&sim, Method::GET, "/netsim/v1/log?session=cs1", None).await;
}
