//! Contact lists and their members. Every user has the lists `rcs` (presence buddies) and
//! `rcs_revoke` (revoked / blocked contacts); they cannot be deleted or renamed, and a
//! contact is never in both: adding it to one removes it from the other. Every change of a
//! membership or of a list's existence is recorded in `addresslist_changes` in the same
//! transaction, for [`crate::sync`] to hand to the presence service.

use chrono::Utc;
use parlay_kit::{db::begin_write, ids::new_id};
use parlay_proto::addresslist::v1 as pb;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Statement,
};

use crate::{
    core::Core,
    entities::{change, list, member},
    error::{Error, Result},
};

/// The RCS presence buddy list.
pub const RCS: &str = "rcs";
/// The revoked / blocked contacts.
pub const RCS_REVOKE: &str = "rcs_revoke";

/// Is `id` one of the lists every user has?
pub fn is_reserved(id: &str) -> bool {
    id == RCS || id == RCS_REVOKE
}

/// The list a contact leaves when it joins `id` (RCS: never in both).
fn opposite(id: &str) -> Option<&'static str> {
    match id {
        RCS => Some(RCS_REVOKE),
        RCS_REVOKE => Some(RCS),
        _ => None,
    }
}

/// A list id a client may choose: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
pub fn valid_list_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn attributes_json(attributes: &[pb::Attribute]) -> String {
    let pairs: Vec<(&str, &str)> = attributes
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

fn attributes_of(json: &str) -> Vec<pb::Attribute> {
    serde_json::from_str::<Vec<(String, String)>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| pb::Attribute { name, value })
        .collect()
}

fn list_pb(id: &str, row: Option<&list::Model>) -> pb::ContactList {
    pb::ContactList {
        contact_list_id: id.to_string(),
        display_name: row.and_then(|r| r.display_name.clone()),
        attributes: row
            .map(|r| attributes_of(&r.attributes))
            .unwrap_or_default(),
    }
}

fn member_pb(m: &member::Model) -> pb::Member {
    pb::Member {
        member_id: m.member_id.clone(),
        display_name: m.display_name.clone(),
        attributes: attributes_of(&m.attributes),
    }
}

/// A write transaction serialised per user (SQLite: the write lock; PostgreSQL: an
/// advisory lock on the user), so counts checked in it stay true until it commits.
async fn begin_for(db: &DatabaseConnection, owner: &str) -> Result<DatabaseTransaction> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("addresslist:{owner}").into()],
        ))
        .await?;
    }
    Ok(txn)
}

/// Records a change for presence: of a list (`member` empty), or of a member leaving it.
async fn record<C: ConnectionTrait>(
    txn: &C,
    owner: &str,
    list_id: &str,
    member: &str,
    present: bool,
) -> Result<()> {
    record_named(txn, owner, list_id, member, present, None).await
}

/// Records a change of a member for presence, with the display name it has in the list
/// after the change (presence shows it as `watcher.displayName`).
async fn record_named<C: ConnectionTrait>(
    txn: &C,
    owner: &str,
    list_id: &str,
    member: &str,
    present: bool,
    display_name: Option<String>,
) -> Result<()> {
    change::Entity::insert(change::ActiveModel {
        owner: Set(owner.to_string()),
        list_id: Set(list_id.to_string()),
        member: Set(member.to_string()),
        present: Set(present),
        display_name: Set(display_name),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

async fn list_row<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    id: &str,
) -> Result<Option<list::Model>> {
    Ok(
        list::Entity::find_by_id((owner.to_string(), id.to_string()))
            .one(db)
            .await?,
    )
}

/// Does `owner` have list `id`? NotFound naming `contactListId` otherwise.
async fn require_list<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    id: &str,
) -> Result<Option<list::Model>> {
    let row = list_row(db, owner, id).await?;
    if row.is_none() && !is_reserved(id) {
        return Err(Error::NotFound("contactListId"));
    }
    Ok(row)
}

/// The user's lists: `rcs`, `rcs_revoke`, then the others oldest first.
pub async fn lists(core: &Core, owner: &str) -> Result<Vec<pb::ContactList>> {
    let rows = list::Entity::find()
        .filter(list::Column::Owner.eq(owner))
        .order_by_asc(list::Column::CreatedAt)
        .order_by_asc(list::Column::ListId)
        .all(&core.db)
        .await?;
    let mut out: Vec<pb::ContactList> = [RCS, RCS_REVOKE]
        .iter()
        .map(|id| list_pb(id, rows.iter().find(|r| r.list_id == *id)))
        .collect();
    out.extend(
        rows.iter()
            .filter(|r| !is_reserved(&r.list_id))
            .map(|r| list_pb(&r.list_id, Some(r))),
    );
    Ok(out)
}

/// Creates a list (a generated id when none is given).
pub async fn create(core: &Core, owner: &str, wanted: pb::ContactList) -> Result<pb::ContactList> {
    let id = if wanted.contact_list_id.is_empty() {
        new_id("cl")
    } else if valid_list_id(&wanted.contact_list_id) {
        wanted.contact_list_id.clone()
    } else {
        return Err(Error::Invalid("contactListId"));
    };
    let txn = begin_for(&core.db, owner).await?;
    if is_reserved(&id) || list_row(&txn, owner, &id).await?.is_some() {
        txn.rollback().await?;
        return Err(Error::ListExists(id));
    }
    let own = list::Entity::find()
        .filter(list::Column::Owner.eq(owner))
        .filter(list::Column::ListId.is_not_in([RCS, RCS_REVOKE]))
        .count(&txn)
        .await?;
    if own + 2 >= core.config.addresslist.max_lists {
        txn.rollback().await?;
        return Err(Error::TooManyLists);
    }
    let row = list::Model {
        owner: owner.to_string(),
        list_id: id.clone(),
        display_name: wanted.display_name.clone(),
        attributes: attributes_json(&wanted.attributes),
        created_at: Utc::now(),
    };
    list::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    record(&txn, owner, &id, "", true).await?;
    txn.commit().await?;
    Ok(list_pb(&id, Some(&row)))
}

pub async fn get(core: &Core, owner: &str, id: &str) -> Result<pb::ContactList> {
    let row = require_list(&core.db, owner, id).await?;
    Ok(list_pb(id, row.as_ref()))
}

/// Replaces a list's display name and attributes. `rcs` and `rcs_revoke` keep their name
/// (POL0001 when the body gives one); their attributes may change.
pub async fn update(
    core: &Core,
    owner: &str,
    id: &str,
    body: pb::ContactList,
) -> Result<pb::ContactList> {
    let txn = begin_for(&core.db, owner).await?;
    let existing = match require_list(&txn, owner, id).await {
        Ok(row) => row,
        Err(e) => {
            txn.rollback().await?;
            return Err(e);
        }
    };
    if !body.contact_list_id.is_empty() && body.contact_list_id != id {
        txn.rollback().await?;
        return Err(Error::KeyProperty("contactListId"));
    }
    if is_reserved(id) && body.display_name.is_some() {
        txn.rollback().await?;
        return Err(Error::Reserved(id.to_string()));
    }
    let row = list::Model {
        owner: owner.to_string(),
        list_id: id.to_string(),
        display_name: body.display_name.clone(),
        attributes: attributes_json(&body.attributes),
        created_at: existing
            .as_ref()
            .map(|r| r.created_at)
            .unwrap_or_else(Utc::now),
    };
    if existing.is_some() {
        list::Entity::update(row.clone().into_active_model().reset_all())
            .exec(&txn)
            .await?;
    } else {
        list::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(list_pb(id, Some(&row)))
}

/// Deletes a list with its members (POL0001 for `rcs` and `rcs_revoke`).
pub async fn delete(core: &Core, owner: &str, id: &str) -> Result<()> {
    if is_reserved(id) {
        // The list exists (every user has it) but may not go.
        return Err(Error::Reserved(id.to_string()));
    }
    let txn = begin_for(&core.db, owner).await?;
    if list_row(&txn, owner, id).await?.is_none() {
        txn.rollback().await?;
        return Err(Error::NotFound("contactListId"));
    }
    let members = member::Entity::find()
        .filter(member::Column::Owner.eq(owner))
        .filter(member::Column::ListId.eq(id))
        .all(&txn)
        .await?;
    for m in &members {
        record(&txn, owner, id, &m.member_id, false).await?;
    }
    member::Entity::delete_many()
        .filter(member::Column::Owner.eq(owner))
        .filter(member::Column::ListId.eq(id))
        .exec(&txn)
        .await?;
    list::Entity::delete_by_id((owner.to_string(), id.to_string()))
        .exec(&txn)
        .await?;
    record(&txn, owner, id, "", false).await?;
    txn.commit().await?;
    Ok(())
}

/// Adds or replaces member `member_id` (canonical) of list `id`; created = false when it
/// was one already. The body's id, when given, must be the URL's (SVC0240).
pub async fn put_member(
    core: &Core,
    owner: &str,
    id: &str,
    member_id: &str,
    body: pb::Member,
) -> Result<(pb::Member, bool)> {
    let txn = begin_for(&core.db, owner).await?;
    let checked = async {
        require_list(&txn, owner, id).await?;
        if !body.member_id.is_empty() && body.member_id != member_id {
            return Err(Error::KeyProperty("memberId"));
        }
        if member_id == owner {
            return Err(Error::Invalid("memberId"));
        }
        Ok(())
    }
    .await;
    if let Err(e) = checked {
        txn.rollback().await?;
        return Err(e);
    }
    let key = (owner.to_string(), id.to_string(), member_id.to_string());
    let existing = member::Entity::find_by_id(key.clone()).one(&txn).await?;
    let row = member::Model {
        owner: owner.to_string(),
        list_id: id.to_string(),
        member_id: member_id.to_string(),
        display_name: body.display_name.clone(),
        attributes: attributes_json(&body.attributes),
        created_at: existing
            .as_ref()
            .map(|m| m.created_at)
            .unwrap_or_else(Utc::now),
    };
    let created = existing.is_none();
    if created {
        let count = member::Entity::find()
            .filter(member::Column::Owner.eq(owner))
            .filter(member::Column::ListId.eq(id))
            .count(&txn)
            .await?;
        if count >= core.config.addresslist.max_members {
            txn.rollback().await?;
            return Err(Error::TooManyMembers(id.to_string()));
        }
        member::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        record_named(&txn, owner, id, member_id, true, row.display_name.clone()).await?;
    } else {
        member::Entity::update(row.clone().into_active_model().reset_all())
            .exec(&txn)
            .await?;
        // Presence shows the name (watcher.displayName): tell it when it changed.
        if existing.as_ref().map(|m| &m.display_name) != Some(&row.display_name) {
            record_named(&txn, owner, id, member_id, true, row.display_name.clone()).await?;
        }
    }
    if let Some(other) = opposite(id) {
        let gone = member::Entity::delete_by_id((
            owner.to_string(),
            other.to_string(),
            member_id.to_string(),
        ))
        .exec(&txn)
        .await?;
        if gone.rows_affected > 0 {
            record(&txn, owner, other, member_id, false).await?;
        }
    }
    txn.commit().await?;
    Ok((member_pb(&row), created))
}

pub async fn get_member(core: &Core, owner: &str, id: &str, member_id: &str) -> Result<pb::Member> {
    require_list(&core.db, owner, id).await?;
    member::Entity::find_by_id((owner.to_string(), id.to_string(), member_id.to_string()))
        .one(&core.db)
        .await?
        .map(|m| member_pb(&m))
        .ok_or(Error::NotFound("memberId"))
}

/// The members of a list, oldest first.
pub async fn members(core: &Core, owner: &str, id: &str) -> Result<Vec<pb::Member>> {
    require_list(&core.db, owner, id).await?;
    let rows = member::Entity::find()
        .filter(member::Column::Owner.eq(owner))
        .filter(member::Column::ListId.eq(id))
        .order_by_asc(member::Column::CreatedAt)
        .order_by_asc(member::Column::MemberId)
        .all(&core.db)
        .await?;
    Ok(rows.iter().map(member_pb).collect())
}

pub async fn delete_member(core: &Core, owner: &str, id: &str, member_id: &str) -> Result<()> {
    let txn = begin_for(&core.db, owner).await?;
    if let Err(e) = require_list(&txn, owner, id).await {
        txn.rollback().await?;
        return Err(e);
    }
    let gone =
        member::Entity::delete_by_id((owner.to_string(), id.to_string(), member_id.to_string()))
            .exec(&txn)
            .await?;
    if gone.rows_affected == 0 {
        txn.rollback().await?;
        return Err(Error::NotFound("memberId"));
    }
    record(&txn, owner, id, member_id, false).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcs_lists_exclude_each_other() {
        assert_eq!(opposite(RCS), Some(RCS_REVOKE));
        assert_eq!(opposite(RCS_REVOKE), Some(RCS));
        assert_eq!(opposite("friends"), None);
        assert!(is_reserved("rcs") && is_reserved("rcs_revoke") && !is_reserved("rcs2"));
        assert!(valid_list_id("friends-1.a_b"));
        assert!(!valid_list_id("") && !valid_list_id("a b") && !valid_list_id(&"x".repeat(65)));
    }

    #[test]
    fn attributes_round_trip() {
        let a = vec![pb::Attribute {
            name: "n".into(),
            value: "v".into(),
        }];
        assert_eq!(attributes_of(&attributes_json(&a)), a);
        assert!(attributes_of("garbage").is_empty());
    }
}
