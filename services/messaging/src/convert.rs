//! Conversions between stored rows, the domain's names and the wire types (gRPC and bus).

use chrono::{DateTime, Utc};
use parlay_kit::wire;
use parlay_model::messaging::{DeliveryStatus, Priority};
use parlay_proto::{
    common::v1::Callback,
    messaging::v1::{self as pb},
    net::v1::DeliveryState,
};

use crate::{
    domain,
    entities::{attachment, delivery, message, request, subscription},
};

/// The status a network receipt reports (None for an unspecified state).
pub fn from_state(state: DeliveryState) -> Option<DeliveryStatus> {
    Some(match state {
        DeliveryState::MessageWaiting => DeliveryStatus::MessageWaiting,
        DeliveryState::DeliveredToNetwork => DeliveryStatus::DeliveredToNetwork,
        DeliveryState::DeliveryUncertain => DeliveryStatus::DeliveryUncertain,
        DeliveryState::DeliveredToTerminal => DeliveryStatus::DeliveredToTerminal,
        DeliveryState::DeliveryImpossible => DeliveryStatus::DeliveryImpossible,
        DeliveryState::DeliveryNotificationNotSupported => {
            DeliveryStatus::DeliveryNotificationNotSupported
        }
        DeliveryState::Unspecified => return None,
    })
}

fn to_pb_status(status: DeliveryStatus) -> pb::DeliveryStatus {
    match status {
        DeliveryStatus::MessageWaiting => pb::DeliveryStatus::MessageWaiting,
        DeliveryStatus::DeliveredToNetwork => pb::DeliveryStatus::DeliveredToNetwork,
        DeliveryStatus::DeliveryUncertain => pb::DeliveryStatus::DeliveryUncertain,
        DeliveryStatus::DeliveredToTerminal => pb::DeliveryStatus::DeliveredToTerminal,
        DeliveryStatus::DeliveryImpossible => pb::DeliveryStatus::DeliveryImpossible,
        DeliveryStatus::DeliveryNotificationNotSupported => {
            pb::DeliveryStatus::DeliveryNotificationNotSupported
        }
    }
}

/// The ParlayREST `MessagePriority` name of a gRPC priority (None when unspecified).
pub fn priority_name(priority: pb::Priority) -> Option<&'static str> {
    Some(match priority {
        pb::Priority::Default => "Default",
        pb::Priority::Low => "Low",
        pb::Priority::Normal => "Normal",
        pb::Priority::High => "High",
        pb::Priority::Unspecified => return None,
    })
}

/// The priority a name stands for, matched case-insensitively (the network's spelling may
/// vary); None for an unknown name.
pub fn priority_of(name: &str) -> Option<Priority> {
    [
        Priority::Default,
        Priority::Low,
        Priority::Normal,
        Priority::High,
    ]
    .into_iter()
    .find(|p| format!("{p:?}").eq_ignore_ascii_case(name))
}

fn to_pb_priority(name: Option<&str>) -> pb::Priority {
    match name.and_then(priority_of) {
        Some(Priority::Default) => pb::Priority::Default,
        Some(Priority::Low) => pb::Priority::Low,
        Some(Priority::Normal) => pb::Priority::Normal,
        Some(Priority::High) => pb::Priority::High,
        None => pb::Priority::Unspecified,
    }
}

/// An outbound MMS file as stored: no bytes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// The part's file name.
    pub name: String,
    /// Its media type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A stored request and its delivery statuses (in address order) as the gRPC answer.
pub fn outbound(row: &request::Model, deliveries: &[delivery::Model]) -> pb::OutboundMessage {
    let content = if row.kind == "mms" {
        let files: Vec<FileInfo> = row
            .attachments
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        pb::outbound_message::Content::Mms(pb::OutboundMms {
            subject: row.subject.clone(),
            priority: to_pb_priority(row.priority.as_deref()) as i32,
            message: row.text.clone(),
            attachments: files
                .into_iter()
                .map(|f| pb::Attachment {
                    name: f.name,
                    content_type: f.content_type,
                    data: Vec::new(),
                })
                .collect(),
        })
    } else {
        pb::outbound_message::Content::Sms(pb::SmsText {
            message: row.text.clone().unwrap_or_default(),
        })
    };
    pb::OutboundMessage {
        request_id: row.id.clone(),
        sender_address: row.sender_address.clone(),
        sender_name: row.sender_name.clone(),
        addresses: deliveries.iter().map(|d| d.address.clone()).collect(),
        content: Some(content),
        receipt_request: row.notify_url.as_ref().map(|url| Callback {
            notify_url: url.clone(),
            callback_data: row.callback_data.clone(),
        }),
        client_correlator: row.client_correlator.clone(),
        root: if row.root == "sms" {
            pb::RequestRoot::Sms
        } else {
            pb::RequestRoot::Message
        } as i32,
        delivery_infos: deliveries
            .iter()
            .map(|d| pb::DeliveryInfo {
                address: d.address.clone(),
                status: domain::status_from_name(&d.status)
                    .map_or(pb::DeliveryStatus::Unspecified, to_pb_status)
                    as i32,
                description: d.description.clone(),
            })
            .collect(),
        segments: u32::try_from(row.segments).unwrap_or(0),
        created_at: Some(wire::timestamp(row.created_at)),
    }
}

/// Metadata of an inbound attachment.
pub fn attachment_info(a: &attachment::Model) -> pb::AttachmentInfo {
    pb::AttachmentInfo {
        attachment_id: a.attachment_id.clone(),
        name: a.name.clone(),
        content_type: a.content_type.clone(),
        size: u64::try_from(a.size).unwrap_or(0),
    }
}

/// A stored inbound message and its attachments (in order) as the gRPC answer.
pub fn inbound(row: &message::Model, attachments: &[attachment::Model]) -> pb::InboundMessage {
    let content = if row.kind == "mms" {
        pb::inbound_message::Content::Mms(pb::InboundMms {
            subject: row.subject.clone(),
            priority: to_pb_priority(row.priority.as_deref()) as i32,
            message: row.text.clone(),
            attachments: attachments.iter().map(attachment_info).collect(),
        })
    } else {
        pb::inbound_message::Content::Sms(pb::SmsText {
            message: row.text.clone().unwrap_or_default(),
        })
    };
    pb::InboundMessage {
        message_id: row.id.clone(),
        registration_id: row.registration.clone(),
        destination_address: row.destination_address.clone(),
        sender_address: row.sender_address.clone(),
        received_at: Some(wire::timestamp(row.received_at)),
        content: Some(content),
    }
}

/// The addresses a subscription row watches.
pub fn addresses_of(row: &subscription::Model) -> Vec<String> {
    serde_json::from_str(&row.addresses).unwrap_or_default()
}

/// A stored subscription as the gRPC answer (with its granted duration and expiry).
pub fn subscription(row: &subscription::Model) -> pb::InboundSubscription {
    pb::InboundSubscription {
        subscription_id: row.id.clone(),
        callback: Some(Callback {
            notify_url: row.notify_url.clone(),
            callback_data: row.callback_data.clone(),
        }),
        destination_addresses: addresses_of(row),
        criteria: row.criteria.clone(),
        client_correlator: row.client_correlator.clone(),
        duration_secs: Some(u32::try_from(row.duration_secs).unwrap_or(u32::MAX)),
        expires_at: Some(wire::timestamp(row.expires_at)),
    }
}

/// A network timestamp, or `now` when the event carries none.
pub fn time_or(ts: Option<&parlay_proto::Timestamp>, now: DateTime<Utc>) -> DateTime<Utc> {
    ts.map(wire::time).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_and_states_convert() {
        assert_eq!(priority_of("normal"), Some(Priority::Normal));
        assert_eq!(priority_of("HIGH"), Some(Priority::High));
        assert_eq!(priority_of("urgent"), None);
        assert_eq!(priority_name(pb::Priority::Low), Some("Low"));
        assert_eq!(priority_name(pb::Priority::Unspecified), None);
        assert_eq!(to_pb_priority(Some("Default")), pb::Priority::Default);
        assert_eq!(from_state(DeliveryState::Unspecified), None);
        assert_eq!(
            from_state(DeliveryState::DeliveryImpossible),
            Some(DeliveryStatus::DeliveryImpossible)
        );
    }
}
