//! notify's queries. Every time written is truncated to microseconds (PostgreSQL's
//! precision), so a lease read back or compared for equality is the lease that was written,
//! on SQLite and PostgreSQL alike.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    TryInsertResult, sea_query::Expr,
};

use crate::{
    deliver::{Attempt, Outcome},
    entity::{
        attempt,
        job::{self, Column, Status},
    },
    schedule::Next,
};

/// `at`, truncated to microseconds.
pub fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The current time, truncated to microseconds.
pub fn now() -> DateTime<Utc> {
    micros(Utc::now())
}

/// Stores `row` unless a job with its id exists; true when it was new.
pub async fn insert_job<C: ConnectionTrait>(db: &C, row: job::Model) -> Result<bool, DbErr> {
    let active = job::ActiveModel::from(row).reset_all();
    let result = job::Entity::insert(active)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(matches!(result, TryInsertResult::Inserted(n) if n > 0))
}

/// Jobs anyone may claim at `now`: pending, due, and not leased (or the lease ran out).
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::Status.eq(Status::Pending))
        .add(Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(Column::LeaseUntil.is_null())
                .add(Column::LeaseUntil.lt(now)),
        )
}

/// Up to `limit` claimable jobs, the longest due first.
pub async fn due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    job::Entity::find()
        .filter(claimable(now))
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await
}

/// Leases `job` until `lease_until` if it is still claimable and unchanged since it was
/// read; true when this caller got it (another replica may have been faster).
pub async fn claim(
    db: &DatabaseConnection,
    job: &job::Model,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = job::Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(lease_until))
        .filter(Column::JobId.eq(job.job_id.as_str()))
        .filter(Column::Attempts.eq(job.attempts))
        .filter(claimable(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// When the next unleased job falls due, if any.
pub async fn next_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    job::Entity::find()
        .select_only()
        .column(Column::NextAttemptAt)
        .filter(Column::Status.eq(Status::Pending))
        .filter(
            Condition::any()
                .add(Column::LeaseUntil.is_null())
                .add(Column::LeaseUntil.lt(now)),
        )
        .order_by_asc(Column::NextAttemptAt)
        .limit(1)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await
}

/// Records `attempt` (number `number` of `job`, made under the lease `lease_until`) and
/// applies `next`, in one transaction. A delivery always wins; a failure only changes the
/// job if this caller still holds its lease. True when the job changed.
pub async fn record(
    db: &DatabaseConnection,
    job: &job::Model,
    lease_until: DateTime<Utc>,
    number: i32,
    attempt: &Attempt,
    next: Next,
) -> Result<bool, DbErr> {
    let (http_status, error) = match &attempt.outcome {
        Outcome::Answered { status, .. } => (Some(i32::from(*status)), None),
        Outcome::Failed { error, .. } => (None, Some(error.clone())),
    };
    let row = attempt::ActiveModel {
        job_id: Set(job.job_id.clone()),
        attempt: Set(number),
        started_at: Set(micros(attempt.started_at)),
        duration_ms: Set(i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX)),
        http_status: Set(http_status),
        error: Set(error),
        ..Default::default()
    };
    let txn = db.begin().await?;
    attempt::Entity::insert(row)
        .exec_without_returning(&txn)
        .await?;
    let changed = settle(&txn, job, lease_until, number, next).await?;
    txn.commit().await?;
    Ok(changed)
}

/// Abandons `job` without an attempt (it had expired before it could be tried), if this
/// caller still holds its lease.
pub async fn expire(
    db: &DatabaseConnection,
    job: &job::Model,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    settle(db, job, lease_until, job.attempts, Next::Expired).await
}

async fn settle<C: ConnectionTrait>(
    db: &C,
    job: &job::Model,
    lease_until: DateTime<Utc>,
    attempts: i32,
    next: Next,
) -> Result<bool, DbErr> {
    let update = job::Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .filter(Column::JobId.eq(job.job_id.as_str()))
        .filter(Column::Status.eq(Status::Pending));
    let update = match next {
        Next::Delivered => update
            .col_expr(Column::Status, Expr::value(Status::Delivered))
            .col_expr(Column::DeliveredAt, Expr::value(now())),
        Next::Retry(at) => update
            .col_expr(Column::NextAttemptAt, Expr::value(micros(at)))
            .filter(Column::LeaseUntil.eq(lease_until)),
        Next::Expired => update
            .col_expr(Column::Status, Expr::value(Status::Expired))
            .filter(Column::LeaseUntil.eq(lease_until)),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// `now + secs`, saturating far in the future instead of overflowing.
pub fn after(now: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    let delta = TimeDelta::try_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::days(3650));
    now.checked_add_signed(delta)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
