//! Reads and writes of the media tables. Every read of a medium or a recording is scoped
//! by the application that made it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Query,
};

use super::{
    entities::{media, recording, target},
    rules::MediaKind,
};
use crate::store::entities::session;

/// A medium with its targets in request order.
#[derive(Debug, Clone)]
pub struct Media {
    pub row: media::Model,
    pub targets: Vec<target::Model>,
}

impl Media {
    pub fn kind(&self) -> MediaKind {
        MediaKind::parse(&self.row.kind).unwrap_or(MediaKind::Audio)
    }
}

/// `app`'s medium `id`, when it is of `kind`.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    app: &str,
    id: &str,
    kind: MediaKind,
) -> Result<Option<Media>, DbErr> {
    let row = media::Entity::find_by_id(id.to_string())
        .filter(media::Column::AppId.eq(app))
        .filter(media::Column::Kind.eq(kind.as_str()))
        .one(db)
        .await?;
    with_targets(db, row).await
}

/// The medium `app` created with `correlator`, of any kind.
pub async fn by_correlator<C: ConnectionTrait>(
    db: &C,
    app: &str,
    correlator: &str,
) -> Result<Option<Media>, DbErr> {
    let row = media::Entity::find()
        .filter(media::Column::AppId.eq(app))
        .filter(media::Column::ClientCorrelator.eq(correlator))
        .one(db)
        .await?;
    with_targets(db, row).await
}

async fn with_targets<C: ConnectionTrait>(
    db: &C,
    row: Option<media::Model>,
) -> Result<Option<Media>, DbErr> {
    let Some(row) = row else {
        return Ok(None);
    };
    let targets = target::Entity::find()
        .filter(target::Column::MediaId.eq(&row.id))
        .order_by_asc(target::Column::Position)
        .all(db)
        .await?;
    Ok(Some(Media { row, targets }))
}

/// Inserts a medium and its targets.
pub async fn insert<C: ConnectionTrait>(db: &C, media: &Media) -> Result<(), DbErr> {
    media::Entity::insert(media.row.clone().into_active_model())
        .exec_without_returning(db)
        .await?;
    let targets: Vec<_> = media
        .targets
        .iter()
        .cloned()
        .map(IntoActiveModel::into_active_model)
        .collect();
    if !targets.is_empty() {
        target::Entity::insert_many(targets)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Deletes media and their targets.
pub async fn delete<C: ConnectionTrait>(db: &C, ids: Vec<String>) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    target::Entity::delete_many()
        .filter(target::Column::MediaId.is_in(ids.clone()))
        .exec(db)
        .await?;
    let done = media::Entity::delete_many()
        .filter(media::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// `app`'s recording `id`, while it is kept.
pub async fn recording<C: ConnectionTrait>(
    db: &C,
    app: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<recording::Model>, DbErr> {
    recording::Entity::find_by_id(id.to_string())
        .filter(recording::Column::AppId.eq(app))
        .filter(recording::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// Deletes recordings past their retention at `now`.
pub async fn purge_recordings<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let done = recording::Entity::delete_many()
        .filter(recording::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Ids of (at most `limit`) media whose session no longer exists.
pub async fn orphans<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<String>, DbErr> {
    media::Entity::find()
        .select_only()
        .column(media::Column::Id)
        .filter(
            media::Column::SessionId.not_in_subquery(
                Query::select()
                    .column(session::Column::Id)
                    .from(session::Entity)
                    .to_owned(),
            ),
        )
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}
