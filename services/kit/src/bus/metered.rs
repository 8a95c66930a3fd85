//! Bus metrics, the same for both implementations: [`Metered`] wraps a bus and counts
//!
//! * `parlay_bus_published_total{subject,outcome}` (`ok`, or `error` when the bus refused or
//!   did not acknowledge in time), and
//! * `parlay_bus_consumed_total{durable,outcome}` (`ack` or `retry`, as the consumer settled
//!   each delivery).
//!
//! The implementations themselves set `parlay_bus_consumer_pending{durable}`, the consumer's
//! lag: JetStream's count of messages not yet delivered to the group (as of the latest
//! delivery), or in process the deliveries queued for the group.

use std::sync::Arc;

use async_trait::async_trait;
use futures::{StreamExt, stream::BoxStream};

use super::{Ack, Acker, Bus, BusError, ConsumerSpec, Delivery, Envelope};

/// A bus whose traffic is counted.
pub struct Metered(pub Arc<dyn Bus>);

#[async_trait]
impl Bus for Metered {
    async fn publish(&self, envelope: Envelope) -> Result<(), BusError> {
        let subject = envelope.subject.clone();
        let published = self.0.publish(envelope).await;
        metrics::counter!(
            "parlay_bus_published_total",
            "subject" => subject,
            "outcome" => if published.is_ok() { "ok" } else { "error" },
        )
        .increment(1);
        published
    }

    async fn consume(&self, spec: ConsumerSpec) -> Result<BoxStream<'static, Delivery>, BusError> {
        let durable = spec.durable.clone();
        let deliveries = self.0.consume(spec).await?;
        Ok(Box::pin(deliveries.map(
            move |Delivery {
                      envelope,
                      attempt,
                      acker,
                  }| {
                let counted = Counted {
                    inner: acker,
                    durable: durable.clone(),
                };
                Delivery::new(envelope, attempt, Box::new(counted))
            },
        )))
    }

    async fn ready(&self) -> Result<(), BusError> {
        self.0.ready().await
    }
}

/// Counts the settlement, then passes it on.
struct Counted {
    inner: Box<dyn Acker>,
    durable: String,
}

#[async_trait]
impl Acker for Counted {
    async fn settle(self: Box<Self>, ack: Ack) {
        metrics::counter!(
            "parlay_bus_consumed_total",
            "durable" => self.durable,
            "outcome" => match ack {
                Ack::Done => "ack",
                Ack::Retry(_) => "retry",
            },
        )
        .increment(1);
        self.inner.settle(ack).await;
    }
}
