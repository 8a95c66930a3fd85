//! Events out: build a `CallLegEvent`, and publish any event on its subject, retrying with
//! back-off until the bus takes it or netsim shuts down.

use std::time::Duration;

use chrono::Utc;
use parlay_kit::{bus::SharedBus, ids::new_id, wire};
use parlay_proto::net::v1::{CallLegEvent, LegOutcome};
use tokio_util::sync::CancellationToken;

/// The subject of every leg event.
pub(crate) const LEG_SUBJECT: &str = "net.evt.call.leg";
/// The subject of network-originated call attempts.
pub(crate) const ATTEMPT_SUBJECT: &str = "net.evt.call.attempt";
/// The subject of media progress and results.
pub(crate) const MEDIA_SUBJECT: &str = "net.evt.call.media";
/// The subject of delivery receipts of submitted messages.
pub(crate) const RECEIPT_SUBJECT: &str = "net.evt.msg.receipt";
/// The subject of messages the network received (injected by the control API).
pub(crate) const INBOUND_SUBJECT: &str = "net.evt.msg.inbound";
/// First pause after a failed publish; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A fresh event for one leg, stamped now. A leg reports at most two things, in this
/// order: its outcome (sequence 1), then, when it was answered, its hang-up (sequence 2).
pub(crate) fn leg_event(
    call_session_id: &str,
    participant_id: &str,
    address: &str,
    outcome: LegOutcome,
) -> CallLegEvent {
    let sequence = if outcome == LegOutcome::Disconnected {
        2
    } else {
        1
    };
    CallLegEvent {
        event_id: new_id("ev"),
        call_session_id: call_session_id.to_string(),
        participant_id: participant_id.to_string(),
        address: address.to_string(),
        outcome: outcome.into(),
        occurred_at: Some(wire::timestamp(Utc::now())),
        sequence,
    }
}

/// Publishes a leg event; see [`publish`].
pub(crate) async fn publish_leg_event(
    bus: &SharedBus,
    shutdown: &CancellationToken,
    event: &CallLegEvent,
) -> bool {
    publish(bus, shutdown, LEG_SUBJECT, &event.event_id, event).await
}

/// Publishes `event` on `subject` with envelope id `event_id` (and the current span's
/// trace context) until the bus accepts it; false when `shutdown` came first.
pub(crate) async fn publish(
    bus: &SharedBus,
    shutdown: &CancellationToken,
    subject: &str,
    event_id: &str,
    event: &impl prost::Message,
) -> bool {
    let envelope = wire::envelope(subject, event_id.to_string(), event);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return false,
            result = bus.publish(envelope.clone()) => result,
        };
        match result {
            Ok(()) => {
                tracing::debug!(subject, event_id, "published event");
                return true;
            }
            Err(error) => tracing::warn!(
                subject,
                event_id,
                %error,
                retry_in_ms = backoff.as_millis() as u64,
                "publishing an event failed; retrying"
            ),
        }
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
