//! Audio Call: audio messages played to participants of a call session, and
//! play-and-record / play-and-collect interactions whose results go to the application's
//! recording and collection subscriptions (docs/call-notification.md, "Audio Call").
//!
//! A request becomes one `call_media` row, one target per participant (its status), and
//! one network command per participant (`net.cmd.call.play|record|collect`), written in
//! one transaction; the network reports progress on `net.evt.call.media`
//! ([`on_event`]). Recordings are kept `call.recording_retention_secs` and served to the
//! application that made them ([`recording`]).

mod convert;
mod entities;
mod grpc;
pub mod migration;
mod progress;
mod rules;
mod store;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parlay_kit::{grpc::not_found, wire};
use parlay_proto::call::v1 as pb;
use sea_orm::{DatabaseConnection, DbErr};
use tonic::Status;

pub use progress::on_event;

use crate::core::Core;

/// How many orphaned media one purge removes at most (the next run takes the rest).
const PURGE_BATCH: u64 = 500;

/// The `AudioCall` gRPC service.
pub struct AudioGrpc {
    pub core: Arc<Core>,
}

/// A recording's media, for the application that made it; another application's,
/// an unknown or an expired id is "not found".
pub async fn recording(core: &Core, app: &str, id: &str) -> Result<pb::RecordingMedia, Status> {
    let found = store::recording(&core.db, app, id, Utc::now())
        .await
        .map_err(crate::grpc::db)?
        .ok_or_else(|| not_found("recordingId"))?;
    Ok(pb::RecordingMedia {
        content_type: found.content_type,
        data: found.data,
        created_at: Some(wire::timestamp(found.created_at)),
    })
}

/// Deletes recordings past their retention (fixed when each was recorded) and the media
/// of sessions purged since; returns how many rows went.
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let recordings = store::purge_recordings(db, now).await?;
    let orphans = store::orphans(db, PURGE_BATCH).await?;
    let media = if orphans.is_empty() {
        0
    } else {
        let txn = parlay_kit::db::begin_write(db).await?;
        let n = store::delete(&txn, orphans).await?;
        txn.commit().await?;
        n
    };
    Ok(recordings + media)
}

#[cfg(test)]
mod tests;
