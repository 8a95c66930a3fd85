//! Watchers and presence-list subscriptions of an application. Each belongs to the
//! application that made it (another application's reads as not found); past its lifetime
//! it notifies nothing and reads as not found, and [`Expiry`] ends it: deleted, and its
//! application told with a `subscriptionCancellationNotification`. A clientCorrelator
//! the application used for a live subscription of the same kind and user answers that
//! subscription (created = false). A new presence-list subscription is sent the current
//! presence of every contact of its list the user may see (RFC 3856's first NOTIFY).

use chrono::{DateTime, Utc};
use parlay_kit::{db::begin_write, ids::new_id};
use parlay_proto::{common::v1::Callback, presence::v1 as pb};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::{
    core::Core,
    deliveries::{self, KIND_LIST},
    domain,
    entities::{delivery, subscription},
    error::{Error, Result},
    expiry::Expiring,
    notifications, relations,
};

fn to_pb(s: &subscription::Model) -> pb::Subscription {
    pb::Subscription {
        subscription_id: s.id.clone(),
        user_id: s.user_id.clone(),
        contact_list_id: s.list_id.clone(),
        callback: Some(Callback {
            notify_url: s.notify_url.clone(),
            callback_data: s.callback_data.clone(),
        }),
        client_correlator: s.client_correlator.clone(),
        duration_secs: u32::try_from(s.duration_secs).unwrap_or(u32::MAX),
        path_user_id: s.path_user_id.clone(),
    }
}

/// Creates a subscription of `kind` for `app`.
pub async fn create(
    core: &Core,
    app: &str,
    kind: &'static str,
    request: pb::CreateSubscriptionRequest,
) -> Result<(pb::Subscription, bool)> {
    let sub = request.subscription.ok_or(Error::Invalid("subscription"))?;
    let callback = sub
        .callback
        .filter(|c| !c.notify_url.is_empty())
        .ok_or(Error::Invalid("callbackReference"))?;
    if sub.user_id.is_empty() {
        return Err(Error::Invalid("userId"));
    }
    let list_id = if kind == KIND_LIST {
        if !relations::list_exists(&core.db, &sub.user_id, &sub.contact_list_id).await? {
            return Err(Error::NotFound("contactListId"));
        }
        sub.contact_list_id.clone()
    } else {
        String::new()
    };
    let now = Utc::now();
    if let Some(correlator) = &sub.client_correlator
        && let Some(existing) = subscription::Entity::find()
            .filter(subscription::Column::AppId.eq(app))
            .filter(subscription::Column::Kind.eq(kind))
            .filter(subscription::Column::UserId.eq(&sub.user_id))
            .filter(subscription::Column::ListId.eq(&list_id))
            .filter(subscription::Column::ClientCorrelator.eq(correlator))
            .filter(subscription::Column::ExpiresAt.gt(now))
            .one(&core.db)
            .await?
    {
        return Ok((to_pb(&existing), false));
    }
    let max = core.config.presence.max_subscription_secs;
    let duration = match request.duration_secs {
        None | Some(0) => max,
        Some(d) => u64::from(d).min(max),
    };
    let duration = i64::try_from(duration).unwrap_or(i64::MAX / 2);
    let model = subscription::Model {
        id: new_id(if kind == KIND_LIST { "pls" } else { "ws" }),
        app_id: app.to_string(),
        kind: kind.to_string(),
        user_id: sub.user_id.clone(),
        path_user_id: if sub.path_user_id.is_empty() {
            sub.user_id.clone()
        } else {
            sub.path_user_id.clone()
        },
        list_id: list_id.clone(),
        notify_url: callback.notify_url,
        callback_data: callback.callback_data,
        client_correlator: sub.client_correlator.clone(),
        duration_secs: duration,
        expires_at: now + chrono::Duration::seconds(duration),
        created_at: now,
    };
    let txn = begin_write(&core.db).await?;
    subscription::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    if kind == KIND_LIST {
        for contact in relations::members(&txn, &model.user_id, &list_id).await? {
            let state = relations::state_of(&txn, &model.user_id, &contact).await?;
            if domain::may_see(state) {
                deliveries::schedule(&txn, core, &model.id, &contact, now).await?;
            }
        }
    }
    txn.commit().await?;
    core.wake();
    Ok((to_pb(&model), true))
}

async fn find(
    core: &Core,
    app: &str,
    kind: &str,
    r: &pb::SubscriptionRef,
) -> Result<subscription::Model> {
    subscription::Entity::find_by_id(r.subscription_id.clone())
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::Kind.eq(kind))
        .filter(subscription::Column::UserId.eq(&r.user_id))
        .filter(subscription::Column::ListId.eq(&r.contact_list_id))
        .filter(subscription::Column::ExpiresAt.gt(Utc::now()))
        .one(&core.db)
        .await?
        .ok_or(Error::NotFound("subscriptionId"))
}

pub async fn get(
    core: &Core,
    app: &str,
    kind: &str,
    r: &pb::SubscriptionRef,
) -> Result<pb::Subscription> {
    find(core, app, kind, r).await.map(|s| to_pb(&s))
}

/// `app`'s live presence-list subscriptions of a user's list, oldest first.
pub async fn list(
    core: &Core,
    app: &str,
    user: &str,
    list_id: &str,
) -> Result<Vec<pb::Subscription>> {
    if !relations::list_exists(&core.db, user, list_id).await? {
        return Err(Error::NotFound("contactListId"));
    }
    let rows = subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::Kind.eq(KIND_LIST))
        .filter(subscription::Column::UserId.eq(user))
        .filter(subscription::Column::ListId.eq(list_id))
        .filter(subscription::Column::ExpiresAt.gt(Utc::now()))
        .order_by_asc(subscription::Column::CreatedAt)
        .order_by_asc(subscription::Column::Id)
        .all(&core.db)
        .await?;
    Ok(rows.iter().map(to_pb).collect())
}

pub async fn remove(core: &Core, app: &str, kind: &str, r: &pb::SubscriptionRef) -> Result<()> {
    let found = find(core, app, kind, r).await?;
    delete_ids(&core.db, vec![found.id]).await?;
    Ok(())
}

async fn delete_ids(db: &DatabaseConnection, ids: Vec<String>) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let txn = begin_write(db).await?;
    delivery::Entity::delete_many()
        .filter(delivery::Column::SubscriptionId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let done = subscription::Entity::delete_many()
        .filter(subscription::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(done.rows_affected)
}

/// Subscriptions ended in one transaction.
const BATCH: u64 = 500;

/// Ends the subscriptions whose lifetime is over: each is deleted with what was coalescing
/// for it, and its application is sent a `subscriptionCancellationNotification` through
/// the outbox in the same transaction. Returns when the next one ends.
async fn expire(core: &Core) -> Result<Option<DateTime<Utc>>> {
    loop {
        let now = Utc::now();
        let mut expired = subscription::Entity::find()
            .filter(subscription::Column::ExpiresAt.lte(now))
            .order_by_asc(subscription::Column::ExpiresAt)
            .order_by_asc(subscription::Column::Id)
            .limit(BATCH)
            .all(&core.db)
            .await?;
        if expired.is_empty() {
            break;
        }
        // Their deliveries are locked in subscription-id order, as a change locks them.
        expired.sort_by(|a, b| a.id.cmp(&b.id));
        let txn = begin_write(&core.db).await?;
        let mut ended = 0u64;
        let mut jobs = Vec::new();
        for sub in &expired {
            let gone = subscription::Entity::delete_by_id(sub.id.clone())
                .exec(&txn)
                .await?;
            // Another replica may have ended it.
            if gone.rows_affected != 1 {
                continue;
            }
            delivery::Entity::delete_many()
                .filter(delivery::Column::SubscriptionId.eq(&sub.id))
                .exec(&txn)
                .await?;
            if let Some(job) = notifications::cancellation_job(core, sub, now) {
                // The order key of the subscription's other notifications, so this one
                // follows them.
                let key = if sub.kind == KIND_LIST {
                    sub.id.as_str()
                } else {
                    notifications::WATCHERS_ORDER_KEY
                };
                jobs.push((key.to_string(), vec![job]));
            }
            ended += 1;
        }
        let recorded = parlay_kit::outbox::enqueue_many(&txn, jobs).await?;
        txn.commit().await?;
        core.waker.hand(recorded);
        core.wake();
        tracing::debug!(ended, "presence subscriptions expired");
        if (expired.len() as u64) < BATCH {
            break;
        }
    }
    Ok(subscription::Entity::find()
        .order_by_asc(subscription::Column::ExpiresAt)
        .one(&core.db)
        .await?
        .map(|s| s.expires_at))
}

/// Subscriptions end when their `duration` runs out ([`crate::expiry`]).
pub struct Expiry;

impl Expiring for Expiry {
    const WHAT: &'static str = "presence subscriptions";

    fn expire(core: &Core) -> impl Future<Output = Result<Option<DateTime<Utc>>>> + Send {
        expire(core)
    }
}
