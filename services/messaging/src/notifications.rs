//! Notification jobs for notify (`notify.msg`), their JSON bodies rendered here with the
//! shared ParlayREST model, so notify stays domain-agnostic: `deliveryInfoNotification` to a
//! request's `receiptRequest` callback, `inboundMessageNotification` to each matching
//! inbound subscription.

use chrono::{DateTime, Utc};
use parlay_kit::{Config, bus::Envelope, ids::new_id, wire};
use parlay_model::{
    common::Link,
    messaging::{
        AttachmentDescriptor, DeliveryInfo, DeliveryInfoNotification,
        DeliveryInfoNotificationRequest, DeliveryStatus, InboundMessage,
        InboundMessageNotification, InboundMessageNotificationRequest, InboundMmsMessage,
        TextMessage, urls,
    },
};
use parlay_proto::notify::v1::NotificationJob;

use crate::{
    convert,
    entities::{attachment, message, request, subscription},
};

/// Where notification jobs go.
pub const SUBJECT_NOTIFY: &str = "notify.msg";

/// A notification job for notify, expiring after `notify.max_age_secs`.
fn job(
    config: &Config,
    app_id: &str,
    notify_url: &str,
    body: Vec<u8>,
    resource: (&str, &str),
    order_key: String,
    now: DateTime<Utc>,
) -> Envelope {
    let expires = now + chrono::Duration::seconds(config.notify.max_age_secs as i64);
    let job = NotificationJob {
        job_id: new_id("nt"),
        application_id: app_id.to_string(),
        notify_url: notify_url.to_string(),
        body,
        content_type: "application/json".into(),
        resource_kind: resource.0.into(),
        resource_id: resource.1.to_string(),
        created_at: Some(wire::timestamp(now)),
        expires_at: Some(wire::timestamp(expires)),
        reply_to: None,
        order_key,
    };
    wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job)
}

/// The `deliveryInfoNotification` of one address's new status, for a request with a
/// `receiptRequest` (None without one).
pub fn delivery(
    config: &Config,
    request: &request::Model,
    address: &str,
    status: DeliveryStatus,
    description: Option<String>,
    now: DateTime<Utc>,
) -> Option<Envelope> {
    let notify_url = request.notify_url.as_deref()?;
    let body = DeliveryInfoNotificationRequest {
        delivery_info_notification: DeliveryInfoNotification {
            delivery_info: DeliveryInfo {
                address: address.to_string(),
                delivery_status: status,
                description,
                link: Vec::new(),
            },
            callback_data: request.callback_data.clone(),
            link: vec![Link {
                rel: "OutboundMessageRequest".into(),
                href: urls::request(&config.api_root(), &request.sender_address, &request.id),
            }],
        },
    };
    let body = serde_json::to_vec(&body).ok()?;
    Some(job(
        config,
        &request.app_id,
        notify_url,
        body,
        ("outboundMessageRequest", &request.id),
        // One recipient's statuses in the order they were reached.
        format!("{}/{address}", request.id),
        now,
    ))
}

/// An inbound message in the ParlayREST model, with its `resourceURL` and attachment links.
pub fn inbound_message(
    api_root: &str,
    row: &message::Model,
    attachments: &[attachment::Model],
) -> InboundMessage {
    let (sms, mms) = if row.kind == "mms" {
        let mms = InboundMmsMessage {
            subject: row.subject.clone(),
            priority: row.priority.as_deref().and_then(convert::priority_of),
            message: row.text.clone(),
            attachment: attachments
                .iter()
                .map(|a| AttachmentDescriptor {
                    content_type: a.content_type.clone(),
                    link: Link {
                        rel: "attachment".into(),
                        href: urls::attachment(
                            api_root,
                            &row.registration,
                            &row.id,
                            &a.attachment_id,
                        ),
                    },
                    size: u64::try_from(a.size).ok(),
                })
                .collect(),
        };
        (None, Some(mms))
    } else {
        let text = TextMessage {
            message: row.text.clone().unwrap_or_default(),
        };
        (Some(text), None)
    };
    InboundMessage {
        destination_address: row.destination_address.clone(),
        sender_address: row.sender_address.clone(),
        date_time: row.received_at,
        message_id: row.id.clone(),
        resource_url: urls::message(api_root, &row.registration, &row.id),
        inbound_sms_text_message: sms,
        inbound_mms_message: mms,
        link: Vec::new(),
    }
}

/// The `inboundMessageNotification` of a received message for one subscription.
pub fn inbound(
    config: &Config,
    message: &InboundMessage,
    subscription: &subscription::Model,
    now: DateTime<Utc>,
) -> Option<Envelope> {
    let body = InboundMessageNotificationRequest {
        inbound_message_notification: InboundMessageNotification {
            inbound_message: message.clone(),
            callback_data: subscription.callback_data.clone(),
            link: vec![Link {
                rel: "Subscription".into(),
                href: urls::subscription(&config.api_root(), &subscription.id),
            }],
        },
    };
    let body = serde_json::to_vec(&body).ok()?;
    Some(job(
        config,
        &subscription.app_id,
        &subscription.notify_url,
        body,
        ("inboundSubscription", &subscription.id),
        // Messages are independent of one another: no order among them.
        String::new(),
        now,
    ))
}
