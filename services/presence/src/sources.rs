//! Temporary presence sources: hyper-availability (`overridingWillingness`) and service
//! capabilities, each with a granted lifetime (`presence.max_source_secs` at most). What
//! watchers see is the union of the live ones with the persistent attributes. A source
//! past its expiry reads as gone at once; [`Expiry`] deletes it soon after and makes the
//! change due to the watchers, so they are told of it without anyone calling DELETE (and
//! after a restart, of what expired while the service was down).

use chrono::{DateTime, Utc};
use parlay_kit::{db::begin_write, ids::new_id, wire};
use parlay_proto::presence::v1 as pb;
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use crate::{
    attributes::touch,
    core::Core,
    deliveries,
    entities::source,
    error::{Error, Result},
    expiry::Expiring,
};

/// The live sources of `user`, oldest first.
pub async fn live<C: ConnectionTrait>(
    db: &C,
    user: &str,
    now: DateTime<Utc>,
) -> Result<Vec<pb::PresenceSource>> {
    let rows = source::Entity::find()
        .filter(source::Column::UserId.eq(user))
        .filter(source::Column::ExpiresAt.gt(now))
        .order_by_asc(source::Column::CreatedAt)
        .order_by_asc(source::Column::Id)
        .all(db)
        .await?;
    Ok(rows.iter().filter_map(|r| decode(r).ok()).collect())
}

fn decode(row: &source::Model) -> Result<pb::PresenceSource> {
    pb::PresenceSource::decode(row.value.as_slice())
        .map_err(|e| Error::Db(sea_orm::DbErr::Custom(format!("stored source: {e}"))))
}

/// The union of live sources: the newest willingness, the newest capability per id.
pub fn union(
    sources: &[pb::PresenceSource],
) -> (
    Option<pb::OverridingWillingness>,
    Vec<pb::ServiceCapability>,
) {
    let willingness = sources
        .iter()
        .rev()
        .find_map(|s| s.overriding_willingness.clone());
    let mut capabilities: Vec<pb::ServiceCapability> = Vec::new();
    for s in sources.iter().rev() {
        for c in &s.service_capabilities {
            if !capabilities.iter().any(|k| k.service_id == c.service_id) {
                capabilities.push(c.clone());
            }
        }
    }
    capabilities.sort_by(|a, b| a.service_id.cmp(&b.service_id));
    (willingness, capabilities)
}

fn check(source: &pb::PresenceSource) -> Result<()> {
    if source.overriding_willingness.is_none() && source.service_capabilities.is_empty() {
        return Err(Error::Invalid("presenceSource"));
    }
    Ok(())
}

fn granted(core: &Core, requested: Option<u32>) -> i64 {
    let max = core.config.presence.max_source_secs;
    let secs = match requested {
        None | Some(0) => max,
        Some(d) => u64::from(d).min(max),
    };
    i64::try_from(secs).unwrap_or(i64::MAX / 2)
}

fn stamped(
    mut s: pb::PresenceSource,
    id: &str,
    secs: i64,
    expiry: DateTime<Utc>,
) -> pb::PresenceSource {
    s.presence_source_id = id.to_string();
    s.duration_secs = u32::try_from(secs).unwrap_or(u32::MAX);
    s.expiry = Some(wire::timestamp(expiry));
    s
}

/// Creates a source; a clientCorrelator of a live source of the user answers it.
pub async fn create(core: &Core, r: pb::CreateSourceRequest) -> Result<(pb::PresenceSource, bool)> {
    let wanted = r.source.ok_or(Error::Invalid("presenceSource"))?;
    check(&wanted)?;
    let user = r.user_id;
    let now = Utc::now();
    let txn = begin_write(&core.db).await?;
    if let Some(c) = &wanted.client_correlator
        && let Some(row) = source::Entity::find()
            .filter(source::Column::UserId.eq(&user))
            .filter(source::Column::ClientCorrelator.eq(c))
            .filter(source::Column::ExpiresAt.gt(now))
            .one(&txn)
            .await?
    {
        txn.rollback().await?;
        return Ok((decode(&row)?, false));
    }
    let count = source::Entity::find()
        .filter(source::Column::UserId.eq(&user))
        .filter(source::Column::ExpiresAt.gt(now))
        .count(&txn)
        .await?;
    if count >= core.config.presence.max_sources as u64 {
        txn.rollback().await?;
        return Err(Error::TooMany("presenceSource"));
    }
    let id = new_id("ps");
    let secs = granted(core, r.duration_secs);
    let expiry = now + chrono::Duration::seconds(secs);
    let stored = stamped(wanted, &id, secs, expiry);
    source::Entity::insert(source::ActiveModel {
        id: Set(id),
        user_id: Set(user.clone()),
        value: Set(stored.encode_to_vec()),
        client_correlator: Set(stored.client_correlator.clone()),
        expires_at: Set(expiry),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    touch(&txn, &user, now).await?;
    deliveries::presence_changed(&txn, core, &user, now).await?;
    txn.commit().await?;
    core.wake();
    Ok((stored, true))
}

async fn find<C: ConnectionTrait>(db: &C, user: &str, id: &str) -> Result<source::Model> {
    source::Entity::find_by_id(id.to_string())
        .filter(source::Column::UserId.eq(user))
        .filter(source::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
        .ok_or(Error::NotFound("presenceSourceId"))
}

pub async fn get(core: &Core, user: &str, id: &str) -> Result<pb::PresenceSource> {
    decode(&find(&core.db, user, id).await?)
}

/// Replaces a live source's content and restarts its lifetime from now.
pub async fn refresh(core: &Core, r: pb::CreateSourceRequest) -> Result<pb::PresenceSource> {
    let wanted = r.source.ok_or(Error::Invalid("presenceSource"))?;
    check(&wanted)?;
    let now = Utc::now();
    let txn = begin_write(&core.db).await?;
    let row = match find(&txn, &r.user_id, &r.presence_source_id).await {
        Ok(row) => row,
        Err(e) => {
            txn.rollback().await?;
            return Err(e);
        }
    };
    let secs = granted(core, r.duration_secs);
    let expiry = now + chrono::Duration::seconds(secs);
    let mut stored = stamped(wanted, &row.id, secs, expiry);
    stored.client_correlator = row.client_correlator.clone();
    source::Entity::update(source::ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        value: Set(stored.encode_to_vec()),
        client_correlator: Set(row.client_correlator),
        expires_at: Set(expiry),
        created_at: Set(row.created_at),
    })
    .exec(&txn)
    .await?;
    touch(&txn, &r.user_id, now).await?;
    deliveries::presence_changed(&txn, core, &r.user_id, now).await?;
    txn.commit().await?;
    core.wake();
    Ok(stored)
}

pub async fn delete(core: &Core, user: &str, id: &str) -> Result<()> {
    let now = Utc::now();
    let txn = begin_write(&core.db).await?;
    if let Err(e) = find(&txn, user, id).await {
        txn.rollback().await?;
        return Err(e);
    }
    source::Entity::delete_by_id(id.to_string())
        .exec(&txn)
        .await?;
    touch(&txn, user, now).await?;
    deliveries::presence_changed(&txn, core, user, now).await?;
    txn.commit().await?;
    core.wake();
    Ok(())
}

/// Deletes expired sources and makes the change due to their users' watchers; returns when
/// the next one expires.
async fn expire(core: &Core) -> Result<Option<DateTime<Utc>>> {
    let now = Utc::now();
    let expired = source::Entity::find()
        .filter(source::Column::ExpiresAt.lte(now))
        .order_by_asc(source::Column::ExpiresAt)
        .all(&core.db)
        .await?;
    if !expired.is_empty() {
        let txn = begin_write(&core.db).await?;
        for row in &expired {
            let gone = source::Entity::delete_by_id(row.id.clone())
                .exec(&txn)
                .await?;
            // Another replica may have taken it.
            if gone.rows_affected == 1 {
                touch(&txn, &row.user_id, now).await?;
                deliveries::presence_changed(&txn, core, &row.user_id, now).await?;
            }
        }
        txn.commit().await?;
        core.wake();
        tracing::debug!(
            expired = expired.len(),
            "temporary presence sources expired"
        );
    }
    Ok(source::Entity::find()
        .order_by_asc(source::Column::ExpiresAt)
        .one(&core.db)
        .await?
        .map(|s| s.expires_at))
}

/// Temporary sources end at their expiry ([`crate::expiry`]).
pub struct Expiry;

impl Expiring for Expiry {
    const WHAT: &'static str = "temporary presence sources";

    fn expire(core: &Core) -> impl Future<Output = Result<Option<DateTime<Utc>>>> + Send {
        expire(core)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(id: &str, status: &str) -> pb::ServiceCapability {
        pb::ServiceCapability {
            service_id: id.into(),
            version: None,
            status: status.into(),
        }
    }

    #[test]
    fn the_newest_source_wins_per_element() {
        let older = pb::PresenceSource {
            overriding_willingness: Some(pb::OverridingWillingness {
                basic: "closed".into(),
                until: None,
            }),
            service_capabilities: vec![cap("chat", "open"), cap("ft", "open")],
            ..Default::default()
        };
        let newer = pb::PresenceSource {
            service_capabilities: vec![cap("chat", "closed")],
            ..Default::default()
        };
        let (w, caps) = union(&[older, newer]);
        assert_eq!(w.unwrap().basic, "closed");
        assert_eq!(caps, vec![cap("chat", "closed"), cap("ft", "open")]);
        assert_eq!(union(&[]), (None, vec![]));
    }
}
