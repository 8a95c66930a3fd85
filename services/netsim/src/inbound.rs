//! Messages the network receives: the control API's `POST /netsim/v1/messages` injects an
//! SMS or an MMS for an address the suite serves. The request is checked, logged (kind
//! `inbound`) and published once as an `InboundMessageEvent` on `net.evt.msg.inbound`.
//!
//! ```json
//! {"senderAddress": "tel:+15551234", "destinationAddress": "tel:+4670", "message": "hi"}
//! {"senderAddress": "tel:+15551234", "destinationAddress": "tel:+4670", "subject": "Pics",
//!  "priority": "High", "message": "see attached",
//!  "attachments": [{"name": "a.png", "contentType": "image/png", "data": "iVBORw0K..."}]}
//! ```
//!
//! A request with `subject` or `attachments` is an MMS; any other is an SMS and needs
//! `message`.

use std::sync::Arc;

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use chrono::Utc;
use parlay_kit::{ids::new_id, wire};
use parlay_model::messaging::Priority;
use parlay_proto::net::v1::{
    InboundMessageEvent, MessagePart, inbound_message_event::Kind, message_submit::Mms,
};
use serde::Deserialize;
use tracing::Instrument;

use crate::{
    Shared,
    error::Error,
    log::{LogEntry, LogKind, MessageDetails},
    messages::mms_details,
    publish::{INBOUND_SUBJECT, publish},
};

/// Most attachments one injected MMS may carry.
pub(crate) const MAX_ATTACHMENTS: usize = 20;
/// Longest address accepted, in characters.
const MAX_ADDRESS_LEN: usize = 512;
/// Longest attachment name and subject accepted, in characters.
const MAX_NAME_LEN: usize = 256;
const MAX_SUBJECT_LEN: usize = 1_024;
/// Longest content type accepted.
const MAX_CONTENT_TYPE_LEN: usize = 127;

/// Standard base64, padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The body of `POST /netsim/v1/messages`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct InboundRequest {
    sender_address: String,
    destination_address: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    priority: Option<Priority>,
    #[serde(default)]
    attachments: Option<Vec<AttachmentRequest>>,
}

/// One attachment of an injected MMS; `data` is base64.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct AttachmentRequest {
    name: String,
    content_type: String,
    data: String,
}

impl InboundRequest {
    /// The event the request describes, or why it is refused: 400 for a malformed request,
    /// 413 when the attachments' total size exceeds `max_attachment_bytes`.
    pub(crate) fn into_event(
        self,
        max_attachment_bytes: usize,
    ) -> Result<InboundMessageEvent, Error> {
        check_address("senderAddress", &self.sender_address)?;
        check_address("destinationAddress", &self.destination_address)?;
        let is_mms = self.subject.is_some() || self.attachments.is_some();
        let kind = if is_mms {
            Kind::Mms(self.mms(max_attachment_bytes)?)
        } else {
            if self.priority.is_some() {
                return Err(Error::BadRequest(
                    "priority is for an MMS: give subject or attachments".to_string(),
                ));
            }
            let text = self.message.ok_or_else(|| {
                Error::BadRequest(
                    "message is required for an SMS (an MMS has subject or attachments)"
                        .to_string(),
                )
            })?;
            Kind::Text(text)
        };
        Ok(InboundMessageEvent {
            event_id: new_id("ev"),
            sender_address: self.sender_address,
            destination_address: self.destination_address,
            kind: Some(kind),
            occurred_at: Some(wire::timestamp(Utc::now())),
        })
    }

    fn mms(&self, max_attachment_bytes: usize) -> Result<Mms, Error> {
        if let Some(subject) = &self.subject
            && subject.chars().count() > MAX_SUBJECT_LEN
        {
            return Err(Error::BadRequest(format!(
                "subject is longer than {MAX_SUBJECT_LEN} characters"
            )));
        }
        let given = self.attachments.as_deref().unwrap_or_default();
        if given.len() > MAX_ATTACHMENTS {
            return Err(Error::BadRequest(format!(
                "at most {MAX_ATTACHMENTS} attachments are accepted"
            )));
        }
        let mut attachments = Vec::with_capacity(given.len());
        let mut total = 0usize;
        for (i, attachment) in given.iter().enumerate() {
            let part = attachment
                .decode()
                .map_err(|e| Error::BadRequest(format!("attachments[{i}].{e}")))?;
            total = total.saturating_add(part.data.len());
            if total > max_attachment_bytes {
                return Err(Error::TooLarge(format!(
                    "the attachments exceed {max_attachment_bytes} bytes in total"
                )));
            }
            attachments.push(part);
        }
        Ok(Mms {
            subject: self.subject.clone(),
            priority: self.priority.map(|p| priority_name(p).to_string()),
            text: self.message.clone(),
            attachments,
        })
    }
}

impl AttachmentRequest {
    fn decode(&self) -> Result<MessagePart, String> {
        if self.name.is_empty() {
            return Err("name is empty".to_string());
        }
        if self.name.chars().count() > MAX_NAME_LEN {
            return Err(format!("name is longer than {MAX_NAME_LEN} characters"));
        }
        if self.name.chars().any(char::is_control) {
            return Err("name contains control characters".to_string());
        }
        if !is_media_type(&self.content_type) {
            return Err("contentType must be a media type such as image/png".to_string());
        }
        let data = BASE64
            .decode(&self.data)
            .map_err(|e| format!("data is not valid base64: {e}"))?;
        Ok(MessagePart {
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            data,
        })
    }
}

fn check_address(field: &str, address: &str) -> Result<(), Error> {
    if address.is_empty() {
        return Err(Error::BadRequest(format!("{field} is empty")));
    }
    if address.chars().count() > MAX_ADDRESS_LEN {
        return Err(Error::BadRequest(format!(
            "{field} is longer than {MAX_ADDRESS_LEN} characters"
        )));
    }
    if address.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "{field} contains control characters"
        )));
    }
    Ok(())
}

/// `type/subtype`, optionally followed by `; parameters`, in printable ASCII.
fn is_media_type(content_type: &str) -> bool {
    let token = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_graphic() && c != '/');
    content_type.len() <= MAX_CONTENT_TYPE_LEN
        && content_type
            .chars()
            .all(|c| c.is_ascii_graphic() || c == ' ')
        && content_type
            .split(';')
            .next()
            .and_then(|essence| essence.split_once('/'))
            .is_some_and(|(kind, sub)| token(kind) && token(sub))
}

/// The ParlayREST name of a priority, as `MessageSubmit.Mms.priority` carries it.
fn priority_name(priority: Priority) -> &'static str {
    match priority {
        Priority::Default => "Default",
        Priority::Low => "Low",
        Priority::Normal => "Normal",
        Priority::High => "High",
    }
}

/// Logs an injected message and publishes it (in the background, retrying until the bus
/// takes it). Returns the event id.
pub(crate) fn inject(shared: &Arc<Shared>, event: InboundMessageEvent) -> String {
    let mut details = match &event.kind {
        Some(Kind::Mms(mms)) => mms_details(mms),
        Some(Kind::Text(text)) => MessageDetails {
            text: Some(text.clone()),
            ..MessageDetails::default()
        },
        None => MessageDetails::default(),
    };
    details.event_id = Some(event.event_id.clone());
    details.sender_address = event.sender_address.clone();
    shared.lock().log.push(LogEntry::message(
        LogKind::Inbound,
        &event.destination_address,
        None,
        details,
    ));
    tracing::info!(
        event_id = event.event_id,
        sender = event.sender_address,
        destination = event.destination_address,
        mms = matches!(event.kind, Some(Kind::Mms(_))),
        "inbound message"
    );
    let event_id = event.event_id.clone();
    let shared = shared.clone();
    tokio::spawn(
        async move {
            publish(
                &shared.bus,
                &shared.shutdown,
                INBOUND_SUBJECT,
                &event.event_id,
                &event,
            )
            .await;
        }
        .in_current_span(),
    );
    event_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_need_a_type_and_a_subtype() {
        for good in [
            "image/png",
            "text/plain; charset=utf-8",
            "application/vnd.wap.mms-message",
        ] {
            assert!(is_media_type(good), "{good}");
        }
        for bad in [
            "",
            "png",
            "image/",
            "/png",
            "image/png/x",
            "image /png",
            "image/pn\u{e9}",
            "image/png\n",
        ] {
            assert!(!is_media_type(bad), "{bad:?}");
        }
    }

    #[test]
    fn base64_may_omit_its_padding() {
        assert_eq!(BASE64.decode("aGk=").unwrap(), b"hi");
        assert_eq!(BASE64.decode("aGk").unwrap(), b"hi");
        assert!(BASE64.decode("a*Gk").is_err());
    }
}
