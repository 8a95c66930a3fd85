//! Call Notification subscription bodies (callnotif.md §2.1–§2.4, docs/call-notification.md):
//! call-event, call-direction and media-interaction (recording, collection) subscriptions.
//!
//! Input types (`…Request`, `…In`) reject unknown fields, so a client cannot set the read-only
//! `resourceURL` or `link`. Output types are what the server writes; they also deserialize,
//! for tests and clients.

use serde::{Deserialize, Serialize};

use super::CallEvent;
use crate::{common::CallbackReference, tolerant};

#[cfg(test)]
mod tests;

/// Body of `POST subscriptions/callEvent`: root `callEventSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallEventSubscriptionRequest {
    /// The subscription to create.
    pub call_event_subscription: CallEventSubscriptionIn,
}

/// The fields a client may send for a call-event subscription.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallEventSubscriptionIn {
    /// Where notifications go.
    pub callback_reference: CallbackReference,
    /// What to monitor.
    pub filter: CallEventFilterIn,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
    /// Requested lifetime in seconds (0 or absent: the server's maximum).
    #[serde(default, deserialize_with = "tolerant::option_string_or_number")]
    pub duration: Option<i64>,
}

/// Body of `POST subscriptions/callDirection`: root `callDirectionSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallDirectionSubscriptionRequest {
    /// The subscription to create.
    pub call_direction_subscription: CallDirectionSubscriptionIn,
}

/// The fields a client may send for a call-direction subscription: those of a call-event
/// subscription plus the suite's two extensions.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallDirectionSubscriptionIn {
    /// Where notifications go (and where decisions are asked).
    pub callback_reference: CallbackReference,
    /// What to monitor.
    pub filter: CallEventFilterIn,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
    /// Requested lifetime in seconds (0 or absent: the server's maximum).
    #[serde(default, deserialize_with = "tolerant::option_string_or_number")]
    pub duration: Option<i64>,
    /// Suite extension: what happens when the application does not decide.
    #[serde(default)]
    pub default_action: Option<DefaultAction>,
    /// Suite extension: seconds the network waits for the application's decision.
    #[serde(default, deserialize_with = "tolerant::option_string_or_number")]
    pub response_timeout: Option<i64>,
}

/// The `filter` element as a client sends it (callnotif.md §2.3).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallEventFilterIn {
    /// Monitored users, still unchecked; one string or an array.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub address: Vec<String>,
    /// Events of interest; absent or empty means all the subscription kind supports.
    #[serde(default, deserialize_with = "tolerant::value_or_many")]
    pub criteria: Vec<CallEvent>,
    /// Whether `address` is the called (default) or the calling party.
    #[serde(default)]
    pub address_direction: Option<AddressDirection>,
}

/// Response body with root `callEventSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEventSubscriptionResponse {
    /// The subscription.
    pub call_event_subscription: CallSubscription,
}

/// Response body with root `callDirectionSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallDirectionSubscriptionResponse {
    /// The subscription.
    pub call_direction_subscription: CallSubscription,
}

/// A call-event or call-direction subscription as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallSubscription {
    /// Where notifications go.
    pub callback_reference: CallbackReference,
    /// What is monitored.
    pub filter: CallEventFilter,
    /// Echo of the creating request's correlator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Granted lifetime in seconds.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// Call direction only: the action when the application does not decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_action: Option<DefaultAction>,
    /// Call direction only: seconds the network waits for a decision.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub response_timeout: Option<i64>,
    /// `…/callnotification/subscriptions/{callEvent|callDirection}/{subscriptionId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// The `filter` element as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEventFilter {
    /// Monitored users, always an array.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub address: Vec<String>,
    /// Events of interest; left out when the subscription takes every event.
    #[serde(
        default,
        deserialize_with = "tolerant::value_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub criteria: Vec<CallEvent>,
    /// Which party `address` is matched against.
    pub address_direction: AddressDirection,
}

/// `AddressDirection` (callnotif.md §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AddressDirection {
    /// `address` is the called party.
    #[default]
    Called,
    /// `address` is the calling party.
    Calling,
}

/// Suite extension `defaultAction` of a call-direction subscription.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DefaultAction {
    /// Let the network handle the call normally.
    #[default]
    Continue,
    /// Release the call.
    EndCall,
}

/// Response body of `GET subscriptions/callEvent` or `…/callDirection`: root
/// `subscriptionList`, holding one of the two arrays.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionListResponse {
    /// The list.
    pub subscription_list: SubscriptionList,
}

/// An application's live subscriptions of one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionList {
    /// Call-event subscriptions (when listing those; an empty array when there are none).
    #[serde(
        default,
        deserialize_with = "option_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub call_event_subscription: Option<Vec<CallSubscription>>,
    /// Call-direction subscriptions (when listing those).
    #[serde(
        default,
        deserialize_with = "option_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub call_direction_subscription: Option<Vec<CallSubscription>>,
    /// The collection's URL.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// A present list, one object or an array.
fn option_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<CallSubscription>>, D::Error> {
    tolerant::one_or_many(deserializer).map(Some)
}

/// Body of `POST subscriptions/recording`: root `playAndRecordInteractionSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayAndRecordInteractionSubscriptionRequest {
    /// The subscription to create.
    pub play_and_record_interaction_subscription: MediaInteractionSubscriptionIn,
}

/// Body of `POST subscriptions/collection`: root `playAndCollectInteractionSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayAndCollectInteractionSubscriptionRequest {
    /// The subscription to create.
    pub play_and_collect_interaction_subscription: MediaInteractionSubscriptionIn,
}

/// The fields a client may send for a media-interaction subscription (callnotif.md §2.4).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaInteractionSubscriptionIn {
    /// Where results go.
    pub callback_reference: CallbackReference,
    /// Limit to one call session; ALU's `callSessionId` is accepted too.
    #[serde(default, alias = "callSessionId")]
    pub call_session_identifier: Option<String>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
    /// Requested lifetime in seconds (0 or absent: the server's maximum).
    #[serde(default, deserialize_with = "tolerant::option_string_or_number")]
    pub duration: Option<i64>,
}

/// Response body with root `playAndRecordInteractionSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayAndRecordInteractionSubscriptionResponse {
    /// The subscription.
    pub play_and_record_interaction_subscription: MediaInteractionSubscription,
}

/// Response body with root `playAndCollectInteractionSubscription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayAndCollectInteractionSubscriptionResponse {
    /// The subscription.
    pub play_and_collect_interaction_subscription: MediaInteractionSubscription,
}

/// A media-interaction subscription as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaInteractionSubscription {
    /// Where results go.
    pub callback_reference: CallbackReference,
    /// The one call session it is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_session_identifier: Option<String>,
    /// Echo of the creating request's correlator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Granted lifetime in seconds.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// `…/callnotification/subscriptions/{recording|collection}/{subscriptionId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}
