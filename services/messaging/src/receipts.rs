//! Delivery receipts (`net.evt.msg.receipt`): each moves one address of a request forward
//! under the monotonic rule ([`domain::applies`]), at most once per event id, and notifies
//! the request's `receiptRequest` callback of every change it applied, in the same
//! transaction.
//!
//! Receipts handed in together are applied in one transaction ([`Receipts`], the kit's group
//! commit): one inbox insert, one read of the addresses, one update of the addresses they
//! move (each only while it is as read), one read of the requests and one outbox insert for
//! the whole batch, instead of seven statements and a commit per receipt. On SQLite they go
//! to the connection in three calls ([`begin_steps`]): the inbox with the read, the update
//! with the read of the requests, the outbox insert with the commit. Receipts for one
//! address are applied in their order.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use parlay_kit::{
    batch::{Batcher, Traced, together_or_alone},
    bus::Envelope,
    db::{begin_steps, update_each},
    inbox, outbox,
};
use parlay_model::messaging::DeliveryStatus;
use parlay_proto::net::v1::DeliveryReceipt;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, QueryFilter, QueryResult,
    QueryTrait, Statement,
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
    let backend = core.db.get_database_backend();
    let event_ids: Vec<&str> = stated
        .iter()
        .map(|&(i, _)| receipts[i].event_id.as_str())
        .collect();
    let inbox = inbox::FirstTimes::of(backend, CONSUMER, &event_ids);
    // The first step records the event ids and reads the rows of every receipt's request
    // (those of redelivered receipts too, read for nothing, so that both go at once); each
    // later step writes what the rows read allow and reads what the writes need next.
    let mut steps = begin_steps(&core.db).await?;
    let mut first = inbox.statement.clone().into_iter().collect::<Vec<_>>();
    first.push(rows_statement(backend, receipts, &stated));
    let mut returned = steps.step(&first).await?.into_iter();
    let first = inbox.answers_from(&mut returned)?;
    let mut rows = rows_from(&returned.next().unwrap_or_default())?;
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
    let mut owners: HashMap<String, request::Model> = HashMap::new();
    // Each round applies the receipts to the rows read, in memory, and writes every row it
    // changed in one statement, conditional on the row being as read. A row another
    // replica changed meanwhile (PostgreSQL) is not written: its receipts go to the next
    // round, against the row as it is then. On SQLite there is one round.
    loop {
        let planned = plan(receipts, &fresh, rows, &mut outcomes);
        if planned.is_empty() {
            break;
        }
        let returned = steps
            .step(&[
                backend.build(&write_statement(&planned, now)),
                owners_statement(backend, &planned),
            ])
            .await?;
        let written = written_of(&planned, returned.first().map_or(&[][..], Vec::as_slice))?;
        for owner in returned.get(1).into_iter().flatten() {
            let owner = request::Model::from_query_result(owner, "")?;
            owners.insert(owner.id.clone(), owner);
        }
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
        if fresh.is_empty() {
            break;
        }
        in_address_order(receipts, &mut fresh);
        let again = steps
            .step(&[rows_statement(backend, receipts, &fresh)])
            .await?;
        rows = rows_from(again.first().map_or(&[][..], Vec::as_slice))?;
    }
    let envelopes = notifications_of(core, &owners, &changes, now);
    let outbox = outbox::Insert::of(backend, envelopes);
    let last: Vec<Statement> = outbox.iter().map(|i| i.statement.clone()).collect();
    let returned = steps.commit(&last).await?;
    core.waker
        .hand(outbox::Insert::recorded_last(outbox, &returned)?);
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

/// The read of the delivery rows of the requests `these` receipts name.
fn rows_statement(
    backend: DbBackend,
    receipts: &[Traced<DeliveryReceipt>],
    these: &[(usize, DeliveryStatus)],
) -> Statement {
    let mut request_ids: Vec<&str> = these
        .iter()
        .map(|&(i, _)| receipts[i].request_id.as_str())
        .collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    delivery::Entity::find()
        .filter(delivery::Column::RequestId.is_in(request_ids))
        .build(backend)
}

/// The delivery rows read, by (request, address in lower case).
fn rows_from(returned: &[QueryResult]) -> Result<HashMap<(String, String), delivery::Model>> {
    returned
        .iter()
        .map(|row| {
            let row = delivery::Model::from_query_result(row, "")?;
            Ok(((row.request_id.clone(), row.address_lower.clone()), row))
        })
        .collect()
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

/// Whether each of the `planned` rows was written, from what [`write_statement`] returned
/// (each row is written only while its rank is still the one read).
fn written_of(planned: &[Planned], returned: &[QueryResult]) -> Result<Vec<bool>> {
    use delivery::Column;
    let mut written = vec![false; planned.len()];
    for row in returned {
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

/// The update of the `planned` rows (not empty), in one statement, each only while its
/// rank is still the one read; it returns the rows it wrote.
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

/// The read of the requests whose rows are `planned` (their receipt callbacks).
fn owners_statement(backend: DbBackend, planned: &[Planned]) -> Statement {
    let mut ids: Vec<&str> = planned.iter().map(|p| p.request_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    request::Entity::find()
        .filter(request::Column::Id.is_in(ids))
        .build(backend)
}

/// The `deliveryInfoNotification` of every change whose request asked for receipts, keyed
/// by request (the outbox's order), in the changes' order.
fn notifications_of(
    core: &Core,
    owners: &HashMap<String, request::Model>,
    changes: &[Change<'_>],
    now: chrono::DateTime<Utc>,
) -> Vec<(String, Vec<Envelope>)> {
    changes
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
        .collect()
}

#[cfg(test)]
mod tests;
