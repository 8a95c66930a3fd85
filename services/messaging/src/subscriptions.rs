//! Inbound-message subscriptions: an application asks to be notified of messages received
//! on some destination addresses, optionally only those whose first word is a keyword
//! (`criteria`). Each belongs to the application that made it; past its lifetime it matches
//! nothing, reads as not found, and is later deleted by the janitor.
//!
//! Matching by destination goes through `messaging_subscription_addresses` (one row per
//! watched address, lower-cased).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use parlay_kit::{db::begin_write, ids::new_id};
use parlay_model::address::same_ignoring_case;
use parlay_proto::{common::v1::Callback, messaging::v1 as pb};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    IdenStatic, IntoActiveModel, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
    SelectA, SelectB, Statement,
};
use sha2::{Digest, Sha256};

use crate::{
    convert::{self, addresses_of},
    core::Core,
    domain::{self, Filter},
    entities::{subscription, watched},
    error::{Error, Result, is_unique_violation},
};

/// The read of the live subscriptions watching each of some destinations
/// (case-insensitively, keyed lower-cased), whatever their criteria, oldest first, in one
/// statement, for a transaction that runs it with others; [`Watching::found`] reads what it
/// returned.
pub struct Watching {
    /// None when no destination was given.
    pub statement: Option<Statement>,
    found: HashMap<String, Vec<subscription::Model>>,
}

impl Watching {
    pub fn of<'a>(
        backend: DbBackend,
        destinations: impl IntoIterator<Item = &'a str>,
        now: DateTime<Utc>,
    ) -> Self {
        let found: HashMap<String, Vec<subscription::Model>> = destinations
            .into_iter()
            .map(|d| (d.to_lowercase(), Vec::new()))
            .collect();
        let statement = (!found.is_empty()).then(|| {
            watched::Entity::find()
                .find_also_related(subscription::Entity)
                .filter(watched::Column::Address.is_in(found.keys().cloned()))
                .filter(subscription::Column::ExpiresAt.gt(now))
                .order_by_asc(subscription::Column::CreatedAt)
                .order_by_asc(subscription::Column::Id)
                .build(backend)
        });
        Self { statement, found }
    }

    /// Each destination's subscriptions, given the rows the statement returned.
    pub fn found(self, rows: &[QueryResult]) -> Result<HashMap<String, Vec<subscription::Model>>> {
        let Self { mut found, .. } = self;
        for row in rows {
            // The two sides of the join, as sea-orm names their columns.
            let watch = watched::Model::from_query_result(row, SelectA.as_str())?;
            let subscription =
                subscription::Model::from_query_result_optional(row, SelectB.as_str())?;
            if let (Some(subscription), Some(of)) = (subscription, found.get_mut(&watch.address)) {
                of.push(subscription);
            }
        }
        Ok(found)
    }
}

/// A create request, checked and normalised.
struct Checked {
    /// Distinct case-insensitively, in the order given (the first spelling kept).
    addresses: Vec<String>,
    criteria: Option<String>,
    callback: Callback,
    duration_secs: i64,
}

fn check(core: &Core, sub: &pb::InboundSubscription) -> Result<Checked> {
    let callback = sub
        .callback
        .clone()
        .filter(|c| !c.notify_url.trim().is_empty())
        .ok_or(Error::Invalid("callbackReference"))?;
    let mut addresses: Vec<String> = Vec::new();
    for a in &sub.destination_addresses {
        let a = a.trim();
        if !a.is_empty() && !addresses.iter().any(|x| same_ignoring_case(x, a)) {
            addresses.push(a.to_string());
        }
    }
    if addresses.is_empty() {
        return Err(Error::Invalid("destinationAddress"));
    }
    let criteria = sub
        .criteria
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let max = core.config.messaging.max_subscription_secs;
    let duration_secs = match sub.duration_secs {
        None | Some(0) => max,
        Some(d) => u64::from(d).min(max),
    };
    Ok(Checked {
        addresses,
        criteria,
        callback,
        duration_secs: i64::try_from(duration_secs).unwrap_or(i64::MAX),
    })
}

/// What makes two creation requests "the same" for clientCorrelator purposes.
fn request_hash(c: &Checked, requested_duration: Option<u32>) -> String {
    let mut h = Sha256::new();
    let mut part = |s: Option<&str>| match s {
        None => h.update([1]),
        Some(s) => {
            h.update([2]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    };
    part(Some(&c.addresses.len().to_string()));
    for a in &c.addresses {
        part(Some(a));
    }
    part(c.criteria.as_deref());
    part(Some(&requested_duration.unwrap_or(0).to_string()));
    part(Some(&c.callback.notify_url));
    part(c.callback.callback_data.as_deref());
    hex::encode(h.finalize())
}

/// Creates a subscription for `app`, or answers the earlier one with the same
/// clientCorrelator (created = false). Refused with SVC0008 when it overlaps a live one of
/// the same application ([`domain::overlap`]).
pub async fn create(
    core: &Core,
    app: &str,
    sub: pb::InboundSubscription,
) -> Result<(pb::InboundSubscription, bool)> {
    let c = check(core, &sub)?;
    let hash = request_hash(&c, sub.duration_secs);
    let now = Utc::now();
    if let Some(correlator) = &sub.client_correlator
        && let Some(answer) = replay(core, app, correlator, &hash, now).await?
    {
        return Ok(answer);
    }
    let model = subscription::Model {
        id: new_id("is"),
        app_id: app.to_string(),
        notify_url: c.callback.notify_url.clone(),
        callback_data: c.callback.callback_data.clone(),
        client_correlator: sub.client_correlator.clone(),
        request_hash: hash.clone(),
        addresses: serde_json::to_string(&c.addresses).unwrap_or_else(|_| "[]".into()),
        criteria: c.criteria.clone(),
        duration_secs: c.duration_secs,
        expires_at: now + chrono::Duration::seconds(c.duration_secs),
        created_at: now,
    };
    match insert(&core.db, &model, &c, now).await {
        Ok(()) => Ok((convert::subscription(&model), true)),
        Err(e) if is_unique_violation(&e) => {
            let correlator = sub.client_correlator.as_deref().unwrap_or_default();
            replay(core, app, correlator, &hash, now).await?.ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// The answer to a create whose correlator `app` used before: the live subscription when
/// the request is the same, SVC0005 otherwise. None when the correlator is free (an expired
/// subscription gives its correlator up: it is deleted here).
async fn replay(
    core: &Core,
    app: &str,
    correlator: &str,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(pb::InboundSubscription, bool)>> {
    let Some(existing) = subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::ClientCorrelator.eq(correlator))
        .one(&core.db)
        .await?
    else {
        return Ok(None);
    };
    if existing.expires_at <= now {
        delete(&core.db, &existing.id).await?;
        return Ok(None);
    }
    if existing.request_hash != hash {
        return Err(Error::CorrelatorReused(correlator.to_string()));
    }
    Ok(Some((convert::subscription(&existing), false)))
}

/// Stores the subscription unless it overlaps one of the application's. The check and the
/// insert are one write transaction, serialised per application (SQLite: the write lock;
/// PostgreSQL: an advisory lock on the application), so two concurrent requests cannot
/// both pass it.
async fn insert(
    db: &DatabaseConnection,
    model: &subscription::Model,
    c: &Checked,
    now: DateTime<Utc>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("messaging-subscriptions:{}", model.app_id).into()],
        ))
        .await?;
    }
    let mine = subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(&model.app_id))
        .filter(subscription::Column::ExpiresAt.gt(now))
        .all(&txn)
        .await?;
    let new = Filter {
        addresses: &c.addresses,
        criteria: c.criteria.as_deref(),
    };
    for existing in &mine {
        let addresses = addresses_of(existing);
        let theirs = Filter {
            addresses: &addresses,
            criteria: existing.criteria.as_deref(),
        };
        if let Some(on) = domain::overlap(theirs, new) {
            txn.rollback().await?;
            return Err(Error::Overlap(on));
        }
    }
    subscription::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    let rows = c.addresses.iter().map(|a| {
        watched::Model {
            subscription_id: model.id.clone(),
            address: a.to_lowercase(),
        }
        .into_active_model()
    });
    watched::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// `app`'s live subscription `id`.
pub async fn get(core: &Core, app: &str, id: &str) -> Result<pb::InboundSubscription> {
    find(core, app, id).await.map(|s| convert::subscription(&s))
}

async fn find(core: &Core, app: &str, id: &str) -> Result<subscription::Model> {
    subscription::Entity::find_by_id(id.to_string())
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::ExpiresAt.gt(Utc::now()))
        .one(&core.db)
        .await?
        .ok_or(Error::NotFound("subscriptionId"))
}

/// `app`'s live subscriptions, oldest first.
pub async fn list(core: &Core, app: &str) -> Result<Vec<pb::InboundSubscription>> {
    let found = subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(subscription::Column::CreatedAt)
        .order_by_asc(subscription::Column::Id)
        .all(&core.db)
        .await?;
    Ok(found.iter().map(convert::subscription).collect())
}

/// Deletes `app`'s live subscription `id`.
pub async fn remove(core: &Core, app: &str, id: &str) -> Result<()> {
    let found = find(core, app, id).await?;
    delete(&core.db, &found.id).await
}

async fn delete(db: &DatabaseConnection, id: &str) -> Result<()> {
    let txn = begin_write(db).await?;
    delete_ids(&txn, vec![id.to_string()]).await?;
    txn.commit().await?;
    Ok(())
}

async fn delete_ids<C: ConnectionTrait>(db: &C, ids: Vec<String>) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    watched::Entity::delete_many()
        .filter(watched::Column::SubscriptionId.is_in(ids.clone()))
        .exec(db)
        .await?;
    let done = subscription::Entity::delete_many()
        .filter(subscription::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Deletes subscriptions whose lifetime ended before `cutoff`; returns how many.
pub async fn purge_expired(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> Result<u64> {
    let ids: Vec<String> = subscription::Entity::find()
        .select_only()
        .column(subscription::Column::Id)
        .filter(subscription::Column::ExpiresAt.lt(cutoff))
        .into_tuple()
        .all(db)
        .await?;
    let txn = begin_write(db).await?;
    let n = delete_ids(&txn, ids).await?;
    txn.commit().await?;
    Ok(n)
}
