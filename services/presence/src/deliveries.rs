//! Coalesced presence notifications. A change of a presentity's presence makes a
//! notification *due* for each live presence-list subscription allowed to see it, at most
//! one per `presence.notify_interval_ms` per subscription and presentity (RFC 3856): the
//! first at once, later ones when the interval since the last one is over. While one is
//! due, further changes add nothing; [`run`] renders it when it goes, so it carries the
//! latest state, never a stale one. Due notifications are rows (`presence_deliveries`), so
//! a restart loses none; the authorisation is checked again when one goes, and a revoked
//! watcher's rows are dropped at once ([`drop_pending`]).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use parlay_kit::db::begin_write;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict},
};
use tokio_util::sync::CancellationToken;

use crate::{
    core::Core,
    domain,
    entities::{delivery, member, subscription, watcher},
    error::Result,
    notifications, relations,
};

pub const KIND_LIST: &str = "list";
pub const KIND_WATCHERS: &str = "watchers";

/// Makes a notification of `presentity` due to subscription `sub` (see the module docs).
///
/// Concurrency: the row is created if missing (`ON CONFLICT DO NOTHING`), else read under
/// a row lock (`FOR UPDATE` on PostgreSQL; SQLite serialises writers anyway), so a change
/// committed while the flusher is sending the previous state waits for that send to commit
/// and then makes the next one due, instead of reading the row as still due and adding
/// nothing.
pub async fn schedule<C: ConnectionTrait>(
    db: &C,
    core: &Core,
    sub: &str,
    presentity: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    schedule_many(db, core, vec![sub.to_string()], presentity, now).await
}

/// `watcher`'s live presence-list subscriptions (on `only_list` when given).
async fn list_subscriptions<C: ConnectionTrait>(
    db: &C,
    watchers: Vec<String>,
    only_list: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<subscription::Model>> {
    let mut q = subscription::Entity::find()
        .filter(subscription::Column::Kind.eq(KIND_LIST))
        .filter(subscription::Column::UserId.is_in(watchers))
        .filter(subscription::Column::ExpiresAt.gt(now));
    if let Some(list) = only_list {
        q = q.filter(subscription::Column::ListId.eq(list));
    }
    // One order for every change, so two changes lock a presentity's rows alike.
    Ok(q.order_by_asc(subscription::Column::Id).all(db).await?)
}

/// Makes `presentity`'s presence due to `watcher`'s subscriptions whose list holds it.
pub async fn schedule_for_watcher<C: ConnectionTrait>(
    db: &C,
    core: &Core,
    watcher_id: &str,
    presentity: &str,
    only_list: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    for sub in list_subscriptions(db, vec![watcher_id.to_string()], only_list, now).await? {
        if relations::in_list(db, watcher_id, &sub.list_id, presentity).await? {
            schedule(db, core, &sub.id, presentity, now).await?;
        }
    }
    Ok(())
}

/// Forgets what was coalescing about `presentity` for `watcher`'s subscriptions (on
/// `only_list` when given).
pub async fn drop_pending<C: ConnectionTrait>(
    db: &C,
    watcher_id: &str,
    presentity: &str,
    only_list: Option<&str>,
) -> Result<()> {
    let mut subs = sea_orm::sea_query::Query::select()
        .column(subscription::Column::Id)
        .from(subscription::Entity)
        .and_where(subscription::Column::UserId.eq(watcher_id))
        .and_where(subscription::Column::Kind.eq(KIND_LIST))
        .to_owned();
    if let Some(list) = only_list {
        subs.and_where(subscription::Column::ListId.eq(list));
    }
    delivery::Entity::delete_many()
        .filter(delivery::Column::Presentity.eq(presentity))
        .filter(delivery::Column::SubscriptionId.in_subquery(subs))
        .exec(db)
        .await?;
    Ok(())
}

/// After `presentity`'s presence changed: a notification is due to every live list
/// subscription of an active watcher whose list holds the presentity.
pub async fn presence_changed<C: ConnectionTrait>(
    db: &C,
    core: &Core,
    presentity: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    // One statement for the watchers, their lists and their subscriptions, however many
    // (it was three, each naming every watcher again).
    let subs: Vec<String> = allowed_subscriptions(presentity, now)
        .filter(subscription::Column::Kind.eq(KIND_LIST))
        .select_only()
        .column(subscription::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    // Bounded statements (bind parameters) however many watchers.
    for chunk in subs.chunks(SCHEDULE_CHUNK) {
        schedule_many(db, core, chunk.to_vec(), presentity, now).await?;
    }
    Ok(())
}

/// The live subscriptions whose watcher may be told about `presentity` now: the watcher
/// is active (authorised) at the presentity, and the subscription's list still holds it.
/// In subscription order, one for every change, so two changes lock a presentity's rows
/// alike.
fn allowed_subscriptions(presentity: &str, now: DateTime<Utc>) -> Select<subscription::Entity> {
    let mut q = subscription::Entity::find()
        .filter(subscription::Column::ExpiresAt.gt(now))
        .order_by_asc(subscription::Column::Id);
    QueryTrait::query(&mut q)
        .inner_join(
            watcher::Entity,
            Expr::col((watcher::Entity, watcher::Column::Presentity))
                .eq(presentity)
                .and(
                    Expr::col((watcher::Entity, watcher::Column::Watcher))
                        .equals((subscription::Entity, subscription::Column::UserId)),
                )
                .and(
                    Expr::col((watcher::Entity, watcher::Column::State))
                        .is_in(domain::seeing_states()),
                ),
        )
        .inner_join(
            member::Entity,
            Expr::col((member::Entity, member::Column::Owner))
                .equals((subscription::Entity, subscription::Column::UserId))
                .and(
                    Expr::col((member::Entity, member::Column::ListId))
                        .equals((subscription::Entity, subscription::Column::ListId)),
                )
                .and(Expr::col((member::Entity, member::Column::Member)).eq(presentity))
                .and(Expr::col((member::Entity, member::Column::Present)).eq(true)),
        );
    q
}

/// Subscriptions scheduled by one [`schedule_many`].
const SCHEDULE_CHUNK: usize = 2000;

/// [`schedule`] for many subscriptions of one presentity, in a few statements whatever
/// their number (a presentity with a thousand watchers changes in one transaction of a
/// handful of statements, not thousands).
///
/// Concurrency, as in [`schedule`]: existing rows are read under a row lock (PostgreSQL),
/// in subscription order; missing ones are created due at once. A row a concurrent change
/// created in between (the insert then does nothing for it) is read again under the lock.
pub async fn schedule_many<C: ConnectionTrait>(
    db: &C,
    core: &Core,
    mut subs: Vec<String>,
    presentity: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    subs.sort();
    subs.dedup();
    if subs.is_empty() {
        return Ok(());
    }
    let mut existing = locked_rows(db, &subs, presentity).await?;
    let known: HashSet<&str> = existing
        .iter()
        .map(|r| r.subscription_id.as_str())
        .collect();
    let missing: Vec<String> = subs
        .iter()
        .filter(|s| !known.contains(s.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let inserted =
            delivery::Entity::insert_many(missing.iter().map(|sub| delivery::ActiveModel {
                subscription_id: Set(sub.clone()),
                presentity: Set(presentity.to_string()),
                last_sent_at: Set(None),
                due_at: Set(Some(now)),
            }))
            .on_conflict(
                OnConflict::columns([
                    delivery::Column::SubscriptionId,
                    delivery::Column::Presentity,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        if (inserted as usize) < missing.len() {
            // Some were created by a concurrent change meanwhile: read every one of them
            // under the lock (the rows this insert created are due already).
            existing = locked_rows(db, &subs, presentity).await?;
        }
    }
    // Rows sent at the same time fall due at the same time: one UPDATE per due time.
    let mut by_due: HashMap<DateTime<Utc>, Vec<String>> = HashMap::new();
    for row in existing.into_iter().filter(|r| r.due_at.is_none()) {
        let due = domain::due_at(now, row.last_sent_at, core.interval());
        by_due.entry(due).or_default().push(row.subscription_id);
    }
    for (due, subs) in by_due {
        delivery::Entity::update_many()
            .col_expr(delivery::Column::DueAt, Expr::value(Some(due)))
            .filter(delivery::Column::Presentity.eq(presentity))
            .filter(delivery::Column::SubscriptionId.is_in(subs))
            .filter(delivery::Column::DueAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The delivery rows of `presentity` for `subs`, locked (PostgreSQL) in subscription order.
async fn locked_rows<C: ConnectionTrait>(
    db: &C,
    subs: &[String],
    presentity: &str,
) -> Result<Vec<delivery::Model>> {
    let mut select = delivery::Entity::find()
        .filter(delivery::Column::Presentity.eq(presentity))
        .filter(delivery::Column::SubscriptionId.is_in(subs.iter().cloned()))
        .order_by_asc(delivery::Column::SubscriptionId);
    if db.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    Ok(select.all(db).await?)
}

/// Due rows sent in one transaction.
const BATCH: u64 = 500;

/// Sends what is due, until shutdown: when woken, when the next row falls due, and every
/// second (rows another replica made due).
pub async fn run(core: Arc<Core>, shutdown: CancellationToken) {
    loop {
        let wait = match flush(&core).await {
            // At least a moment even when a row is due now: it was skipped because a
            // change holds it, and goes once that change commits (which wakes us).
            Ok(next) => crate::expiry::pause(next, Utc::now()),
            Err(e) => {
                tracing::warn!(error = %e, "presence notifications could not be sent; retrying");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = core.flusher.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends the due rows (a batch at a time); returns when the next one falls due.
async fn flush(core: &Core) -> Result<Option<DateTime<Utc>>> {
    loop {
        let now = Utc::now();
        // A look first, so a pass with nothing due takes no write lock (SQLite).
        let any_due = delivery::Entity::find()
            .filter(delivery::Column::DueAt.lte(now))
            .one(&core.db)
            .await?
            .is_some();
        if !any_due {
            break;
        }
        let full = send(core, now).await?;
        if !full {
            break;
        }
    }
    let next = delivery::Entity::find()
        .filter(delivery::Column::DueAt.is_not_null())
        .order_by_asc(delivery::Column::DueAt)
        .one(&core.db)
        .await?
        .and_then(|d| d.due_at);
    Ok(next)
}

/// Sends a batch of due rows in one transaction; true when the batch was full (more may
/// be due).
///
/// Lock order: the rows are taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so the
/// flusher never waits for a row a change holds. It used to claim the rows one `UPDATE` at
/// a time in due order while a change ([`schedule`], under `FOR UPDATE`) locked the same
/// presentity's rows in subscription order: each could hold one row the other wanted, a
/// deadlock PostgreSQL broke by aborting one of them. A skipped row stays due and goes at
/// the next pass, after that change committed (and saw it due, or made it due again).
async fn send(core: &Core, now: DateTime<Utc>) -> Result<bool> {
    let txn = begin_write(&core.db).await?;
    let mut select = delivery::Entity::find()
        .filter(delivery::Column::DueAt.lte(now))
        .order_by_asc(delivery::Column::DueAt)
        .limit(BATCH);
    if txn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let due = select.all(&txn).await?;
    let full = due.len() as u64 == BATCH;
    // The rows are this transaction's: locked on PostgreSQL, and on SQLite nobody else
    // writes until it commits. So they are claimed as read, a few statements for the
    // whole batch: per presentity, one claim and one look at its watchers and lists.
    let mut by_presentity: HashMap<String, Vec<String>> = HashMap::new();
    for row in due {
        by_presentity
            .entry(row.presentity)
            .or_default()
            .push(row.subscription_id);
    }
    let mut jobs = Vec::new();
    for (presentity, sub_ids) in by_presentity {
        delivery::Entity::update_many()
            .col_expr(
                delivery::Column::DueAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(delivery::Column::LastSentAt, Expr::value(Some(now)))
            .filter(delivery::Column::Presentity.eq(&presentity))
            .filter(delivery::Column::SubscriptionId.is_in(sub_ids.iter().cloned()))
            .exec(&txn)
            .await?;
        // The live ones among them whose watcher may still be told, in one statement.
        let live = allowed_subscriptions(&presentity, now)
            .filter(subscription::Column::Id.is_in(sub_ids))
            .all(&txn)
            .await?;
        if live.is_empty() {
            continue;
        }
        let contact = notifications::contact(&txn, &presentity).await?;
        for sub in &live {
            if let Some(job) = notifications::presence_job(core, sub, &contact, now) {
                jobs.push((sub.id.clone(), vec![job]));
            }
        }
    }
    let fanned_out = jobs.len() as u64;
    let recorded = parlay_kit::outbox::enqueue_many(&txn, jobs).await?;
    txn.commit().await?;
    core.waker.hand(recorded);
    // Presence fan-out: the notifications a batch of due deliveries produced.
    metrics::counter!("parlay_presence_notifications_total", "kind" => "presenceList")
        .increment(fanned_out);
    Ok(full)
}
