//! One trace per operation, seen as an operator's tracing backend would: with an in-memory
//! span exporter installed, creating a call session whose participant answers, and
//! receiving the Answer webhook, leaves spans that all share the request's trace id (from
//! its `traceparent`) and link up parent to child across the gateway, the call service's
//! gRPC handler, the bus to the network simulator and back, and notify's delivery.
//!
//! Each test runs in a process of its own (nextest), so the exporter installed here sees
//! only this test's suite.

use std::collections::HashSet;

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    harness::{App, Mode, Suite, both_modes, eventually, read},
    receiver::{Received, Receiver},
};

both_modes!(
    a_call_and_its_webhook_are_one_linked_trace,
    an_sms_and_its_receipt_webhooks_share_its_trace
);

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN: &str = "b7ad6b7169203331";

/// POSTs `body` to `path` as a client in trace [`TRACE_ID`] would; asserts 201.
async fn created_in_trace(app: &App, path: &str, body: &Value) {
    let created = read(
        app.http
            .post(app.url(path))
            .bearer_auth(&app.key)
            .header("traceparent", format!("00-{TRACE_ID}-{CLIENT_SPAN}-01"))
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
}

/// The `traceparent` of `webhook`, asserted to be of trace [`TRACE_ID`], and the spans of
/// that trace once notify's delivery span ended (just after the webhook arrived).
async fn delivered_in_trace(
    webhook: &Received,
    exporter: &InMemorySpanExporter,
) -> (String, Vec<SpanData>) {
    let traceparent = webhook.headers["traceparent"].to_str().unwrap().to_string();
    assert!(traceparent.contains(TRACE_ID), "{traceparent}");
    let spans = eventually("notify's delivery span", 10, || async {
        let spans: Vec<SpanData> = exporter
            .get_finished_spans()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.span_context.trace_id().to_string() == TRACE_ID)
            .collect();
        spans
            .iter()
            .any(|s| s.name == "notify.deliver")
            .then_some(spans)
    })
    .await;
    (traceparent, spans)
}

async fn a_call_and_its_webhook_are_one_linked_trace(mode: Mode) {
    let exporter = InMemorySpanExporter::default();
    parlay_kit::telemetry::init_with_exporter("off", "parlay-e2e", exporter.clone());
    let suite = Suite::start(mode).await;
    let app = suite.app("traced", &[]).await;
    let hook = Receiver::start().await;
    let body = json!({"callSessionInformation": {
        "participant": [{"participantAddress": crate::harness::unique_tel()}],
        "callbackReference": {"notifyURL": hook.url}}});
    created_in_trace(&app, "/thirdpartycall/callSessions", &body).await;
    let webhook = hook
        .until("the Answer webhook", 15, |r| r.call_event() == "Answer")
        .await;
    let (traceparent, spans) = delivered_in_trace(&webhook, &exporter).await;
    let names: HashSet<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    for hop in [
        "http_request",
        "call.grpc",
        "netsim.command",
        "call.net_event",
        "notify.deliver",
    ] {
        assert!(names.contains(hop), "no {hop} span in the trace: {names:?}");
    }
    // Every span's parent is a span of the same trace, except the gateway's, whose parent is
    // the client's span from the traceparent.
    let ids: HashSet<String> = spans
        .iter()
        .map(|s| s.span_context.span_id().to_string())
        .collect();
    for s in &spans {
        let parent = s.parent_span_id.to_string();
        if s.name == "http_request" {
            assert_eq!(parent, CLIENT_SPAN);
        } else {
            assert!(
                ids.contains(&parent),
                "{} has parent {parent}, which is not in the trace",
                s.name
            );
        }
    }
    // The webhook's traceparent names a span of notify's delivery (it or one inside it).
    let by_id = |id: &str| {
        spans
            .iter()
            .find(|s| s.span_context.span_id().to_string() == id)
    };
    let mut at = traceparent.split('-').nth(2).map(str::to_string);
    let mut chain = Vec::new();
    while let Some(span) = at.as_deref().and_then(by_id) {
        chain.push(span.name.to_string());
        if span.name == "notify.deliver" {
            return;
        }
        at = Some(span.parent_span_id.to_string());
    }
    panic!("the webhook's parent {traceparent} is not within notify.deliver: {chain:?}");
}

/// Sends, receipts and inbound messages are written in batches by one task: the bus
/// messages each records still carry the trace of the request or event that handed it in.
async fn an_sms_and_its_receipt_webhooks_share_its_trace(mode: Mode) {
    let exporter = InMemorySpanExporter::default();
    parlay_kit::telemetry::init_with_exporter("off", "parlay-e2e", exporter.clone());
    let suite = Suite::start(mode).await;
    let app = suite.app("traced-sms", &[]).await;
    let hook = Receiver::start().await;
    let (sender, to) = (crate::harness::unique_tel(), crate::harness::unique_tel());
    let mut body = crate::messaging::sms(&sender, &[to.as_str()], "traced");
    body["outboundMessageRequest"]["receiptRequest"] = json!({"notifyURL": hook.url});
    created_in_trace(&app, &crate::messaging::requests_path(&sender), &body).await;
    let webhook = hook
        .until("the DeliveredToTerminal webhook", 15, |r| {
            r.body["deliveryInfoNotification"]["deliveryInfo"]["deliveryStatus"]
                == "DeliveredToTerminal"
        })
        .await;
    let (_, spans) = delivered_in_trace(&webhook, &exporter).await;
    let names: HashSet<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    for hop in ["http_request", "messaging.net_event", "notify.deliver"] {
        assert!(names.contains(hop), "no {hop} span in the trace: {names:?}");
    }
}
