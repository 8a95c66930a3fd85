//! The bus on NATS JetStream (distributed mode). Four streams hold the subject roots
//! `net.cmd`, `net.evt`, `notify` and `reply` under the suite prefix, each keeping messages for a
//! week and de-duplicating on `Nats-Msg-Id` for two minutes. Consumers are durable pull
//! consumers with explicit acks, shared by every replica of a service (queue semantics).

use std::time::Duration;

use async_nats::{
    HeaderMap,
    jetstream::{self, AckKind, consumer::pull, stream},
};
use async_trait::async_trait;
use futures::{StreamExt, stream::BoxStream};

use super::{Ack, Acker, Bus, BusError, ConsumerSpec, Delivery, Envelope};

/// Subject roots and the stream holding each.
const ROOTS: [(&str, &str); 4] = [
    ("net.cmd", "NET_CMD"),
    ("net.evt", "NET_EVT"),
    ("notify", "NOTIFY"),
    ("reply", "REPLY"),
];

pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    prefix: String,
}

impl NatsBus {
    /// Connects and makes sure the streams exist (created with `replicas` replicas; an
    /// existing stream keeps its own). Fails at once if NATS does not answer.
    pub async fn connect(url: &str, prefix: &str, replicas: usize) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .name("parlay")
            .connect(url)
            .await
            .map_err(|e| BusError::Connection(format!("{url}: {e}")))?;
        let js = jetstream::new(client.clone());
        let bus = Self {
            client,
            js,
            prefix: prefix.to_string(),
        };
        for (root, name) in ROOTS {
            bus.js
                .get_or_create_stream(stream::Config {
                    name: bus.stream_name(name),
                    subjects: vec![format!("{}.{root}.>", bus.prefix)],
                    retention: stream::RetentionPolicy::Limits,
                    max_age: Duration::from_secs(7 * 24 * 3600),
                    duplicate_window: Duration::from_secs(120),
                    storage: stream::StorageType::File,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| BusError::Connection(format!("stream {name}: {e}")))?;
        }
        Ok(bus)
    }

    fn stream_name(&self, name: &str) -> String {
        format!("{}_{name}", self.prefix.replace('-', "_"))
    }

    fn stream_for(&self, filter: &str) -> Result<String, BusError> {
        ROOTS
            .iter()
            .find(|(root, _)| filter.starts_with(&format!("{root}.")))
            .map(|(_, name)| self.stream_name(name))
            .ok_or_else(|| BusError::Other(format!("no stream holds subjects {filter}")))
    }
}

struct NatsAcker(jetstream::Message);

#[async_trait]
impl Acker for NatsAcker {
    async fn settle(self: Box<Self>, ack: Ack) {
        let result = match ack {
            Ack::Done => self.0.ack().await,
            Ack::Retry(delay) => self.0.ack_with(AckKind::Nak(Some(delay))).await,
        };
        if let Err(e) = result {
            // The message will be redelivered after ack_wait; consumers are idempotent.
            tracing::warn!(error = %e, "could not settle a JetStream message");
        }
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", envelope.id.as_str());
        if let Some(tp) = &envelope.traceparent {
            headers.insert("traceparent", tp.as_str());
        }
        let subject = format!("{}.{}", self.prefix, envelope.subject);
        let ack = self
            .js
            .publish_with_headers(subject, headers, envelope.payload)
            .await
            .map_err(|e| BusError::Connection(e.to_string()))?;
        tokio::time::timeout(Duration::from_secs(10), ack)
            .await
            .map_err(|_| BusError::Timeout(envelope.subject.clone()))?
            .map_err(|e| BusError::Other(e.to_string()))?;
        Ok(())
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<BoxStream<'static, Delivery>, BusError> {
        let stream = self
            .js
            .get_stream(self.stream_for(&spec.filter)?)
            .await
            .map_err(|e| BusError::Connection(e.to_string()))?;
        let consumer = stream
            .get_or_create_consumer(
                &spec.durable,
                pull::Config {
                    durable_name: Some(spec.durable.clone()),
                    filter_subject: format!("{}.{}", self.prefix, spec.filter),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: spec.ack_wait,
                    max_ack_pending: 10_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| BusError::Connection(e.to_string()))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| BusError::Connection(e.to_string()))?;
        let prefix_len = self.prefix.len() + 1;
        let durable = spec.durable;
        Ok(Box::pin(messages.filter_map(move |item| {
            let durable = durable.clone();
            async move {
                let msg = match item {
                    Ok(msg) => msg,
                    Err(e) => {
                        tracing::warn!(consumer = %durable, error = %e, "JetStream consumer error");
                        return None;
                    }
                };
                let info = msg.info().ok();
                let attempt = info.as_ref().map_or(1, |i| i.delivered as u64);
                if let Some(i) = &info {
                    metrics::gauge!("parlay_bus_consumer_pending", "durable" => durable.clone())
                        .set(i.pending as f64);
                }
                let header = |name: &str| {
                    msg.headers
                        .as_ref()
                        .and_then(|h| h.get(name))
                        .map(|v| v.as_str().to_string())
                };
                let envelope = Envelope {
                    subject: msg
                        .subject
                        .as_str()
                        .get(prefix_len..)
                        .unwrap_or("")
                        .to_string(),
                    id: header("Nats-Msg-Id").unwrap_or_default(),
                    payload: msg.payload.clone(),
                    traceparent: header("traceparent"),
                };
                Some(Delivery::new(envelope, attempt, Box::new(NatsAcker(msg))))
            }
        })))
    }

    async fn ready(&self) -> Result<(), BusError> {
        match self.client.connection_state() {
            async_nats::connection::State::Connected => Ok(()),
            state => Err(BusError::Connection(format!("NATS is {state:?}"))),
        }
    }
}
