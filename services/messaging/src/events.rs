//! Network events in (`net.evt.msg.>`): delivery receipts and inbound messages. Each is
//! applied at most once (the kit's inbox on the event id) and acknowledged only after its
//! change committed; a failure is retried in place for a while, then handed back to the bus.
//! Order does not matter (the monotonic status rule makes late receipts harmless; inbound
//! messages are independent), so several events are handled at once.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use parlay_kit::{
    bus::{ConsumerSpec, Delivery},
    telemetry,
};
use parlay_proto::net::v1::{DeliveryReceipt, InboundMessageEvent};
use prost::Message;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{core::Core, error::Error, inbound, receipts};

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

/// Events handled at once.
const IN_FLIGHT: usize = 16;

/// How long an event is retried in place before it goes back to the bus (below ack_wait).
const IN_PLACE: Duration = Duration::from_secs(20);

/// Processes deliveries until shutdown, up to [`IN_FLIGHT`] at once.
pub async fn run(
    core: Arc<Core>,
    mut deliveries: BoxStream<'static, Delivery>,
    shutdown: CancellationToken,
) {
    let mut running = tokio::task::JoinSet::new();
    loop {
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => break,
            next = deliveries.next() => match next {
                Some(d) => d,
                None => break,
            },
        };
        let span = tracing::info_span!("messaging.net_event", subject = %delivery.envelope.subject);
        telemetry::set_remote_parent(&span, delivery.envelope.traceparent.as_deref());
        while running.len() >= IN_FLIGHT {
            running.join_next().await;
        }
        let (core, shutdown) = (core.clone(), shutdown.clone());
        running.spawn(async move { handle(&core, delivery, &shutdown).await }.instrument(span));
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

async fn handle(core: &Core, delivery: Delivery, shutdown: &CancellationToken) {
    let subject = delivery.envelope.subject.clone();
    if subject.ends_with(SUBJECT_RECEIPT) {
        let Ok(receipt) = DeliveryReceipt::decode(delivery.envelope.payload.as_ref()) else {
            tracing::warn!("undecodable delivery receipt dropped");
            return delivery.ack().await;
        };
        return settle(delivery, shutdown, || async {
            receipts::apply(core, &receipt).await.map(drop)
        })
        .await;
    }
    if subject.ends_with(SUBJECT_INBOUND) {
        let Ok(event) = InboundMessageEvent::decode(delivery.envelope.payload.as_ref()) else {
            tracing::warn!("undecodable inbound message dropped");
            return delivery.ack().await;
        };
        return settle(delivery, shutdown, || async {
            inbound::receive(core, &event).await.map(drop)
        })
        .await;
    }
    tracing::debug!(%subject, "messaging event of an unknown kind ignored");
    delivery.ack().await
}

/// Runs `apply` until it succeeds, then acknowledges; past [`IN_PLACE`] (or at shutdown)
/// the event goes back to the bus.
async fn settle<F, Fut>(delivery: Delivery, shutdown: &CancellationToken, apply: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let started = tokio::time::Instant::now();
    let mut backoff = Duration::from_millis(50);
    loop {
        match apply().await {
            Ok(()) => return delivery.ack().await,
            Err(e) if started.elapsed() + backoff < IN_PLACE && !shutdown.is_cancelled() => {
                tracing::warn!(error = %e, subject = %delivery.envelope.subject, "network event not applied; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                tracing::warn!(error = %e, subject = %delivery.envelope.subject, "network event not applied; back to the bus");
                return delivery.retry(Duration::from_millis(500)).await;
            }
        }
    }
}
