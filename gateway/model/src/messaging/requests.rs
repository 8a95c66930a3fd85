//! Messaging request bodies and the representations of what they created: the outbound
//! request in its two roots (`outboundMessageRequest`, Multimedia Messaging §2.1, and its
//! SMS-only sibling `outboundSMSMessageRequest`, §6), the inbound `subscription` (§3.4) and
//! `inboundMessageRetrieveAndDeleteRequest` (§3.6).
//!
//! Input types (`…In`, `…Body`) reject unknown fields, so a client cannot set the read-only
//! `resourceURL`, `deliveryInfoList` or `link`. They are tolerant where OMA's two JSON
//! mappings differ: one string or an array for `address` and `destinationAddress`, numbers
//! as strings. Values whose rules need settings or the caller (addresses, the priority's
//! list of valid values) are left as strings for the gateway to check.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{DeliveryInfoList, Priority, TextMessage};
use crate::{
    common::{CallbackReference, ChargingInformation, Link},
    tolerant,
};

#[cfg(test)]
mod tests;

/// Body of `POST …/outbound/{senderAddress}/requests` sent as JSON: exactly one of the two
/// roots.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub enum OutboundRequestBody {
    /// `{"outboundMessageRequest": {…}}` (Multimedia Messaging).
    #[serde(rename = "outboundMessageRequest")]
    Message(OutboundMessageRequestIn),
    /// `{"outboundSMSMessageRequest": {…}}` (ShortMessaging / OneAPI SMS).
    #[serde(rename = "outboundSMSMessageRequest")]
    Sms(OutboundSmsMessageRequestIn),
}

/// The fields a client may send in an `outboundMessageRequest` (§2.1).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundMessageRequestIn {
    /// Recipients, still unchecked; one string or an array. Absent reads as empty, which
    /// the gateway answers as "no valid addresses".
    #[serde(default, deserialize_with = "tolerant::string_or_many")]
    pub address: Vec<String>,
    /// Must equal the `{senderAddress}` of the URL.
    pub sender_address: String,
    /// Alphanumeric sender shown to the recipient.
    #[serde(default)]
    pub sender_name: Option<String>,
    /// What to charge; the suite charges nothing.
    #[serde(default)]
    pub charging: Option<ChargingInformation>,
    /// Where to send `deliveryInfoNotification`s for this request.
    #[serde(default)]
    pub receipt_request: Option<CallbackReference>,
    /// An SMS text (exactly one of this and `outboundMMSMessage`).
    #[serde(default, rename = "outboundSMSTextMessage")]
    pub outbound_sms_text_message: Option<TextMessage>,
    /// An MMS; its files travel as multipart parts.
    #[serde(default, rename = "outboundMMSMessage")]
    pub outbound_mms_message: Option<OutboundMmsMessageIn>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
}

/// `outboundMMSMessage` as a client sends it (§2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundMmsMessageIn {
    #[serde(default)]
    pub subject: Option<String>,
    /// `Default`, `Low`, `Normal` or `High`, still unchecked (see [`Priority::from_str`]).
    #[serde(default)]
    pub priority: Option<String>,
    /// A text body given as a field rather than as a `text/plain` part (S4 exemplar).
    #[serde(default)]
    pub message: Option<String>,
}

/// The fields a client may send in an `outboundSMSMessageRequest` (§6).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundSmsMessageRequestIn {
    /// Recipients, still unchecked; one string or an array.
    #[serde(default, deserialize_with = "tolerant::string_or_many")]
    pub address: Vec<String>,
    pub sender_address: String,
    #[serde(default)]
    pub sender_name: Option<String>,
    #[serde(default)]
    pub charging: Option<ChargingInformation>,
    #[serde(default)]
    pub receipt_request: Option<CallbackReference>,
    #[serde(default, rename = "outboundSMSTextMessage")]
    pub outbound_sms_text_message: Option<TextMessage>,
    #[serde(default)]
    pub client_correlator: Option<String>,
}

impl From<OutboundSmsMessageRequestIn> for OutboundMessageRequestIn {
    fn from(sms: OutboundSmsMessageRequestIn) -> Self {
        OutboundMessageRequestIn {
            address: sms.address,
            sender_address: sms.sender_address,
            sender_name: sms.sender_name,
            charging: sms.charging,
            receipt_request: sms.receipt_request,
            outbound_sms_text_message: sms.outbound_sms_text_message,
            outbound_mms_message: None,
            client_correlator: sms.client_correlator,
        }
    }
}

/// The valid values of [`Priority`], as SVC0003's second variable lists them.
pub const PRIORITY_VALUES: &str = "Default, Low, Normal, High";

impl FromStr for Priority {
    type Err = ();

    /// The exact spec spelling only (`Normal`, not `normal`).
    fn from_str(s: &str) -> Result<Priority, ()> {
        match s {
            "Default" => Ok(Priority::Default),
            "Low" => Ok(Priority::Low),
            "Normal" => Ok(Priority::Normal),
            "High" => Ok(Priority::High),
            _ => Err(()),
        }
    }
}

/// Response body of `GET …/requests/{requestId}`: the request in the root it was sent with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboundRequestResponse {
    #[serde(rename = "outboundMessageRequest")]
    Message(OutboundMessageRequest),
    #[serde(rename = "outboundSMSMessageRequest")]
    Sms(OutboundMessageRequest),
}

/// An outbound request as the server reports it: what was sent, its URL and the delivery
/// status of each address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundMessageRequest {
    /// Recipients, in the order sent.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub address: Vec<String>,
    pub sender_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_request: Option<CallbackReference>,
    #[serde(
        default,
        rename = "outboundSMSTextMessage",
        skip_serializing_if = "Option::is_none"
    )]
    pub outbound_sms_text_message: Option<TextMessage>,
    #[serde(
        default,
        rename = "outboundMMSMessage",
        skip_serializing_if = "Option::is_none"
    )]
    pub outbound_mms_message: Option<OutboundMmsMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// `…/outbound/{senderAddress}/requests/{requestId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_info_list: Option<DeliveryInfoList>,
    #[serde(
        default,
        deserialize_with = "tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// `outboundMMSMessage` as the server reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboundMmsMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Body of `POST …/inbound/subscriptions`: root `subscription`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundSubscriptionRequest {
    pub subscription: InboundSubscriptionIn,
}

/// The fields a client may send for an inbound-message subscription (§3.4).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundSubscriptionIn {
    /// Where notifications go; `notificationFormat` may be given here (ParlayREST) or at
    /// the subscription level (OneAPI).
    pub callback_reference: CallbackReference,
    /// Registration addresses to watch, still unchecked; one string or an array. Absent
    /// reads as empty, which the gateway refuses.
    #[serde(default, deserialize_with = "tolerant::string_or_many")]
    pub destination_address: Vec<String>,
    /// Keyword matched against the first word of a message.
    #[serde(default)]
    pub criteria: Option<String>,
    /// OneAPI's place for the format; `JSON` or `XML`.
    #[serde(default)]
    pub notification_format: Option<String>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
    /// Requested lifetime in seconds (0 or absent: the server's default).
    #[serde(default, deserialize_with = "tolerant::option_string_or_number")]
    pub duration: Option<i64>,
}

/// Response body with root `subscription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSubscriptionResponse {
    pub subscription: InboundSubscription,
}

/// An inbound-message subscription as the server reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSubscription {
    pub callback_reference: CallbackReference,
    /// Watched registrations, always an array.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub destination_address: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Granted lifetime in seconds.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// `…/messaging/inbound/subscriptions/{subscriptionId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Response body of `GET …/inbound/subscriptions`: root `subscriptionList`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSubscriptionListResponse {
    pub subscription_list: InboundSubscriptionList,
}

/// The application's live inbound subscriptions (an empty array when there are none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundSubscriptionList {
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub subscription: Vec<InboundSubscription>,
}

/// Body of `POST …/messages/retrieveAndDeleteMessages`: root
/// `inboundMessageRetrieveAndDeleteRequest` (§3.6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundMessageRetrieveAndDeleteBody {
    pub inbound_message_retrieve_and_delete_request: InboundMessageRetrieveAndDeleteRequest,
}

/// How many messages to fetch and delete, and in which order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundMessageRetrieveAndDeleteRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval_order: Option<RetrievalOrder>,
    /// Links instead of inline content; the suite always answers with links.
    #[serde(
        default,
        rename = "useAttachmentURLs",
        deserialize_with = "tolerant::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub use_attachment_urls: Option<bool>,
    /// At least 1, still unchecked; a number or a numeric string.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_batch_size: Option<i64>,
}

/// `retrievalOrder` (§3.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RetrievalOrder {
    #[default]
    OldestFirst,
    NewestFirst,
}
