//! Delivery receipts (`net.evt.msg.receipt`): each moves one address of a request forward
//! under the monotonic rule ([`domain::applies`]), at most once per event id, and notifies
//! the request's `receiptRequest` callback of every change it applied, in the same
//! transaction.
//!
//! Receipts handed in together are applied in one transaction ([`Receipts`], the kit's group
//! commit): one inbox insert, one read of the addresses, one conditional update per receipt,
//! one read of the requests and one outbox insert for the whole batch, instead of seven
//! statements and a commit per receipt. Receipts for one address are applied in their order.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use parlay_kit::{
    batch::{Batcher, Traced, together_or_alone},
    bus::Envelope,
    db::begin_write,
    inbox, outbox,
};
use parlay_model::messaging::DeliveryStatus;
use parlay_proto::net::v1::DeliveryReceipt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

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
    // The rows are updated in one order whatever the batch (PostgreSQL: two replicas'
    // batches never wait on each other's rows in opposite orders); the sort is stable, so
    // receipts for one address keep theirs.
    fresh.sort_by_cached_key(|&(i, _)| {
        let r = &receipts[i];
        (r.request_id.clone(), r.destination.to_lowercase())
    });
    let mut request_ids: Vec<&str> = fresh
        .iter()
        .map(|&(i, _)| receipts[i].request_id.as_str())
        .collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    let mut rows: HashMap<(String, String), delivery::Model> = if request_ids.is_empty() {
        HashMap::new()
    } else {
        delivery::Entity::find()
            .filter(delivery::Column::RequestId.is_in(request_ids))
            .all(&txn)
            .await?
            .into_iter()
            .map(|row| ((row.request_id.clone(), row.address_lower.clone()), row))
            .collect()
    };
    let now = Utc::now();
    let mut changes = Vec::new();
    for (i, status) in fresh {
        let receipt = &receipts[i];
        let key = (
            receipt.request_id.clone(),
            receipt.destination.to_lowercase(),
        );
        let Some(row) = rows.get_mut(&key) else {
            tracing::info!(
                request = %receipt.request_id,
                destination = %receipt.destination,
                "receipt for an unknown request or address (purged?) ignored"
            );
            continue;
        };
        outcomes[i] = Outcome::Ignored;
        let current =
            domain::status_from_name(&row.status).unwrap_or(DeliveryStatus::MessageWaiting);
        if !domain::applies(current, status) {
            continue;
        }
        let rank = i32::from(domain::rank(status));
        // Conditional on the rank still being lower: a concurrent receipt that moved the row
        // further meanwhile (another replica, PostgreSQL) wins, and this one changes nothing.
        let updated = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Status,
                Expr::value(domain::status_name(status)),
            )
            .col_expr(delivery::Column::StatusRank, Expr::value(rank))
            .col_expr(
                delivery::Column::Description,
                Expr::value(receipt.description.clone()),
            )
            .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
            .filter(delivery::Column::RequestId.eq(&row.request_id))
            .filter(delivery::Column::Position.eq(row.position))
            .filter(delivery::Column::StatusRank.lt(rank))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            continue;
        }
        // A later receipt of this batch for the same address sees this one's status.
        row.status = domain::status_name(status).to_string();
        row.status_rank = rank;
        outcomes[i] = Outcome::Applied;
        changes.push(Change {
            receipt,
            address: row.address.clone(),
            status,
        });
    }
    let envelopes = notifications_of(core, &txn, &changes, now).await?;
    let recorded = outbox::enqueue_many(&txn, envelopes).await?;
    txn.commit().await?;
    core.waker.hand(recorded);
    Ok(outcomes)
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
