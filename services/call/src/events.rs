//! Network events in: `net.evt.call.leg` reports what happened to a participant's leg,
//! `net.evt.call.attempt` a call the network sets up, `net.evt.call.media` media progress.
//! Each is applied at most once (inbox on the event id) and acknowledged only after the
//! change committed; a failure asks the bus to deliver it again.

use std::{sync::Arc, time::Duration};

use futures::stream::BoxStream;
use parlay_kit::ids::new_id;
use parlay_kit::{
    bus::{ConsumerSpec, Delivery},
    lanes::{self, Lanes, settle},
    telemetry, wire,
};
use parlay_proto::net::v1::{CallAttempt, CallLegEvent, LegOutcome, MediaEvent};
use prost::Message;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    core::{Core, CoreError},
    domain::{Event, Outcome},
    media, network, store,
};

/// The network's report of a call it sets up.
pub const SUBJECT_ATTEMPT: &str = "net.evt.call.attempt";
/// Progress and results of plays, recordings and digit collections.
pub const SUBJECT_MEDIA: &str = "net.evt.call.media";

pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        durable: "call-net-events".into(),
        filter: "net.evt.call.>".into(),
        ack_wait: Duration::from_secs(30),
    }
}

/// Events handled at once: one at a time in each lane.
const LANES: usize = 16;

/// Events waiting in one lane before the consumer stops taking more from the bus.
const LANE_DEPTH: usize = 8;

/// A network event, decoded.
enum NetEvent {
    Attempt(CallAttempt),
    Media(MediaEvent),
    Leg(CallLegEvent),
    /// Undecodable: acknowledged and dropped.
    Bad(&'static str),
}

impl NetEvent {
    fn decode(delivery: &Delivery) -> NetEvent {
        let subject = delivery.envelope.subject.as_str();
        let payload = delivery.envelope.payload.as_ref();
        if subject.ends_with(SUBJECT_ATTEMPT) {
            CallAttempt::decode(payload)
                .map_or(NetEvent::Bad("undecodable call attempt"), NetEvent::Attempt)
        } else if subject.ends_with(SUBJECT_MEDIA) {
            MediaEvent::decode(payload)
                .map_or(NetEvent::Bad("undecodable media event"), NetEvent::Media)
        } else {
            CallLegEvent::decode(payload)
                .map_or(NetEvent::Bad("undecodable call leg event"), NetEvent::Leg)
        }
    }

    /// The lane's key: a session's leg and media events share one, so they are applied in
    /// the order they came; an attempt starts a session of its own.
    fn lane_key(&self) -> &str {
        match self {
            NetEvent::Attempt(a) => &a.event_id,
            NetEvent::Media(m) => &m.call_session_id,
            NetEvent::Leg(l) => &l.call_session_id,
            NetEvent::Bad(_) => "",
        }
    }
}

/// Processes deliveries until shutdown, in [`LANES`] ordered lanes: a session's events one
/// at a time, in order (a leg's events must not overtake each other), other sessions' and
/// call attempts beside them. At shutdown each lane finishes what it was handed.
pub async fn run(
    core: Arc<Core>,
    deliveries: BoxStream<'static, Delivery>,
    shutdown: CancellationToken,
) {
    let lanes = {
        let (core, shutdown) = (core.clone(), shutdown.clone());
        Lanes::start(
            LANES,
            LANE_DEPTH,
            move |(delivery, event, span): (Delivery, NetEvent, tracing::Span)| {
                let (core, shutdown) = (core.clone(), shutdown.clone());
                async move {
                    handle(&core, delivery, event, &shutdown)
                        .instrument(span)
                        .await
                }
            },
        )
    };
    lanes
        .feed(deliveries, &shutdown, |delivery| {
            let span = tracing::info_span!("call.net_event", subject = %delivery.envelope.subject);
            telemetry::set_remote_parent(&span, delivery.envelope.traceparent.as_deref());
            let event = NetEvent::decode(&delivery);
            (lanes::key(event.lane_key()), (delivery, event, span))
        })
        .await;
}

async fn handle(core: &Core, delivery: Delivery, event: NetEvent, shutdown: &CancellationToken) {
    let event = match event {
        NetEvent::Attempt(attempt) => {
            return settle(delivery, shutdown, || {
                network::on_attempt(core, attempt.clone())
            })
            .await;
        }
        NetEvent::Media(event) => {
            return settle(delivery, shutdown, || media::on_event(core, event.clone())).await;
        }
        NetEvent::Bad(what) => {
            tracing::warn!(subject = %delivery.envelope.subject, "{what} dropped");
            return delivery.ack().await;
        }
        NetEvent::Leg(event) => event,
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
    settle(delivery, shutdown, || apply_leg(core, &event, outcome, at)).await
}

/// Applies a leg event; when the called party of a network call failed and a
/// call-direction subscription watches for that, the call is held for its decision.
async fn apply_leg(
    core: &Core,
    event: &CallLegEvent,
    outcome: Outcome,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), CoreError> {
    let trigger = match outcome {
        Outcome::Busy => Some(Event::Busy),
        Outcome::NoAnswer => Some(Event::NoAnswer),
        Outcome::NotReachable => Some(Event::NotReachable),
        _ => None,
    };
    let mut ask = None;
    if let Some(trigger) = trigger
        && let Some(stored) = store::load(&core.db, &event.call_session_id, None).await?
        && stored.session.network_call.is_some()
        && stored.session.pending().is_none()
        && let Some((calling, called)) = stored.session.parties(&event.participant_id)
    {
        ask = network::direction_for(core, &calling, &called, trigger, chrono::Utc::now()).await?;
    }
    let decision_id = new_id("nt");
    let (participant_id, sequence) = (event.participant_id.clone(), event.sequence);
    core.mutate(
        &event.call_session_id,
        None,
        Some(&event.event_id),
        move |s| {
            s.apply_in_order(
                &participant_id,
                sequence,
                outcome,
                at,
                ask.clone(),
                decision_id.clone(),
            )
        },
    )
    .await?;
    Ok(())
}

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
