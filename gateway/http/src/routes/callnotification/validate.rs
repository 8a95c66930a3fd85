//! Call Notification subscriptions checked and turned into gRPC messages, before any call.
//!
//! A call-event or call-direction subscription, in this order (the first failure answers):
//! 1. `filter.address`: more than [`MAX_ADDRESSES`] → 403 POL0003 ["address"]; then as
//!    [`crate::validate::user_addresses`] (empty → 400 SVC0004 ["address"], a bad one → 400
//!    SVC0004 ["address"], `acr:Authorization` without a bound user → 403 POL0002, the same
//!    address twice → 403 POL0013 ["address"]);
//! 2. **user restriction**: an application restricted to users may monitor only them, so
//!    every address must match one of its patterns, else 403 POL0002 [that address];
//! 3. `filter.criteria` (unknown values were refused while parsing, 400 SVC0002
//!    ["criteria"]): for call direction, `Answer` or `Disconnected` → 400 SVC0002
//!    ["criteria"] (nothing is left to decide then); repeated values count once;
//! 4. `callbackReference` (see [`crate::validate::callback`]);
//! 5. `clientCorrelator`; 6. `duration` (negative → 400 SVC0002 ["duration"]);
//! 7. call direction only: `responseTimeout` from 1 to `call.max_decision_timeout_ms` / 1000
//!    seconds, else 400 SVC0002 ["responseTimeout"].
//!
//! A media-interaction subscription: `callSessionIdentifier` (when present) shaped like an
//! id, else 400 SVC0002 ["callSessionIdentifier"] (whether it names a session the
//! application may use is the service's to say, with the same error); then
//! `callbackReference`, `clientCorrelator`, `duration` as above.

use parlay_model::callnotif::{
    CallDirectionSubscriptionIn, CallEvent, CallEventFilterIn, CallEventSubscriptionIn,
    MediaInteractionSubscriptionIn,
};
use parlay_proto::call::v1 as pb;

use super::{Kind, convert};
use crate::{
    apps::App,
    error::ApiError,
    validate::{body_id, callback, client_correlator, duration, user_addresses},
};

/// Most addresses one subscription may monitor.
pub(super) const MAX_ADDRESSES: usize = 100;

const ADDRESS: &str = "address";
const CRITERIA: &str = "criteria";

/// The `Subscription` message for a valid `callEventSubscription`.
pub(super) fn call_event(
    app: &App,
    body: CallEventSubscriptionIn,
) -> Result<pb::Subscription, ApiError> {
    let mut subscription = filter(app, body.filter, Kind::CallEvent)?;
    subscription.callback = callback(Some(body.callback_reference))?;
    subscription.client_correlator = client_correlator(body.client_correlator)?;
    subscription.duration_secs = duration(body.duration)?;
    Ok(subscription)
}

/// The `Subscription` message for a valid `callDirectionSubscription`; `max_timeout_secs`
/// is the longest `responseTimeout` accepted.
pub(super) fn call_direction(
    app: &App,
    body: CallDirectionSubscriptionIn,
    max_timeout_secs: u64,
) -> Result<pb::Subscription, ApiError> {
    let mut subscription = filter(app, body.filter, Kind::CallDirection)?;
    subscription.callback = callback(Some(body.callback_reference))?;
    subscription.client_correlator = client_correlator(body.client_correlator)?;
    subscription.duration_secs = duration(body.duration)?;
    subscription.response_timeout_ms = body
        .response_timeout
        .map(|secs| response_timeout_ms(secs, max_timeout_secs))
        .transpose()?;
    if let Some(action) = body.default_action {
        subscription.set_default_action(convert::default_action(action));
    }
    Ok(subscription)
}

/// `responseTimeout` seconds as milliseconds, when within `1..=max_secs`.
fn response_timeout_ms(secs: i64, max_secs: u64) -> Result<u32, ApiError> {
    u64::try_from(secs)
        .ok()
        .filter(|s| (1..=max_secs).contains(s))
        .and_then(|s| u32::try_from(s.saturating_mul(1000)).ok())
        .ok_or_else(|| ApiError::of("SVC0002", ["responseTimeout"]))
}

/// The kind, addresses, criteria and direction of a call subscription.
fn filter(app: &App, filter: CallEventFilterIn, kind: Kind) -> Result<pb::Subscription, ApiError> {
    if filter.address.len() > MAX_ADDRESSES {
        return Err(ApiError::of("POL0003", [ADDRESS]));
    }
    let addresses = user_addresses(app, filter.address, ADDRESS)?;
    if let Some(other) = addresses.iter().find(|a| !app.may_act_for(a)) {
        return Err(ApiError::of("POL0002", [other.as_str()]));
    }
    let mut criteria: Vec<CallEvent> = Vec::with_capacity(filter.criteria.len());
    for event in filter.criteria {
        let undecidable = matches!(event, CallEvent::Answer | CallEvent::Disconnected);
        if kind == Kind::CallDirection && undecidable {
            return Err(ApiError::of("SVC0002", [CRITERIA]));
        }
        if !criteria.contains(&event) {
            criteria.push(event);
        }
    }
    let mut subscription = pb::Subscription {
        addresses,
        criteria: criteria
            .into_iter()
            .map(|e| convert::event_kind(e) as i32)
            .collect(),
        ..Default::default()
    };
    subscription.set_kind(kind.proto());
    subscription.set_address_direction(convert::direction(
        filter.address_direction.unwrap_or_default(),
    ));
    Ok(subscription)
}

/// The `Subscription` message for a valid recording or collection subscription.
pub(super) fn media(
    body: MediaInteractionSubscriptionIn,
    kind: Kind,
) -> Result<pb::Subscription, ApiError> {
    let call_session_id = body
        .call_session_identifier
        .map(|id| body_id(id, "callSessionIdentifier"))
        .transpose()?;
    let mut subscription = pb::Subscription {
        callback: callback(Some(body.callback_reference))?,
        client_correlator: client_correlator(body.client_correlator)?,
        duration_secs: duration(body.duration)?,
        call_session_id,
        ..Default::default()
    };
    subscription.set_kind(kind.proto());
    Ok(subscription)
}
