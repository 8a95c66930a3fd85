//! The bus: subjects carrying protobuf payloads between services, with at-least-once
//! delivery to durable consumer groups. Two implementations share this interface and the
//! same subjects and payloads: NATS JetStream (distributed mode) and an in-process bus
//! (embedded mode).
//!
//! Subjects are written without the configured prefix (`net.cmd.call.connect`); an
//! implementation adds it, so suites sharing a NATS server never see each other's traffic.

mod memory;
mod metered;
mod nats;
mod subject;

use std::{fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

pub use memory::MemoryBus;
pub use metered::Metered;
pub use nats::NatsBus;
pub use subject::matches as subject_matches;

/// One message on the bus.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Subject without the suite prefix.
    pub subject: String,
    /// De-duplication id (`Nats-Msg-Id`): publishing the same id twice delivers it once.
    pub id: String,
    /// Protobuf payload.
    pub payload: Bytes,
    /// W3C trace context of the publisher.
    pub traceparent: Option<String>,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("subject", &self.subject)
            .field("id", &self.id)
            .field("bytes", &self.payload.len())
            .finish()
    }
}

/// A durable consumer group: every member gets a share of the matching messages, and a
/// message not acknowledged within `ack_wait` is delivered again.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// Group name, stable across restarts (`call-net-events`).
    pub durable: String,
    /// Subject filter with NATS wildcards, without the prefix (`net.evt.call.>`).
    pub filter: String,
    /// How long a delivery may stay unacknowledged before it is redelivered.
    pub ack_wait: Duration,
}

/// What a consumer says of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Done: never deliver it again.
    Done,
    /// Failed for now: deliver it again after the delay.
    Retry(Duration),
}

/// Settles a delivery with the bus.
#[async_trait]
pub trait Acker: Send {
    async fn settle(self: Box<Self>, ack: Ack);
}

/// A message handed to a consumer; settle it with [`Delivery::ack`] or [`Delivery::retry`].
/// Dropping it unsettled means "not processed": the bus delivers it again later.
pub struct Delivery {
    pub envelope: Envelope,
    /// 1 for the first delivery.
    pub attempt: u64,
    acker: Box<dyn Acker>,
}

impl Delivery {
    pub fn new(envelope: Envelope, attempt: u64, acker: Box<dyn Acker>) -> Self {
        Self {
            envelope,
            attempt,
            acker,
        }
    }

    pub async fn ack(self) {
        self.acker.settle(Ack::Done).await;
    }

    pub async fn retry(self, delay: Duration) {
        self.acker.settle(Ack::Retry(delay)).await;
    }
}

/// Why the bus refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("no consumer group listens on {0}")]
    NoConsumer(String),
    #[error("the bus did not acknowledge {0} in time")]
    Timeout(String),
    #[error("bus connection: {0}")]
    Connection(String),
    #[error("bus: {0}")]
    Other(String),
}

/// The bus interface every service uses.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes and returns once the bus has durably accepted the message (a JetStream
    /// PubAck; in process: a consumer acknowledged it).
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError>;

    /// Joins a durable consumer group; the stream yields deliveries until the bus closes.
    async fn consume(&self, spec: ConsumerSpec) -> Result<BoxStream<'static, Delivery>, BusError>;

    /// Answers when the bus is reachable (readiness).
    async fn ready(&self) -> Result<(), BusError>;
}

pub type SharedBus = Arc<dyn Bus>;

/// Connects the bus the configuration names: NATS JetStream when `nats_url` is set,
/// otherwise a fresh in-process bus; either way [`Metered`].
pub async fn connect(config: &crate::Config) -> Result<SharedBus, BusError> {
    let bus: SharedBus = match &config.nats_url {
        Some(url) => {
            Arc::new(NatsBus::connect(url, &config.bus_prefix, config.bus_stream_replicas).await?)
        }
        None => Arc::new(MemoryBus::new()),
    };
    Ok(Arc::new(Metered(bus)))
}
