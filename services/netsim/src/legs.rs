//! Call legs in memory, keyed by (callSessionId, participantId): dialling (an outcome is
//! pending), connected, or ended. Ended legs are remembered, so a late or repeated connect
//! is recognised, up to a bound beyond which the oldest are forgotten.

use std::collections::{BTreeMap, HashMap, VecDeque};

use tokio_util::sync::CancellationToken;

/// Most ended legs remembered.
const MAX_ENDED: usize = 100_000;

/// Where a leg is.
#[derive(Debug)]
pub(crate) enum LegState {
    /// The outcome is pending; cancelling the token suppresses it.
    Dialling(CancellationToken),
    /// Answered. The token is cancelled once the `Answered` event has been published (or
    /// given up at shutdown), so a later `Disconnected` never overtakes it.
    Connected(CancellationToken),
    Ended,
}

impl LegState {
    /// Dialling or connected: the leg still holds the call up.
    pub(crate) fn is_live(&self) -> bool {
        !matches!(self, LegState::Ended)
    }
}

/// One participant's leg.
#[derive(Debug)]
pub(crate) struct Leg {
    pub(crate) address: String,
    pub(crate) state: LegState,
    /// Cancelled when the leg ends, so media in progress on it fails at once.
    pub(crate) gone: CancellationToken,
}

impl Leg {
    /// A leg towards `address` in `state`.
    pub(crate) fn new(address: &str, state: LegState) -> Leg {
        Leg {
            address: address.to_string(),
            state,
            gone: CancellationToken::new(),
        }
    }

    /// Ends the leg (telling media in progress on it) and returns its previous state.
    pub(crate) fn finish(&mut self) -> LegState {
        self.gone.cancel();
        std::mem::replace(&mut self.state, LegState::Ended)
    }
}

/// Every leg netsim knows, by session then participant.
#[derive(Debug, Default)]
pub(crate) struct Legs {
    sessions: HashMap<String, BTreeMap<String, Leg>>,
    /// Ended legs, oldest first, for forgetting.
    ended: VecDeque<(String, String)>,
}

impl Legs {
    pub(crate) fn contains(&self, session: &str, participant: &str) -> bool {
        self.sessions
            .get(session)
            .is_some_and(|legs| legs.contains_key(participant))
    }

    pub(crate) fn get(&self, session: &str, participant: &str) -> Option<&Leg> {
        self.sessions.get(session)?.get(participant)
    }

    pub(crate) fn get_mut(&mut self, session: &str, participant: &str) -> Option<&mut Leg> {
        self.sessions.get_mut(session)?.get_mut(participant)
    }

    /// Does any leg of `session` still hold the call up?
    pub(crate) fn any_live(&self, session: &str) -> bool {
        self.sessions
            .get(session)
            .is_some_and(|legs| legs.values().any(|leg| leg.state.is_live()))
    }

    /// The legs of one session, if netsim has heard of it.
    pub(crate) fn session_mut(&mut self, session: &str) -> Option<&mut BTreeMap<String, Leg>> {
        self.sessions.get_mut(session)
    }

    /// Starts a leg in `state` (replacing any forgotten one).
    pub(crate) fn insert(&mut self, session: &str, participant: &str, leg: Leg) {
        self.sessions
            .entry(session.to_string())
            .or_default()
            .insert(participant.to_string(), leg);
    }

    /// Marks a leg ended, creating it (with `address`) when unknown; returns its previous
    /// state, `None` for a leg netsim had not heard of.
    pub(crate) fn end(
        &mut self,
        session: &str,
        participant: &str,
        address: &str,
    ) -> Option<LegState> {
        let legs = self.sessions.entry(session.to_string()).or_default();
        let previous = match legs.get_mut(participant) {
            Some(leg) => Some(leg.finish()),
            None => {
                legs.insert(participant.to_string(), Leg::new(address, LegState::Ended));
                None
            }
        };
        if !matches!(previous, Some(LegState::Ended)) {
            self.remember_ended(session, participant);
        }
        previous
    }

    /// Records that a leg just ended, forgetting the oldest ended legs beyond the bound.
    pub(crate) fn remember_ended(&mut self, session: &str, participant: &str) {
        self.ended
            .push_back((session.to_string(), participant.to_string()));
        while self.ended.len() > MAX_ENDED {
            let Some((session, participant)) = self.ended.pop_front() else {
                break;
            };
            let Some(legs) = self.sessions.get_mut(&session) else {
                continue;
            };
            // Forget it only if it is still ended (it may have been started again since).
            if legs
                .get(&participant)
                .is_some_and(|leg| matches!(leg.state, LegState::Ended))
            {
                legs.remove(&participant);
            }
            if legs.is_empty() {
                self.sessions.remove(&session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ending_an_unknown_leg_remembers_it() {
        let mut legs = Legs::default();
        assert!(legs.end("cs1", "p1", "tel:+1").is_none());
        assert!(legs.contains("cs1", "p1"));
        assert!(matches!(
            legs.end("cs1", "p1", "tel:+1"),
            Some(LegState::Ended)
        ));
    }

    #[test]
    fn ending_a_dialling_leg_returns_its_token() {
        let mut legs = Legs::default();
        let token = CancellationToken::new();
        let leg = Leg::new("tel:+1", LegState::Dialling(token.clone()));
        let gone = leg.gone.clone();
        legs.insert("cs1", "p1", leg);
        match legs.end("cs1", "p1", "tel:+1") {
            Some(LegState::Dialling(t)) => t.cancel(),
            other => panic!("unexpected {other:?}"),
        }
        assert!(token.is_cancelled());
        assert!(gone.is_cancelled(), "media on the leg learns it ended");
        assert!(legs.get("cs1", "p1").is_some());
        assert!(!legs.any_live("cs1"));
    }
}
