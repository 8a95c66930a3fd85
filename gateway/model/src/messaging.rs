//! Multimedia Messaging bodies (messaging.md §2, §3, §5): delivery status, inbound messages,
//! the notifications the messaging service renders, and the URLs of the messaging
//! resources, which the gateway and the service build alike.
//!
//! Request bodies (`outboundMessageRequest`, its SMS-only sibling, inbound subscriptions)
//! are in [`requests`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::Link;

pub mod requests;

pub use requests::*;

/// ParlayREST `DeliveryStatus` (§2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryStatus {
    DeliveredToNetwork,
    DeliveryUncertain,
    DeliveryImpossible,
    MessageWaiting,
    DeliveredToTerminal,
    DeliveryNotificationNotSupported,
}

/// ParlayREST `MessagePriority` (§2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Priority {
    Default,
    Low,
    Normal,
    High,
}

/// One recipient's status (§2.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryInfo {
    pub address: String,
    pub delivery_status: DeliveryStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// `deliveryInfoList` (§2.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryInfoList {
    #[serde(default, deserialize_with = "crate::tolerant::one_or_many")]
    pub delivery_info: Vec<DeliveryInfo>,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Body with root `deliveryInfoList`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryInfoListResponse {
    pub delivery_info_list: DeliveryInfoList,
}

/// `deliveryInfoNotification` (§2.6). Written with one `deliveryInfo` object, as OneAPI
/// clients read it; a one-element array (Telia) is accepted on input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryInfoNotification {
    #[serde(deserialize_with = "crate::tolerant::one_or_first")]
    pub delivery_info: DeliveryInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// `rel` `OutboundMessageRequest`, `href` the request's URL.
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// Body with root `deliveryInfoNotification`, POSTed to the `receiptRequest` callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryInfoNotificationRequest {
    pub delivery_info_notification: DeliveryInfoNotification,
}

/// `{message}`: the text of an SMS, outbound or inbound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextMessage {
    pub message: String,
}

/// One non-text part of a received MMS (§3.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDescriptor {
    pub content_type: String,
    /// `rel` `attachment`, `href` `.../messages/{messageId}/attachments/{attachmentId}`.
    pub link: Link,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// `inboundMMSMessage` (§3.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMmsMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachment: Vec<AttachmentDescriptor>,
}

/// `inboundMessage` (§3.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    pub destination_address: String,
    pub sender_address: String,
    #[serde(with = "crate::timestamp::required")]
    pub date_time: DateTime<Utc>,
    pub message_id: String,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
    #[serde(
        default,
        rename = "inboundSMSTextMessage",
        skip_serializing_if = "Option::is_none"
    )]
    pub inbound_sms_text_message: Option<TextMessage>,
    #[serde(
        default,
        rename = "inboundMMSMessage",
        skip_serializing_if = "Option::is_none"
    )]
    pub inbound_mms_message: Option<InboundMmsMessage>,
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// Body with root `inboundMessage` (row 8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessageResponse {
    pub inbound_message: InboundMessage,
}

/// `inboundMessageList` (§3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessageList {
    #[serde(default, deserialize_with = "crate::tolerant::one_or_many")]
    pub inbound_message: Vec<InboundMessage>,
    pub number_of_messages_in_this_batch: u32,
    pub total_number_of_pending_messages: u32,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Body with root `inboundMessageList`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessageListResponse {
    pub inbound_message_list: InboundMessageList,
}

/// `inboundMessageNotification` (§3.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessageNotification {
    pub inbound_message: InboundMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// `rel` `Subscription`, `href` the subscription's URL.
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// Body with root `inboundMessageNotification`, POSTed to a subscription's callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessageNotificationRequest {
    pub inbound_message_notification: InboundMessageNotification,
}

/// The messaging resources' absolute URLs. `api_root` is `{public}/{apiVersion}`;
/// addresses in paths are percent-encoded as the spec's examples do (`tel%3A%2B1555…`).
pub mod urls {
    use std::fmt::Write;

    /// `s` percent-encoded as one path segment: everything but letters, digits and `-._~`.
    pub fn segment(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else {
                // Writing to a String cannot fail.
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    }

    /// `.../messaging/outbound/{senderAddress}/requests`.
    pub fn requests(api_root: &str, sender: &str) -> String {
        format!("{api_root}/messaging/outbound/{}/requests", segment(sender))
    }

    /// `.../messaging/outbound/{senderAddress}/requests/{requestId}`.
    pub fn request(api_root: &str, sender: &str, request_id: &str) -> String {
        format!("{}/{request_id}", requests(api_root, sender))
    }

    /// `.../requests/{requestId}/deliveryInfos`.
    pub fn delivery_infos(api_root: &str, sender: &str, request_id: &str) -> String {
        format!("{}/deliveryInfos", request(api_root, sender, request_id))
    }

    /// `.../messaging/inbound/registrations/{registrationId}/messages`.
    pub fn messages(api_root: &str, registration: &str) -> String {
        format!(
            "{api_root}/messaging/inbound/registrations/{}/messages",
            segment(registration)
        )
    }

    /// `.../messages/{messageId}`.
    pub fn message(api_root: &str, registration: &str, message_id: &str) -> String {
        format!("{}/{message_id}", messages(api_root, registration))
    }

    /// `.../messages/{messageId}/attachments/{attachmentId}`.
    pub fn attachment(
        api_root: &str,
        registration: &str,
        message_id: &str,
        attachment_id: &str,
    ) -> String {
        format!(
            "{}/attachments/{attachment_id}",
            message(api_root, registration, message_id)
        )
    }

    /// `.../messaging/inbound/subscriptions`.
    pub fn subscriptions(api_root: &str) -> String {
        format!("{api_root}/messaging/inbound/subscriptions")
    }

    /// `.../messaging/inbound/subscriptions/{subscriptionId}`.
    pub fn subscription(api_root: &str, subscription_id: &str) -> String {
        format!("{}/{subscription_id}", subscriptions(api_root))
    }
}

#[cfg(test)]
mod tests;
