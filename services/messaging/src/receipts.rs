//! Delivery receipts (`net.evt.msg.receipt`): each moves one address of a request forward
//! under the monotonic rule ([`domain::applies`]), at most once per event id, and notifies
//! the request's `receiptRequest` callback of every change it applied, in the same
//! transaction.

use chrono::Utc;
use parlay_kit::{db::begin_write, inbox, outbox};
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
    /// No such request or address (purged, or never ours).
    Unknown,
}

/// Applies one receipt.
pub async fn apply(core: &Core, receipt: &DeliveryReceipt) -> Result<Outcome> {
    let Some(status) = convert::from_state(receipt.state()) else {
        tracing::warn!(event_id = %receipt.event_id, "delivery receipt without a state dropped");
        return Ok(Outcome::Unknown);
    };
    let outcome = apply_status(core, receipt, status).await?;
    metrics::counter!(
        "parlay_messaging_receipts_total",
        "status" => domain::status_name(status),
        "applied" => if outcome == Outcome::Applied { "true" } else { "false" },
    )
    .increment(1);
    Ok(outcome)
}

async fn apply_status(
    core: &Core,
    receipt: &DeliveryReceipt,
    status: DeliveryStatus,
) -> Result<Outcome> {
    let txn = begin_write(&core.db).await?;
    if !inbox::first_time(&txn, CONSUMER, &receipt.event_id).await? {
        txn.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let row = delivery::Entity::find()
        .filter(delivery::Column::RequestId.eq(&receipt.request_id))
        .filter(delivery::Column::AddressLower.eq(receipt.destination.to_lowercase()))
        .one(&txn)
        .await?;
    let Some(row) = row else {
        txn.commit().await?;
        tracing::info!(
            request = %receipt.request_id,
            destination = %receipt.destination,
            "receipt for an unknown request or address (purged?) ignored"
        );
        return Ok(Outcome::Unknown);
    };
    let current = domain::status_from_name(&row.status).unwrap_or(DeliveryStatus::MessageWaiting);
    if !domain::applies(current, status) {
        txn.commit().await?;
        return Ok(Outcome::Ignored);
    }
    let now = Utc::now();
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
        txn.commit().await?;
        return Ok(Outcome::Ignored);
    }
    let owner = request::Entity::find_by_id(row.request_id.clone())
        .one(&txn)
        .await?;
    let envelope = owner.as_ref().and_then(|r| {
        notifications::delivery(
            &core.config,
            r,
            &row.address,
            status,
            receipt.description.clone(),
            now,
        )
    });
    let notified = envelope.is_some();
    outbox::enqueue(&txn, &row.request_id, envelope.into_iter().collect()).await?;
    txn.commit().await?;
    if notified {
        core.waker.wake();
    }
    Ok(Outcome::Applied)
}
