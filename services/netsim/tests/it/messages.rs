//! Messages: submits in, one log entry per destination and delivery receipts out (by
//! default, and as rules script them); inbound SMS and MMS injected through the control
//! API.
//!
//! Tests that assert something did *not* happen run on a paused clock (see `calls.rs`).

use std::time::Duration;

use axum::http::{Method, StatusCode};
use parlay_kit::Config;
use parlay_proto::net::v1::{
    DeliveryState::{self, *},
    LegOutcome, inbound_message_event,
};
use serde_json::{Value, json};

use crate::harness::{Sim, connect, mms, sms, start, start_with};

async fn put_rules(sim: &Sim, rules: Value) {
    let (status, reply) = sim
        .call(Method::PUT, "/netsim/v1/rules", Some(&rules.to_string()))
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

async fn inject(sim: &Sim, body: &Value) -> (StatusCode, Value) {
    sim.call(Method::POST, "/netsim/v1/messages", Some(&body.to_string()))
        .await
}

/// Injects `body`, expecting 202; returns the event id.
async fn injected(sim: &Sim, body: &Value) -> String {
    let (status, reply) = inject(sim, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let event_id = reply["eventId"].as_str().unwrap().to_string();
    assert_eq!(reply, json!({"eventId": event_id}));
    event_id
}

/// The log without the receipts netsim sent.
fn submits(log: Vec<Value>) -> Vec<Value> {
    log.into_iter().filter(|e| e["kind"] != "receipt").collect()
}

fn log_kinds(log: &[Value]) -> Vec<&str> {
    log.iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect()
}

#[tokio::test]
async fn a_submit_to_three_destinations_is_logged_and_delivered_to_each() {
    let sim = start().await;
    let destinations = ["tel:+4670", "tel:+4671", "sip:bob@example.com"];
    sim.submit(&sms("m1", "rq1", &destinations, &["Hello"]))
        .await;

    for destination in destinations {
        let last = sim.receipt("rq1", destination, DeliveredToTerminal).await;
        assert_eq!(
            sim.states("rq1", destination),
            [DeliveredToNetwork, DeliveredToTerminal],
            "{destination}"
        );
        let first = &sim.receipts_for("rq1", destination)[0];
        assert!(first.event_id.starts_with("ev") && first.event_id != last.event_id);
        assert!(first.occurred_at.is_some() && last.occurred_at.is_some());
        assert_eq!(last.description, None);
    }
    assert_eq!(sim.receipts().len(), 6);

    let everything = sim.log(None).await;
    let receipts = everything.iter().filter(|e| e["kind"] == "receipt").count();
    assert_eq!(receipts, 6, "every receipt sent is logged");
    let log = submits(everything);
    assert_eq!(log_kinds(&log), ["sms", "sms", "sms"]);
    for (entry, destination) in log.iter().zip(destinations) {
        assert_eq!(entry["address"], destination);
        assert_eq!(entry["commandId"], "m1");
        assert_eq!(entry["requestId"], "rq1");
        assert_eq!(entry["senderAddress"], "tel:+15550000");
        assert_eq!(entry["text"], "Hello");
        assert_eq!(entry["segments"], 1);
        assert_eq!(entry["encoding"], "gsm7");
        assert!(entry["at"].is_string());
        assert!(entry.get("callSessionId").is_none() && entry.get("attachments").is_none());
    }
    let to_bob = submits(sim.log_query("address=sip:bob@example.com").await);
    assert_eq!(to_bob.len(), 1);
    assert_eq!(to_bob[0]["address"], "sip:bob@example.com");
    assert_eq!(submits(sim.log_query("requestId=rq1").await).len(), 3);
    assert!(sim.log_query("requestId=rq2").await.is_empty());
}

#[tokio::test]
async fn a_delivery_rule_scripts_the_final_status_and_its_description() {
    let sim = start().await;
    put_rules(
        &sim,
        json!({"rules": [
            {"address": "tel:+1555*", "delivery": "DeliveryImpossible", "deliveryDelayMs": 5,
             "deliveryDescription": "unknown subscriber"},
            {"address": "tel:+1666*", "delivery": "DeliveredToNetwork"},
            {"address": "tel:+1777*", "delivery": "MessageWaiting", "deliveryDelayMs": 0}
        ]}),
    )
    .await;
    let destinations = [
        "tel:+15551234",
        "tel:+16661234",
        "tel:+17771234",
        "tel:+4670",
    ];
    sim.submit(&sms("m1", "rq1", &destinations, &["Hi"])).await;

    let impossible = sim
        .receipt("rq1", "tel:+15551234", DeliveryImpossible)
        .await;
    assert_eq!(
        impossible.description.as_deref(),
        Some("unknown subscriber")
    );
    assert_eq!(
        sim.states("rq1", "tel:+15551234"),
        [DeliveredToNetwork, DeliveryImpossible]
    );
    sim.receipt("rq1", "tel:+17771234", MessageWaiting).await;
    assert_eq!(
        sim.states("rq1", "tel:+17771234"),
        [DeliveredToNetwork, MessageWaiting]
    );
    sim.receipt("rq1", "tel:+4670", DeliveredToTerminal).await;
    sim.receipt("rq1", "tel:+16661234", DeliveredToNetwork)
        .await;

    // A messaging-only rule leaves calls alone: answered, as with no rule.
    sim.send(&connect("c1", "cs1", "p1", "tel:+15551234")).await;
    sim.event("p1", LegOutcome::Answered).await;
}

#[tokio::test(start_paused = true)]
async fn delivered_to_network_alone_is_the_only_receipt() {
    let sim = start().await;
    put_rules(
        &sim,
        json!({"rules": [{"address": "*", "delivery": "DeliveredToNetwork",
                          "deliveryDescription": "accepted"}]}),
    )
    .await;
    sim.submit(&sms("m1", "rq1", &["tel:+4670"], &["Hi"])).await;
    let receipt = sim.receipt("rq1", "tel:+4670", DeliveredToNetwork).await;
    assert_eq!(receipt.description.as_deref(), Some("accepted"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sim.states("rq1", "tel:+4670"), [DeliveredToNetwork]);
}

#[tokio::test(start_paused = true)]
async fn delivery_steps_arrive_in_the_order_of_their_delays() {
    let sim = start().await;
    put_rules(
        &sim,
        json!({"rules": [{"address": "tel:+1555*", "deliverySteps": [
            {"status": "DeliveredToTerminal", "delayMs": 300, "description": "at last"},
            {"status": "MessageWaiting", "delayMs": 100},
            {"status": "DeliveredToNetwork", "delayMs": 0},
            {"status": "DeliveryUncertain", "delayMs": 100, "description": "tied"}
        ]}]}),
    )
    .await;
    let started = tokio::time::Instant::now();
    sim.submit(&sms("m1", "rq1", &["tel:+15551234"], &["Hi"]))
        .await;
    let last = sim
        .receipt("rq1", "tel:+15551234", DeliveredToTerminal)
        .await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(last.description.as_deref(), Some("at last"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let receipts = sim.receipts_for("rq1", "tel:+15551234");
    let states: Vec<DeliveryState> = receipts.iter().map(|r| r.state()).collect();
    assert_eq!(
        states,
        [
            DeliveredToNetwork,
            MessageWaiting,
            DeliveryUncertain,
            DeliveredToTerminal
        ],
        "by delay; equal delays in the order listed"
    );
    assert_eq!(receipts[2].description.as_deref(), Some("tied"));
    assert_eq!(receipts[1].description, None);
}

#[tokio::test(start_paused = true)]
async fn a_redelivered_submit_is_logged_and_delivered_once() {
    let sim = start().await;
    let submit = sms("m1", "rq1", &["tel:+4670", "tel:+4671"], &["Hi"]);
    sim.submit(&submit).await;
    sim.submit(&submit).await;
    sim.receipt("rq1", "tel:+4670", DeliveredToTerminal).await;
    sim.receipt("rq1", "tel:+4671", DeliveredToTerminal).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sim.receipts().len(), 4);
    assert_eq!(submits(sim.log(None).await).len(), 2);
    for destination in ["tel:+4670", "tel:+4671"] {
        assert_eq!(
            sim.states("rq1", destination),
            [DeliveredToNetwork, DeliveredToTerminal]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_the_receipts_still_pending() {
    let sim = start().await;
    put_rules(
        &sim,
        json!({"rules": [{"address": "*", "deliveryDelayMs": 1000}]}),
    )
    .await;
    sim.submit(&sms("m1", "rq1", &["tel:+4670"], &["Hi"])).await;
    sim.receipt("rq1", "tel:+4670", DeliveredToNetwork).await;
    sim.shut_down();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sim.states("rq1", "tel:+4670"), [DeliveredToNetwork]);
}

#[tokio::test]
async fn a_long_sms_is_logged_with_its_segment_count_and_whole_text() {
    let sim = start().await;
    let first = "a".repeat(153);
    let second = "b".repeat(153);
    let mut submit = sms("m1", "rq1", &["tel:+4670"], &[&first, &second, "the end"]);
    submit.sender_name = Some("ACME".into());
    // Segments may arrive in any order; the sequence numbers put them back.
    if let Some(parlay_proto::net::v1::message_submit::Kind::Sms(sms)) = &mut submit.kind {
        sms.segments.reverse();
    }
    sim.submit(&submit).await;
    sim.receipt("rq1", "tel:+4670", DeliveredToTerminal).await;
    let log = submits(sim.log_query("address=tel:%2B4670").await);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "sms");
    assert_eq!(log[0]["segments"], 3);
    assert_eq!(log[0]["text"], format!("{first}{second}the end"));
    assert_eq!(log[0]["senderName"], "ACME");
    assert_eq!(log[0]["encoding"], "gsm7");
}

#[tokio::test]
async fn an_mms_is_logged_with_its_attachments_without_their_data() {
    let sim = start().await;
    let png: &[u8] = &[0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    let submit = mms(
        "m1",
        "rq1",
        &["tel:+4670"],
        &[
            ("photo.png", "image/png", png),
            ("note.txt", "text/plain", b"hello"),
        ],
    );
    sim.submit(&submit).await;
    sim.receipt("rq1", "tel:+4670", DeliveredToTerminal).await;
    let log = submits(sim.log(None).await);
    assert_eq!(log.len(), 1);
    let entry = &log[0];
    assert_eq!(entry["kind"], "mms");
    assert_eq!(entry["subject"], "Holiday");
    assert_eq!(entry["priority"], "High");
    assert_eq!(entry["text"], "See the pictures");
    assert_eq!(
        entry["attachments"],
        json!([
            {"name": "photo.png", "contentType": "image/png", "size": 8},
            {"name": "note.txt", "contentType": "text/plain", "size": 5}
        ])
    );
    assert!(entry.get("segments").is_none() && entry.get("encoding").is_none());
}

#[tokio::test]
async fn an_injected_sms_is_published_and_logged() {
    let sim = start().await;
    let body = json!({"senderAddress": "tel:+15551234", "destinationAddress": "tel:+4670",
                      "message": "Hello from the network"});
    let event_id = injected(&sim, &body).await;
    let event = sim.inbound_event(&event_id).await;
    assert_eq!(event.sender_address, "tel:+15551234");
    assert_eq!(event.destination_address, "tel:+4670");
    assert_eq!(
        event.kind,
        Some(inbound_message_event::Kind::Text(
            "Hello from the network".into()
        ))
    );
    assert!(event.occurred_at.is_some());

    let log = submits(sim.log_query("address=tel:%2B4670").await);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "inbound");
    assert_eq!(log[0]["eventId"], event_id.as_str());
    assert_eq!(log[0]["senderAddress"], "tel:+15551234");
    assert_eq!(log[0]["text"], "Hello from the network");
    assert!(log[0].get("attachments").is_none() && log[0].get("commandId").is_none());

    // A short code is an address too.
    let body = json!({"senderAddress": "tel:+15551234", "destinationAddress": "3456",
                      "message": ""});
    let event_id = injected(&sim, &body).await;
    sim.inbound_event(&event_id).await;
}

#[tokio::test]
async fn an_injected_mms_is_published_and_logged() {
    let sim = start().await;
    let body = json!({
        "senderAddress": "tel:+15551234", "destinationAddress": "sip:bob@example.com",
        "subject": "Pictures", "priority": "High", "message": "Look",
        "attachments": [
            {"name": "a.png", "contentType": "image/png", "data": "iVBORw0KGgo="},
            {"name": "b.txt", "contentType": "text/plain; charset=utf-8", "data": "aGk"}
        ]
    });
    let event_id = injected(&sim, &body).await;
    let event = sim.inbound_event(&event_id).await;
    let Some(inbound_message_event::Kind::Mms(mms)) = event.kind else {
        panic!("not an MMS: {event:?}");
    };
    assert_eq!(mms.subject.as_deref(), Some("Pictures"));
    assert_eq!(mms.priority.as_deref(), Some("High"));
    assert_eq!(mms.text.as_deref(), Some("Look"));
    assert_eq!(mms.attachments.len(), 2);
    assert_eq!(mms.attachments[0].name, "a.png");
    assert_eq!(mms.attachments[0].content_type, "image/png");
    assert_eq!(
        mms.attachments[0].data,
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n']
    );
    assert_eq!(mms.attachments[1].data, b"hi");

    let log = sim.log(None).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["kind"], "inbound");
    assert_eq!(log[0]["address"], "sip:bob@example.com");
    assert_eq!(log[0]["subject"], "Pictures");
    assert_eq!(
        log[0]["attachments"],
        json!([
            {"name": "a.png", "contentType": "image/png", "size": 8},
            {"name": "b.txt", "contentType": "text/plain; charset=utf-8", "size": 2}
        ])
    );

    // A subject alone makes an MMS, without attachments.
    let body = json!({"senderAddress": "tel:+15551234", "destinationAddress": "tel:+4670",
                      "subject": "Just this"});
    let event_id = injected(&sim, &body).await;
    let event = sim.inbound_event(&event_id).await;
    let Some(inbound_message_event::Kind::Mms(mms)) = event.kind else {
        panic!("not an MMS: {event:?}");
    };
    assert!(mms.attachments.is_empty() && mms.text.is_none());
}

#[tokio::test(start_paused = true)]
async fn bad_injections_are_refused_and_publish_nothing() {
    let mut config = Config::default();
    config.messaging.max_attachment_bytes = 16;
    let sim = start_with(&config).await;
    let attachment = |data: &str| json!({"name": "a.bin", "contentType": "application/octet-stream", "data": data});
    let from = "tel:+15551234";
    let to = "tel:+4670";
    let bad_requests = [
        json!({"destinationAddress": to, "message": "x"}),
        json!({"senderAddress": from, "message": "x"}),
        json!({"senderAddress": "", "destinationAddress": to, "message": "x"}),
        json!({"senderAddress": from, "destinationAddress": "tel:+46\n70", "message": "x"}),
        json!({"senderAddress": from, "destinationAddress": to}),
        json!({"senderAddress": from, "destinationAddress": to, "message": "x", "priority": "High"}),
        json!({"senderAddress": from, "destinationAddress": to, "message": "x", "extra": 1}),
        json!({"senderAddress": from, "destinationAddress": to, "subject": "s", "priority": "Urgent"}),
        json!({"senderAddress": from, "destinationAddress": to, "attachments": [attachment("not base64!")]}),
        json!({"senderAddress": from, "destinationAddress": to,
               "attachments": [{"name": "a", "contentType": "png", "data": "aGk="}]}),
        json!({"senderAddress": from, "destinationAddress": to,
               "attachments": [{"name": "", "contentType": "image/png", "data": "aGk="}]}),
        json!({"senderAddress": from, "destinationAddress": to,
               "attachments": [{"name": "a", "contentType": "image/png"}]}),
        json!({"senderAddress": from, "destinationAddress": to,
               "attachments": vec![attachment(""); 21]}),
    ];
    for body in &bad_requests {
        let (status, reply) = inject(&sim, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {reply}");
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{reply}"
        );
    }
    let (status, reply) = sim
        .call(Method::POST, "/netsim/v1/messages", Some("{"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");

    // 17 bytes in one attachment, then 10 + 10 in two: both over the 16 allowed.
    for attachments in [
        json!([attachment("MDEyMzQ1Njc4OTAxMjM0NTY=")]),
        json!([
            attachment("MDEyMzQ1Njc4OQ=="),
            attachment("MDEyMzQ1Njc4OQ==")
        ]),
    ] {
        let body = json!({"senderAddress": from, "destinationAddress": to,
                          "attachments": attachments});
        let (status, reply) = inject(&sim, &body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
        assert!(
            reply["error"].as_str().is_some_and(|e| e.contains("16")),
            "{reply}"
        );
    }
    // Exactly at the limit is fine.
    let body = json!({"senderAddress": from, "destinationAddress": to,
                      "attachments": [attachment("MDEyMzQ1Njc4OTAxMjM0NQ==")]});
    let event_id = injected(&sim, &body).await;
    sim.inbound_event(&event_id).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sim.inbound().len(), 1, "only the good one was published");
    assert_eq!(sim.log(None).await.len(), 1, "only the good one was logged");
}

#[tokio::test]
async fn attachments_up_to_a_configured_limit_beyond_axum_s_default_are_accepted() {
    use base64::Engine;
    let limit = 3 * 1024 * 1024;
    let mut config = Config::default();
    config.messaging.max_attachment_bytes = limit;
    let sim = start_with(&config).await;
    let body = |size: usize| {
        let data = base64::engine::general_purpose::STANDARD.encode(vec![7u8; size]);
        json!({"senderAddress": "tel:+15551234", "destinationAddress": "tel:+4670",
               "attachments": [{"name": "big.bin", "contentType": "application/octet-stream",
                                "data": data}]})
    };
    let event_id = injected(&sim, &body(limit)).await;
    let event = sim.inbound_event(&event_id).await;
    let Some(inbound_message_event::Kind::Mms(mms)) = event.kind else {
        panic!("not an MMS");
    };
    assert_eq!(mms.attachments[0].data.len(), limit);

    let (status, reply) = inject(&sim, &body(limit + 1)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|e| e.contains(&limit.to_string())),
        "netsim's own refusal: {reply}"
    );
}
