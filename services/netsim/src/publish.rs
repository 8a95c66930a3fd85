//! Leg events out: build a `CallLegEvent` and publish it on `net.evt.call.leg`, retrying
//! with back-off until the bus takes it or netsim shuts down.

use std::time::Duration;

use chrono::Utc;
use parlay_kit::{bus::SharedBus, ids::new_id, wire};
use parlay_proto::net::v1::{CallLegEvent, LegOutcome};
use tokio_util::sync::CancellationToken;

/// The subject of every leg event.
pub(crate) const LEG_SUBJECT: &str = "net.evt.call.leg";
/// First pause after a failed publish; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A fresh event for one leg, stamped now.
pub(crate) fn leg_event(
    call_session_id: &str,
    participant_id: &str,
    address: &str,
    outcome: LegOutcome,
) -> CallLegEvent {
    CallLegEvent {
        event_id: new_id("ev"),
        call_session_id: call_session_id.to_string(),
        participant_id: participant_id.to_string(),
        address: address.to_string(),
        outcome: outcome.into(),
        occurred_at: Some(wire::timestamp(Utc::now())),
    }
}

/// Publishes `event` (with the current span's trace context) until the bus accepts it;
/// false when `shutdown` came first.
pub(crate) async fn publish_leg_event(
    bus: &SharedBus,
    shutdown: &CancellationToken,
    event: &CallLegEvent,
) -> bool {
    let envelope = wire::envelope(LEG_SUBJECT, event.event_id.clone(), event);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return false,
            result = bus.publish(envelope.clone()) => result,
        };
        match result {
            Ok(()) => {
                tracing::debug!(
                    event_id = %event.event_id,
                    outcome = ?event.outcome(),
                    "published leg event"
                );
                return true;
            }
            Err(error) => tracing::warn!(
                event_id = %event.event_id,
                %error,
                retry_in_ms = backoff.as_millis() as u64,
                "publishing a leg event failed; retrying"
            ),
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
