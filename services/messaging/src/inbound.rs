//! Inbound messages from the network (`net.evt.msg.inbound`): stored under their
//! registration (the destination address as received), attachments as files, and notified
//! to every matching inbound subscription, at most once per event id.

use chrono::Utc;
use parlay_kit::{db::begin_write, inbox, outbox};
use parlay_proto::net::v1::{InboundMessageEvent, MessagePart, inbound_message_event::Kind};
use sea_orm::{
    ConnectionTrait, EntityTrait, IntoActiveModel,
    sea_query::{Expr, ExprTrait, Query},
};
use sha2::{Digest, Sha256};

use crate::{
    convert,
    core::{CONSUMER, Core},
    entities::{attachment, message},
    error::Result,
    files::Files,
    notifications, subscriptions,
};

/// What became of an inbound event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored, and notified to this many subscriptions.
    Stored(usize),
    /// Seen before (a redelivery): nothing changed.
    Duplicate,
    /// Not storable (no content or destination, attachments over the limit): dropped with
    /// a warning.
    Dropped,
}

/// The id of the message an event stores: derived from the event id, so a redelivery
/// writes the same files as the first delivery.
pub fn message_id(event_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(event_id.as_bytes()));
    format!("m{}", &digest[..16])
}

/// The text a subscription's criteria is matched against: an SMS's text; an MMS's text
/// part, or its subject when it has none.
pub fn matched_text<'a>(text: Option<&'a str>, subject: Option<&'a str>) -> Option<&'a str> {
    text.filter(|t| !t.trim().is_empty()).or(subject)
}

/// Has this service processed `event_id` already? (A read before writing files: a
/// redelivery of a message since deleted must not bring its files back.)
async fn seen<C: ConnectionTrait>(db: &C, event_id: &str) -> Result<bool> {
    let query = Query::select()
        .column("event_id")
        .from("inbox")
        .and_where(Expr::col("consumer").eq(CONSUMER))
        .and_where(Expr::col("event_id").eq(event_id))
        .to_owned();
    Ok(db.query_one(&query).await?.is_some())
}

/// Stores one inbound message and notifies its subscribers.
pub async fn receive(core: &Core, event: &InboundMessageEvent) -> Result<Outcome> {
    let id = message_id(&event.event_id);
    let now = Utc::now();
    let (kind, text, subject, priority, parts): (_, _, _, _, &[MessagePart]) = match &event.kind {
        Some(Kind::Text(text)) => ("sms", Some(text.clone()), None, None, &[]),
        Some(Kind::Mms(mms)) => {
            let total: usize = mms.attachments.iter().map(|a| a.data.len()).sum();
            if total > core.config.messaging.max_attachment_bytes {
                tracing::warn!(
                    event_id = %event.event_id,
                    bytes = total,
                    "inbound MMS with attachments over messaging.max_attachment_bytes dropped"
                );
                return Ok(Outcome::Dropped);
            }
            let priority = mms
                .priority
                .as_deref()
                .and_then(convert::priority_of)
                .map(|p| format!("{p:?}"));
            let parts = mms.attachments.as_slice();
            (
                "mms",
                mms.text.clone(),
                mms.subject.clone(),
                priority,
                parts,
            )
        }
        None => {
            tracing::warn!(event_id = %event.event_id, "inbound message without content dropped");
            return Ok(Outcome::Dropped);
        }
    };
    if event.destination_address.trim().is_empty() {
        tracing::warn!(event_id = %event.event_id, "inbound message without destination dropped");
        return Ok(Outcome::Dropped);
    }
    if seen(&core.db, &event.event_id).await? {
        return Ok(Outcome::Duplicate);
    }
    let attachments: Vec<attachment::Model> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let attachment_id = format!("a{}", i + 1);
            attachment::Model {
                message_id: id.clone(),
                position: i as i32,
                name: if part.name.is_empty() {
                    attachment_id.clone()
                } else {
                    part.name.clone()
                },
                content_type: if part.content_type.is_empty() {
                    "application/octet-stream".into()
                } else {
                    part.content_type.clone()
                },
                size: part.data.len() as i64,
                path: Files::relative(&id, &attachment_id),
                attachment_id,
            }
        })
        .collect();
    if !attachments.is_empty() {
        let files = attachments
            .iter()
            .zip(parts)
            .map(|(a, part)| (a.attachment_id.clone(), part.data.clone()))
            .collect();
        core.files.write(&id, files).await?;
    }
    let row = message::Model {
        id: id.clone(),
        registration: event.destination_address.clone(),
        registration_lower: event.destination_address.to_lowercase(),
        destination_address: event.destination_address.clone(),
        sender_address: event.sender_address.clone(),
        kind: kind.into(),
        text,
        subject,
        priority,
        received_at: convert::time_or(event.occurred_at.as_ref(), now),
        stored_at: now,
    };

    let txn = begin_write(&core.db).await?;
    if !inbox::first_time(&txn, CONSUMER, &event.event_id).await? {
        txn.rollback().await?;
        // A concurrent delivery stored it; its files are these, unless it was deleted since.
        if message::Entity::find_by_id(id.clone())
            .one(&core.db)
            .await?
            .is_none()
        {
            core.files.remove_message(&id).await?;
        }
        return Ok(Outcome::Duplicate);
    }
    message::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    if !attachments.is_empty() {
        attachment::Entity::insert_many(attachments.iter().map(|a| a.clone().into_active_model()))
            .exec_without_returning(&txn)
            .await?;
    }
    let criteria_text = matched_text(row.text.as_deref(), row.subject.as_deref());
    let subscribers =
        subscriptions::matching(&txn, &row.destination_address, criteria_text, now).await?;
    let rendered = notifications::inbound_message(&core.api_root(), &row, &attachments);
    let envelopes: Vec<_> = subscribers
        .iter()
        .filter_map(|s| notifications::inbound(&core.config, &rendered, s, now))
        .collect();
    let notified = envelopes.len();
    outbox::enqueue(&txn, &id, envelopes).await?;
    txn.commit().await?;
    if notified > 0 {
        core.waker.wake();
    }
    metrics::counter!("parlay_messaging_inbound_total", "kind" => kind).increment(1);
    Ok(Outcome::Stored(notified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_derive_from_event_ids() {
        let a = message_id("ev1");
        assert_eq!(a, message_id("ev1"));
        assert_ne!(a, message_id("ev2"));
        assert!(crate::files::is_message_id(&a), "{a}");
    }

    #[test]
    fn criteria_look_at_the_text_then_the_subject() {
        assert_eq!(matched_text(Some("PIZZA x"), Some("s")), Some("PIZZA x"));
        assert_eq!(matched_text(None, Some("Holiday")), Some("Holiday"));
        assert_eq!(matched_text(Some("  "), Some("Holiday")), Some("Holiday"));
        assert_eq!(matched_text(None, None), None);
    }
}
