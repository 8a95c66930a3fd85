//! Who may see whom: the mirror of the users' lists the address-list service tells us
//! about ([`apply`]), and the watcher states derived from the `rcs` and `rcs_revoke` lists
//! by [`crate::domain`], stored so that each change is notified once.

use chrono::{DateTime, Utc};
use parlay_kit::{bus::Envelope, db::begin_write};
use parlay_proto::presence::v1 as pb;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, Statement,
};

use crate::{
    core::Core,
    deliveries,
    domain::{self, State},
    entities::{list, member, watcher},
    error::Result,
    notifications,
};

pub const RCS: &str = "rcs";
pub const RCS_REVOKE: &str = "rcs_revoke";

/// Is `member` in `owner`'s list `list_id`?
pub async fn in_list<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    list_id: &str,
    member_id: &str,
) -> Result<bool> {
    Ok(member::Entity::find_by_id((
        owner.to_string(),
        list_id.to_string(),
        member_id.to_string(),
    ))
    .one(db)
    .await?
    .is_some_and(|m| m.present))
}

/// The members of `owner`'s list `list_id`.
pub async fn members<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    list_id: &str,
) -> Result<Vec<String>> {
    Ok(member::Entity::find()
        .filter(member::Column::Owner.eq(owner))
        .filter(member::Column::ListId.eq(list_id))
        .filter(member::Column::Present.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.member)
        .collect())
}

/// Does `owner` have list `list_id`? `rcs` and `rcs_revoke` always.
pub async fn list_exists<C: ConnectionTrait>(db: &C, owner: &str, list_id: &str) -> Result<bool> {
    if list_id == RCS || list_id == RCS_REVOKE {
        return Ok(true);
    }
    Ok(
        list::Entity::find_by_id((owner.to_string(), list_id.to_string()))
            .one(db)
            .await?
            .is_some_and(|l| l.present),
    )
}

/// The stored state of `watcher` at `presentity`.
pub async fn state_of<C: ConnectionTrait>(
    db: &C,
    watcher_id: &str,
    presentity: &str,
) -> Result<Option<State>> {
    Ok(
        watcher::Entity::find_by_id((presentity.to_string(), watcher_id.to_string()))
            .one(db)
            .await?
            .and_then(|w| State::parse(&w.state)),
    )
}

/// Applies list changes from the address-list service in one transaction: each one newer
/// than what is stored for its key; watcher states recomputed for the pairs an `rcs` or
/// `rcs_revoke` change touches, with their notifications.
pub async fn apply(core: &Core, changes: Vec<pb::ListChange>) -> Result<()> {
    let txn = begin_write(&core.db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            ["presence-lists".into()],
        ))
        .await?;
    }
    let now = Utc::now();
    let mut jobs = Vec::new();
    for c in changes {
        if c.owner.is_empty() || c.contact_list_id.is_empty() {
            continue;
        }
        if c.member.is_empty() {
            upsert_list(&txn, &c).await?;
            continue;
        }
        if upsert_member(&txn, &c).await? != Applied::Membership {
            continue;
        }
        if c.contact_list_id == RCS || c.contact_list_id == RCS_REVOKE {
            recompute(&txn, core, &c.owner, &c.member, now, &mut jobs).await?;
            recompute(&txn, core, &c.member, &c.owner, now, &mut jobs).await?;
        } else if c.present {
            if domain::may_see(state_of(&txn, &c.owner, &c.member).await?) {
                deliveries::schedule_for_watcher(
                    &txn,
                    core,
                    &c.owner,
                    &c.member,
                    Some(&c.contact_list_id),
                    now,
                )
                .await?;
            }
        } else {
            deliveries::drop_pending(&txn, &c.owner, &c.member, Some(&c.contact_list_id)).await?;
        }
    }
    let watcher_jobs = jobs.len() as u64;
    let recorded =
        parlay_kit::outbox::enqueue(&txn, notifications::WATCHERS_ORDER_KEY, jobs).await?;
    txn.commit().await?;
    core.waker.hand(recorded);
    metrics::counter!("parlay_presence_notifications_total", "kind" => "watchers")
        .increment(watcher_jobs);
    core.wake();
    Ok(())
}

async fn upsert_list<C: ConnectionTrait>(db: &C, c: &pb::ListChange) -> Result<bool> {
    let key = (c.owner.clone(), c.contact_list_id.clone());
    let row = list::Model {
        owner: c.owner.clone(),
        list_id: c.contact_list_id.clone(),
        present: c.present,
        seq: c.seq,
    };
    match list::Entity::find_by_id(key).one(db).await? {
        Some(old) if old.seq >= c.seq => Ok(false),
        Some(_) => {
            list::Entity::update(row.into_active_model().reset_all())
                .exec(db)
                .await?;
            Ok(true)
        }
        None => {
            list::Entity::insert(row.into_active_model())
                .exec_without_returning(db)
                .await?;
            Ok(true)
        }
    }
}

/// What storing a member change did.
#[derive(Debug, PartialEq, Eq)]
enum Applied {
    /// A newer change of the key was stored already.
    Stale,
    /// The member stays as it was (in or out); at most its display name changed.
    Renamed,
    /// The member came or went.
    Membership,
}

/// Stores a member change unless a newer one is stored.
async fn upsert_member<C: ConnectionTrait>(db: &C, c: &pb::ListChange) -> Result<Applied> {
    let key = (c.owner.clone(), c.contact_list_id.clone(), c.member.clone());
    let row = member::Model {
        owner: c.owner.clone(),
        list_id: c.contact_list_id.clone(),
        member: c.member.clone(),
        present: c.present,
        seq: c.seq,
        display_name: c.display_name.clone().filter(|_| c.present),
    };
    match member::Entity::find_by_id(key).one(db).await? {
        Some(old) if old.seq >= c.seq => Ok(Applied::Stale),
        Some(old) => {
            member::Entity::update(row.into_active_model().reset_all())
                .exec(db)
                .await?;
            Ok(if old.present == c.present {
                Applied::Renamed
            } else {
                Applied::Membership
            })
        }
        None => {
            member::Entity::insert(row.into_active_model())
                .exec_without_returning(db)
                .await?;
            Ok(Applied::Membership)
        }
    }
}

/// The order in which a presentity's lists name a watcher: `rcs` first (the contacts it
/// authorised), then `rcs_revoke`, then its other lists by id.
fn name_rank(list_id: &str) -> (u8, &str) {
    match list_id {
        RCS => (0, ""),
        RCS_REVOKE => (1, ""),
        other => (2, other),
    }
}

/// The display names `presentity` gave its list members (`watcher.displayName`): each
/// member's name from the first list that names it, in [`name_rank`] order.
async fn display_names<C: ConnectionTrait>(
    db: &C,
    presentity: &str,
    only: Option<&str>,
) -> Result<std::collections::HashMap<String, String>> {
    let mut q = member::Entity::find()
        .filter(member::Column::Owner.eq(presentity))
        .filter(member::Column::Present.eq(true))
        .filter(member::Column::DisplayName.is_not_null());
    if let Some(m) = only {
        q = q.filter(member::Column::Member.eq(m));
    }
    let mut rows = q.all(db).await?;
    rows.sort_by(|a, b| name_rank(&a.list_id).cmp(&name_rank(&b.list_id)));
    let mut names = std::collections::HashMap::new();
    for row in rows {
        if let Some(name) = row.display_name {
            names.entry(row.member).or_insert(name);
        }
    }
    Ok(names)
}

/// The display name `presentity` gave `watcher` in its lists, if any.
pub async fn display_name<C: ConnectionTrait>(
    db: &C,
    presentity: &str,
    watcher_id: &str,
) -> Result<Option<String>> {
    Ok(display_names(db, presentity, Some(watcher_id))
        .await?
        .remove(watcher_id))
}

/// Derives `w`'s state at `p` from the lists, stores it, and when it changed: notifies
/// `p`'s watchers subscriptions, makes `p`'s presence due to `w`'s list subscriptions when
/// `w` may now see it, and drops what was coalescing for `w` when it may no longer.
async fn recompute<C: ConnectionTrait>(
    db: &C,
    core: &Core,
    w: &str,
    p: &str,
    now: DateTime<Utc>,
    jobs: &mut Vec<Envelope>,
) -> Result<()> {
    let asked = in_list(db, w, RCS, p).await?;
    let authorised = in_list(db, p, RCS, w).await?;
    let revoked = in_list(db, p, RCS_REVOKE, w).await?;
    let new = domain::state(asked, authorised, revoked);
    let old = state_of(db, w, p).await?;
    if old == new {
        return Ok(());
    }
    let key = (p.to_string(), w.to_string());
    match new {
        None => {
            watcher::Entity::delete_by_id(key).exec(db).await?;
        }
        Some(state) => {
            let row = watcher::ActiveModel {
                presentity: Set(p.to_string()),
                watcher: Set(w.to_string()),
                state: Set(state.as_str().to_string()),
                updated_at: Set(now),
            };
            if old.is_some() {
                watcher::Entity::update(row).exec(db).await?;
            } else {
                watcher::Entity::insert(row)
                    .exec_without_returning(db)
                    .await?;
            }
        }
    }
    if let Some(shown) = domain::watcher_change(old, new) {
        jobs.extend(notifications::watcher_jobs(db, core, p, w, shown, now).await?);
    }
    match (domain::may_see(old), domain::may_see(new)) {
        (false, true) => deliveries::schedule_for_watcher(db, core, w, p, None, now).await?,
        (true, false) => deliveries::drop_pending(db, w, p, None).await?,
        _ => {}
    }
    Ok(())
}

/// The watchers of `presentity` with their states, oldest change first.
pub async fn watchers(core: &Core, presentity: &str) -> Result<Vec<pb::Watcher>> {
    use sea_orm::QueryOrder;
    let rows = watcher::Entity::find()
        .filter(watcher::Column::Presentity.eq(presentity))
        .order_by_asc(watcher::Column::UpdatedAt)
        .order_by_asc(watcher::Column::Watcher)
        .all(&core.db)
        .await?;
    let mut names = display_names(&core.db, presentity, None).await?;
    Ok(rows
        .into_iter()
        .map(|w| {
            let mut out = pb::Watcher {
                display_name: names.remove(&w.watcher),
                watcher_id: w.watcher,
                status: 0,
            };
            out.set_status(notifications::status_pb(domain::Shown::of(State::parse(
                &w.state,
            ))));
            out
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watchers_name_comes_from_rcs_then_rcs_revoke_then_other_lists() {
        let mut lists = vec!["work", RCS_REVOKE, "family", RCS];
        lists.sort_by_key(|l| name_rank(l));
        assert_eq!(lists, [RCS, RCS_REVOKE, "family", "work"]);
    }
}
