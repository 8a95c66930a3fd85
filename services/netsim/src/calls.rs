//! What the simulated network does with call legs: schedule a connect's scripted outcome,
//! cancel or end a leg on release, and make connected participants hang up.
//!
//! State changes happen under the state lock and never wait; events are published by
//! spawned tasks, so the command worker and the control API never block on the bus.

use std::sync::Arc;

use parlay_proto::net::v1::{CallCommand, LegOutcome};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Shared,
    error::Error,
    legs::{Leg, LegState},
    log::{LogEntry, LogKind},
    publish::{leg_event, publish_leg_event},
    rules::{self, CallPlan},
};

/// Logs a connect and, for a leg netsim has not seen yet, schedules its scripted outcome.
pub(crate) fn connect(shared: &Arc<Shared>, command: &CallCommand, calling_address: &str) {
    let session = command.call_session_id.as_str();
    let participant = command.participant_id.as_str();
    let mut state = shared.lock();
    let known = state.legs.contains(session, participant);
    let mut entry = LogEntry::command(LogKind::Connect, command);
    entry.calling_address = Some(calling_address.to_string());
    entry.ignored = known;
    state.log.push(entry);
    if known {
        // Released before it arrived, or a second connect for the same leg: nothing to dial.
        tracing::info!(
            session,
            participant,
            "connect for a leg already known; ignored"
        );
        return;
    }
    let plan = rules::plan(&state.rules, &command.address, shared.default_call_delay);
    let cancel = shared.shutdown.child_token();
    let leg = Leg::new(&command.address, LegState::Dialling(cancel.clone()));
    state.legs.insert(session, participant, leg);
    drop(state);
    tracing::info!(
        session,
        participant,
        behaviour = ?plan.behaviour,
        delay_ms = plan.delay.as_millis() as u64,
        "dialling"
    );
    let task = outcome_after(
        shared.clone(),
        session.to_string(),
        participant.to_string(),
        plan,
        cancel,
    );
    tokio::spawn(task.in_current_span());
}

/// Waits out the plan's delay, then applies and publishes its outcome unless the leg was
/// released (or netsim shut down) meanwhile.
async fn outcome_after(
    shared: Arc<Shared>,
    session: String,
    participant: String,
    plan: CallPlan,
    cancel: CancellationToken,
) {
    tokio::select! {
        () = cancel.cancelled() => return,
        () = tokio::time::sleep(plan.delay) => {}
    }
    let outcome = plan.behaviour.outcome();
    let (event, announced) = {
        let mut state = shared.lock();
        // Checked under the lock: a release cancels under the same lock, so either it came
        // first and nothing happens, or it comes after and finds the new state.
        if cancel.is_cancelled() {
            return;
        }
        let Some(leg) = state.legs.get_mut(&session, &participant) else {
            return;
        };
        if !matches!(leg.state, LegState::Dialling(_)) {
            return;
        }
        let event = leg_event(&session, &participant, &leg.address, outcome);
        let announced = CancellationToken::new();
        if outcome == LegOutcome::Answered {
            leg.state = LegState::Connected(announced.clone());
        } else {
            leg.finish();
            state.legs.remember_ended(&session, &participant);
        }
        (event, announced)
    };
    tracing::info!(session, participant, ?outcome, "leg outcome");
    let _announced = announced.drop_guard();
    publish_leg_event(&shared.bus, &shared.shutdown, &event).await;
}

/// Logs a release and ends the leg: a pending outcome is cancelled (never published), a
/// connected leg ends silently (the suite released it), an unknown leg is remembered.
pub(crate) fn release(shared: &Shared, command: &CallCommand) {
    let session = command.call_session_id.as_str();
    let participant = command.participant_id.as_str();
    let mut state = shared.lock();
    state.log.push(LogEntry::command(LogKind::Release, command));
    match state.legs.end(session, participant, &command.address) {
        Some(LegState::Dialling(pending)) => {
            pending.cancel();
            tracing::info!(
                session,
                participant,
                "released while dialling; outcome cancelled"
            );
        }
        Some(LegState::Connected(_)) => tracing::info!(session, participant, "released"),
        Some(LegState::Ended) => tracing::info!(session, participant, "release of an ended leg"),
        None => tracing::info!(
            session,
            participant,
            "release of an unknown leg; remembered"
        ),
    }
}

/// Ends every connected leg of `session` towards `address` and publishes `Disconnected`
/// for each; returns their participant ids.
pub(crate) fn hang_up(
    shared: &Arc<Shared>,
    session: &str,
    address: &str,
) -> Result<Vec<String>, Error> {
    let mut hung_up = Vec::new();
    let mut state = shared.lock();
    let legs = state
        .legs
        .session_mut(session)
        .ok_or_else(|| Error::UnknownSession(session.to_string()))?;
    for (participant, leg) in legs.iter_mut() {
        if leg.address != address || !matches!(leg.state, LegState::Connected(_)) {
            continue;
        }
        if let LegState::Connected(announced) = leg.finish() {
            hung_up.push((participant.clone(), announced));
        }
    }
    if hung_up.is_empty() {
        return Err(Error::NoConnectedLeg {
            session: session.to_string(),
            address: address.to_string(),
        });
    }
    for (participant, _) in &hung_up {
        state.legs.remember_ended(session, participant);
        state
            .log
            .push(LogEntry::hangup(session, participant, address));
    }
    drop(state);
    let mut participants = Vec::with_capacity(hung_up.len());
    for (participant, announced) in hung_up {
        tracing::info!(session, participant, "participant hangs up");
        let event = leg_event(session, &participant, address, LegOutcome::Disconnected);
        let shared = shared.clone();
        tokio::spawn(
            async move {
                // Never before the leg's `Answered` event.
                announced.cancelled().await;
                publish_leg_event(&shared.bus, &shared.shutdown, &event).await;
            }
            .in_current_span(),
        );
        participants.push(participant);
    }
    Ok(participants)
}
