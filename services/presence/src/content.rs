//! Users' content files: the images their status icons point at. Stored whole in the
//! database (bounded by `presence.max_content_bytes`), so every replica serves them and a
//! restart loses none. Its owner reads a file, and so does anyone authorised to see the
//! owner's presence. Replacing a file changes its etag; a status icon pointing at it is
//! refreshed with the new type, size and etag, and the owner's watchers are notified.

use chrono::Utc;
use parlay_kit::db::begin_write;
use parlay_proto::presence::v1::{self as pb, attribute::Value};
use prost::Message;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::OnConflict,
};
use sha2::{Digest, Sha256};

use crate::{
    attributes::touch,
    core::Core,
    deliveries, domain,
    entities::{attribute, content},
    error::{Error, Result},
    relations,
};

fn etag(data: &[u8], content_type: &str) -> String {
    let mut h = Sha256::new();
    h.update(content_type.as_bytes());
    h.update([0]);
    h.update(data);
    hex::encode(&h.finalize()[..8])
}

/// The file `name` of `user`, if any.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    user: &str,
    name: &str,
) -> Result<Option<content::Model>> {
    Ok(
        content::Entity::find_by_id((user.to_string(), name.to_string()))
            .one(db)
            .await?,
    )
}

/// Stores (or replaces) a file; created = true the first time.
pub async fn put(core: &Core, r: pb::PutContentRequest) -> Result<pb::PutContentResponse> {
    if r.user_id.is_empty() || r.file_name.is_empty() {
        return Err(Error::Invalid("fileName"));
    }
    if r.data.len() > core.config.presence.max_content_bytes {
        return Err(Error::Invalid("content"));
    }
    let now = Utc::now();
    let tag = etag(&r.data, &r.content_type);
    let txn = begin_write(&core.db).await?;
    let existed = find(&txn, &r.user_id, &r.file_name).await?.is_some();
    if !existed {
        let files = content::Entity::find()
            .filter(content::Column::UserId.eq(&r.user_id))
            .count(&txn)
            .await?;
        if files >= core.config.presence.max_content_files as u64 {
            txn.rollback().await?;
            return Err(Error::TooMany("content"));
        }
    }
    content::Entity::insert(content::ActiveModel {
        user_id: Set(r.user_id.clone()),
        file_name: Set(r.file_name.clone()),
        content_type: Set(r.content_type.clone()),
        data: Set(r.data.clone()),
        etag: Set(tag.clone()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([content::Column::UserId, content::Column::FileName])
            .update_columns([
                content::Column::ContentType,
                content::Column::Data,
                content::Column::Etag,
                content::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    // A status icon showing this file now shows the new one.
    if let Some(row) = attribute::Entity::find_by_id((r.user_id.clone(), "statusIcon".to_string()))
        .one(&txn)
        .await?
        && let Ok(pb::Attribute {
            value: Some(Value::StatusIcon(mut icon)),
        }) = pb::Attribute::decode(row.value.as_slice())
        && icon.content_file.as_deref() == Some(r.file_name.as_str())
    {
        icon.content_type = Some(r.content_type.clone());
        icon.file_size = Some(r.data.len() as u64);
        icon.etag = Some(tag.clone());
        let value = pb::Attribute {
            value: Some(Value::StatusIcon(icon)),
        };
        attribute::Entity::update(attribute::ActiveModel {
            user_id: Set(row.user_id),
            kind: Set(row.kind),
            value: Set(value.encode_to_vec()),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
        touch(&txn, &r.user_id, now).await?;
        deliveries::presence_changed(&txn, core, &r.user_id, now).await?;
    }
    txn.commit().await?;
    core.wake();
    Ok(pb::PutContentResponse {
        created: !existed,
        etag: tag,
    })
}

/// The file, for one of `r.viewers` who is its owner or authorised to see the owner.
pub async fn get(core: &Core, r: &pb::ContentRef) -> Result<pb::Content> {
    let mut allowed = false;
    for viewer in &r.viewers {
        if *viewer == r.user_id
            || domain::may_see(relations::state_of(&core.db, viewer, &r.user_id).await?)
        {
            allowed = true;
            break;
        }
    }
    if !allowed {
        return Err(Error::NotAuthorised(r.user_id.clone()));
    }
    let file = find(&core.db, &r.user_id, &r.file_name)
        .await?
        .ok_or(Error::NotFound("fileName"))?;
    Ok(pb::Content {
        content_type: file.content_type,
        data: file.data,
        etag: file.etag,
    })
}

pub async fn delete(core: &Core, r: &pb::ContentRef) -> Result<()> {
    let gone = content::Entity::delete_by_id((r.user_id.clone(), r.file_name.clone()))
        .exec(&core.db)
        .await?;
    if gone.rows_affected == 0 {
        return Err(Error::NotFound("fileName"));
    }
    Ok(())
}
