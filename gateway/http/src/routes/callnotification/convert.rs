//! Call Notification values between ParlayREST and the call service's messages, and the
//! absolute `resourceURL`s: `{api_root}/callnotification/subscriptions/{kind}[/{id}]`.

use parlay_model::{
    callnotif::{
        AddressDirection, CallEvent, CallEventFilter, CallSubscription, DefaultAction,
        MediaInteractionSubscription,
    },
    common::CallbackReference,
};
use parlay_proto::{call::v1 as pb, common::v1::Callback};

use super::Kind;
use crate::urls;

/// `…/subscriptions/{kind}`.
pub(super) fn collection_url(root: &str, kind: Kind) -> String {
    urls::join(root, &["callnotification", "subscriptions", kind.segment()])
}

/// `…/subscriptions/{kind}/{id}`.
pub(super) fn subscription_url(root: &str, kind: Kind, id: &str) -> String {
    urls::join(
        root,
        &["callnotification", "subscriptions", kind.segment(), id],
    )
}

/// A criterion as the service takes it.
pub(super) fn event_kind(event: CallEvent) -> pb::CallEventKind {
    match event {
        CallEvent::CalledNumber => pb::CallEventKind::CalledNumber,
        CallEvent::Answer => pb::CallEventKind::Answer,
        CallEvent::Busy => pb::CallEventKind::Busy,
        CallEvent::NotReachable => pb::CallEventKind::NotReachable,
        CallEvent::NoAnswer => pb::CallEventKind::NoAnswer,
        CallEvent::Disconnected => pb::CallEventKind::Disconnected,
    }
}

/// A criterion as the service reports it; `None` for an unspecified one.
fn event(kind: pb::CallEventKind) -> Option<CallEvent> {
    match kind {
        pb::CallEventKind::Unspecified => None,
        pb::CallEventKind::CalledNumber => Some(CallEvent::CalledNumber),
        pb::CallEventKind::Answer => Some(CallEvent::Answer),
        pb::CallEventKind::Busy => Some(CallEvent::Busy),
        pb::CallEventKind::NotReachable => Some(CallEvent::NotReachable),
        pb::CallEventKind::NoAnswer => Some(CallEvent::NoAnswer),
        pb::CallEventKind::Disconnected => Some(CallEvent::Disconnected),
    }
}

/// The direction as the service takes it.
pub(super) fn direction(direction: AddressDirection) -> pb::AddressDirection {
    match direction {
        AddressDirection::Called => pb::AddressDirection::Called,
        AddressDirection::Calling => pb::AddressDirection::Calling,
    }
}

/// The default action as the service takes it.
pub(super) fn default_action(action: DefaultAction) -> pb::DefaultAction {
    match action {
        DefaultAction::Continue => pb::DefaultAction::Continue,
        DefaultAction::EndCall => pb::DefaultAction::EndCall,
    }
}

/// The callback as the client sees it. `notificationFormat` is not kept: JSON is the only
/// one accepted, and it is left out as the spec's examples without it do.
fn callback(callback: Option<Callback>) -> CallbackReference {
    let callback = callback.unwrap_or_default();
    CallbackReference {
        notify_url: callback.notify_url,
        callback_data: callback.callback_data,
        notification_format: None,
    }
}

/// A call-event or call-direction subscription. An unspecified direction is reported as the
/// default, `Called`; an unspecified default action is left out.
pub(super) fn call_subscription(root: &str, kind: Kind, s: pb::Subscription) -> CallSubscription {
    let address_direction = match s.address_direction() {
        pb::AddressDirection::Calling => AddressDirection::Calling,
        pb::AddressDirection::Called | pb::AddressDirection::Unspecified => {
            AddressDirection::Called
        }
    };
    let default_action = match s.default_action() {
        pb::DefaultAction::Continue => Some(DefaultAction::Continue),
        pb::DefaultAction::EndCall => Some(DefaultAction::EndCall),
        pb::DefaultAction::Unspecified => None,
    };
    let criteria = s.criteria().filter_map(event).collect();
    let direction_only = kind == Kind::CallDirection;
    CallSubscription {
        resource_url: subscription_url(root, kind, &s.id),
        callback_reference: callback(s.callback),
        filter: CallEventFilter {
            address: s.addresses,
            criteria,
            address_direction,
        },
        client_correlator: s.client_correlator,
        duration: s.duration_secs.map(i64::from),
        default_action: default_action.filter(|_| direction_only),
        // Whole seconds, as requested; a service default below a second still shows as 1.
        response_timeout: s
            .response_timeout_ms
            .filter(|_| direction_only)
            .map(|ms| i64::from(ms.div_ceil(1000))),
    }
}

/// A recording or collection subscription.
pub(super) fn media_subscription(
    root: &str,
    kind: Kind,
    s: pb::Subscription,
) -> MediaInteractionSubscription {
    MediaInteractionSubscription {
        resource_url: subscription_url(root, kind, &s.id),
        callback_reference: callback(s.callback),
        call_session_identifier: s.call_session_id,
        client_correlator: s.client_correlator,
        duration: s.duration_secs.map(i64::from),
    }
}
