//! A user's persistent person attributes: `noteList`, `statusIcon`, `linkList`,
//! `location`. A PUT replaces the attribute whole (created the first time); every change,
//! a delete included, makes the user's presence due to its authorised watchers.

use chrono::{DateTime, Utc};
use parlay_kit::db::begin_write;
use parlay_proto::presence::v1::{self as pb, attribute::Value};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};
use sha2::{Digest, Sha256};

use crate::{
    core::Core,
    deliveries,
    entities::{attribute, presentity},
    error::{Error, Result},
};

/// The stored name of an attribute kind.
pub fn kind_name(kind: pb::AttributeKind) -> Result<&'static str> {
    match kind {
        pb::AttributeKind::NoteList => Ok("noteList"),
        pb::AttributeKind::StatusIcon => Ok("statusIcon"),
        pb::AttributeKind::LinkList => Ok("linkList"),
        pb::AttributeKind::Location => Ok("location"),
        pb::AttributeKind::Unspecified => Err(Error::Invalid("attribute")),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::NoteList(_) => "noteList",
        Value::StatusIcon(_) => "statusIcon",
        Value::LinkList(_) => "linkList",
        Value::Location(_) => "location",
    }
}

/// The service's own checks (the gateway checked shapes): list sizes within the settings.
fn check(core: &Core, value: &Value) -> Result<()> {
    let p = &core.config.presence;
    match value {
        Value::NoteList(n) if n.notes.is_empty() => Err(Error::Invalid("note")),
        Value::NoteList(n) if n.notes.len() > p.max_notes => Err(Error::TooMany("note")),
        Value::LinkList(l) if l.links.is_empty() => Err(Error::Invalid("link")),
        Value::LinkList(l) if l.links.len() > p.max_links => Err(Error::TooMany("link")),
        Value::StatusIcon(i) if i.url.is_empty() => Err(Error::Invalid("url")),
        Value::Location(l)
            if l.place_name.is_none() && (l.latitude.is_none() || l.longitude.is_none()) =>
        {
            Err(Error::Invalid("location"))
        }
        _ => Ok(()),
    }
}

/// A new version tag of an icon: changes with every PUT.
fn etag(icon: &pb::StatusIcon, now: DateTime<Utc>) -> String {
    let mut h = Sha256::new();
    h.update(icon.url.as_bytes());
    h.update([0]);
    h.update(icon.content_type.as_deref().unwrap_or_default().as_bytes());
    h.update(now.timestamp_nanos_opt().unwrap_or_default().to_be_bytes());
    hex::encode(&h.finalize()[..6])
}

pub async fn touch<C: ConnectionTrait>(db: &C, user: &str, now: DateTime<Utc>) -> Result<()> {
    // An upsert: two first changes of one user at once must not collide.
    presentity::Entity::insert(presentity::ActiveModel {
        user_id: Set(user.to_string()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(presentity::Column::UserId)
            .update_column(presentity::Column::UpdatedAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Creates or replaces an attribute of `user`; created = true the first time.
pub async fn put(
    core: &Core,
    user: &str,
    attribute: pb::Attribute,
) -> Result<(pb::Attribute, bool)> {
    let mut value = attribute.value.ok_or(Error::Invalid("attribute"))?;
    check(core, &value)?;
    let now = Utc::now();
    if let Value::StatusIcon(icon) = &mut value {
        match icon.content_file.clone() {
            // The icon shows the user's uploaded file: its type, size and version.
            Some(name) => {
                let file = crate::content::find(&core.db, user, &name)
                    .await?
                    .ok_or(Error::Invalid("url"))?;
                icon.content_type = Some(file.content_type);
                icon.file_size = Some(file.data.len() as u64);
                icon.etag = Some(file.etag);
            }
            None => icon.etag = Some(etag(icon, now)),
        }
    }
    let kind = kind_of(&value);
    let stored = pb::Attribute { value: Some(value) };
    let txn = begin_write(&core.db).await?;
    let row = attribute::ActiveModel {
        user_id: Set(user.to_string()),
        kind: Set(kind.to_string()),
        value: Set(stored.encode_to_vec()),
        updated_at: Set(now),
    };
    // Insert, else replace: two first PUTs at once must not collide (the second waits for
    // the first's insert, then replaces it).
    let created = attribute::Entity::insert(row.clone())
        .on_conflict(
            OnConflict::columns([attribute::Column::UserId, attribute::Column::Kind])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?
        == 1;
    if !created {
        attribute::Entity::update(row).exec(&txn).await?;
    }
    touch(&txn, user, now).await?;
    deliveries::presence_changed(&txn, core, user, now).await?;
    txn.commit().await?;
    core.wake();
    Ok((stored, created))
}

pub async fn get(core: &Core, user: &str, kind: pb::AttributeKind) -> Result<pb::Attribute> {
    let row = attribute::Entity::find_by_id((user.to_string(), kind_name(kind)?.to_string()))
        .one(&core.db)
        .await?
        .ok_or(Error::NotFound("attribute"))?;
    pb::Attribute::decode(row.value.as_slice())
        .map_err(|e| Error::Db(sea_orm::DbErr::Custom(format!("stored attribute: {e}"))))
}

pub async fn delete(core: &Core, user: &str, kind: pb::AttributeKind) -> Result<()> {
    let name = kind_name(kind)?;
    let now = Utc::now();
    let txn = begin_write(&core.db).await?;
    let gone = attribute::Entity::delete_by_id((user.to_string(), name.to_string()))
        .exec(&txn)
        .await?;
    if gone.rows_affected == 0 {
        txn.rollback().await?;
        return Err(Error::NotFound("attribute"));
    }
    touch(&txn, user, now).await?;
    deliveries::presence_changed(&txn, core, user, now).await?;
    txn.commit().await?;
    core.wake();
    Ok(())
}

/// The persistent source of `user`: every attribute set (willingness is left to the
/// temporary sources).
pub async fn persistent<C: ConnectionTrait>(db: &C, user: &str) -> Result<pb::Person> {
    let rows = attribute::Entity::find()
        .filter(attribute::Column::UserId.eq(user))
        .all(db)
        .await?;
    let mut person = pb::Person::default();
    for row in rows {
        let Ok(a) = pb::Attribute::decode(row.value.as_slice()) else {
            tracing::warn!(
                user,
                kind = row.kind,
                "undecodable stored attribute skipped"
            );
            continue;
        };
        match a.value {
            Some(Value::NoteList(n)) => person.note_list = Some(n),
            Some(Value::StatusIcon(i)) => person.status_icon = Some(i),
            Some(Value::LinkList(l)) => person.link_list = Some(l),
            Some(Value::Location(l)) => person.location = Some(l),
            None => {}
        }
    }
    Ok(person)
}

/// The persistent source when `user` has set at least one attribute; else not found
/// (never published, or everything deleted: the two read the same).
pub async fn get_persistent(core: &Core, user: &str) -> Result<pb::Person> {
    let person = persistent(&core.db, user).await?;
    if person == pb::Person::default() {
        return Err(Error::NotFound("persistent"));
    }
    Ok(person)
}

/// Everything `user` publishes, and when it last changed.
pub async fn person<C: ConnectionTrait>(
    db: &C,
    user: &str,
) -> Result<(pb::Person, Option<DateTime<Utc>>)> {
    let mut person = persistent(db, user).await?;
    let (willingness, _) =
        crate::sources::union(&crate::sources::live(db, user, Utc::now()).await?);
    person.overriding_willingness = willingness;
    let updated = presentity::Entity::find_by_id(user.to_string())
        .one(db)
        .await?
        .map(|p| p.updated_at);
    Ok((person, updated))
}
