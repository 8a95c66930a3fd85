//! The test harness: a netsim on a fresh `MemoryBus`, a consumer capturing what it
//! publishes (leg events, call attempts, media events, delivery receipts, inbound
//! messages), helpers to send commands and call the control API, and a bounded
//! `eventually`.

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
    CallAction, CallAttempt, CallCommand, CallLegEvent, Decision, DecisionSource, DeliveryReceipt,
    DeliveryState, InboundMessageEvent, LegOutcome, MediaEvent, MediaOutcome, MessagePart,
    MessageSubmit, NetworkCall, SmsEncoding, SmsSegment,
    call_command::{Collect, Connect, Kind, Play, Record, Release, StopMedia},
    message_submit,
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
    captured: Arc<Mutex<Captured>>,
    shutdown: CancellationToken,
    _shutdown: DropGuard,
}

/// What netsim published, by subject, in arrival order.
#[derive(Default)]
struct Captured {
    legs: Vec<CallLegEvent>,
    attempts: Vec<CallAttempt>,
    media: Vec<MediaEvent>,
    receipts: Vec<DeliveryReceipt>,
    inbound: Vec<InboundMessageEvent>,
}

/// Starts netsim with the default configuration (answer after 50 ms, plays of 200 ms,
/// recordings of 1 s).
pub async fn start() -> Sim {
    start_with(&Config::default()).await
}

/// Starts netsim with `config`.
pub async fn start_with(config: &Config) -> Sim {
    let bus: SharedBus = Arc::new(MemoryBus::new());
    let captured = Arc::new(Mutex::new(Captured::default()));
    let mut deliveries = bus
        .consume(ConsumerSpec {
            durable: "test-events".into(),
            filter: "net.evt.>".into(),
            ack_wait: Duration::from_secs(1),
        })
        .await
        .unwrap();
    let sink = captured.clone();
    tokio::spawn(async move {
        while let Some(delivery) = deliveries.next().await {
            let envelope = &delivery.envelope;
            let payload = envelope.payload.clone();
            {
                let mut sink = sink.lock().unwrap();
                match envelope.subject.as_str() {
                    "net.evt.call.leg" => {
                        let event = CallLegEvent::decode(payload).unwrap();
                        assert_eq!(envelope.id, event.event_id);
                        sink.legs.push(event);
                    }
                    "net.evt.call.attempt" => {
                        let attempt = CallAttempt::decode(payload).unwrap();
                        assert_eq!(envelope.id, attempt.event_id);
                        sink.attempts.push(attempt);
                    }
                    "net.evt.call.media" => {
                        let event = MediaEvent::decode(payload).unwrap();
                        assert_eq!(envelope.id, event.event_id);
                        sink.media.push(event);
                    }
                    "net.evt.msg.receipt" => {
                        let receipt = DeliveryReceipt::decode(payload).unwrap();
                        assert_eq!(envelope.id, receipt.event_id);
                        sink.receipts.push(receipt);
                    }
                    "net.evt.msg.inbound" => {
                        let event = InboundMessageEvent::decode(payload).unwrap();
                        assert_eq!(envelope.id, event.event_id);
                        sink.inbound.push(event);
                    }
                    other => panic!("unexpected subject {other}"),
                }
            }
            delivery.ack().await;
        }
    });
    let shutdown = CancellationToken::new();
    let netsim = Netsim::start(config, bus.clone(), shutdown.clone())
        .await
        .unwrap();
    Sim {
        bus,
        router: netsim.control_router(),
        captured,
        shutdown: shutdown.clone(),
        _shutdown: shutdown.drop_guard(),
    }
}

impl Sim {
    /// Publishes a command; returns once netsim acknowledged it.
    pub async fn send(&self, command: &CallCommand) {
        let subject = match command.kind {
            Some(Kind::Release(_)) => "net.cmd.call.release",
            Some(Kind::Play(_)) => "net.cmd.call.play",
            Some(Kind::Record(_)) => "net.cmd.call.record",
            Some(Kind::Collect(_)) => "net.cmd.call.collect",
            Some(Kind::StopMedia(_)) => "net.cmd.call.stop",
            _ => "net.cmd.call.connect",
        };
        let envelope = wire::envelope(subject, parlay_kit::ids::new_id("msg"), command);
        self.bus.publish(envelope).await.unwrap();
    }

    /// Publishes a command on `subject`, whatever its kind.
    pub async fn send_on(&self, subject: &str, command: &CallCommand) {
        let envelope = wire::envelope(subject, parlay_kit::ids::new_id("msg"), command);
        self.bus.publish(envelope).await.unwrap();
    }

    /// Publishes a message submit on `net.cmd.msg.submit`, with a fresh envelope id;
    /// returns once netsim acknowledged it.
    pub async fn submit(&self, submit: &MessageSubmit) {
        let envelope = wire::envelope("net.cmd.msg.submit", parlay_kit::ids::new_id("msg"), submit);
        self.bus.publish(envelope).await.unwrap();
    }

    /// Shuts netsim down, as the end of the test would.
    pub fn shut_down(&self) {
        self.shutdown.cancel();
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
        self.captured.lock().unwrap().legs.clone()
    }

    /// Every call attempt captured so far.
    pub fn attempts(&self) -> Vec<CallAttempt> {
        self.captured.lock().unwrap().attempts.clone()
    }

    /// Every media event captured so far.
    pub fn media(&self) -> Vec<MediaEvent> {
        self.captured.lock().unwrap().media.clone()
    }

    /// Every delivery receipt captured so far.
    pub fn receipts(&self) -> Vec<DeliveryReceipt> {
        self.captured.lock().unwrap().receipts.clone()
    }

    /// The receipts of `request` for `destination`, in arrival order.
    pub fn receipts_for(&self, request: &str, destination: &str) -> Vec<DeliveryReceipt> {
        self.receipts()
            .into_iter()
            .filter(|r| r.request_id == request && r.destination == destination)
            .collect()
    }

    /// The states of `request` for `destination`, in arrival order.
    pub fn states(&self, request: &str, destination: &str) -> Vec<DeliveryState> {
        self.receipts_for(request, destination)
            .iter()
            .map(DeliveryReceipt::state)
            .collect()
    }

    /// Waits for the receipt of `request` for `destination` with `state`.
    pub async fn receipt(
        &self,
        request: &str,
        destination: &str,
        state: DeliveryState,
    ) -> DeliveryReceipt {
        eventually(&format!("{state:?} of {request} for {destination}"), || {
            self.receipts_for(request, destination)
                .into_iter()
                .find(|r| r.state() == state)
        })
        .await
    }

    /// Every inbound message event captured so far.
    pub fn inbound(&self) -> Vec<InboundMessageEvent> {
        self.captured.lock().unwrap().inbound.clone()
    }

    /// Waits for the inbound message event `event_id`.
    pub async fn inbound_event(&self, event_id: &str) -> InboundMessageEvent {
        eventually(&format!("inbound message {event_id}"), || {
            self.inbound().into_iter().find(|e| e.event_id == event_id)
        })
        .await
    }

    /// Waits for the attempt of network call `call_id`.
    pub async fn attempt(&self, call_id: &str) -> CallAttempt {
        eventually(&format!("the attempt of {call_id}"), || {
            self.attempts().into_iter().find(|a| a.call_id == call_id)
        })
        .await
    }

    /// Waits for the media event of `media_id` with `outcome`.
    pub async fn media_event(&self, media_id: &str, outcome: MediaOutcome) -> MediaEvent {
        eventually(&format!("{outcome:?} for {media_id}"), || {
            self.media()
                .into_iter()
                .find(|e| e.media_id == media_id && e.outcome() == outcome)
        })
        .await
    }

    /// The outcomes published for `media_id`, in order.
    pub fn media_outcomes(&self, media_id: &str) -> Vec<MediaOutcome> {
        self.media()
            .iter()
            .filter(|e| e.media_id == media_id)
            .map(MediaEvent::outcome)
            .collect()
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
        match session {
            Some(s) => self.log_query(&format!("callSessionId={s}")).await,
            None => self.log_query("").await,
        }
    }

    /// The log filtered by `query` (`name=value&...`).
    pub async fn log_query(&self, query: &str) -> Vec<Value> {
        let uri = if query.is_empty() {
            "/netsim/v1/log".to_string()
        } else {
            format!("/netsim/v1/log?{query}")
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
        network_call: None,
        decision: None,
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

/// `command` about network call `call_id`, whose caller is participant `caller`.
pub fn for_network_call(mut command: CallCommand, call_id: &str, caller: &str) -> CallCommand {
    command.network_call = Some(NetworkCall {
        call_id: call_id.into(),
        calling_participant_id: caller.into(),
    });
    command
}

/// `command` carrying out a call-direction decision.
pub fn deciding(
    mut command: CallCommand,
    action: CallAction,
    source: DecisionSource,
    routing_address: Option<&str>,
) -> CallCommand {
    command.decision = Some(Decision {
        action: action.into(),
        source: source.into(),
        routing_address: routing_address.map(str::to_string),
    });
    command
}

/// A play command.
pub fn play(id: &str, session: &str, participant: &str, media_id: &str) -> CallCommand {
    let kind = Kind::Play(Play {
        media_id: media_id.into(),
        url: "https://media.example.com/hello.wav".into(),
        media_type: Some("audio/wav".into()),
        interrupt: false,
    });
    command(id, session, participant, "", kind)
}

/// A record command, with a prompt when `prompt` is set.
pub fn record(
    id: &str,
    session: &str,
    participant: &str,
    media_id: &str,
    prompt: bool,
    max_duration_secs: u32,
) -> CallCommand {
    let kind = Kind::Record(Record {
        media_id: media_id.into(),
        prompt_url: prompt.then(|| "https://media.example.com/beep.wav".into()),
        media_type: None,
        max_duration_secs,
    });
    command(id, session, participant, "", kind)
}

/// A collect command with a prompt.
pub fn collect(
    id: &str,
    session: &str,
    participant: &str,
    media_id: &str,
    digits: (u32, u32, Option<&str>),
) -> CallCommand {
    let (min_digits, max_digits, end_char) = digits;
    let kind = Kind::Collect(Collect {
        media_id: media_id.into(),
        prompt_url: Some("https://media.example.com/menu.wav".into()),
        media_type: None,
        min_digits,
        max_digits,
        end_char: end_char.map(str::to_string),
    });
    command(id, session, participant, "", kind)
}

/// A stop-media command.
pub fn stop_media(id: &str, session: &str, participant: &str, media_id: &str) -> CallCommand {
    let kind = Kind::StopMedia(StopMedia {
        media_id: media_id.into(),
    });
    command(id, session, participant, "", kind)
}

/// An SMS submit of `request` from `tel:+15550000` to `destinations`, in GSM 7-bit
/// segments.
pub fn sms(id: &str, request: &str, destinations: &[&str], segments: &[&str]) -> MessageSubmit {
    let total = u32::try_from(segments.len()).unwrap();
    let segments = segments
        .iter()
        .zip(1..)
        .map(|(text, sequence)| SmsSegment {
            reference: if total > 1 { 42 } else { 0 },
            sequence,
            total,
            text: (*text).into(),
        })
        .collect();
    MessageSubmit {
        command_id: id.into(),
        request_id: request.into(),
        sender_address: "tel:+15550000".into(),
        sender_name: None,
        destinations: destinations.iter().map(|d| (*d).to_string()).collect(),
        kind: Some(message_submit::Kind::Sms(message_submit::Sms {
            encoding: SmsEncoding::Gsm7.into(),
            segments,
        })),
    }
}

/// An MMS submit of `request` from `tel:+15550000` to `destinations` with `attachments`
/// (name, content type, data).
pub fn mms(
    id: &str,
    request: &str,
    destinations: &[&str],
    attachments: &[(&str, &str, &[u8])],
) -> MessageSubmit {
    MessageSubmit {
        kind: Some(message_submit::Kind::Mms(message_submit::Mms {
            subject: Some("Holiday".into()),
            priority: Some("High".into()),
            text: Some("See the pictures".into()),
            attachments: attachments
                .iter()
                .map(|(name, content_type, data)| MessagePart {
                    name: (*name).into(),
                    content_type: (*content_type).into(),
                    data: data.to_vec(),
                })
                .collect(),
        })),
        ..sms(id, request, destinations, &[])
    }
}
