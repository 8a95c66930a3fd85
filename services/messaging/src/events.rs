//! Network events in (`net.evt.msg.>`): delivery receipts and inbound messages. Each is
//! applied at most once (the kit's inbox on the event id) and acknowledged only after its
//! change committed; a failure is retried in place for a while, then handed back to the bus.
//!
//! Events are handled [`LANES`] at once, each lane in arrival order. The receipts of one
//! recipient of one request always share a lane, so a network that reports
//! `DeliveredToNetwork` then `DeliveredToTerminal` has both applied, and both notified, in
//! that order; handled side by side, the later one could land first and the monotonic
//! rule would then drop the earlier one unseen. Receipts that do arrive out of order (from
//! the network, or across replicas) are still harmless: the rule keeps the status from
//! going back. Inbound messages are independent and spread over the lanes by event id.
//!
//! A lane hands its event to a batch writer ([`receipts::Receipts`],
//! [`inbound::Receiver`]) and waits for it: the events of all lanes waiting at the same
//! time are applied in one transaction, each still acknowledged only after it committed.

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

/// Events handled at once: one at a time in each lane.
const LANES: usize = 16;

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
}

/// Processes deliveries until shutdown, in [`LANES`] ordered lanes. At shutdown the
/// consumer stops taking events and each lane finishes what it was handed.
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
            LANES,
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
            (lanes::key(event.lane_key()), (delivery, event, span))
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
