//! The in-process bus of embedded mode. `publish` hands the message to one member of every
//! matching consumer group and returns only when it was acknowledged, so the outbox keeps a
//! row until its consumer has really taken it: a crash loses nothing in embedded mode either.
//! Unacknowledged deliveries are redelivered after the group's `ack_wait`, like JetStream.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use futures::stream::{self, BoxStream};
use tokio::sync::{mpsc, oneshot};

use super::{Ack, Acker, Bus, BusError, ConsumerSpec, Delivery, Envelope, subject_matches};

/// How long `publish` keeps trying before it reports a timeout (the outbox retries later).
const PUBLISH_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Group {
    durable: String,
    filter: String,
    ack_wait: Duration,
    tx: mpsc::UnboundedSender<Delivery>,
}

/// In-process bus; clone it to share.
#[derive(Clone, Default)]
pub struct MemoryBus {
    groups: Arc<Mutex<Vec<Group>>>,
}

impl MemoryBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn group(&self, durable: &str) -> Option<Group> {
        self.lock().iter().find(|g| g.durable == durable).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Group>> {
        // A poisoned lock only means a panic elsewhere; the list itself stays consistent.
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers to one group until it acknowledges, or the deadline passes.
    async fn deliver(
        &self,
        durable: &str,
        envelope: &Envelope,
        deadline: tokio::time::Instant,
    ) -> Result<(), BusError> {
        let mut attempt = 0;
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Err(BusError::Timeout(envelope.subject.clone()));
            }
            let Some(group) = self.group(durable) else {
                return Err(BusError::NoConsumer(envelope.subject.clone()));
            };
            attempt += 1;
            let (tx, rx) = oneshot::channel();
            let delivery = Delivery::new(envelope.clone(), attempt, Box::new(MemoryAcker(tx)));
            if group.tx.send(delivery).is_err() {
                // The member went away (a restart); wait for its successor to join.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match tokio::time::timeout(group.ack_wait, rx).await {
                Ok(Ok(Ack::Done)) => return Ok(()),
                Ok(Ok(Ack::Retry(delay))) => tokio::time::sleep(delay).await,
                // Dropped unsettled: deliver again shortly.
                Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                // Not acknowledged within ack_wait: deliver again, as JetStream would.
                Err(_) => {}
            }
        }
    }
}

struct MemoryAcker(oneshot::Sender<Ack>);

#[async_trait]
impl Acker for MemoryAcker {
    async fn settle(self: Box<Self>, ack: Ack) {
        // The publisher may have given up already; nothing to do then.
        let _ = self.0.send(ack);
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError> {
        let durables: Vec<String> = self
            .lock()
            .iter()
            .filter(|g| subject_matches(&g.filter, &envelope.subject))
            .map(|g| g.durable.clone())
            .collect();
        if durables.is_empty() {
            return Err(BusError::NoConsumer(envelope.subject));
        }
        let deadline = tokio::time::Instant::now() + PUBLISH_DEADLINE;
        for durable in durables {
            self.deliver(&durable, &envelope, deadline).await?;
        }
        Ok(())
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<BoxStream<'static, Delivery>, BusError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let group = Group {
            durable: spec.durable,
            filter: spec.filter,
            ack_wait: spec.ack_wait,
            tx,
        };
        let durable = group.durable.clone();
        {
            let mut groups = self.lock();
            // One member per group in process: a new member (a restarted service) takes over.
            groups.retain(|g| g.durable != group.durable);
            groups.push(group);
        }
        Ok(Box::pin(stream::unfold(rx, move |mut rx| {
            // Looked up on each delivery: the metrics recorder may be installed after the
            // consumer started.
            let durable = durable.clone();
            async move {
                let delivery = rx.recv().await?;
                metrics::gauge!("parlay_bus_consumer_pending", "durable" => durable)
                    .set(rx.len() as f64);
                Some((delivery, rx))
            }
        })))
    }

    async fn ready(&self) -> Result<(), BusError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn envelope(subject: &str) -> Envelope {
        Envelope {
            subject: subject.into(),
            id: "e1".into(),
            payload: bytes::Bytes::from_static(b"x"),
            traceparent: None,
        }
    }

    fn spec(filter: &str) -> ConsumerSpec {
        ConsumerSpec {
            durable: "g".into(),
            filter: filter.into(),
            ack_wait: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn publish_without_consumer_is_refused() {
        let bus = MemoryBus::new();
        let err = bus.publish(envelope("a.b")).await.unwrap_err();
        assert!(matches!(err, BusError::NoConsumer(_)));
    }

    #[tokio::test]
    async fn publish_waits_for_ack_and_redelivers_after_retry() {
        let bus = MemoryBus::new();
        let mut deliveries = bus.consume(spec("a.>")).await.unwrap();
        let consumer = tokio::spawn(async move {
            let first = deliveries.next().await.unwrap();
            assert_eq!(first.attempt, 1);
            first.retry(Duration::from_millis(10)).await;
            let second = deliveries.next().await.unwrap();
            assert_eq!(second.attempt, 2);
            second.ack().await;
        });
        bus.publish(envelope("a.b")).await.unwrap();
        consumer.await.unwrap();
    }

    #[tokio::test]
    async fn a_dropped_delivery_goes_to_the_restarted_member() {
        let bus = MemoryBus::new();
        let mut first = bus.consume(spec("a.>")).await.unwrap();
        let bus2 = bus.clone();
        let publisher = tokio::spawn(async move { bus2.publish(envelope("a.b")).await });
        drop(first.next().await.unwrap()); // crashed mid-work
        drop(first);
        let mut second = bus.consume(spec("a.>")).await.unwrap();
        second.next().await.unwrap().ack().await;
        publisher.await.unwrap().unwrap();
    }
}
