//! Network events in: `net.evt.call.leg` reports what happened to a participant's leg.
//! Each is applied at most once (inbox on the event id) and acknowledged only after the
//! change committed; a failure asks the bus to deliver it again.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use parlay_kit::{
    bus::{ConsumerSpec, Delivery},
    telemetry, wire,
};
use parlay_proto::net::v1::{CallLegEvent, LegOutcome};
use prost::Message;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{core::Core, domain::Outcome};

pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        durable: "call-net-events".into(),
        filter: "net.evt.call.>".into(),
        ack_wait: Duration::from_secs(30),
    }
}

/// Processes deliveries one at a time until shutdown.
pub async fn run(
    core: Arc<Core>,
    mut deliveries: BoxStream<'static, Delivery>,
    shutdown: CancellationToken,
) {
    loop {
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = deliveries.next() => match next {
                Some(d) => d,
                None => return,
            },
        };
        let span = tracing::info_span!("call.net_event", subject = %delivery.envelope.subject);
        telemetry::set_remote_parent(&span, delivery.envelope.traceparent.as_deref());
        handle(&core, delivery, &shutdown).instrument(span).await;
    }
}

async fn handle(core: &Core, delivery: Delivery, shutdown: &CancellationToken) {
    let event = match CallLegEvent::decode(delivery.envelope.payload.as_ref()) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable call leg event dropped");
            return delivery.ack().await;
        }
    };
    let Some(outcome) = outcome(event.outcome()) else {
        tracing::warn!(event_id = %event.event_id, "call leg event without outcome dropped");
        return delivery.ack().await;
    };
    let at = event
        .occurred_at
        .as_ref()
        .map(wire::time)
        .unwrap_or_else(chrono::Utc::now);
    // A failure is retried here, before the next event: handing it back to the bus would
    // let later events of the same leg overtake it. Past IN_PLACE (below the bus's
    // ack_wait) it goes back to the bus after all.
    let started = tokio::time::Instant::now();
    let mut backoff = Duration::from_millis(50);
    loop {
        let result = core
            .mutate(&event.call_session_id, None, Some(&event.event_id), |s| {
                Ok(s.apply(&event.participant_id, outcome, at))
            })
            .await;
        match result {
            Ok(_) => return delivery.ack().await,
            Err(e) if started.elapsed() + backoff < IN_PLACE && !shutdown.is_cancelled() => {
                tracing::warn!(error = %e, event_id = %event.event_id, "call leg event not applied; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            Err(e) => {
                tracing::warn!(error = %e, event_id = %event.event_id, "call leg event not applied; back to the bus");
                return delivery.retry(Duration::from_millis(500)).await;
            }
        }
    }
}

/// How long an event is retried in place before it is handed back to the bus.
const IN_PLACE: Duration = Duration::from_secs(20);

fn outcome(o: LegOutcome) -> Option<Outcome> {
    Some(match o {
        LegOutcome::Answered => Outcome::Answered,
        LegOutcome::Busy => Outcome::Busy,
        LegOutcome::NoAnswer => Outcome::NoAnswer,
        LegOutcome::NotReachable => Outcome::NotReachable,
        LegOutcome::Disconnected => Outcome::Disconnected,
        LegOutcome::Unspecified => return None,
    })
}
