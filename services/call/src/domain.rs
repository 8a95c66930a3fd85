//! The call-session state machine, pure: no I/O. Operations mutate a [`Session`] and return
//! the [`Effect`]s the caller must carry out (network commands, notifications) in the same
//! transaction that stores the new state.
//!
//! Rules (documented in docs/third-party-call.md):
//! - The first participant (A-party) is called first; when it answers, the others are called.
//! - A participant goes `Initial` → `Connected` → `Terminated`, or `Initial` → `Terminated`;
//!   a terminated participant never changes again, so late or repeated events are harmless.
//! - A participant still waiting for the A-party to answer can only be called while the
//!   A-party's leg lives. A session of two or more participants ends when fewer than two
//!   are connected or can still be; a session of one ends when its participant's leg ends;
//!   the application may end it at any time. Legs the suite releases end with `HangUp` when
//!   they were connected and `Aborted` when they were not.
//! - Once the A-party has answered, the session is established: participants added later
//!   are called at once, even if the A-party has left since.
//! - A network call (one the network reports as an attempt) starts with its caller connected
//!   and its called party waiting. When a call-direction subscription matches, the session
//!   is held while the application decides (see docs/call-notification.md): the decision
//!   is pending until the application's verdict or the deadline's default, and only the
//!   caller leaving ends the session meanwhile.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    NoAnswer,
    Busy,
    NotReachable,
    HangUp,
    Aborted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Initial,
    Connected,
    Terminated(Cause),
}

/// What the network reported about one leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Answered,
    Busy,
    NoAnswer,
    NotReachable,
    Disconnected,
}

/// The call events reported to the application (callnotif.md `CallEvents`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    CalledNumber,
    Answer,
    Busy,
    NoAnswer,
    NotReachable,
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub id: String,
    pub address: String,
    pub name: Option<String>,
    pub status: Status,
    /// Whether the network was asked to call this participant.
    pub dialled: bool,
    /// When the network was asked to call this participant (the no-answer timer's start).
    pub dialled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub client_correlator: Option<String>,
    /// The sequence number of the last network event applied to this leg (0: none yet).
    pub sequence: u32,
}

impl Participant {
    pub fn new(id: String, address: String, name: Option<String>) -> Self {
        Self {
            id,
            address,
            name,
            status: Status::Initial,
            dialled: false,
            dialled_at: None,
            started_at: None,
            ended_at: None,
            client_correlator: None,
            sequence: 0,
        }
    }

    pub fn is_live(&self) -> bool {
        !matches!(self.status, Status::Terminated(_))
    }

    /// Seconds connected: so far while connected, in total once ended.
    pub fn duration_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        let start = self.started_at?;
        let end = self.ended_at.unwrap_or(now);
        Some((end - start).num_seconds().max(0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    /// In creation order; the first is the A-party (the caller of a network call).
    pub participants: Vec<Participant>,
    pub terminated: bool,
    pub ended_at: Option<DateTime<Utc>>,
    /// The network's id of a network-originated call; None for Third Party Call sessions.
    pub network_call: Option<String>,
    /// The call-direction decision about this call, pending or taken.
    pub decision: Option<Decision>,
}

/// What a call-direction decision can do to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Continue,
    EndCall,
    Route,
}

/// Who chose the action applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Application,
    Default,
}

/// Why the action applied was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The application answered with an action.
    Answered,
    /// No answer before the deadline.
    Timeout,
    /// The application could not be reached.
    Unreachable,
    /// The application answered with a non-2xx status.
    Status,
    /// The application's answer was not a usable `action`.
    BadBody,
    /// `Route` would pass the session's participant limit.
    Limit,
    /// The application answered `Deferred`.
    Deferred,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Answered => "answered",
            Reason::Timeout => "timeout",
            Reason::Unreachable => "unreachable",
            Reason::Status => "status",
            Reason::BadBody => "bad_body",
            Reason::Limit => "limit",
            Reason::Deferred => "deferred",
        }
    }
}

/// The application to ask about a call, from its call-direction subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub subscription_id: String,
    pub app_id: String,
    pub notify_url: String,
    pub callback_data: Option<String>,
    pub deadline: DateTime<Utc>,
    pub default: Action,
}

/// A decision being waited for, or taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state")]
pub enum Decision {
    Pending(Pending),
    Decided(Decided),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Also the id of the notification that asks.
    pub id: String,
    pub trigger: Event,
    pub participant_id: String,
    pub subscription_id: String,
    pub app_id: String,
    pub deadline: DateTime<Utc>,
    pub default: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    pub id: String,
    pub trigger: Event,
    pub subscription_id: String,
    pub app_id: String,
    pub action: Action,
    pub routing_address: Option<String>,
    pub source: Source,
    pub reason: Reason,
    pub at: DateTime<Utc>,
}

/// What came back for a pending decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The application chose (Route carries a checked address).
    Application {
        action: Action,
        routing_address: Option<String>,
    },
    /// The subscription's default applies, for this reason.
    Default(Reason),
}

impl Session {
    /// A call the network reports: the caller is connected, the called party waits for the
    /// suite (and, with `ask`, for an application's decision).
    pub fn network(
        id: String,
        call_id: String,
        mut caller: Participant,
        called: Participant,
        at: DateTime<Utc>,
    ) -> Self {
        caller.status = Status::Connected;
        caller.dialled = true;
        caller.started_at = Some(at);
        let mut s = Session::new(id, vec![caller, called]);
        s.network_call = Some(call_id);
        s
    }

    /// The attempt arrives: subscribers learn of it (CalledNumber) and the called party is
    /// rung, unless an application is asked first.
    pub fn attempt(
        &mut self,
        decision_id: String,
        ask: Option<Ask>,
        at: DateTime<Utc>,
    ) -> Vec<Effect> {
        let Some(called) = self.participants.get(1).map(|p| p.id.clone()) else {
            return Vec::new();
        };
        let mut effects = vec![Effect::Notify {
            participant_id: called.clone(),
            event: Event::CalledNumber,
        }];
        match ask {
            Some(ask) => effects.push(self.hold(decision_id, Event::CalledNumber, called, ask)),
            None => effects.extend(self.participants.get_mut(1).map(|p| dial(p, at))),
        }
        effects
    }

    /// The calling and called party of `participant_id`'s leg, as subscriptions see it:
    /// in a network call, the caller calls the called party (or whoever the call was routed
    /// to), and the caller's own leg counts as the call to the dialled number; in a Third
    /// Party Call session, the first participant calls each of the others, and the first
    /// leg has no calling party (None).
    pub fn parties(&self, participant_id: &str) -> Option<(String, String)> {
        let first = self.participants.first()?;
        let p = self.participant(participant_id)?;
        if p.id != first.id {
            return Some((first.address.clone(), p.address.clone()));
        }
        if self.network_call.is_some() {
            let called = self.participants.get(1)?;
            return Some((first.address.clone(), called.address.clone()));
        }
        None
    }

    /// The decision still awaited, if any.
    pub fn pending(&self) -> Option<&Pending> {
        match &self.decision {
            Some(Decision::Pending(p)) => Some(p),
            _ => None,
        }
    }

    fn hold(&mut self, id: String, trigger: Event, participant_id: String, ask: Ask) -> Effect {
        let pending = Pending {
            id,
            trigger,
            participant_id,
            subscription_id: ask.subscription_id.clone(),
            app_id: ask.app_id.clone(),
            deadline: ask.deadline,
            default: ask.default,
        };
        self.decision = Some(Decision::Pending(pending.clone()));
        Effect::Ask {
            pending: Box::new(pending),
            notify_url: ask.notify_url,
            callback_data: ask.callback_data,
        }
    }

    /// Applies the verdict on pending decision `decision_id`; a late or repeated one, or
    /// one for a call that ended meanwhile, changes nothing. `routed_id` names the
    /// participant a `Route` adds; a `Route` beyond `max` participants takes the default.
    pub fn decide(
        &mut self,
        decision_id: &str,
        verdict: Verdict,
        routed_id: String,
        max: usize,
        at: DateTime<Utc>,
    ) -> Vec<Effect> {
        let Some(pending) = self.pending().filter(|p| p.id == decision_id).cloned() else {
            return Vec::new();
        };
        if self.terminated {
            return Vec::new();
        }
        let (action, routing_address, source, reason) = match verdict {
            Verdict::Application {
                action: Action::Route,
                routing_address: None,
            } => (pending.default, None, Source::Default, Reason::BadBody),
            Verdict::Application {
                action: Action::Route,
                ..
            } if self.participants.len() >= max => {
                (pending.default, None, Source::Default, Reason::Limit)
            }
            Verdict::Application {
                action,
                routing_address,
            } => (
                action,
                routing_address,
                Source::Application,
                Reason::Answered,
            ),
            Verdict::Default(reason) => (pending.default, None, Source::Default, reason),
        };
        let decided = Decided {
            id: pending.id.clone(),
            trigger: pending.trigger,
            subscription_id: pending.subscription_id.clone(),
            app_id: pending.app_id.clone(),
            action,
            routing_address: routing_address.clone(),
            source,
            reason,
            at,
        };
        self.decision = Some(Decision::Decided(decided.clone()));
        let mut effects = vec![Effect::Decided(Box::new(decided))];
        match (pending.trigger, action, routing_address) {
            (Event::CalledNumber, Action::Continue, _) => {
                if let Some(p) = self
                    .participants
                    .iter_mut()
                    .find(|p| p.id == pending.participant_id && p.is_live())
                {
                    effects.push(dial(p, at));
                }
            }
            (_, Action::Route, Some(address)) => {
                if let Some(p) = self
                    .participants
                    .iter_mut()
                    .find(|p| p.id == pending.participant_id && p.is_live())
                {
                    // Never rung: the call goes elsewhere.
                    end_leg(p, Cause::Aborted, at, Event::Disconnected);
                }
                let mut routed = Participant::new(routed_id, address, None);
                effects.push(dial(&mut routed, at));
                self.participants.push(routed);
            }
            (Event::CalledNumber, _, _) | (_, Action::EndCall, _) => {
                effects.extend(self.release_all(at))
            }
            // Continue after the called party's leg failed: the call goes on as the network
            // would have it (it ends unless others are still in play).
            _ => effects.extend(self.end_if_over(at)),
        }
        effects
    }
}

/// What must happen because of a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Ask the network to call the participant.
    Connect { participant_id: String },
    /// Ask the network to release the participant's leg.
    Release { participant_id: String },
    /// Tell the application (when it asked for notifications) and the subscribers.
    Notify {
        participant_id: String,
        event: Event,
    },
    /// Ask an application what to do with the call (a call-direction notification).
    Ask {
        pending: Box<Pending>,
        notify_url: String,
        callback_data: Option<String>,
    },
    /// A decision was taken: the network learns it with the command that carries it out.
    Decided(Box<Decided>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("call session already terminated")]
    AlreadyTerminated,
    #[error("no such participant")]
    NoSuchParticipant,
    #[error("too many participants")]
    TooManyParticipants,
    #[error("the address already takes part in the session")]
    DuplicateAddress,
    /// A retry of an earlier add with the same clientCorrelator: nothing changes.
    #[error("participant {0} was added by an earlier request with this clientCorrelator")]
    Replay(String),
    #[error("clientCorrelator reused with a different participant")]
    CorrelatorReused(String),
    /// A leg's network event arrived before the one preceding it: it must wait.
    #[error("leg event {got} arrived before event {expected}")]
    EarlyLegEvent { expected: u32, got: u32 },
}

impl Session {
    pub fn new(id: String, participants: Vec<Participant>) -> Self {
        Self {
            id,
            participants,
            terminated: false,
            ended_at: None,
            network_call: None,
            decision: None,
        }
    }

    pub fn participant(&self, id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    /// Starts the session: the A-party is called.
    pub fn start(&mut self, at: DateTime<Utc>) -> Vec<Effect> {
        self.participants
            .first_mut()
            .map(|first| dial(first, at))
            .into_iter()
            .collect()
    }

    /// The no-answer timer: legs the network was asked to call before `cutoff` and that are
    /// still not answered end as `NoAnswer` (and are released, in case the network still
    /// rings them). This bounds a session even when network events are lost.
    pub fn expire_unanswered(&mut self, cutoff: DateTime<Utc>, at: DateTime<Utc>) -> Vec<Effect> {
        if self.terminated {
            return Vec::new();
        }
        let mut effects = Vec::new();
        for p in &mut self.participants {
            if p.status == Status::Initial && p.dialled_at.is_some_and(|d| d < cutoff) {
                end_leg(p, Cause::NoAnswer, at, Event::NoAnswer);
                effects.push(Effect::Release {
                    participant_id: p.id.clone(),
                });
                effects.push(Effect::Notify {
                    participant_id: p.id.clone(),
                    event: Event::NoAnswer,
                });
            }
        }
        if !effects.is_empty() {
            effects.extend(self.end_if_over(at));
        }
        effects
    }

    /// Applies a network report about one leg.
    pub fn apply(
        &mut self,
        participant_id: &str,
        outcome: Outcome,
        at: DateTime<Utc>,
    ) -> Vec<Effect> {
        self.apply_or_ask(participant_id, outcome, at, None, String::new())
    }

    /// Applies the network's report number `sequence` about one leg, in its leg's order: a
    /// report already applied changes nothing, one whose predecessor has not been applied
    /// yet is refused ([`DomainError::EarlyLegEvent`]: to be tried again). Sequence 0 is
    /// applied as it comes. Otherwise as [`Session::apply_or_ask`].
    pub fn apply_in_order(
        &mut self,
        participant_id: &str,
        sequence: u32,
        outcome: Outcome,
        at: DateTime<Utc>,
        ask: Option<Ask>,
        decision_id: String,
    ) -> Result<Vec<Effect>, DomainError> {
        if sequence > 0
            && let Some(p) = self
                .participants
                .iter_mut()
                .find(|p| p.id == participant_id)
        {
            if sequence <= p.sequence {
                return Ok(Vec::new());
            }
            if sequence > p.sequence + 1 {
                return Err(DomainError::EarlyLegEvent {
                    expected: p.sequence + 1,
                    got: sequence,
                });
            }
            p.sequence = sequence;
        }
        Ok(self.apply_or_ask(participant_id, outcome, at, ask, decision_id))
    }

    /// Applies a network report about one leg; when the called party of a network call
    /// failed (busy, no answer, not reachable) and `ask` is given, the call is held for the
    /// application's decision `decision_id` instead of ending.
    pub fn apply_or_ask(
        &mut self,
        participant_id: &str,
        outcome: Outcome,
        at: DateTime<Utc>,
        ask: Option<Ask>,
        decision_id: String,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.terminated {
            return effects;
        }
        let Some(index) = self
            .participants
            .iter()
            .position(|p| p.id == participant_id)
        else {
            return effects;
        };
        let p = &mut self.participants[index];
        let event = match (p.status, outcome) {
            (Status::Initial, Outcome::Answered) => {
                p.status = Status::Connected;
                p.started_at = Some(at);
                Event::Answer
            }
            (Status::Initial, Outcome::Busy) => end_leg(p, Cause::Busy, at, Event::Busy),
            (Status::Initial, Outcome::NoAnswer) => {
                end_leg(p, Cause::NoAnswer, at, Event::NoAnswer)
            }
            (Status::Initial, Outcome::NotReachable) => {
                end_leg(p, Cause::NotReachable, at, Event::NotReachable)
            }
            (Status::Initial | Status::Connected, Outcome::Disconnected) => {
                end_leg(p, Cause::HangUp, at, Event::Disconnected)
            }
            // Late, repeated or impossible reports change nothing.
            _ => return effects,
        };
        effects.push(Effect::Notify {
            participant_id: participant_id.to_string(),
            event,
        });
        if index == 0 && event == Event::Answer {
            effects.extend(self.dial_waiting(at));
        }
        // Only the party the caller is trying to reach, before anyone answered, is asked
        // about: a participant added to an answered call fails on its own.
        let answered = self
            .participants
            .iter()
            .skip(1)
            .any(|p| p.started_at.is_some());
        if let Some(ask) = ask
            && self.network_call.is_some()
            && index != 0
            && !answered
            && matches!(event, Event::Busy | Event::NoAnswer | Event::NotReachable)
            && self.pending().is_none()
        {
            effects.push(self.hold(decision_id, event, participant_id.to_string(), ask));
        }
        effects.extend(self.end_if_over(at));
        effects
    }

    /// The application ends the session.
    pub fn end(&mut self, at: DateTime<Utc>) -> Result<Vec<Effect>, DomainError> {
        if self.terminated {
            return Err(DomainError::AlreadyTerminated);
        }
        Ok(self.release_all(at))
    }

    /// The application adds a participant; it is called now if the session is established
    /// (the A-party answered), or when the A-party answers. A retry with the same
    /// clientCorrelator changes nothing; `max` bounds the participants of a session.
    pub fn add(
        &mut self,
        mut participant: Participant,
        max: usize,
        at: DateTime<Utc>,
    ) -> Result<Vec<Effect>, DomainError> {
        if let Some(c) = &participant.client_correlator
            && let Some(earlier) = self
                .participants
                .iter()
                .find(|p| p.client_correlator.as_ref() == Some(c))
        {
            return Err(
                if earlier.address == participant.address && earlier.name == participant.name {
                    DomainError::Replay(earlier.id.clone())
                } else {
                    DomainError::CorrelatorReused(c.clone())
                },
            );
        }
        if self.terminated {
            return Err(DomainError::AlreadyTerminated);
        }
        if self
            .participants
            .iter()
            .any(|p| p.is_live() && p.address.eq_ignore_ascii_case(&participant.address))
        {
            return Err(DomainError::DuplicateAddress);
        }
        if self.participants.len() >= max {
            return Err(DomainError::TooManyParticipants);
        }
        let mut effects = Vec::new();
        if self.established() || self.participants.is_empty() {
            effects.push(dial(&mut participant, at));
        }
        self.participants.push(participant);
        Ok(effects)
    }

    /// The application drops one participant. Dropping one whose leg already ended changes
    /// nothing.
    pub fn remove(
        &mut self,
        participant_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Effect>, DomainError> {
        if self.terminated {
            return Err(DomainError::AlreadyTerminated);
        }
        let p = self
            .participants
            .iter_mut()
            .find(|p| p.id == participant_id)
            .ok_or(DomainError::NoSuchParticipant)?;
        let mut effects = Vec::new();
        if p.is_live() {
            effects.extend(release(p, at));
        }
        effects.extend(self.end_if_over(at));
        Ok(effects)
    }

    fn dial_waiting(&mut self, at: DateTime<Utc>) -> Vec<Effect> {
        self.participants
            .iter_mut()
            .filter(|p| !p.dialled && p.is_live())
            .map(|p| dial(p, at))
            .collect()
    }

    /// The A-party has answered at some point.
    fn established(&self) -> bool {
        self.participants
            .first()
            .is_some_and(|a| a.started_at.is_some())
    }

    fn end_if_over(&mut self, at: DateTime<Utc>) -> Vec<Effect> {
        // Undialled participants wait for the A-party: they are in play only while it lives.
        let a_live = self.participants.first().is_some_and(Participant::is_live);
        // A call held for a decision waits for it while its caller stays.
        if a_live && self.pending().is_some() {
            return Vec::new();
        }
        let in_play = self
            .participants
            .iter()
            .filter(|p| p.is_live() && (p.dialled || a_live))
            .count();
        let over = if self.participants.len() >= 2 {
            in_play < 2
        } else {
            in_play == 0
        };
        if over {
            self.release_all(at)
        } else {
            Vec::new()
        }
    }

    fn release_all(&mut self, at: DateTime<Utc>) -> Vec<Effect> {
        self.terminated = true;
        self.ended_at = Some(at);
        // A decision still awaited has nothing left to decide.
        if self.pending().is_some() {
            self.decision = None;
        }
        self.participants
            .iter_mut()
            .filter(|p| p.is_live())
            .flat_map(|p| release(p, at))
            .collect()
    }
}

/// Asks the network to call `p`.
fn dial(p: &mut Participant, at: DateTime<Utc>) -> Effect {
    p.dialled = true;
    p.dialled_at = Some(at);
    Effect::Connect {
        participant_id: p.id.clone(),
    }
}

fn end_leg(p: &mut Participant, cause: Cause, at: DateTime<Utc>, event: Event) -> Event {
    p.status = Status::Terminated(cause);
    p.ended_at = Some(at);
    event
}

/// The suite releases a live leg: network command if it was dialled, notification if it was
/// connected.
fn release(p: &mut Participant, at: DateTime<Utc>) -> Vec<Effect> {
    let mut effects = Vec::new();
    let was_connected = p.status == Status::Connected;
    p.status = Status::Terminated(if was_connected {
        Cause::HangUp
    } else {
        Cause::Aborted
    });
    p.ended_at = Some(at);
    if p.dialled {
        effects.push(Effect::Release {
            participant_id: p.id.clone(),
        });
    }
    if was_connected {
        effects.push(Effect::Notify {
            participant_id: p.id.clone(),
            event: Event::Disconnected,
        });
    }
    effects
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
