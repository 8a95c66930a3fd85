//! Network-originated calls: a subscriber dials someone (the control API's
//! `POST /netsim/v1/calls`), netsim reports the attempt on `net.evt.call.attempt` and holds
//! the call ("waiting") until the suite sends a command naming it (`network_call.call_id`).
//! That command binds the call to the suite's call session and makes the caller a connected
//! leg of it; from then on the call's legs are ordinary legs (rung by the rules, released,
//! hung up), and the call is "ended" once none of them lives.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use parlay_kit::{ids::new_id, wire};
use parlay_proto::net::v1::{CallAction, CallAttempt, CallCommand, Decision, DecisionSource};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Shared, State,
    error::Error,
    legs::{Leg, LegState},
    log::LogEntry,
    publish::{ATTEMPT_SUBJECT, publish},
};

/// Most network calls remembered; the oldest are forgotten first.
const MAX_CALLS: usize = 10_000;

/// One call the network originated.
#[derive(Debug, Clone)]
struct NetworkCall {
    calling: String,
    called: String,
    /// The suite's call session, once a command named the call.
    session: Option<String>,
    /// The latest decision a command carried.
    decision: Option<DecisionView>,
    /// When the attempt was made, and when the latest decision reached the network: the
    /// decision round trip, on netsim's clock.
    attempted_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

/// Every network call netsim remembers, with the session each is bound to.
#[derive(Debug, Default)]
pub(crate) struct NetworkCalls {
    calls: HashMap<String, NetworkCall>,
    /// Call ids, oldest first, for forgetting.
    order: VecDeque<String>,
    by_session: HashMap<String, String>,
}

impl NetworkCalls {
    fn insert(&mut self, call_id: &str, call: NetworkCall) {
        self.calls.insert(call_id.to_string(), call);
        self.order.push_back(call_id.to_string());
        while self.order.len() > MAX_CALLS {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(session) = self.calls.remove(&oldest).and_then(|c| c.session) {
                self.by_session.remove(&session);
            }
        }
    }
}

/// What `GET /netsim/v1/calls/{callId}` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallView {
    call_id: String,
    calling_participant: String,
    called_participant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_session_id: Option<String>,
    state: CallState,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<DecisionView>,
    attempted_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decided_at: Option<DateTime<Utc>>,
}

/// Where a network call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum CallState {
    /// Reported; no command has named it yet.
    Waiting,
    /// Bound to a session, and some leg of it is dialling or connected.
    Proceeding,
    /// Bound, and no leg lives any more.
    Ended,
}

/// A call-direction decision as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DecisionView {
    action: ActionView,
    source: SourceView,
    #[serde(skip_serializing_if = "Option::is_none")]
    routing_address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum ActionView {
    Continue,
    EndCall,
    Route,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
enum SourceView {
    Application,
    Default,
}

impl TryFrom<&Decision> for DecisionView {
    type Error = &'static str;

    fn try_from(decision: &Decision) -> Result<Self, Self::Error> {
        let action = match decision.action() {
            CallAction::Continue => ActionView::Continue,
            CallAction::EndCall => ActionView::EndCall,
            CallAction::Route => ActionView::Route,
            CallAction::Unspecified => return Err("the decision names no action"),
        };
        let source = match decision.source() {
            DecisionSource::Application => SourceView::Application,
            DecisionSource::Default => SourceView::Default,
            DecisionSource::Unspecified => return Err("the decision names no source"),
        };
        Ok(DecisionView {
            action,
            source,
            routing_address: decision.routing_address.clone().filter(|a| !a.is_empty()),
        })
    }
}

/// Starts a network call: remembers it, logs the attempt and publishes it (in the
/// background, retrying until the bus takes it). Returns the call id.
pub(crate) fn originate(
    shared: &Arc<Shared>,
    calling: &str,
    called: &str,
    calling_name: Option<&str>,
) -> String {
    let call_id = new_id("nc");
    let attempt = CallAttempt {
        event_id: new_id("ev"),
        call_id: call_id.clone(),
        calling_address: calling.to_string(),
        called_address: called.to_string(),
        calling_name: calling_name.map(str::to_string),
        occurred_at: Some(wire::timestamp(Utc::now())),
    };
    {
        let mut state = shared.lock();
        let call = NetworkCall {
            calling: calling.to_string(),
            called: called.to_string(),
            session: None,
            decision: None,
            attempted_at: Utc::now(),
            decided_at: None,
        };
        state.calls.insert(&call_id, call);
        state
            .log
            .push(LogEntry::attempt(&call_id, calling, called, calling_name));
    }
    tracing::info!(call_id, calling, called, "network call attempt");
    let shared = shared.clone();
    tokio::spawn(
        async move {
            publish(
                &shared.bus,
                &shared.shutdown,
                ATTEMPT_SUBJECT,
                &attempt.event_id,
                &attempt,
            )
            .await;
        }
        .in_current_span(),
    );
    call_id
}

/// Applies what a command says about a network call: the first command naming a waiting
/// call binds it to the command's session and connects the caller's leg; a decision is
/// recorded. Commands about no network call are left alone.
pub(crate) fn on_command(shared: &Shared, command: &CallCommand) {
    let mut state = shared.lock();
    let state = &mut *state;
    let call_id = match &command.network_call {
        Some(network_call) => network_call.call_id.clone(),
        // A decision without `network_call` still finds its call through the session.
        None if command.decision.is_some() => {
            match state.calls.by_session.get(&command.call_session_id) {
                Some(call_id) => call_id.clone(),
                None => return,
            }
        }
        None => return,
    };
    let Some(call) = state.calls.calls.get_mut(&call_id) else {
        tracing::warn!(call_id, "command names a network call netsim does not know");
        return;
    };
    if let Some(decision) = &command.decision {
        match DecisionView::try_from(decision) {
            Ok(view) => {
                tracing::info!(call_id, decision = ?view, "decision recorded");
                call.decision = Some(view);
                call.decided_at = Some(Utc::now());
            }
            Err(why) => tracing::warn!(call_id, why, "decision not recorded"),
        }
    }
    let Some(network_call) = &command.network_call else {
        return;
    };
    let session = command.call_session_id.as_str();
    match &call.session {
        Some(bound) if bound == session => return,
        Some(bound) => {
            tracing::warn!(
                call_id,
                bound,
                session,
                "network call already bound to another session; binding kept"
            );
            return;
        }
        None if session.is_empty() => {
            tracing::warn!(call_id, "command names a network call but no session");
            return;
        }
        None => {}
    }
    call.session = Some(session.to_string());
    let calling = call.calling.clone();
    state
        .calls
        .by_session
        .insert(session.to_string(), call_id.clone());
    let caller = network_call.calling_participant_id.as_str();
    if caller.is_empty() {
        tracing::warn!(call_id, session, "network call bound without a caller");
        return;
    }
    if !state.legs.contains(session, caller) {
        // The caller's leg never had an `Answered` event to wait for: its token is
        // cancelled already, so a hangup's `Disconnected` goes out at once.
        let announced = CancellationToken::new();
        announced.cancel();
        let leg = Leg::new(&calling, LegState::Connected(announced));
        state.legs.insert(session, caller, leg);
    }
    tracing::info!(call_id, session, caller, "network call bound");
}

/// The control API's view of a network call.
pub(crate) fn view(state: &State, call_id: &str) -> Result<CallView, Error> {
    let call = state
        .calls
        .calls
        .get(call_id)
        .ok_or_else(|| Error::UnknownCall(call_id.to_string()))?;
    let call_state = match &call.session {
        None => CallState::Waiting,
        Some(session) if state.legs.any_live(session) => CallState::Proceeding,
        Some(_) => CallState::Ended,
    };
    Ok(CallView {
        call_id: call_id.to_string(),
        calling_participant: call.calling.clone(),
        called_participant: call.called.clone(),
        call_session_id: call.session.clone(),
        state: call_state,
        decision: call.decision.clone(),
        attempted_at: call.attempted_at,
        decided_at: call.decided_at,
    })
}

/// The call session a hangup's `id` means: the session a network call id is bound to, or
/// `id` itself (a call session id).
pub(crate) fn session_of(state: &State, id: &str) -> Result<String, Error> {
    match state.calls.calls.get(id) {
        Some(NetworkCall {
            session: Some(session),
            ..
        }) => Ok(session.clone()),
        Some(_) => Err(Error::CallWaiting(id.to_string())),
        None => Ok(id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_convert_only_when_complete() {
        let route = Decision {
            action: CallAction::Route.into(),
            source: DecisionSource::Application.into(),
            routing_address: Some("tel:+4670".into()),
        };
        let view = DecisionView::try_from(&route).unwrap();
        assert_eq!(
            serde_json::to_value(&view).unwrap(),
            serde_json::json!({"action": "Route", "source": "application", "routingAddress": "tel:+4670"})
        );
        let end = Decision {
            action: CallAction::EndCall.into(),
            source: DecisionSource::Default.into(),
            routing_address: Some(String::new()),
        };
        assert_eq!(
            serde_json::to_value(DecisionView::try_from(&end).unwrap()).unwrap(),
            serde_json::json!({"action": "EndCall", "source": "default"})
        );
        let vague = Decision {
            action: CallAction::Continue.into(),
            ..Decision::default()
        };
        assert!(DecisionView::try_from(&vague).is_err());
        assert!(DecisionView::try_from(&Decision::default()).is_err());
    }

    #[test]
    fn the_oldest_calls_are_forgotten_with_their_sessions() {
        let mut calls = NetworkCalls::default();
        for i in 0..=MAX_CALLS {
            let call = NetworkCall {
                calling: "tel:+1".into(),
                called: "tel:+2".into(),
                session: Some(format!("cs{i}")),
                decision: None,
                attempted_at: Utc::now(),
                decided_at: None,
            };
            calls.by_session.insert(format!("cs{i}"), format!("nc{i}"));
            calls.insert(&format!("nc{i}"), call);
        }
        assert_eq!(calls.calls.len(), MAX_CALLS);
        assert!(!calls.calls.contains_key("nc0") && !calls.by_session.contains_key("cs0"));
        assert!(calls.calls.contains_key("nc1"));
    }
}
