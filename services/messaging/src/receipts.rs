//! Delivery receipts (`net.evt.msg.receipt`): each moves one address of a request forward
//! under the monotonic rule ([`domain::applies`]), at most once per event id, and notifies
//! the request's `receiptRequest` callback of every change it applied, in the same
//! transaction.
//!
//! Receipts handed in together are applied in one transaction ([`Receipts`], the kit's group
//! commit): one inbox insert, one read of the addresses, one update of the addresses they
//! move (each only while it is as read), one read of the requests and one outbox insert for
//! the whole batch, instead of seven statements and a commit per receipt. Receipts for one
//! address are applied in their order.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use parlay_kit::{
    batch::{Batcher, Traced, together_or_alone},
    bus::Envelope,
    db::{begin_write, update_each},
    inbox, outbox,
};
use parlay_model::messaging::DeliveryStatus;
use parlay_proto::net::v1::DeliveryReceipt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, QueryFilter,
    sea_query::{Query, UpdateStatement},
};

use crate::{
    convert,
    core::{CONSUMER, Core},
    domain,
    entities::{delivery, request},
    error::Result,
    notifications,
};

/// What became of a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The status moved forward.
    Applied,
    /// Older than, equal to, or after a terminal status: nothing changed.
    Ignored,
    /// Seen before (a redelivery).
    Duplicate,
    /// No such request or address (purged, or never ours), or no state in the receipt.
    Unknown,
}

/// Receipts applied per transaction, at most.
const BATCH: usize = 64;

/// Applies receipts in batches; each is answered once its transaction committed.
pub type Receipts = Batcher<DeliveryReceipt, Result<Outcome>>;

/// Starts the task that applies the receipts handed to it.
pub fn start(core: Arc<Core>) -> Receipts {
    Batcher::start(BATCH, move |receipts: Vec<Traced<DeliveryReceipt>>| {
        let core = core.clone();
        async move {
            let results =
                together_or_alone(receipts.len(), |some| apply_all(&core, &receipts[some])).await;
            for (receipt, result) in receipts.iter().zip(&results) {
                if let (Ok(outcome), Some(status)) = (result, convert::from_state(receipt.state()))
                {
                    metrics::counter!(
                        "parlay_messaging_receipts_total",
                        "status" => domain::status_name(status),
                        "applied" => if *outcome == Outcome::Applied { "true" } else { "false" },
                    )
                    .increment(1);
                }
            }
            results
        }
    })
}

/// A receipt's change, applied: what its notification is made of.
struct Change<'a> {
    receipt: &'a Traced<DeliveryReceipt>,
    address: String,
    status: DeliveryStatus,
}

/// Applies `receipts` in one transaction (those for one address in their order); one
/// outcome each, in their order.
async fn apply_all(core: &Core, receipts: &[Traced<DeliveryReceipt>]) -> Result<Vec<Outcome>> {
    let mut outcomes = vec![Outcome::Unknown; receipts.len()];
    // (position, status) of the receipts that report one.
    let stated: Vec<(usize, DeliveryStatus)> = receipts
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let status = convert::from_state(r.state());
            if status.is_none() {
                tracing::warn!(event_id = %r.event_id, "delivery receipt without a state dropped");
            }
            Some((i, status?))
        })
        .collect();
    if stated.is_empty() {
        return Ok(outcomes);
    }
    let txn = begin_write(&core.db).await?;
    let event_ids: Vec<&str> = stated
        .iter()
        .map(|&(i, _)| receipts[i].event_id.as_str())
        .collect();
    let first = inbox::first_times(&txn, CONSUMER, &event_ids).await?;
    let mut fresh: Vec<(usize, DeliveryStatus)> = stated
        .into_iter()
        .zip(first)
        .filter_map(|((i, status), first)| {
            if !first {
                outcomes[i] = Outcome::Duplicate;
            }
            first.then_some((i, status))
        })
        .collect();
    in_address_order(receipts, &mut fresh);
    let now = Utc::now();
    let mut changes = Vec::new();
    // Each round reads the rows, applies the receipts to them in memory and writes every
    // row it changed in one statement, conditional on the row being as read. A row another
    // replica changed meanwhile (PostgreSQL) is not written: its receipts go to the next
    // round, against the row as it is then. On SQLite there is one round.
    while !fresh.is_empty() {
        let rows = rows_of(&txn, receipts, &fresh).await?;
        let planned = plan(receipts, &fresh, rows, &mut outcomes);
        let written = write(&txn, &planned, now).await?;
        fresh.clear();
        for (row, written) in planned.into_iter().zip(written) {
            if written {
                changes.extend(row.applied.iter().map(|&(i, status)| Change {
                    receipt: &receipts[i],
                    address: row.address.clone(),
                    status,
                }));
            } else {
                fresh.extend(row.applied.iter().chain(&row.ignored).copied());
            }
        }
        in_address_order(receipts, &mut fresh);
    }
    let envelopes = notifications_of(core, &txn, &changes, now).await?;
    let recorded = outbox::enqueue_many(&txn, envelopes).await?;
    txn.commit().await?;
    core.waker.hand(recorded);
    Ok(outcomes)
}

/// Sorts `these` receipts by the row they change, those of one row in the batch's order.
/// The rows are then updated in one order whatever the batch (PostgreSQL: two replicas'
/// batches never wait on each other's rows in opposite orders).
fn in_address_order(receipts: &[Traced<DeliveryReceipt>], these: &mut [(usize, DeliveryStatus)]) {
    these.sort_by_cached_key(|&(i, _)| {
        let r = &receipts[i];
        (r.request_id.clone(), r.destination.to_lowercase(), i)
    });
}

/// The delivery rows of the requests `receipts` name, by (request, address in lower case).
async fn rows_of(
    txn: &sea_orm::DatabaseTransaction,
    receipts: &[Traced<DeliveryReceipt>],
    these: &[(usize, DeliveryStatus)],
) -> Result<HashMap<(String, String), delivery::Model>> {
    let mut request_ids: Vec<&str> = these
        .iter()
        .map(|&(i, _)| receipts[i].request_id.as_str())
        .collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    Ok(delivery::Entity::find()
        .filter(delivery::Column::RequestId.is_in(request_ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|row| ((row.request_id.clone(), row.address_lower.clone()), row))
        .collect())
}

/// A delivery row that receipts of the batch move forward: as read, and where they take it.
struct Planned {
    request_id: String,
    position: i32,
    address: String,
    /// Its rank as read: it is written only while it still has it.
    read_rank: i32,
    /// The last status applied, its rank and its receipt's description.
    status: DeliveryStatus,
    rank: i32,
    description: Option<String>,
    /// The receipts applied to it (position in the batch, status), in their order.
    applied: Vec<(usize, DeliveryStatus)>,
    /// Its receipts that changed nothing after an earlier one of the batch (they are
    /// applied again if the row is not written).
    ignored: Vec<(usize, DeliveryStatus)>,
}

/// Applies `these` receipts to `rows` in memory, in their order, under the monotonic rule:
/// the rows they change, in the receipts' order. Sets each receipt's outcome (Applied,
/// Ignored, or Unknown when its row is not there).
fn plan(
    receipts: &[Traced<DeliveryReceipt>],
    these: &[(usize, DeliveryStatus)],
    mut rows: HashMap<(String, String), delivery::Model>,
    outcomes: &mut [Outcome],
) -> Vec<Planned> {
    let mut planned: Vec<Planned> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for &(i, status) in these {
        let receipt = &receipts[i];
        let key = (
            receipt.request_id.clone(),
            receipt.destination.to_lowercase(),
        );
        outcomes[i] = Outcome::Unknown;
        let Some(row) = rows.get_mut(&key) else {
            tracing::info!(
                request = %receipt.request_id,
                destination = %receipt.destination,
                "receipt for an unknown request or address (purged?) ignored"
            );
            continue;
        };
        let current =
            domain::status_from_name(&row.status).unwrap_or(DeliveryStatus::MessageWaiting);
        let applies = domain::applies(current, status);
        outcomes[i] = if applies {
            Outcome::Applied
        } else {
            Outcome::Ignored
        };
        let at = match index.get(&key) {
            Some(&at) => at,
            None if applies => {
                planned.push(Planned {
                    request_id: row.request_id.clone(),
                    position: row.position,
                    address: row.address.clone(),
                    read_rank: row.status_rank,
                    status,
                    rank: 0,
                    description: None,
                    applied: Vec::new(),
                    ignored: Vec::new(),
                });
                index.insert(key, planned.len() - 1);
                planned.len() - 1
            }
            // Nothing of this batch changes the row (yet).
            None => continue,
        };
        let p = &mut planned[at];
        if !applies {
            p.ignored.push((i, status));
            continue;
        }
        let rank = i32::from(domain::rank(status));
        // A later receipt of this batch for the same address sees this one's status.
        row.status = domain::status_name(status).to_string();
        row.status_rank = rank;
        p.status = status;
        p.rank = rank;
        p.description = receipt.description.clone();
        p.applied.push((i, status));
    }
    planned
}

/// Writes the `planned` rows in one statement, each only while its rank is still the one
/// read; whether each was written.
async fn write(
    txn: &sea_orm::DatabaseTransaction,
    planned: &[Planned],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<bool>> {
    let mut written = vec![false; planned.len()];
    if planned.is_empty() {
        return Ok(written);
    }
    use delivery::Column;
    for row in txn.query_all(&write_statement(planned, now)).await? {
        let id = row.try_get::<String>("", Column::RequestId.as_str())?;
        let position = row.try_get::<i32>("", Column::Position.as_str())?;
        if let Some(at) = planned
            .iter()
            .position(|p| p.request_id == id && p.position == position)
        {
            written[at] = true;
        }
    }
    Ok(written)
}

/// The statement of [`write`] (`planned` not empty).
fn write_statement(planned: &[Planned], now: chrono::DateTime<Utc>) -> UpdateStatement {
    use delivery::Column;
    let ids: Vec<&str> = planned.iter().map(|p| p.request_id.as_str()).collect();
    let mut update = update_each::<delivery::Entity>(
        Column::RequestId,
        &[
            Column::Status,
            Column::StatusRank,
            Column::Description,
            Column::UpdatedAt,
        ],
        &[Column::Position, Column::StatusRank],
        planned.iter().map(|p| {
            vec![
                p.request_id.clone().into(),
                domain::status_name(p.status).into(),
                p.rank.into(),
                p.description.clone().into(),
                now.into(),
                p.position.into(),
                p.read_rank.into(),
            ]
        }),
    );
    // The keys again as a list, so that SQLite looks each request up by its key instead
    // of reading the table for the join (see `update_each`).
    update
        .and_where(Column::RequestId.is_in(ids))
        .returning(Query::returning().columns([Column::RequestId, Column::Position]));
    update
}

/// The `deliveryInfoNotification` of every change whose request asked for receipts, keyed
/// by request (the outbox's order), in the changes' order.
async fn notifications_of(
    core: &Core,
    txn: &sea_orm::DatabaseTransaction,
    changes: &[Change<'_>],
    now: chrono::DateTime<Utc>,
) -> Result<Vec<(String, Vec<Envelope>)>> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = changes
        .iter()
        .map(|c| c.receipt.request_id.as_str())
        .collect();
    let owners: HashMap<String, request::Model> = request::Entity::find()
        .filter(request::Column::Id.is_in(ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    Ok(changes
        .iter()
        .filter_map(|c| {
            let owner = owners.get(&c.receipt.request_id)?;
            let envelope = c.receipt.in_scope(|| {
                notifications::delivery(
                    &core.config,
                    owner,
                    &c.address,
                    c.status,
                    c.receipt.description.clone(),
                    now,
                )
            })?;
            Some((c.receipt.request_id.clone(), vec![envelope]))
        })
        .collect())
}

#[cfg(test)]
mod tests;
