//! notify's queries. Every time written is truncated to microseconds (PostgreSQL's
//! precision), so a lease read back or compared for equality is the lease that was written,
//! on SQLite and PostgreSQL alike.

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use parlay_kit::db::{eq_literal, update_each, write_together};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IdenStatic,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, TransactionTrait, TryInsertResult,
    UpdateMany,
    sea_query::{Alias, Expr, Query},
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
    Ok(!insert_jobs(db, std::slice::from_ref(&row))
        .await?
        .is_empty())
}

/// Stores `rows` in one statement, skipping the job ids already stored (and repeats within
/// `rows`); the ids of those that were new.
pub async fn insert_jobs<C: ConnectionTrait>(
    db: &C,
    rows: &[job::Model],
) -> Result<Vec<String>, DbErr> {
    let mut seen = HashSet::new();
    let rows: Vec<job::ActiveModel> = rows
        .iter()
        .filter(|r| seen.insert(r.job_id.as_str()))
        .map(|r| job::ActiveModel::from(r.clone()).reset_all())
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let result = job::Entity::insert_many(rows)
        .on_conflict_do_nothing()
        .exec_with_returning_keys(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(ids) => ids,
        _ => Vec::new(),
    })
}

/// `status = '…'`, with the status written into the statement rather than bound: each index
/// of `notify_jobs` holds the jobs of one status only (see `migration::PartialIndexes`), and
/// a planner uses such an index only for a query it can tell wants no other rows, which it
/// can tell from a literal but not from a parameter (PostgreSQL's generic plans).
fn status_is(status: Status) -> Expr {
    use sea_orm::ActiveEnum;
    eq_literal::<job::Entity>(Column::Status, status.to_value())
}

/// Jobs anyone may claim at `now`: pending, due, and not leased (or the lease ran out).
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(status_is(Status::Pending))
        .add(Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(Column::LeaseUntil.is_null())
                .add(Column::LeaseUntil.lt(now)),
        )
}

/// The two kinds of jobs, claimed separately so that the questions (jobs with a reply
/// subject, on the critical path of a call) never wait behind ordinary deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Jobs that ask a question: `reply_deadline` is set.
    Asking,
    /// Every other job.
    Ordinary,
}

impl Pool {
    /// The pool `job` belongs to.
    pub fn of(job: &job::Model) -> Pool {
        if job.reply_deadline.is_some() {
            Pool::Asking
        } else {
            Pool::Ordinary
        }
    }

    fn condition(self) -> Condition {
        match self {
            Pool::Asking => Condition::all().add(Column::ReplyDeadline.is_not_null()),
            Pool::Ordinary => Condition::all().add(Column::ReplyDeadline.is_null()),
        }
    }
}

/// An ordinary job with an order key waits while an earlier job with its key to its URL is
/// still pending (due, in an attempt, or waiting for a retry): the notifications a producer
/// keyed together (a recipient's receipts, a session's events) reach the application in the
/// order they were made (`created_at`, the producer's time), even though attempts run
/// concurrently. Jobs without a key are never held.
fn first_of_its_order() -> Condition {
    Condition::any()
        .add(Column::OrderKey.is_null())
        .add(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM notify_jobs AS earlier \
         WHERE earlier.order_key = notify_jobs.order_key \
         AND earlier.status = 'pending' \
         AND earlier.created_at < notify_jobs.created_at \
         AND earlier.notify_url = notify_jobs.notify_url \
         AND earlier.application_id = notify_jobs.application_id)",
        ))
}

/// Up to `limit` claimable jobs of `pool`: the earliest deadline first for questions, the
/// longest due first for the others, each the first pending of its resource. Only their ids
/// and deadlines are read: the lease returns the rest.
fn due(now: DateTime<Utc>, limit: u64, pool: Pool) -> Select<job::Entity> {
    let order = match pool {
        Pool::Asking => Column::ReplyDeadline,
        Pool::Ordinary => Column::NextAttemptAt,
    };
    let ordered = match pool {
        Pool::Asking => Condition::all(),
        Pool::Ordinary => first_of_its_order(),
    };
    job::Entity::find()
        .select_only()
        .columns([Column::JobId, Column::ReplyDeadline])
        .filter(claimable(now))
        .filter(pool.condition())
        .filter(ordered)
        .order_by_asc(order)
        .limit(limit)
}

/// Leases up to `limit` claimable jobs of `pool` in one statement and returns them as
/// leased (the rows as they are now, not as first read), with the lease: `lease_for` sets it
/// from the reply deadlines of the jobs read. A job another replica leased in between is not
/// claimable any more, so the update skips it.
pub async fn claim_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
    pool: Pool,
    lease_for: impl FnOnce(&[Option<DateTime<Utc>>]) -> DateTime<Utc>,
) -> Result<(Vec<job::Model>, DateTime<Utc>), DbErr> {
    let due: Vec<(String, Option<DateTime<Utc>>)> =
        due(now, limit, pool).into_tuple().all(db).await?;
    let (ids, deadlines): (Vec<String>, Vec<_>) = due.into_iter().unzip();
    let lease_until = lease_for(&deadlines);
    if ids.is_empty() {
        return Ok((Vec::new(), lease_until));
    }
    let leased = lease(ids, now, lease_until, pool)
        .exec_with_returning(db)
        .await?;
    Ok((leased, lease_until))
}

/// The statement that leases, until `lease_until`, those of the jobs `ids` of `pool` that
/// are still claimable at `now` (another replica may have leased some since they were
/// read); `RETURNING` them gives the jobs as leased.
fn lease(
    ids: Vec<String>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    pool: Pool,
) -> UpdateMany<job::Entity> {
    job::Entity::update_many()
        .col_expr(Column::LeaseUntil, Expr::value(lease_until))
        .filter(Column::JobId.is_in(ids))
        .filter(claimable(now))
        .filter(pool.condition())
}

/// Leases, until `lease_until`, those of the ordinary jobs `ids` (just stored) that are
/// claimable at `now` and the first pending of their order, in one statement; returns the
/// ids of those it leased (only the ids: the caller has the rows it stored, and reading
/// back each whole row, its body with it, cost more than the statement's own work). Run
/// after the jobs' own commit, it sees what a claim sees: an earlier job of the same order
/// stored by anyone keeps them waiting.
pub async fn claim_stored(
    db: &DatabaseConnection,
    ids: Vec<String>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    use sea_orm::QueryTrait;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut update = lease(ids, now, lease_until, Pool::Ordinary)
        .filter(first_of_its_order())
        .into_query();
    update.returning_col(Column::JobId);
    let mut leased = Vec::new();
    for row in db.query_all(&update).await? {
        leased.push(row.try_get::<String>("", Column::JobId.as_str())?);
    }
    Ok(leased)
}

/// Those of the order keys `keys` that some pending job holds (of any URL or application:
/// the caller treats a key held elsewhere as held, which only ever leases less). Read
/// from the pending jobs' order index alone, a probe a key; the consumer asks before it
/// stores a chunk, and leases in the insert itself the first job of each order no pending
/// job holds, instead of updating the rows again after their commit.
pub async fn pending_orders<C: ConnectionTrait>(
    db: &C,
    keys: Vec<String>,
) -> Result<HashSet<String>, DbErr> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    pending_orders_query(keys)
        .into_tuple::<String>()
        .all(db)
        .await
        .map(|keys| keys.into_iter().collect())
}

fn pending_orders_query(keys: Vec<String>) -> Select<job::Entity> {
    pending_jobs()
        .select_only()
        .column(Column::OrderKey)
        .distinct()
        .filter(Column::OrderKey.is_in(keys))
}

/// How many jobs are still to be delivered (pending, leased or not).
pub async fn pending(db: &DatabaseConnection) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    pending_jobs().count(db).await
}

fn pending_jobs() -> Select<job::Entity> {
    job::Entity::find().filter(status_is(Status::Pending))
}

/// When the next unleased job (of `pool`, or of either) falls due, if any.
pub async fn next_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    pool: Option<Pool>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    next_due_query(now, pool)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await
}

fn next_due_query(now: DateTime<Utc>, pool: Option<Pool>) -> Select<job::Entity> {
    job::Entity::find()
        .select_only()
        .column(Column::NextAttemptAt)
        .filter(status_is(Status::Pending))
        // A job waiting for an earlier one of its resource is not due yet: the end of that
        // earlier attempt wakes the dispatcher.
        .filter(match pool {
            Some(Pool::Asking) => Pool::Asking.condition(),
            Some(Pool::Ordinary) => Pool::Ordinary.condition().add(first_of_its_order()),
            None => Condition::any()
                .add(Pool::Asking.condition())
                .add(first_of_its_order()),
        })
        .filter(
            Condition::any()
                .add(Column::LeaseUntil.is_null())
                .add(Column::LeaseUntil.lt(now)),
        )
        .order_by_asc(Column::NextAttemptAt)
        .limit(1)
}

/// One attempt to record: attempt `number` of job `job_id`, made under the lease
/// `lease_until`, and what comes next.
pub struct Record {
    pub job_id: String,
    pub lease_until: DateTime<Utc>,
    pub number: i32,
    /// When the attempt ended: a delivered job's `delivered_at`.
    pub ended_at: DateTime<Utc>,
    pub row: attempt::ActiveModel,
    pub next: Next,
}

impl Record {
    pub fn new(
        job: &job::Model,
        lease_until: DateTime<Utc>,
        number: i32,
        attempt: &Attempt,
        next: Next,
    ) -> Record {
        let (http_status, error) = match &attempt.outcome {
            Outcome::Answered { status, .. } => (Some(i32::from(*status)), None),
            Outcome::Failed { error, .. } => (None, Some(error.clone())),
        };
        Record {
            job_id: job.job_id.clone(),
            lease_until,
            number,
            ended_at: micros(attempt.started_at + attempt.duration),
            row: attempt::ActiveModel {
                job_id: Set(job.job_id.clone()),
                attempt: Set(number),
                started_at: Set(micros(attempt.started_at)),
                duration_ms: Set(i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX)),
                http_status: Set(http_status),
                error: Set(error),
                ..Default::default()
            },
            next,
        }
    }
}

/// Records each attempt of `records` and applies its `next`, all in one transaction: the
/// attempts in one statement, the jobs in one statement for each kind of next step among
/// them. A delivery always wins; a failure only changes its job if that attempt's lease
/// still holds. For each record, whether its job changed.
///
/// A job named twice in `records` (a lease ran out during an attempt and the job was tried
/// again before the first record was written) has its records applied one by one, in
/// order, as the second sees what the first did.
pub async fn record_many(db: &DatabaseConnection, records: &[Record]) -> Result<Vec<bool>, DbErr> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let attempts = attempt::Entity::insert_many(records.iter().map(|r| r.row.clone()));
    let mut named = HashSet::with_capacity(records.len());
    let distinct = records.iter().all(|r| named.insert(r.job_id.as_str()));
    if distinct && records.iter().all(|r| Step::of(r.next) == Step::Delivered) {
        // Every attempt delivered (the usual batch): nothing to read between the two
        // statements, so they go together (on SQLite, one call to its thread).
        let settles: Vec<Settle> = records.iter().map(Record::settle).collect();
        let these: Vec<&Settle> = settles.iter().collect();
        let backend = db.get_database_backend();
        let returned = write_together(
            db,
            &[
                backend.build(&attempts.into_query()),
                backend.build(&settle_statement(Step::Delivered, &these)),
            ],
        )
        .await?;
        let changed = returned
            .last()
            .into_iter()
            .flatten()
            .map(|row| row.try_get::<String>("", Column::JobId.as_str()))
            .collect::<Result<HashSet<_>, _>>()?;
        return Ok(records
            .iter()
            .map(|r| changed.contains(&r.job_id))
            .collect());
    }
    let txn = db.begin().await?;
    attempts.exec_without_returning(&txn).await?;
    let changed = if distinct {
        let settles: Vec<Settle> = records.iter().map(Record::settle).collect();
        let changed = settle(&txn, &settles).await?;
        records
            .iter()
            .map(|r| changed.contains(&r.job_id))
            .collect()
    } else {
        let mut changed = Vec::with_capacity(records.len());
        for r in records {
            changed.push(!settle(&txn, &[r.settle()]).await?.is_empty());
        }
        changed
    };
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
    let settles = [Settle {
        job_id: &job.job_id,
        lease_until,
        attempts: job.attempts,
        next: Next::Expired,
        at: now(),
    }];
    Ok(!settle(db, &settles).await?.is_empty())
}

/// What an attempt (or giving up without one) changes in its job: the lease it was made
/// under, the job's attempt count after it, and what comes next.
struct Settle<'a> {
    job_id: &'a str,
    lease_until: DateTime<Utc>,
    attempts: i32,
    next: Next,
    /// When the attempt ended (now, without one).
    at: DateTime<Utc>,
}

impl Record {
    fn settle(&self) -> Settle<'_> {
        Settle {
            job_id: &self.job_id,
            lease_until: self.lease_until,
            attempts: self.number,
            next: self.next,
            at: self.ended_at,
        }
    }
}

/// The kinds of next step, which [`settle`] writes one statement each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Delivered,
    Retry,
    Expired,
}

impl Step {
    fn of(next: Next) -> Step {
        match next {
            Next::Delivered => Step::Delivered,
            Next::Retry(_) => Step::Retry,
            Next::Expired => Step::Expired,
        }
    }
}

/// Applies `settles` (each job named once) to their pending jobs, one `UPDATE … RETURNING`
/// for each kind of next step among them; the ids of the jobs that changed.
async fn settle<C: ConnectionTrait>(
    db: &C,
    settles: &[Settle<'_>],
) -> Result<HashSet<String>, DbErr> {
    let mut changed = HashSet::with_capacity(settles.len());
    for step in [Step::Delivered, Step::Retry, Step::Expired] {
        let these: Vec<&Settle> = settles
            .iter()
            .filter(|s| Step::of(s.next) == step)
            .collect();
        if these.is_empty() {
            continue;
        }
        let query = settle_statement(step, &these);
        let mut retried = Vec::new();
        for row in db.query_all(&query).await? {
            let job_id = row.try_get::<String>("", Column::JobId.as_str())?;
            if step == Step::Retry
                && let Some(key) = row.try_get::<Option<String>>("", Column::OrderKey.as_str())?
            {
                retried.push(vec![
                    key.into(),
                    row.try_get::<DateTime<Utc>>("", Column::NextAttemptAt.as_str())?
                        .into(),
                    row.try_get::<String>("", Column::NotifyUrl.as_str())?
                        .into(),
                    row.try_get::<String>("", Column::ApplicationId.as_str())?
                        .into(),
                ]);
            }
            changed.insert(job_id);
        }
        hold_back_followers(db, retried).await?;
    }
    Ok(changed)
}

/// The update that settles `these` jobs, whose attempts all lead to `step`: it returns the
/// jobs it changed (with what holding back their followers needs, for a retry).
fn settle_statement(step: Step, these: &[&Settle<'_>]) -> sea_orm::sea_query::UpdateStatement {
    let mut update = match step {
        // A delivery wins whoever holds the lease now.
        Step::Delivered => update_each::<job::Entity>(
            Column::JobId,
            &[Column::Attempts, Column::DeliveredAt],
            &[],
            these
                .iter()
                .map(|s| vec![s.job_id.into(), s.attempts.into(), s.at.into()]),
        ),
        Step::Retry => update_each::<job::Entity>(
            Column::JobId,
            &[Column::Attempts, Column::NextAttemptAt],
            &[Column::LeaseUntil],
            these.iter().filter_map(|s| match s.next {
                Next::Retry(at) => Some(vec![
                    s.job_id.into(),
                    s.attempts.into(),
                    micros(at).into(),
                    s.lease_until.into(),
                ]),
                _ => None,
            }),
        ),
        Step::Expired => update_each::<job::Entity>(
            Column::JobId,
            &[Column::Attempts],
            &[Column::LeaseUntil],
            these
                .iter()
                .map(|s| vec![s.job_id.into(), s.attempts.into(), s.lease_until.into()]),
        ),
    };
    match step {
        Step::Delivered => {
            update.value(Column::Status, Expr::value(Status::Delivered));
        }
        Step::Expired => {
            update.value(Column::Status, Expr::value(Status::Expired));
        }
        Step::Retry => {}
    }
    update
        .value(Column::LeaseUntil, None::<DateTime<Utc>>)
        .and_where(status_is(Status::Pending))
        .returning(if step == Step::Retry {
            // What holding back the jobs behind a retried one needs.
            Query::returning().columns([
                Column::JobId,
                Column::OrderKey,
                Column::NotifyUrl,
                Column::ApplicationId,
                Column::NextAttemptAt,
            ])
        } else {
            Query::returning().column(Column::JobId)
        });
    update
}

/// Moves the next attempt of the jobs waiting behind each retried job of an order (same
/// key, URL and application) to that job's retry, when it was sooner. Which job goes first
/// does not change (`first_of_its_order` decides that); what changes is that a job that
/// cannot go before that time is not due before it, so the claims do not read past every
/// held job while an endpoint keeps failing (a dead endpoint with a backlog held its
/// dispatcher busy reading, one claim after another). `heads`: key, retry time, URL,
/// application.
async fn hold_back_followers<C: ConnectionTrait>(
    db: &C,
    heads: Vec<Vec<sea_orm::Value>>,
) -> Result<(), DbErr> {
    if heads.is_empty() {
        return Ok(());
    }
    db.execute(&hold_back(heads)).await?;
    Ok(())
}

/// The statement of [`hold_back_followers`] (`heads` not empty).
fn hold_back(heads: Vec<Vec<sea_orm::Value>>) -> sea_orm::sea_query::UpdateStatement {
    // The keys again as a list: with only the join to go by, SQLite reads the whole table
    // for a batch of more than one order; the list lets it look each order up by its key.
    let keys: Vec<sea_orm::Value> = heads.iter().map(|head| head[0].clone()).collect();
    let mut update = update_each::<job::Entity>(
        Column::OrderKey,
        &[Column::NextAttemptAt],
        &[Column::NotifyUrl, Column::ApplicationId],
        heads,
    );
    update
        .and_where(Column::OrderKey.is_in(keys))
        .and_where(status_is(Status::Pending))
        // The retried job itself has its retry time already; later ones never move back.
        // Written `NOT (… >= …)`: as a plain `<`, SQLite reads the range of the due index
        // (every pending job due before the retry) instead of the order's few jobs.
        .and_where({
            use sea_orm::sea_query::ExprTrait;
            ExprTrait::not(ExprTrait::gte(
                Expr::col((job::Entity, Column::NextAttemptAt)),
                Expr::col((Alias::new("given"), Alias::new("column2"))),
            ))
        });
    update
}

/// Jobs deleted per transaction by [`prune`], so that no statement holds the tables long.
pub const PRUNE_BATCH: u64 = 1_000;

/// Deletes the jobs that became final (delivered or expired) before `cutoff`, with their
/// attempts, in transactions of at most `batch` jobs; returns how many jobs were deleted.
/// Pending jobs are never deleted, however old.
///
/// A delivered job became final at its `delivered_at`. An expired job counts from its
/// `expires_at`, as no column records when it was abandoned: that was before `expires_at`
/// (its next attempt would have come after it, or no attempt could succeed), or, for a job
/// that expired before it could be attempted, when a dispatcher picked it up just after.
/// So an abandoned job is kept for the retention after `expires_at`, which is never much
/// less, and for one given up early more, than the retention after it was abandoned.
pub async fn prune(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let batch = batch.max(1);
    let mut deleted = 0;
    for (status, final_at) in [
        (Status::Delivered, Column::DeliveredAt),
        (Status::Expired, Column::ExpiresAt),
    ] {
        loop {
            let ids: Vec<String> = final_before(status, final_at, cutoff, batch)
                .into_tuple()
                .all(db)
                .await?;
            let found = ids.len() as u64;
            if found == 0 {
                break;
            }
            // Attempts first: a batch cut short never leaves attempts without their job.
            let txn = db.begin().await?;
            attempt::Entity::delete_many()
                .filter(attempt::Column::JobId.is_in(ids.iter().map(String::as_str)))
                .exec(&txn)
                .await?;
            deleted += job::Entity::delete_many()
                .filter(Column::JobId.is_in(ids))
                .filter(status_is(status))
                .exec(&txn)
                .await?
                .rows_affected;
            txn.commit().await?;
            if found < batch {
                break;
            }
            // Let the dispatcher and the consumer write between two batches.
            tokio::task::yield_now().await;
        }
    }
    Ok(deleted)
}

/// The ids of up to `batch` jobs of `status` whose `final_at` is before `cutoff`.
fn final_before(
    status: Status,
    final_at: Column,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Select<job::Entity> {
    job::Entity::find()
        .select_only()
        .column(Column::JobId)
        .filter(status_is(status))
        .filter(final_at.lt(cutoff))
        .limit(batch)
}

/// `now + secs`, saturating far in the future instead of overflowing.
pub fn after(now: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    let delta = TimeDelta::try_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::days(3650));
    now.checked_add_signed(delta)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `now - secs`, but at most a century back: a cutoff older than anything stored, and
/// still a time every database can hold.
pub fn before(now: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    const CENTURY: TimeDelta = TimeDelta::days(36_525);
    let delta = TimeDelta::try_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .map_or(CENTURY, |d| d.min(CENTURY));
    now - delta
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, QueryTrait};

    /// Each of the dispatcher's and the janitor's queries reads the partial index made for
    /// it, never the whole table: a status bound as a parameter instead of written as a
    /// literal would turn each claim into a scan of every job ever kept.
    #[tokio::test]
    async fn each_query_reads_its_partial_index() {
        let now = now();
        let heads = vec![vec![
            "key".into(),
            now.into(),
            "http://app.example/notify".into(),
            "app".into(),
        ]];
        let sqlite = DbBackend::Sqlite;
        let queries: [(&str, sea_orm::Statement, &[&str]); 8] = [
            (
                "ordinary claim",
                sqlite.build(&due(now, 64, Pool::Ordinary).into_query()),
                &["notify_jobs_pending_due", "notify_jobs_pending_order"],
            ),
            (
                "question claim",
                sqlite.build(&due(now, 64, Pool::Asking).into_query()),
                &["notify_jobs_pending_asking"],
            ),
            (
                "next due",
                sqlite.build(&next_due_query(now, None).into_query()),
                &["notify_jobs_pending_due", "notify_jobs_pending_order"],
            ),
            (
                "pending orders",
                sqlite.build(&pending_orders_query(vec!["a".into(), "b".into()]).into_query()),
                // From the index alone, not the rows (each with its body).
                &["COVERING INDEX notify_jobs_pending_order"],
            ),
            (
                "pending count",
                sqlite.build(&pending_jobs().into_query()),
                &["notify_jobs_pending_due"],
            ),
            (
                "hold back",
                sqlite.build(&hold_back(heads)),
                &["notify_jobs_pending_order"],
            ),
            (
                "prune delivered",
                sqlite.build(
                    &final_before(Status::Delivered, Column::DeliveredAt, now, 10).into_query(),
                ),
                &["notify_jobs_delivered_at"],
            ),
            (
                "prune expired",
                sqlite
                    .build(&final_before(Status::Expired, Column::ExpiresAt, now, 10).into_query()),
                &["notify_jobs_expired_at"],
            ),
        ];
        let statements: Vec<sea_orm::Statement> =
            queries.iter().map(|(_, s, _)| s.clone()).collect();
        let plans = parlay_kit::db::sqlite_plans::<crate::Migrator>(&statements)
            .await
            .unwrap();
        for ((query, _, indexes), plan) in queries.into_iter().zip(plans) {
            for index in indexes {
                assert!(
                    plan.contains(index),
                    "{query} does not use {index}:\n{plan}"
                );
            }
            let scans: Vec<&str> = plan
                .lines()
                .filter(|l| l.contains("SCAN notify_jobs") && !l.contains(" USING "))
                .collect();
            assert!(scans.is_empty(), "{query} scans a table:\n{plan}");
        }
    }

    #[test]
    fn before_goes_back_at_most_a_century() {
        let now = now();
        assert_eq!(before(now, 0), now);
        assert_eq!(before(now, 60), now - TimeDelta::seconds(60));
        let century = now - TimeDelta::days(36_525);
        assert_eq!(before(now, 200 * 365 * 24 * 3600), century);
        assert_eq!(before(now, u64::MAX), century);
    }
}
