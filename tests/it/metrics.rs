//! What an operator's Prometheus scrapes: after an SMS is sent and its receipts notified,
//! `/metrics` carries the RED metrics of the gateway and of the gRPC services, the bus
//! counters and consumer lag, notify's delivery metrics and backlog, and messaging's own
//! (the names docs/operations.md and the Grafana dashboard use).

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    harness::{Mode, Suite, both_modes, eventually, unique_tel},
    messaging::{requests_path, sms},
    receiver::Receiver,
};

both_modes!(the_documented_metrics_are_served_after_traffic);

/// Is there a sample of `name` with every one of `labels` (`key="value"`)?
fn has(text: &str, name: &str, labels: &[&str]) -> bool {
    text.lines().any(|line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            && labels.iter().all(|l| line.contains(l))
    })
}

async fn the_documented_metrics_are_served_after_traffic(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("metered", &[]).await;
    let receiver = Receiver::start().await;
    let sender = unique_tel();
    let mut body = sms(&sender, &[&unique_tel()], "count me");
    body["outboundMessageRequest"]["receiptRequest"] = json!({"notifyURL": receiver.url});
    let r = app
        .send(reqwest::Method::POST, &requests_path(&sender), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    eventually("two notifications", 15, || async {
        (receiver.received().len() >= 2).then_some(())
    })
    .await;

    let expected: &[(&str, &[&str])] = &[
        (
            "parlay_http_requests_total",
            &["method=\"POST\"", "status=\"201\""],
        ),
        (
            "parlay_http_request_duration_seconds_count",
            &["method=\"POST\""],
        ),
        (
            "parlay_grpc_requests_total",
            &[
                "service=\"parlay.messaging.v1.Messaging\"",
                "method=\"SendMessage\"",
                "code=\"Ok\"",
            ],
        ),
        (
            "parlay_grpc_request_duration_seconds_count",
            &["method=\"SendMessage\""],
        ),
        (
            "parlay_bus_published_total",
            &["subject=\"net.cmd.msg.submit\"", "outcome=\"ok\""],
        ),
        (
            "parlay_bus_published_total",
            &["subject=\"notify.msg\"", "outcome=\"ok\""],
        ),
        (
            "parlay_bus_consumed_total",
            &["durable=\"messaging-net-events\"", "outcome=\"ack\""],
        ),
        (
            "parlay_bus_consumer_pending",
            &["durable=\"messaging-net-events\""],
        ),
        ("parlay_notify_attempts_total", &["outcome=\"delivered\""]),
        ("parlay_notify_delivery_seconds_count", &[]),
        ("parlay_notify_pending", &[]),
        ("parlay_messaging_requests_total", &[]),
        ("parlay_messaging_receipts_total", &["applied=\"true\""]),
    ];
    // The last counters are bumped just after the notification left: poll briefly.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = suite.metrics().await;
        let missing: Vec<&str> = expected
            .iter()
            .filter(|(name, labels)| !has(&text, name, labels))
            .map(|(name, _)| *name)
            .collect();
        if missing.is_empty() {
            assert!(
                text.contains("# TYPE parlay_bus_consumer_pending gauge"),
                "{text}"
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing {missing:?} in:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
