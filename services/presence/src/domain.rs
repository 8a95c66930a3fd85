//! The authorisation state machine, pure: who may see whom follows from three facts about
//! a watcher W and a presentity P, all kept by the address-list service:
//!
//! * **asked**: P is in W's `rcs` list (W invited P to share presence);
//! * **authorised**: W is in P's `rcs` list (P accepted, or invited W first);
//! * **revoked**: W is in P's `rcs_revoke` list (P blocked or revoked W).
//!
//! | asked | authorised | revoked | state of W at P |
//! |---|---|---|---|
//! | no | – | – | none (no watcher; a former one is notified as `Terminated`) |
//! | yes | – | yes | [`State::Revoked`] (shown as `Terminated`) |
//! | yes | yes | no | [`State::Active`]: W sees P |
//! | yes | no | no | [`State::Pending`]: an invitation P has not answered |
//!
//! Only `Active` lets W see P's presence. Because `rcs` membership works both ways, W
//! putting P in `rcs` while P has W there makes both pairs active at once (mutual).

use chrono::{DateTime, Utc};

/// A watcher's state at a presentity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Pending,
    Active,
    Revoked,
}

impl State {
    /// Every state.
    pub const ALL: [State; 3] = [State::Pending, State::Active, State::Revoked];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Active => "active",
            State::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "pending" => Some(State::Pending),
            "active" => Some(State::Active),
            "revoked" => Some(State::Revoked),
            _ => None,
        }
    }
}

/// What a watcher's status reads as in ParlayREST (`watcher[].status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Pending,
    Active,
    Terminated,
}

impl Shown {
    pub fn of(state: Option<State>) -> Shown {
        match state {
            Some(State::Pending) => Shown::Pending,
            Some(State::Active) => Shown::Active,
            Some(State::Revoked) | None => Shown::Terminated,
        }
    }
}

/// The state of W at P from the three facts (see the module table).
pub fn state(asked: bool, authorised: bool, revoked: bool) -> Option<State> {
    match (asked, authorised, revoked) {
        (false, _, _) => None,
        (true, _, true) => Some(State::Revoked),
        (true, true, false) => Some(State::Active),
        (true, false, false) => Some(State::Pending),
    }
}

/// What the presentity's watchers subscriptions are told when W's state goes from `old`
/// to `new`: nothing when what they would read is unchanged.
pub fn watcher_change(old: Option<State>, new: Option<State>) -> Option<Shown> {
    if old == new || (old.is_none() && new.is_none()) {
        return None;
    }
    let (before, after) = (Shown::of(old), Shown::of(new));
    // A watcher that never existed and one just revoked both read `Terminated`; a revoked
    // one that goes away entirely changes nothing a subscriber could see.
    if old.is_some() && before == after {
        return None;
    }
    if old.is_none() && after == Shown::Terminated {
        return Some(Shown::Terminated);
    }
    Some(after)
}

/// May a watcher in `state` see the presentity?
pub fn may_see(state: Option<State>) -> bool {
    state == Some(State::Active)
}

/// The stored names of the states [`may_see`] lets see, for a query to match.
pub fn seeing_states() -> impl Iterator<Item = &'static str> {
    State::ALL
        .into_iter()
        .filter(|s| may_see(Some(*s)))
        .map(State::as_str)
}

/// When the next presence notification about a presentity may go to a subscription that
/// was last notified at `last_sent`, at least `interval` apart (RFC 3856 rate limit).
pub fn due_at(
    now: DateTime<Utc>,
    last_sent: Option<DateTime<Utc>>,
    interval: chrono::Duration,
) -> DateTime<Utc> {
    match last_sent {
        Some(sent) if sent + interval > now => sent + interval,
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_match_the_stored_names_of_exactly_the_states_that_see() {
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
        let seeing: Vec<&str> = seeing_states().collect();
        assert_eq!(seeing, ["active"]);
        for name in seeing {
            assert!(may_see(State::parse(name)));
        }
    }

    #[test]
    fn the_state_follows_the_lists() {
        assert_eq!(state(false, false, false), None);
        assert_eq!(state(false, true, true), None);
        assert_eq!(state(true, false, false), Some(State::Pending));
        assert_eq!(state(true, true, false), Some(State::Active));
        assert_eq!(state(true, true, true), Some(State::Revoked));
        assert_eq!(state(true, false, true), Some(State::Revoked));
        for s in [State::Pending, State::Active, State::Revoked] {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
    }

    /// The RCS scenarios, as the two pairs A→B and B→A move.
    #[test]
    fn invite_accept_cancel_block_ignore() {
        // A puts B in rcs: A asks to watch B; B has not answered.
        let a_at_b = state(true, false, false);
        assert_eq!(a_at_b, Some(State::Pending));
        assert_eq!(watcher_change(None, a_at_b), Some(Shown::Pending));
        assert!(!may_see(a_at_b));
        // Ignore: nothing changes, the invitation stays pending.
        assert_eq!(watcher_change(a_at_b, state(true, false, false)), None);
        // Accept: B puts A in rcs; both pairs are active.
        let a_at_b2 = state(true, true, false);
        let b_at_a = state(true, true, false);
        assert!(may_see(a_at_b2) && may_see(b_at_a));
        assert_eq!(watcher_change(a_at_b, a_at_b2), Some(Shown::Active));
        // Cancel: A removes B from rcs; A no longer watches B, B's request to A is pending.
        assert_eq!(
            watcher_change(a_at_b2, state(false, true, false)),
            Some(Shown::Terminated)
        );
        assert_eq!(state(true, false, false), Some(State::Pending));
        // Block: B puts A in rcs_revoke (which takes A out of B's rcs).
        let blocked = state(true, false, true);
        assert_eq!(watcher_change(a_at_b2, blocked), Some(Shown::Terminated));
        assert!(!may_see(blocked));
        // A revoked watcher that then gives up changes nothing anyone sees.
        assert_eq!(watcher_change(blocked, None), None);
        // Unblock and re-invite.
        assert_eq!(
            watcher_change(blocked, state(true, false, false)),
            Some(Shown::Pending)
        );
    }

    #[test]
    fn notifications_are_spaced_by_the_interval() {
        let now = Utc::now();
        let i = chrono::Duration::seconds(5);
        assert_eq!(due_at(now, None, i), now);
        assert_eq!(
            due_at(now, Some(now - chrono::Duration::seconds(9)), i),
            now
        );
        let sent = now - chrono::Duration::seconds(2);
        assert_eq!(due_at(now, Some(sent), i), sent + i);
    }
}
