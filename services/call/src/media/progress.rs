//! Media events from the network: each moves one participant's status, at most once per
//! event id. A recording or collected digits are kept as the participant's result and
//! sent to the application's live recording / collection subscriptions.

use chrono::{DateTime, Utc};
use parlay_kit::{Config, bus::Envelope, ids::new_id, inbox, outbox, wire};
use parlay_model::{
    callnotif::{
        MediaInteractionNotification, MediaInteractionNotificationRequest, NotificationType,
    },
    common::Link,
};
use parlay_proto::net::v1::{MediaEvent, MediaOutcome};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use super::{
    entities::{media, recording, target},
    rules::{MediaKind, MediaStatus, Progress},
};
use crate::{
    core::{Core, CoreError},
    effects::{self, SUBJECT_NOTIFY},
    subscriptions::{self, Kind},
};

/// A recording's URL (served by the gateway from `GetRecording`).
pub fn recording_url(config: &Config, id: &str) -> String {
    format!("{}/audiocall/recordings/{id}", config.api_root())
}

/// An interaction's URL.
pub fn interaction_url(config: &Config, kind: MediaKind, id: &str) -> String {
    format!(
        "{}/audiocall/interactions/{}/{id}",
        config.api_root(),
        kind.as_str()
    )
}

fn progress(outcome: MediaOutcome) -> Option<Progress> {
    Some(match outcome {
        MediaOutcome::Playing => Progress::Playing,
        MediaOutcome::Played => Progress::Played,
        MediaOutcome::Failed => Progress::Failed,
        MediaOutcome::Recorded => Progress::Recorded,
        MediaOutcome::Collected => Progress::Collected,
        MediaOutcome::Unspecified => return None,
    })
}

/// Applies a media event in one write transaction with its inbox record and the
/// notifications it causes.
pub async fn on_event(core: &Core, event: MediaEvent) -> Result<(), CoreError> {
    let Some(progress) = progress(event.outcome()) else {
        tracing::warn!(event_id = %event.event_id, "media event without outcome dropped");
        return Ok(());
    };
    let txn = parlay_kit::db::begin_write(&core.db).await?;
    if !inbox::first_time(&txn, "call", &event.event_id).await? {
        txn.rollback().await?;
        return Ok(());
    }
    let (order_key, envelopes) = apply(&core.config, &txn, &event, progress, Utc::now()).await?;
    let recorded = outbox::enqueue(&txn, &order_key, envelopes).await?;
    txn.commit().await?;
    core.waker.hand(recorded);
    Ok(())
}

/// Changes the target's status; answers the outbox order key and the notifications.
async fn apply<C: ConnectionTrait>(
    config: &Config,
    txn: &C,
    event: &MediaEvent,
    progress: Progress,
    now: DateTime<Utc>,
) -> Result<(String, Vec<Envelope>), DbErr> {
    let nothing = || Ok((event.call_session_id.clone(), Vec::new()));
    // Deleted by its application meanwhile, or never ours: nothing to do.
    let Some(m) = media::Entity::find_by_id(event.media_id.clone())
        .one(txn)
        .await?
    else {
        tracing::debug!(media_id = %event.media_id, "media event for an unknown medium ignored");
        return nothing();
    };
    let kind = MediaKind::parse(&m.kind).unwrap_or(MediaKind::Audio);
    if !progress.fits(kind) {
        tracing::warn!(media_id = %m.id, ?progress, "media event of another kind ignored");
        return nothing();
    }
    let Some(t) = target::Entity::find()
        .filter(target::Column::MediaId.eq(&m.id))
        .filter(target::Column::ParticipantId.eq(&event.participant_id))
        .one(txn)
        .await?
    else {
        tracing::warn!(media_id = %m.id, participant = %event.participant_id, "media event for a participant not targeted ignored");
        return nothing();
    };
    let Some(mut next) = MediaStatus::parse(&t.status).advance(progress) else {
        return nothing();
    };
    if progress == Progress::Failed {
        tracing::info!(media_id = %m.id, participant = %t.participant_id, reason = event.reason.as_deref().unwrap_or(""), "media failed");
    }
    let mut result = None;
    let mut notify = None;
    match progress {
        Progress::Recorded => match &event.recording {
            Some(media) => {
                let id = new_id("rc");
                store_recording(config, txn, &m, &t, &id, media, now).await?;
                notify = Some((Kind::Recording, recording_url(config, &id)));
                result = Some(id);
            }
            None => {
                tracing::warn!(media_id = %m.id, "RECORDED without a recording: marked Error");
                next = MediaStatus::Error;
            }
        },
        Progress::Collected => {
            let digits = event.digits.clone().unwrap_or_default();
            notify = Some((Kind::Collection, digits.clone()));
            result = Some(digits);
        }
        _ => {}
    }
    let mut change = t.clone().into_active_model();
    change.status = Set(next.as_str().into());
    change.result = Set(result);
    target::Entity::update(change).exec(txn).await?;
    let mut envelopes = Vec::new();
    if let Some((sub_kind, outcome)) = notify {
        let subs =
            subscriptions::media_targets(txn, &m.app_id, sub_kind, &m.session_id, now).await?;
        for sub in subs {
            let body = notification(
                config,
                &m,
                kind,
                &t.address,
                &outcome,
                sub.callback_data.clone(),
            );
            let job = effects::job(
                config,
                &sub.app_id,
                &sub.notify_url,
                body,
                resource_kind(kind),
                &m.id,
                now,
            );
            envelopes.push(wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job));
        }
    }
    Ok((m.session_id, envelopes))
}

async fn store_recording<C: ConnectionTrait>(
    config: &Config,
    txn: &C,
    m: &media::Model,
    t: &target::Model,
    id: &str,
    media: &parlay_proto::net::v1::RecordedMedia,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let retention = i64::try_from(config.call.recording_retention_secs).unwrap_or(i64::MAX);
    let content_type = Some(media.content_type.clone())
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    let row = recording::Model {
        id: id.to_string(),
        app_id: m.app_id.clone(),
        media_id: m.id.clone(),
        session_id: m.session_id.clone(),
        address: t.address.clone(),
        content_type,
        data: media.data.clone(),
        duration_ms: i64::from(media.duration_ms),
        created_at: now,
        expires_at: now + chrono::Duration::try_seconds(retention).unwrap_or(chrono::Duration::MAX),
    };
    recording::Entity::insert(row.into_active_model())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

fn resource_kind(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Collection => "playAndCollectInteraction",
        _ => "playAndRecordInteraction",
    }
}

/// The `mediaInteractionNotification` body.
pub fn notification(
    config: &Config,
    m: &media::Model,
    kind: MediaKind,
    participant: &str,
    result: &str,
    callback_data: Option<String>,
) -> Vec<u8> {
    let (notification_type, rel) = match kind {
        MediaKind::Collection => (
            NotificationType::PlayAndCollect,
            "PlayAndCollectInteraction",
        ),
        _ => (NotificationType::PlayAndRecord, "PlayAndRecordInteraction"),
    };
    let body = MediaInteractionNotificationRequest {
        media_interaction_notification: MediaInteractionNotification {
            call_participant: participant.to_string(),
            media_interaction_result: result.to_string(),
            notification_type: Some(notification_type),
            call_session_identifier: Some(m.session_id.clone()),
            callback_data,
            link: vec![Link {
                rel: rel.into(),
                href: interaction_url(config, kind, &m.id),
            }],
        },
    };
    // Plain strings and a derived Serialize: serialising cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}
