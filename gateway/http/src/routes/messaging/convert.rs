//! The messaging service's replies as ParlayREST representations, with absolute URLs built
//! by `parlay_model::messaging::urls` (the service builds the same in notifications).

use parlay_model::{
    common::{CallbackReference, Link},
    messaging::{
        AttachmentDescriptor, DeliveryInfo, DeliveryInfoList, DeliveryStatus, InboundMessage,
        InboundMessageList, InboundMmsMessage, InboundSubscription, OutboundMessageRequest,
        OutboundMmsMessage, OutboundRequestResponse, Priority, TextMessage, urls,
    },
};
use parlay_proto::{common::v1::Callback, messaging::v1 as pb};

/// A priority as the service takes it.
pub(super) fn priority_to_wire(priority: Priority) -> pb::Priority {
    match priority {
        Priority::Default => pb::Priority::Default,
        Priority::Low => pb::Priority::Low,
        Priority::Normal => pb::Priority::Normal,
        Priority::High => pb::Priority::High,
    }
}

/// A priority as the service reports it; an unspecified one is left out.
fn priority(priority: pb::Priority) -> Option<Priority> {
    match priority {
        pb::Priority::Unspecified => None,
        pb::Priority::Default => Some(Priority::Default),
        pb::Priority::Low => Some(Priority::Low),
        pb::Priority::Normal => Some(Priority::Normal),
        pb::Priority::High => Some(Priority::High),
    }
}

/// An unspecified status reads as the status of a request just sent, `MessageWaiting`.
fn status(status: pb::DeliveryStatus) -> DeliveryStatus {
    match status {
        pb::DeliveryStatus::Unspecified | pb::DeliveryStatus::MessageWaiting => {
            DeliveryStatus::MessageWaiting
        }
        pb::DeliveryStatus::DeliveredToNetwork => DeliveryStatus::DeliveredToNetwork,
        pb::DeliveryStatus::DeliveryUncertain => DeliveryStatus::DeliveryUncertain,
        pb::DeliveryStatus::DeliveredToTerminal => DeliveryStatus::DeliveredToTerminal,
        pb::DeliveryStatus::DeliveryImpossible => DeliveryStatus::DeliveryImpossible,
        pb::DeliveryStatus::DeliveryNotificationNotSupported => {
            DeliveryStatus::DeliveryNotificationNotSupported
        }
    }
}

/// The callback as the client sees it. `notificationFormat` is not kept: JSON is the only
/// one accepted, and it is left out as the spec's examples without it do.
fn callback(callback: Callback) -> CallbackReference {
    CallbackReference {
        notify_url: callback.notify_url,
        callback_data: callback.callback_data,
        notification_format: None,
    }
}

/// The delivery status of each address of request `m`.
pub(super) fn delivery_infos(root: &str, m: &pb::OutboundMessage) -> DeliveryInfoList {
    DeliveryInfoList {
        delivery_info: m
            .delivery_infos
            .iter()
            .map(|d| DeliveryInfo {
                address: d.address.clone(),
                delivery_status: status(d.status()),
                description: d.description.clone(),
                link: Vec::new(),
            })
            .collect(),
        resource_url: urls::delivery_infos(root, &m.sender_address, &m.request_id),
    }
}

/// A sent request in the root it came with, with its delivery infos. Its files are not
/// repeated: only the MMS's subject, priority and text field.
pub(super) fn outbound(root: &str, m: pb::OutboundMessage) -> OutboundRequestResponse {
    let delivery_info_list = Some(delivery_infos(root, &m));
    let resource_url = urls::request(root, &m.sender_address, &m.request_id);
    let sms_root = m.root() == pb::RequestRoot::Sms;
    let (sms, mms) = match m.content {
        Some(pb::outbound_message::Content::Sms(text)) => (
            Some(TextMessage {
                message: text.message,
            }),
            None,
        ),
        Some(pb::outbound_message::Content::Mms(mms)) => (
            None,
            Some(OutboundMmsMessage {
                priority: priority(mms.priority()),
                subject: mms.subject,
                message: mms.message,
            }),
        ),
        None => (None, None),
    };
    let request = OutboundMessageRequest {
        address: m.addresses,
        sender_address: m.sender_address,
        sender_name: m.sender_name,
        receipt_request: m.receipt_request.map(callback),
        outbound_sms_text_message: sms,
        outbound_mms_message: mms,
        client_correlator: m.client_correlator,
        resource_url,
        delivery_info_list,
        link: Vec::new(),
    };
    if sms_root {
        OutboundRequestResponse::Sms(request)
    } else {
        OutboundRequestResponse::Message(request)
    }
}

/// A received message of `registration`, its attachments as links.
pub(super) fn message(root: &str, registration: &str, m: pb::InboundMessage) -> InboundMessage {
    let resource_url = urls::message(root, registration, &m.message_id);
    let (sms, mms) = match m.content {
        Some(pb::inbound_message::Content::Sms(text)) => (
            Some(TextMessage {
                message: text.message,
            }),
            None,
        ),
        Some(pb::inbound_message::Content::Mms(mms)) => (
            None,
            Some(InboundMmsMessage {
                priority: priority(mms.priority()),
                attachment: mms
                    .attachments
                    .into_iter()
                    .map(|a| AttachmentDescriptor {
                        link: Link {
                            rel: "attachment".into(),
                            href: urls::attachment(
                                root,
                                registration,
                                &m.message_id,
                                &a.attachment_id,
                            ),
                        },
                        content_type: a.content_type,
                        size: Some(a.size),
                    })
                    .collect(),
                subject: mms.subject,
                message: mms.message,
            }),
        ),
        None => (None, None),
    };
    InboundMessage {
        destination_address: m.destination_address,
        sender_address: m.sender_address,
        date_time: m
            .received_at
            .as_ref()
            .map(parlay_kit::wire::time)
            .unwrap_or_default(),
        message_id: m.message_id,
        resource_url,
        inbound_sms_text_message: sms,
        inbound_mms_message: mms,
        link: Vec::new(),
    }
}

/// A batch of received messages of `registration`.
pub(super) fn message_list(
    root: &str,
    registration: &str,
    list: pb::InboundMessageList,
) -> InboundMessageList {
    let inbound_message: Vec<InboundMessage> = list
        .messages
        .into_iter()
        .map(|m| message(root, registration, m))
        .collect();
    InboundMessageList {
        number_of_messages_in_this_batch: u32::try_from(inbound_message.len()).unwrap_or(u32::MAX),
        inbound_message,
        total_number_of_pending_messages: list.total_pending,
        resource_url: urls::messages(root, registration),
    }
}

/// An inbound subscription with its granted duration.
pub(super) fn subscription(root: &str, s: pb::InboundSubscription) -> InboundSubscription {
    InboundSubscription {
        resource_url: urls::subscription(root, &s.subscription_id),
        callback_reference: callback(s.callback.unwrap_or_default()),
        destination_address: s.destination_addresses,
        criteria: s.criteria,
        client_correlator: s.client_correlator,
        duration: s.duration_secs.map(i64::from),
    }
}
