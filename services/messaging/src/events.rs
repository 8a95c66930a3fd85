//! Network events in (`net.evt.msg.>`): delivery receipts and inbound messages. Each is
//! applied at most once (the kit's inbox on the event id) and acknowledged only after its
//! change committed; a failure is retried in place for a while, then handed back to the bus.
//!
//! Events are handled in ordered lanes, each lane in arrival order. The receipts of one
//! recipient of one request always share a lane, so a network that reports
//! `DeliveredToNetwork` then `DeliveredToTerminal` has both applied, and both notified, in
//! that order; handled side by side, the later one could land first and the monotonic
//! rule would then drop the earlier one unseen. Receipts that do arrive out of order (from
//! the network, or across replicas) are still harmless: the rule keeps the status from
//! going back. Inbound messages are independent and spread over lanes of their own by
//! event id.
//!
//! A lane hands its event to a batch writer ([`receipts::Receipts`],
//! [`inbound::Receiver`]) and waits for it: the events of all lanes waiting at the same
//! time are applied in one transaction, each still acknowledged only after it committed.
//! A transaction thus holds at most one event of each lane: inbound messages have as many
//! lanes ([`INBOUND_LANES`]) as their writer takes at once, so a backlog is written in
//! full batches (16 lanes held H3's batches to 8–15 messages while 13,000 waited;
//! docs/benchmarks.md). Receipts keep [`RECEIPT_LANES`]: applied as fast as they come, a
//! burst of sends' receipts takes the CPU from the sends themselves (a send and its
//! receipt's notification cost two to three times a send alone), so their lanes bound how
//! much of it they take, and a backlog waits on the bus.

use std::{sync::Arc, time::Duration};

use futures::stream::BoxStream;
use parlay_kit::{
    batch::Batcher,
    bus::{ConsumerSpec, Delivery},
    lanes::{self, Lanes, settle},
    telemetry,
};
use parlay_proto::net::v1::{DeliveryReceipt, InboundMessageEvent};
use prost::Message;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{core::Core, inbound, receipts};

/// Delivery receipts from the network.
pub const SUBJECT_RECEIPT: &str = "net.evt.msg.receipt";
/// Messages the network received for an address the suite serves.
pub const SUBJECT_INBOUND: &str = "net.evt.msg.inbound";

/// The durable consumer group of the messaging replicas.
pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        durable: "messaging-net-events".into(),
        filter: "net.evt.msg.>".into(),
        ack_wait: Duration::from_secs(30),
    }
}

/// Receipts handled at once: one at a time in each of their lanes.
const RECEIPT_LANES: usize = 16;

/// Inbound messages handled at once: as many as their writer takes in one transaction.
const INBOUND_LANES: usize = inbound::BATCH;

/// Events waiting in one lane before the consumer stops taking more from the bus.
const LANE_DEPTH: usize = 8;

/// A network event, decoded.
enum Event {
    Receipt(DeliveryReceipt),
    Inbound(InboundMessageEvent),
    /// Undecodable, or of a kind this service does not handle: acknowledged and dropped.
    Other(&'static str),
}

impl Event {
    fn decode(delivery: &Delivery) -> Event {
        let subject = delivery.envelope.subject.as_str();
        let payload = delivery.envelope.payload.as_ref();
        if subject.ends_with(SUBJECT_RECEIPT) {
            DeliveryReceipt::decode(payload)
                .map_or(Event::Other("undecodable delivery receipt"), Event::Receipt)
        } else if subject.ends_with(SUBJECT_INBOUND) {
            InboundMessageEvent::decode(payload)
                .map_or(Event::Other("undecodable inbound message"), Event::Inbound)
        } else {
            Event::Other("messaging event of an unknown kind")
        }
    }

    /// The lane's key: the same for every receipt of one recipient of one request.
    fn lane_key(&self) -> (&str, &str) {
        match self {
            Event::Receipt(r) => (&r.request_id, &r.destination),
            Event::Inbound(m) => (&m.event_id, ""),
            Event::Other(_) => ("", ""),
        }
    }

    /// The event's lane: receipts in the first [`RECEIPT_LANES`], inbound messages (and
    /// the rest) in the [`INBOUND_LANES`] after them.
    fn lane(&self) -> u64 {
        let key = lanes::key(self.lane_key());
        match self {
            Event::Receipt(_) => key % RECEIPT_LANES as u64,
            _ => (RECEIPT_LANES as u64) + key % INBOUND_LANES as u64,
        }
    }
}

/// Processes deliveries until shutdown, in ordered lanes (see the module's comment). At
/// shutdown the consumer stops taking events and each lane finishes what it was handed.
pub async fn run(
    core: Arc<Core>,
    deliveries: BoxStream<'static, Delivery>,
    shutdown: CancellationToken,
) {
    let lanes = {
        let (core, shutdown) = (core.clone(), shutdown.clone());
        let writers = Writers {
            receipts: receipts::start(core.clone()),
            inbound: inbound::start(core),
        };
        Lanes::start(
            RECEIPT_LANES + INBOUND_LANES,
            LANE_DEPTH,
            move |(delivery, event, span): (Delivery, Event, tracing::Span)| {
                let (writers, shutdown) = (writers.clone(), shutdown.clone());
                async move {
                    handle(&writers, delivery, event, &shutdown)
                        .instrument(span)
                        .await
                }
            },
        )
    };
    lanes
        .feed(deliveries, &shutdown, |delivery| {
            let span =
                tracing::info_span!("messaging.net_event", subject = %delivery.envelope.subject);
            telemetry::set_remote_parent(&span, delivery.envelope.traceparent.as_deref());
            let event = Event::decode(&delivery);
            (event.lane(), (delivery, event, span))
        })
        .await;
}

/// The batch writers the lanes hand their events to: the events of every lane waiting at
/// the same time are applied in one transaction.
#[derive(Clone)]
struct Writers {
    receipts: receipts::Receipts,
    inbound: inbound::Receiver,
}

/// Hands `item` to `writer` and waits until it is applied (or failed).
async fn submit<T: Send + 'static, R: Send + 'static>(
    writer: &Batcher<T, crate::error::Result<R>>,
    item: T,
) -> Result<(), String> {
    match writer.submit(item).await {
        Ok(applied) => applied.map(drop).map_err(|e| e.to_string()),
        Err(stopped) => Err(stopped.to_string()),
    }
}

async fn handle(writers: &Writers, delivery: Delivery, event: Event, shutdown: &CancellationToken) {
    match event {
        Event::Receipt(receipt) => {
            settle(delivery, shutdown, || {
                submit(&writers.receipts, receipt.clone())
            })
            .await
        }
        Event::Inbound(message) => {
            settle(delivery, shutdown, || {
                submit(&writers.inbound, message.clone())
            })
            .await
        }
        Event::Other(what) => {
            tracing::warn!(subject = %delivery.envelope.subject, "{what} dropped");
            delivery.ack().await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn receipt(request_id: &str, destination: &str) -> Event {
        Event::Receipt(DeliveryReceipt {
            request_id: request_id.into(),
            destination: destination.into(),
            ..Default::default()
        })
    }

    fn inbound(event_id: &str) -> Event {
        Event::Inbound(InboundMessageEvent {
            event_id: event_id.into(),
            ..Default::default()
        })
    }

    #[test]
    fn receipts_keep_their_few_lanes_and_inbound_messages_spread_over_the_others() {
        let receipt_lanes: HashSet<u64> = (0..2_000)
            .map(|i| receipt(&format!("r{i}"), "tel:+1").lane())
            .collect();
        assert!(receipt_lanes.iter().all(|&l| l < RECEIPT_LANES as u64));
        assert_eq!(receipt_lanes.len(), RECEIPT_LANES);
        let inbound_lanes: HashSet<u64> = (0..20_000)
            .map(|i| inbound(&format!("ev{i}")).lane())
            .collect();
        let others = RECEIPT_LANES as u64..(RECEIPT_LANES + INBOUND_LANES) as u64;
        assert!(inbound_lanes.iter().all(|l| others.contains(l)));
        assert_eq!(inbound_lanes.len(), INBOUND_LANES);
        // The receipts of one recipient of one request share a lane.
        assert_eq!(
            receipt("r1", "tel:+1").lane(),
            receipt("r1", "tel:+1").lane()
        );
    }
}
