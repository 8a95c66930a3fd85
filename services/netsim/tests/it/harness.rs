//! The test harness: a netsim on a fresh `MemoryBus`, a consumer capturing its leg events,
//! helpers to send commands and call the control API, and a bounded `eventually`.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode},
};
use futures::StreamExt;
use parlay_kit::{
    Config,
    bus::{ConsumerSpec, Envelope, MemoryBus, SharedBus},
    wire,
};
use parlay_netsim::Netsim;
use parlay_proto::net::v1::{
    CallCommand, CallLegEvent, LegOutcome,
    call_command::{Connect, Kind, Release},
};
use prost::Message;
use serde_json::Value;
use tokio_util::sync::{CancellationToken, DropGuard};
use tower::ServiceExt;

/// How long `eventually` waits before failing the test.
const DEADLINE: Duration = Duration::from_secs(10);

/// A running netsim and what it published.
pub struct Sim {
    pub bus: SharedBus,
    router: Router,
    events: Arc<Mutex<Vec<CallLegEvent>>>,
    _shutdown: DropGuard,
}

/// Starts netsim with the default configuration (answer after 50 ms).
pub async fn start() -> Sim {
    let bus: SharedBus = Arc::new(MemoryBus::new());
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut deliveries = bus
        .consume(ConsumerSpec {
            durable: "test-events".into(),
            filter: "net.evt.call.>".into(),
            ack_wait: Duration::from_secs(1),
        })
        .await
        .unwrap();
    let captured = events.clone();
    tokio::spawn(async move {
        while let Some(delivery) = deliveries.next().await {
            assert_eq!(delivery.envelope.subject, "net.evt.call.leg");
            let event = CallLegEvent::decode(delivery.envelope.payload.clone()).unwrap();
            assert_eq!(delivery.envelope.id, event.event_id);
            captured.lock().unwrap().push(event);
            delivery.ack().await;
        }
    });
    let shutdown = CancellationToken::new();
    let netsim = Netsim::start(&Config::default(), bus.clone(), shutdown.clone())
        .await
        .unwrap();
    Sim {
        bus,
        router: netsim.control_router(),
        events,
        _shutdown: shutdown.drop_guard(),
    }
}

impl Sim {
    /// Publishes a command; returns once netsim acknowledged it.
    pub async fn send(&self, command: &CallCommand) {
        let subject = match command.kind {
            Some(Kind::Release(_)) => "net.cmd.call.release",
            _ => "net.cmd.call.connect",
        };
        let envelope = wire::envelope(subject, parlay_kit::ids::new_id("msg"), command);
        self.bus.publish(envelope).await.unwrap();
    }

    /// Publishes raw bytes as a call command.
    pub async fn send_raw(&self, payload: &'static [u8]) {
        let envelope = Envelope {
            subject: "net.cmd.call.connect".into(),
            id: "raw".into(),
            payload: payload.into(),
            traceparent: None,
        };
        self.bus.publish(envelope).await.unwrap();
    }

    /// Every leg event captured so far.
    pub fn events(&self) -> Vec<CallLegEvent> {
        self.events.lock().unwrap().clone()
    }

    /// Waits for the event of `participant` with `outcome`.
    pub async fn event(&self, participant: &str, outcome: LegOutcome) -> CallLegEvent {
        eventually(&format!("{outcome:?} for {participant}"), || {
            self.events()
                .into_iter()
                .find(|e| e.participant_id == participant && e.outcome() == outcome)
        })
        .await
    }

    /// Calls the control API; the body is JSON text.
    pub async fn call(&self, method: Method, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {bytes:?}"));
        (status, value)
    }

    /// The log, optionally filtered by session.
    pub async fn log(&self, session: Option<&str>) -> Vec<Value> {
        let uri = match session {
            Some(s) => format!("/netsim/v1/log?callSessionId={s}"),
            None => "/netsim/v1/log".to_string(),
        };
        let (status, body) = self.call(Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::OK);
        body["commands"].as_array().cloned().unwrap_or_default()
    }
}

/// Polls `check` until it yields a value, failing the test after [`DEADLINE`].
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn command(id: &str, session: &str, participant: &str, address: &str, kind: Kind) -> CallCommand {
    CallCommand {
        command_id: id.into(),
        call_session_id: session.into(),
        participant_id: participant.into(),
        address: address.into(),
        name: None,
        kind: Some(kind),
    }
}

/// A connect command, calling from `tel:+15550000`.
pub fn connect(id: &str, session: &str, participant: &str, address: &str) -> CallCommand {
    let kind = Kind::Connect(Connect {
        calling_address: "tel:+15550000".into(),
    });
    command(id, session, participant, address, kind)
}

/// A release command.
pub fn release(id: &str, session: &str, participant: &str, address: &str) -> CallCommand {
    command(id, session, participant, address, Kind::Release(Release {}))
}
