//! Calls the network originates: a `CallAttempt` becomes a call session whose caller is
//! connected and whose called party waits, either for the suite to ring it or, when a
//! call-direction subscription matches, for the application's decision.

use chrono::{DateTime, Utc};
use parlay_kit::{ids::new_id, wire};
use parlay_model::Address;
use parlay_proto::net::v1::CallAttempt;

use crate::{
    core::{Core, CoreError, Seen},
    domain::{Ask, Event, Participant, Session},
    store::entities::{session, subscription},
    subscriptions::{self, Kind},
};

/// What an application's call-direction subscription asks for, deciding by `now + timeout`.
pub fn ask_of(sub: subscription::Model, now: DateTime<Utc>) -> Ask {
    Ask {
        deadline: now + chrono::Duration::milliseconds(sub.response_timeout_ms),
        default: subscriptions::default_action(&sub),
        subscription_id: sub.id,
        app_id: sub.app_id,
        notify_url: sub.notify_url,
        callback_data: sub.callback_data,
    }
}

/// The oldest live call-direction subscription watching this call for `event`.
pub async fn direction_for(
    core: &Core,
    calling: &str,
    called: &str,
    event: Event,
    now: DateTime<Utc>,
) -> Result<Option<Ask>, CoreError> {
    let found = subscriptions::matching(
        &core.db,
        &[Kind::CallDirection],
        calling,
        called,
        event,
        now,
    )
    .await?;
    Ok(found.into_iter().next().map(|s| ask_of(s, now)))
}

/// Takes a network call attempt into a new session (once per event id).
pub async fn on_attempt(core: &Core, attempt: CallAttempt) -> Result<(), CoreError> {
    let (Ok(calling), Ok(called)) = (
        Address::parse(&attempt.calling_address),
        Address::parse(&attempt.called_address),
    ) else {
        tracing::warn!(
            call_id = %attempt.call_id,
            "call attempt with an unusable address dropped"
        );
        return Ok(());
    };
    let now = Utc::now();
    let at = attempt.occurred_at.as_ref().map_or(now, wire::time);
    // One look for both: the call-direction subscription that decides the call, and the
    // call-event subscriptions its first notification (the called number) goes to.
    let (direction, subscribers): (Vec<_>, Vec<_>) = subscriptions::matching(
        &core.db,
        &[Kind::CallDirection, Kind::CallEvent],
        calling.as_str(),
        called.as_str(),
        Event::CalledNumber,
        now,
    )
    .await?
    .into_iter()
    .partition(|s| s.kind == Kind::CallDirection.as_str());
    let ask = direction.into_iter().next().map(|s| ask_of(s, now));
    let seen = Seen {
        calling: calling.as_str().to_string(),
        called: called.as_str().to_string(),
        event: Event::CalledNumber,
        subscribers,
    };
    let id = new_id("cs");
    let session = Session::network(
        id.clone(),
        attempt.call_id.clone(),
        Participant::new(
            new_id("pa"),
            calling.as_str().to_string(),
            attempt.calling_name.clone(),
        ),
        Participant::new(new_id("pa"), called.as_str().to_string(), None),
        at,
    );
    let row = session::Model {
        id,
        // Owned by no application: those notified of it are granted access.
        app_id: String::new(),
        client_correlator: None,
        request_hash: String::new(),
        notify_url: None,
        callback_data: None,
        terminated: false,
        version: 0,
        created_at: now,
        ended_at: None,
        network_call_id: Some(attempt.call_id.clone()),
        decision: None,
        decision_deadline: None,
    };
    let decision_id = new_id("nt");
    core.create_with(
        row,
        session,
        Some(&attempt.event_id),
        Some(seen),
        move |s| s.attempt(decision_id.clone(), ask.clone(), at),
    )
    .await?;
    Ok(())
}
