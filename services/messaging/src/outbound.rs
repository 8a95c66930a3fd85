//! Outbound requests: checked, stored with one delivery status per address, and submitted
//! to the network (`net.cmd.msg.submit`) through the outbox in the same transaction. A
//! clientCorrelator makes a send idempotent per application. Read back by their owner under
//! their sender's URL until `messaging.request_retention_secs` has passed.

use chrono::{DateTime, Utc};
use parlay_kit::{
    batch::{Batcher, Traced, together_or_alone},
    config::MessagingConfig,
    db::{begin_write, write_together},
    ids::new_id,
    outbox, wire,
};
use parlay_model::{address::same_ignoring_case, messaging::DeliveryStatus};
use parlay_proto::{
    messaging::v1::{self as pb, outbound_message::Content as PbContent},
    net::v1::{MessagePart, MessageSubmit, SmsEncoding, SmsSegment, message_submit},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use sha2::{Digest, Sha256};

use crate::{
    convert::{self, FileInfo},
    core::Core,
    domain,
    entities::{delivery, request},
    error::{Error, Result, is_unique_violation},
    segments::{self, Encoding, Segmented},
};

/// Where submits go: the network adapter answers with receipts per destination.
pub const SUBJECT_SUBMIT: &str = "net.cmd.msg.submit";

/// What a request carries, checked.
#[derive(Debug)]
pub enum Content {
    /// A text, with its segments.
    Sms { text: String, segmented: Segmented },
    /// An MMS, whole (priority as its ParlayREST name).
    Mms {
        subject: Option<String>,
        priority: Option<&'static str>,
        text: Option<String>,
        attachments: Vec<pb::Attachment>,
    },
}

/// A send request that passed the service's guards.
#[derive(Debug)]
pub struct Checked {
    /// The recipients, in the order given.
    pub addresses: Vec<String>,
    /// What is sent.
    pub content: Content,
    /// Fingerprint of the request's content, for clientCorrelator replays.
    pub hash: String,
}

/// The service's guards (the gateway has checked the syntax), in the gateway's order:
/// addresses present, not too many, and distinct (case-insensitively); an SMS text within `max_segments`; an MMS's files
/// within `max_attachment_bytes` in total.
pub fn check(config: &MessagingConfig, m: &pb::OutboundMessage) -> Result<Checked> {
    if m.sender_address.trim().is_empty() {
        return Err(Error::Invalid("senderAddress"));
    }
    if m.addresses.is_empty() || m.addresses.iter().any(|a| a.trim().is_empty()) {
        return Err(Error::NoAddresses("address"));
    }
    if m.addresses.len() > config.max_addresses {
        return Err(Error::TooManyAddresses("address"));
    }
    let mut lower: Vec<String> = m.addresses.iter().map(|a| a.to_lowercase()).collect();
    lower.sort();
    lower.dedup();
    if lower.len() != m.addresses.len() {
        return Err(Error::DuplicateAddress("address"));
    }
    let content = match &m.content {
        Some(PbContent::Sms(sms)) => {
            let segmented = segments::split(&sms.message);
            if segmented.count() > config.max_segments as usize {
                return Err(Error::TooLong(
                    segmented.encoding.max_chars(config.max_segments),
                ));
            }
            Content::Sms {
                text: sms.message.clone(),
                segmented,
            }
        }
        Some(PbContent::Mms(mms)) => {
            let total: usize = mms.attachments.iter().map(|a| a.data.len()).sum();
            if total > config.max_attachment_bytes {
                return Err(Error::Invalid("attachments"));
            }
            Content::Mms {
                subject: mms.subject.clone(),
                priority: convert::priority_name(mms.priority()),
                text: mms.message.clone(),
                attachments: mms.attachments.clone(),
            }
        }
        None => return Err(Error::Invalid("outboundSMSTextMessage")),
    };
    let hash = fingerprint(m, &content);
    Ok(Checked {
        addresses: m.addresses.clone(),
        content,
        hash,
    })
}

/// What makes two sends "the same request" for clientCorrelator purposes: everything the
/// application sent except the correlator itself (files by their SHA-256).
fn fingerprint(m: &pb::OutboundMessage, content: &Content) -> String {
    let mut h = Sha256::new();
    let mut part = |s: Option<&str>| {
        match s {
            None => h.update([1]),
            Some(s) => {
                h.update([2]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        };
    };
    part(Some(&m.sender_address));
    part(m.sender_name.as_deref());
    part(Some(&m.root.to_string()));
    part(Some(&m.addresses.len().to_string()));
    for a in &m.addresses {
        part(Some(a));
    }
    let callback = m.receipt_request.as_ref();
    part(callback.map(|c| c.notify_url.as_str()));
    part(callback.and_then(|c| c.callback_data.as_deref()));
    match content {
        Content::Sms { text, .. } => {
            part(Some("sms"));
            part(Some(text));
        }
        Content::Mms {
            subject,
            priority,
            text,
            attachments,
        } => {
            part(Some("mms"));
            part(subject.as_deref());
            part(*priority);
            part(text.as_deref());
            for a in attachments {
                part(Some(&a.name));
                part(Some(&a.content_type));
                part(Some(&hex::encode(Sha256::digest(&a.data))));
            }
        }
    }
    hex::encode(h.finalize())
}

/// The concatenation reference of a request's segments: 1..=255, from its (random) id, so
/// it is random across requests yet stable for one.
pub fn reference(request_id: &str) -> u32 {
    u32::from(Sha256::digest(request_id.as_bytes())[0] % 255) + 1
}

fn submit(id: &str, m: &pb::OutboundMessage, c: &Checked) -> MessageSubmit {
    let kind = match &c.content {
        Content::Sms { segmented, .. } => {
            let total = segmented.count() as u32;
            let reference = if total > 1 { reference(id) } else { 0 };
            message_submit::Kind::Sms(message_submit::Sms {
                encoding: match segmented.encoding {
                    Encoding::Gsm7 => SmsEncoding::Gsm7,
                    Encoding::Ucs2 => SmsEncoding::Ucs2,
                } as i32,
                segments: segmented
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, text)| SmsSegment {
                        reference,
                        sequence: i as u32 + 1,
                        total,
                        text: text.clone(),
                    })
                    .collect(),
            })
        }
        Content::Mms {
            subject,
            priority,
            text,
            attachments,
        } => message_submit::Kind::Mms(message_submit::Mms {
            subject: subject.clone(),
            priority: priority.map(str::to_string),
            text: text.clone(),
            attachments: attachments
                .iter()
                .map(|a| MessagePart {
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    data: a.data.clone(),
                })
                .collect(),
        }),
    };
    MessageSubmit {
        command_id: new_id("mc"),
        request_id: id.to_string(),
        sender_address: m.sender_address.clone(),
        sender_name: m.sender_name.clone(),
        destinations: c.addresses.clone(),
        kind: Some(kind),
    }
}

fn rows(
    app: &str,
    id: &str,
    m: &pb::OutboundMessage,
    c: &Checked,
    now: DateTime<Utc>,
) -> (request::Model, Vec<delivery::Model>) {
    let (kind, text, subject, priority, attachments, segments) = match &c.content {
        Content::Sms { text, segmented } => (
            "sms",
            Some(text.clone()),
            None,
            None,
            None,
            segmented.count() as i32,
        ),
        Content::Mms {
            subject,
            priority,
            text,
            attachments,
        } => {
            let files: Vec<FileInfo> = attachments
                .iter()
                .map(|a| FileInfo {
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.data.len() as u64,
                })
                .collect();
            (
                "mms",
                text.clone(),
                subject.clone(),
                priority.map(str::to_string),
                serde_json::to_string(&files).ok(),
                0,
            )
        }
    };
    let row = request::Model {
        id: id.to_string(),
        app_id: app.to_string(),
        sender_address: m.sender_address.clone(),
        sender_name: m.sender_name.clone(),
        client_correlator: m.client_correlator.clone(),
        request_hash: c.hash.clone(),
        root: if m.root() == pb::RequestRoot::Sms {
            "sms"
        } else {
            "message"
        }
        .into(),
        kind: kind.into(),
        text,
        subject,
        priority,
        attachments,
        segments,
        notify_url: m.receipt_request.as_ref().map(|c| c.notify_url.clone()),
        callback_data: m
            .receipt_request
            .as_ref()
            .and_then(|c| c.callback_data.clone()),
        created_at: now,
    };
    let waiting = DeliveryStatus::MessageWaiting;
    let deliveries = c
        .addresses
        .iter()
        .enumerate()
        .map(|(i, address)| delivery::Model {
            request_id: id.to_string(),
            position: i as i32,
            address: address.clone(),
            address_lower: address.to_lowercase(),
            status: domain::status_name(waiting).into(),
            status_rank: i32::from(domain::rank(waiting)),
            description: None,
            updated_at: now,
        })
        .collect();
    (row, deliveries)
}

/// Sends a message for `app`: stores it and its submit in one transaction, or answers the
/// earlier request with the same clientCorrelator (created = false; nothing is sent).
pub async fn send(
    core: &Core,
    app: &str,
    m: pb::OutboundMessage,
) -> Result<(pb::OutboundMessage, bool)> {
    let c = check(&core.config.messaging, &m)?;
    if let Some(correlator) = &m.client_correlator
        && let Some(answer) = replay(core, app, correlator, &c.hash).await?
    {
        return Ok(answer);
    }
    let id = new_id("rq");
    let (row, deliveries) = rows(app, &id, &m, &c, Utc::now());
    let command = submit(&id, &m, &c);
    let stored = NewRequest {
        row: row.clone(),
        deliveries: deliveries.clone(),
        command,
    };
    let stored = core
        .sends
        .submit(stored)
        .await
        .map_err(|e| Error::Db(sea_orm::DbErr::Custom(e.to_string())))?;
    match stored {
        Ok(()) => {
            metrics::counter!("parlay_messaging_requests_total", "kind" => row.kind.clone())
                .increment(1);
            Ok((convert::outbound(&row, &deliveries), true))
        }
        // A concurrent request with the same correlator won the race: answer as a retry.
        Err(e) if is_unique_violation(&e) => {
            let correlator = m.client_correlator.as_deref().unwrap_or_default();
            replay(core, app, correlator, &c.hash).await?.ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// A request to store: its row, its delivery rows and its submit to the network.
pub struct NewRequest {
    row: request::Model,
    deliveries: Vec<delivery::Model>,
    command: MessageSubmit,
}

/// Requests stored per transaction, at most: each may have up to `messaging.max_addresses`
/// delivery rows, and a statement's parameters are bounded (32,766 on SQLite).
const SEND_BATCH: usize = 32;

/// Stores requests in batches (the kit's group commit): concurrent sends share one
/// transaction, and each is answered once its transaction committed.
pub type Sends = Batcher<NewRequest, Result<()>>;

pub fn sends(db: DatabaseConnection, waker: outbox::Waker) -> Sends {
    Batcher::start(SEND_BATCH, move |items: Vec<Traced<NewRequest>>| {
        let (db, waker) = (db.clone(), waker.clone());
        async move {
            // One request's clientCorrelator that raced another send fails the whole
            // batch: each is then stored on its own and gets its own answer.
            together_or_alone(items.len(), |some| async {
                let count = some.len();
                insert(&db, &waker, &items[some])
                    .await
                    .map(|()| vec![(); count])
            })
            .await
        }
    })
}

/// Stores `items` (requests, delivery rows and submits) in one transaction: on SQLite, one
/// call to the connection's worker thread ([`write_together`]).
async fn insert(
    db: &DatabaseConnection,
    waker: &outbox::Waker,
    items: &[Traced<NewRequest>],
) -> Result<()> {
    let backend = db.get_database_backend();
    let requests =
        request::Entity::insert_many(items.iter().map(|i| i.row.clone().into_active_model()))
            .into_query();
    let deliveries = delivery::Entity::insert_many(
        items
            .iter()
            .flat_map(|i| i.deliveries.iter().map(|d| d.clone().into_active_model())),
    )
    .into_query();
    let envelopes = items
        .iter()
        .map(|i| {
            let envelope = i.in_scope(|| {
                wire::envelope(SUBJECT_SUBMIT, i.command.command_id.clone(), &i.command)
            });
            (i.row.id.clone(), vec![envelope])
        })
        .collect();
    // An empty batch has no submits, and nothing to write.
    let Some(submits) = outbox::Insert::of(backend, envelopes) else {
        return Ok(());
    };
    let statements = [
        backend.build(&requests),
        backend.build(&deliveries),
        submits.statement.clone(),
    ];
    let returned = write_together(db, &statements).await?;
    waker.hand(outbox::Insert::recorded_last(Some(submits), &returned)?);
    Ok(())
}

/// The answer to a send whose correlator `app` used before: the first request when the
/// content is the same, SVC0005 otherwise. None when the correlator is free (never used, or
/// its request is past retention, which is then purged).
async fn replay(
    core: &Core,
    app: &str,
    correlator: &str,
    hash: &str,
) -> Result<Option<(pb::OutboundMessage, bool)>> {
    let Some(existing) = request::Entity::find()
        .filter(request::Column::AppId.eq(app))
        .filter(request::Column::ClientCorrelator.eq(correlator))
        .one(&core.db)
        .await?
    else {
        return Ok(None);
    };
    if existing.created_at <= retention_cutoff(core) {
        let txn = begin_write(&core.db).await?;
        delete_ids(&txn, vec![existing.id]).await?;
        txn.commit().await?;
        return Ok(None);
    }
    if existing.request_hash != hash {
        return Err(Error::CorrelatorReused(correlator.to_string()));
    }
    let deliveries = deliveries_of(&core.db, &existing.id).await?;
    Ok(Some((convert::outbound(&existing, &deliveries), false)))
}

fn retention_cutoff(core: &Core) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(core.config.messaging.request_retention_secs as i64)
}

/// A request's delivery rows, in address order.
pub async fn deliveries_of<C: ConnectionTrait>(
    db: &C,
    request_id: &str,
) -> Result<Vec<delivery::Model>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::RequestId.eq(request_id))
        .order_by_asc(delivery::Column::Position)
        .all(db)
        .await?)
}

/// Request `id` of `app`, read under `sender` (its `{senderAddress}` path value, compared
/// case-insensitively). Another application's request, one under another sender, and one
/// past retention are all "not found".
pub async fn get(core: &Core, app: &str, sender: &str, id: &str) -> Result<pb::OutboundMessage> {
    let cutoff = retention_cutoff(core);
    let row = request::Entity::find_by_id(id.to_string())
        .filter(request::Column::AppId.eq(app))
        .one(&core.db)
        .await?
        .filter(|r| same_ignoring_case(&r.sender_address, sender))
        .filter(|r| r.created_at > cutoff)
        .ok_or(Error::NotFound("requestId"))?;
    let deliveries = deliveries_of(&core.db, &row.id).await?;
    Ok(convert::outbound(&row, &deliveries))
}

async fn delete_ids<C: ConnectionTrait>(db: &C, ids: Vec<String>) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    delivery::Entity::delete_many()
        .filter(delivery::Column::RequestId.is_in(ids.clone()))
        .exec(db)
        .await?;
    let done = request::Entity::delete_many()
        .filter(request::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Deletes requests (with their statuses) created before `cutoff`, a batch at a time;
/// returns how many went.
pub async fn purge(db: &sea_orm::DatabaseConnection, cutoff: DateTime<Utc>) -> Result<u64> {
    let mut purged = 0;
    loop {
        let ids: Vec<String> = request::Entity::find()
            .select_only()
            .column(request::Column::Id)
            .filter(request::Column::CreatedAt.lt(cutoff))
            .limit(PURGE_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let n = ids.len() as u64;
        let txn = begin_write(db).await?;
        purged += delete_ids(&txn, ids).await?;
        txn.commit().await?;
        if n < PURGE_BATCH {
            return Ok(purged);
        }
    }
}

/// Rows deleted per purge transaction (keeps each short).
pub const PURGE_BATCH: u64 = 500;

#[cfg(test)]
mod tests;
