//! Reading and deleting the inbound messages of a registration and their attachments.
//! Registrations match case-insensitively; which ones an application may read is the
//! gateway's to check. Messages stay until deleted, retrieved-and-deleted, or past
//! `messaging.inbound_retention_secs` (then the janitor purges them with their files).
//! Files are removed after the rows' transaction commits; a removal that fails leaves an
//! orphan directory for the janitor's sweep, never a row without its file.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use parlay_kit::{
    config::MessagingConfig,
    db::{begin_snapshot, begin_write},
};
use parlay_proto::messaging::v1 as pb;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::{
    convert,
    core::Core,
    entities::{attachment, message},
    error::{Error, Result},
    outbound::PURGE_BATCH,
};

/// How many messages a batch holds: `requested`, or the default when 0, at most the maximum.
pub fn batch_size(config: &MessagingConfig, requested: u32) -> u64 {
    let n = if requested == 0 {
        config.default_batch_size
    } else {
        requested
    };
    u64::from(n.min(config.max_batch_size))
}

fn cutoff(core: &Core) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(core.config.messaging.inbound_retention_secs as i64)
}

/// The live messages of a registration.
fn of_registration(core: &Core, registration: &str) -> Select<message::Entity> {
    message::Entity::find()
        .filter(message::Column::RegistrationLower.eq(registration.to_lowercase()))
        .filter(message::Column::StoredAt.gt(cutoff(core)))
}

/// Attachments of `messages`, by message, in order.
async fn attachments_of<C: ConnectionTrait>(
    db: &C,
    messages: &[message::Model],
) -> Result<HashMap<String, Vec<attachment::Model>>> {
    let mut by_message: HashMap<String, Vec<attachment::Model>> = HashMap::new();
    if messages.is_empty() {
        return Ok(by_message);
    }
    let rows = attachment::Entity::find()
        .filter(attachment::Column::MessageId.is_in(messages.iter().map(|m| m.id.clone())))
        .order_by_asc(attachment::Column::MessageId)
        .order_by_asc(attachment::Column::Position)
        .all(db)
        .await?;
    for row in rows {
        by_message
            .entry(row.message_id.clone())
            .or_default()
            .push(row);
    }
    Ok(by_message)
}

async fn answer<C: ConnectionTrait>(
    db: &C,
    rows: &[message::Model],
    total_pending: u64,
) -> Result<pb::InboundMessageList> {
    let mut attachments = attachments_of(db, rows).await?;
    Ok(pb::InboundMessageList {
        messages: rows
            .iter()
            .map(|m| convert::inbound(m, &attachments.remove(&m.id).unwrap_or_default()))
            .collect(),
        total_pending: u32::try_from(total_pending).unwrap_or(u32::MAX),
    })
}

/// A batch of a registration's messages, oldest first. Retrieval removes nothing:
/// `total_pending` counts every message of the registration still stored, *including the
/// batch just returned*. An unknown registration is an empty list, not an error.
pub async fn list(core: &Core, registration: &str, max: u32) -> Result<pb::InboundMessageList> {
    // One snapshot: a message stored between the reads must not be counted yet missing.
    let txn = begin_snapshot(&core.db).await?;
    let rows = of_registration(core, registration)
        .order_by_asc(message::Column::ReceivedAt)
        .order_by_asc(message::Column::Id)
        .limit(batch_size(&core.config.messaging, max))
        .all(&txn)
        .await?;
    let total = of_registration(core, registration).count(&txn).await?;
    let list = answer(&txn, &rows, total).await?;
    txn.commit().await?;
    Ok(list)
}

/// A batch of a registration's messages (oldest first, or newest first), deleted with their
/// attachments in the same transaction; `total_pending` counts what is left. The answer's
/// attachment descriptors name attachments that no longer exist.
pub async fn retrieve_and_delete(
    core: &Core,
    registration: &str,
    max: u32,
    newest_first: bool,
) -> Result<pb::InboundMessageList> {
    let txn = begin_write(&core.db).await?;
    let query = of_registration(core, registration);
    let query = if newest_first {
        query
            .order_by_desc(message::Column::ReceivedAt)
            .order_by_desc(message::Column::Id)
    } else {
        query
            .order_by_asc(message::Column::ReceivedAt)
            .order_by_asc(message::Column::Id)
    };
    let rows = query
        .limit(batch_size(&core.config.messaging, max))
        .all(&txn)
        .await?;
    let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
    // Read before the delete: the answer describes what was taken.
    let answer = answer(&txn, &rows, 0).await?;
    delete_rows(&txn, &ids).await?;
    let left = of_registration(core, registration).count(&txn).await?;
    txn.commit().await?;
    core.files.remove_messages(&ids).await;
    Ok(pb::InboundMessageList {
        total_pending: u32::try_from(left).unwrap_or(u32::MAX),
        ..answer
    })
}

async fn find<C: ConnectionTrait>(
    core: &Core,
    db: &C,
    registration: &str,
    id: &str,
) -> Result<message::Model> {
    of_registration(core, registration)
        .filter(message::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("messageId"))
}

/// One message of a registration.
pub async fn get(core: &Core, registration: &str, id: &str) -> Result<pb::InboundMessage> {
    let row = find(core, &core.db, registration, id).await?;
    let mut attachments = attachments_of(&core.db, std::slice::from_ref(&row)).await?;
    Ok(convert::inbound(
        &row,
        &attachments.remove(&row.id).unwrap_or_default(),
    ))
}

async fn delete_rows<C: ConnectionTrait>(db: &C, ids: &[String]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    attachment::Entity::delete_many()
        .filter(attachment::Column::MessageId.is_in(ids.iter().cloned()))
        .exec(db)
        .await?;
    let done = message::Entity::delete_many()
        .filter(message::Column::Id.is_in(ids.iter().cloned()))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Deletes a message with its attachments (rows, then files).
pub async fn delete(core: &Core, registration: &str, id: &str) -> Result<()> {
    let txn = begin_write(&core.db).await?;
    let row = find(core, &txn, registration, id).await?;
    delete_rows(&txn, std::slice::from_ref(&row.id)).await?;
    txn.commit().await?;
    core.files.remove_messages(&[row.id]).await;
    Ok(())
}

async fn find_attachment<C: ConnectionTrait>(
    db: &C,
    message_id: &str,
    attachment_id: &str,
) -> Result<attachment::Model> {
    attachment::Entity::find_by_id((message_id.to_string(), attachment_id.to_string()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("attachmentId"))
}

/// An attachment's metadata and bytes.
pub async fn attachment(
    core: &Core,
    registration: &str,
    message_id: &str,
    attachment_id: &str,
) -> Result<pb::AttachmentContent> {
    let row = find(core, &core.db, registration, message_id).await?;
    let a = find_attachment(&core.db, &row.id, attachment_id).await?;
    let data = match core.files.read(&a.path).await {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %a.path, "attachment file missing; answered as not found");
            return Err(Error::NotFound("attachmentId"));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(pb::AttachmentContent {
        info: Some(convert::attachment_info(&a)),
        data,
    })
}

/// Deletes one attachment (row, then file); the message lists one attachment fewer.
pub async fn delete_attachment(
    core: &Core,
    registration: &str,
    message_id: &str,
    attachment_id: &str,
) -> Result<()> {
    let txn = begin_write(&core.db).await?;
    let row = find(core, &txn, registration, message_id).await?;
    let a = find_attachment(&txn, &row.id, attachment_id).await?;
    attachment::Entity::delete_by_id((a.message_id.clone(), a.attachment_id.clone()))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    if let Err(e) = core.files.remove(&a.path).await {
        tracing::warn!(error = %e, path = %a.path, "attachment file not removed; the sweep retries with its message");
    }
    Ok(())
}

/// Deletes messages stored before `cutoff` with their files, a batch at a time; returns
/// how many went.
pub async fn purge(core: &Core, cutoff: DateTime<Utc>) -> Result<u64> {
    let mut purged = 0;
    loop {
        let ids: Vec<String> = message::Entity::find()
            .select_only()
            .column(message::Column::Id)
            .filter(message::Column::StoredAt.lt(cutoff))
            .limit(PURGE_BATCH)
            .into_tuple()
            .all(&core.db)
            .await?;
        let n = ids.len() as u64;
        let txn = begin_write(&core.db).await?;
        purged += delete_rows(&txn, &ids).await?;
        txn.commit().await?;
        core.files.remove_messages(&ids).await;
        if n < PURGE_BATCH {
            return Ok(purged);
        }
    }
}

/// Removes attachment directories older than `age` that no stored message owns (left by a
/// crash between writing files and committing, or by a failed removal); returns how many.
pub async fn sweep_orphans(core: &Core, age: std::time::Duration) -> Result<usize> {
    let mut removed = 0;
    for chunk in core
        .files
        .older_than(age)
        .await?
        .chunks(PURGE_BATCH as usize)
    {
        let owned: Vec<String> = message::Entity::find()
            .select_only()
            .column(message::Column::Id)
            .filter(message::Column::Id.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(&core.db)
            .await?;
        let orphans: Vec<String> = chunk
            .iter()
            .filter(|id| !owned.contains(id))
            .cloned()
            .collect();
        removed += orphans.len();
        core.files.remove_messages(&orphans).await;
    }
    Ok(removed)
}
