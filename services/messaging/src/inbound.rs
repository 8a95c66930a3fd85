//! Inbound messages from the network (`net.evt.msg.inbound`): stored under their
//! registration (the destination address as received), attachments as files, and notified
//! to every matching inbound subscription, at most once per event id.

use std::{collections::HashSet, sync::Arc};

use chrono::{DateTime, Utc};
use parlay_kit::{
    batch::{Batcher, Traced, together_or_alone},
    db::begin_steps,
    inbox, outbox,
};
use parlay_proto::net::v1::{InboundMessageEvent, MessagePart, inbound_message_event::Kind};
use sea_orm::{
    ConnectionTrait, EntityTrait, IntoActiveModel, QueryTrait, Statement,
    sea_query::{Expr, ExprTrait, Query},
};
use sha2::{Digest, Sha256};

use crate::{
    convert,
    core::{CONSUMER, Core},
    domain,
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

/// The event ids of `event_ids` this service processed already. (A read before writing
/// files: a redelivery of a message since deleted must not bring its files back.)
async fn seen<C: ConnectionTrait>(db: &C, event_ids: &[&str]) -> Result<HashSet<String>> {
    let query = Query::select()
        .column("event_id")
        .from("inbox")
        .and_where(Expr::col("consumer").eq(CONSUMER))
        .and_where(Expr::col("event_id").is_in(event_ids.iter().copied()))
        .to_owned();
    Ok(db
        .query_all(&query)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "event_id"))
        .collect::<Result<_, _>>()?)
}

/// Inbound messages stored per transaction, at most.
pub const BATCH: usize = 256;

/// Stores inbound messages in batches (the kit's group commit): events handed in together
/// share one transaction (one inbox insert, one message insert, one subscription read for
/// all their registrations, one outbox insert), and each is answered once it committed.
pub type Receiver = Batcher<InboundMessageEvent, Result<Outcome>>;

/// Starts the task that stores the events handed to it.
pub fn start(core: Arc<Core>) -> Receiver {
    Batcher::start(BATCH, move |events: Vec<Traced<InboundMessageEvent>>| {
        let core = core.clone();
        async move { together_or_alone(events.len(), |some| receive_all(&core, &events[some])).await }
    })
}

/// An event ready to store: its message row, its attachments and their bytes.
struct Ready<'a> {
    event: &'a InboundMessageEvent,
    row: message::Model,
    attachments: Vec<attachment::Model>,
    parts: &'a [MessagePart],
}

/// The rows `event` stores, or why it is dropped.
fn prepare<'a>(
    core: &Core,
    event: &'a InboundMessageEvent,
    now: DateTime<Utc>,
) -> std::result::Result<Ready<'a>, Outcome> {
    let id = message_id(&event.event_id);
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
                return Err(Outcome::Dropped);
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
            return Err(Outcome::Dropped);
        }
    };
    if event.destination_address.trim().is_empty() {
        tracing::warn!(event_id = %event.event_id, "inbound message without destination dropped");
        return Err(Outcome::Dropped);
    }
    let attachments = parts
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
    let row = message::Model {
        id,
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
    Ok(Ready {
        event,
        row,
        attachments,
        parts,
    })
}

/// Stores `events` in one transaction and notifies their subscribers; one outcome each, in
/// their order.
async fn receive_all(core: &Core, events: &[Traced<InboundMessageEvent>]) -> Result<Vec<Outcome>> {
    let now = Utc::now();
    let mut outcomes = vec![Outcome::Dropped; events.len()];
    let mut ready = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        match prepare(core, event, now) {
            Ok(r) => ready.push((i, r)),
            Err(outcome) => outcomes[i] = outcome,
        }
    }
    if ready.is_empty() {
        return Ok(outcomes);
    }
    // Files are written before the transaction: a redelivery must not write them again
    // (its message may have been deleted since), so a batch with files first reads which
    // events were processed already. Without files, the inbox's insert in the transaction
    // is the one check.
    if ready.iter().any(|(_, r)| !r.attachments.is_empty()) {
        let ids: Vec<&str> = ready
            .iter()
            .map(|(_, r)| r.event.event_id.as_str())
            .collect();
        let seen = seen(&core.db, &ids).await?;
        ready.retain(|(i, r)| {
            let new = !seen.contains(&r.event.event_id);
            if !new {
                outcomes[*i] = Outcome::Duplicate;
            }
            new
        });
    }
    for (_, r) in ready.iter().filter(|(_, r)| !r.attachments.is_empty()) {
        let files = r
            .attachments
            .iter()
            .zip(r.parts)
            .map(|(a, part)| (a.attachment_id.clone(), part.data.clone()))
            .collect();
        core.files.write(&r.row.id, files).await?;
    }
    if ready.is_empty() {
        return Ok(outcomes);
    }

    // In two steps ([`begin_steps`]): the inbox's insert with the read of the
    // subscriptions (those of every registration here, redeliveries' too), then the
    // writes with the commit.
    let backend = core.db.get_database_backend();
    let ids: Vec<&str> = ready
        .iter()
        .map(|(_, r)| r.event.event_id.as_str())
        .collect();
    let inbox = inbox::FirstTimes::of(backend, CONSUMER, &ids);
    let watching = subscriptions::Watching::of(
        backend,
        ready.iter().map(|(_, r)| r.row.registration_lower.as_str()),
        now,
    );
    let reads: Vec<Statement> = inbox
        .statement
        .iter()
        .chain(&watching.statement)
        .cloned()
        .collect();
    let mut steps = begin_steps(&core.db).await?;
    let mut returned = steps.step(&reads).await?.into_iter();
    let first = inbox.answers_from(&mut returned)?;
    let watching = watching.found(&returned.next().unwrap_or_default())?;
    // Stored by a concurrent delivery meanwhile (or twice in this batch).
    let mut raced = Vec::new();
    let mut stored = Vec::with_capacity(ready.len());
    for ((i, r), first) in ready.into_iter().zip(first) {
        if first {
            stored.push((i, r));
        } else {
            outcomes[i] = Outcome::Duplicate;
            if !r.attachments.is_empty() {
                raced.push(r.row.id.clone());
            }
        }
    }
    let mut writes = Vec::new();
    if !stored.is_empty() {
        let insert = message::Entity::insert_many(
            stored
                .iter()
                .map(|(_, r)| r.row.clone().into_active_model()),
        )
        .into_query();
        writes.push(backend.build(&insert));
    }
    let attachments: Vec<attachment::ActiveModel> = stored
        .iter()
        .flat_map(|(_, r)| r.attachments.iter().map(|a| a.clone().into_active_model()))
        .collect();
    if !attachments.is_empty() {
        writes.push(backend.build(&attachment::Entity::insert_many(attachments).into_query()));
    }
    let mut envelopes = Vec::with_capacity(stored.len());
    let api_root = core.api_root();
    for (i, r) in &stored {
        let registration = &r.row.registration_lower;
        let criteria_text = matched_text(r.row.text.as_deref(), r.row.subject.as_deref());
        let rendered = notifications::inbound_message(&api_root, &r.row, &r.attachments);
        let these: Vec<_> = events[*i].in_scope(|| {
            watching[registration]
                .iter()
                .filter(|s| domain::criteria_matches(s.criteria.as_deref(), criteria_text))
                .filter_map(|s| notifications::inbound(&core.config, &rendered, s, now))
                .collect()
        });
        outcomes[*i] = Outcome::Stored(these.len());
        envelopes.push((r.row.id.clone(), these));
    }
    let outbox = outbox::Insert::of(backend, envelopes);
    writes.extend(outbox.as_ref().map(|insert| insert.statement.clone()));
    let written = steps.commit(&writes).await?;
    let recorded = outbox::Insert::recorded_last(outbox, &written)?;
    core.waker.hand(recorded);
    for (_, r) in &stored {
        metrics::counter!("parlay_messaging_inbound_total", "kind" => r.row.kind.clone())
            .increment(1);
    }
    // A concurrent delivery's files are these, unless its message was deleted since.
    for id in raced {
        if message::Entity::find_by_id(id.clone())
            .one(&core.db)
            .await?
            .is_none()
        {
            core.files.remove_message(&id).await?;
        }
    }
    Ok(outcomes)
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
