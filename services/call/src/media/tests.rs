//! Media against a real (SQLite) store: network events, recordings, the janitor.

use parlay_kit::ids::new_id;
use parlay_proto::net::v1::{MediaEvent, MediaOutcome, RecordedMedia};
use sea_orm::{EntityTrait, PaginatorTrait};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use super::{
    entities::{media, recording, target},
    rules::MediaStatus,
    store::{self as media_store, Media},
    *,
};
use crate::domain::{Participant, Session};

async fn core() -> Core {
    crate::testing::core_telling(tokio::sync::mpsc::unbounded_channel().0).await
}

async fn session_with(core: &Core, id: &str) {
    let participants = vec![Participant::new("pa1".into(), "tel:+15550001".into(), None)];
    crate::store::insert(
        &core.db,
        crate::testing::session_row(id),
        &Session::new(id.into(), participants),
    )
    .await
    .unwrap();
}

async fn medium(core: &Core, id: &str, session_id: &str, kind: &str) {
    let m = Media {
        row: media::Model {
            id: id.into(),
            app_id: "app1".into(),
            session_id: session_id.into(),
            kind: kind.into(),
            client_correlator: None,
            request_hash: String::new(),
            url: Some("https://x.example/a.wav".into()),
            media_type: None,
            interrupt_media: None,
            max_duration_secs: None,
            min_digits: None,
            max_digits: None,
            end_char: None,
            created_at: Utc::now(),
        },
        targets: vec![target::Model {
            media_id: id.into(),
            position: 0,
            participant_id: "pa1".into(),
            address: "TEL:+15550001".into(),
            status: "Pending".into(),
            result: None,
        }],
    };
    media_store::insert(&core.db, &m).await.unwrap();
}

fn event(media_id: &str, outcome: MediaOutcome) -> MediaEvent {
    MediaEvent {
        event_id: new_id("ev"),
        call_session_id: "cs1".into(),
        participant_id: "pa1".into(),
        media_id: media_id.into(),
        outcome: outcome as i32,
        ..MediaEvent::default()
    }
}

async fn status(core: &Core, media_id: &str) -> (MediaStatus, Option<String>) {
    let t = target::Entity::find_by_id((media_id.to_string(), 0))
        .one(&core.db)
        .await
        .unwrap()
        .unwrap();
    (MediaStatus::parse(&t.status), t.result)
}

#[tokio::test]
async fn plays_move_forward_once_per_event() {
    let core = core().await;
    session_with(&core, "cs1").await;
    medium(&core, "am1", "cs1", "audio").await;
    let playing = event("am1", MediaOutcome::Playing);
    on_event(&core, playing.clone()).await.unwrap();
    assert_eq!(status(&core, "am1").await.0, MediaStatus::Playing);
    on_event(&core, event("am1", MediaOutcome::Played))
        .await
        .unwrap();
    assert_eq!(status(&core, "am1").await.0, MediaStatus::Played);
    // Late or repeated reports change nothing.
    on_event(&core, playing).await.unwrap();
    on_event(&core, event("am1", MediaOutcome::Failed))
        .await
        .unwrap();
    assert_eq!(status(&core, "am1").await.0, MediaStatus::Played);
    // Unknown media (deleted meanwhile) are ignored, not retried.
    on_event(&core, event("am-gone", MediaOutcome::Played))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_recording_is_kept_for_its_application_until_it_expires() {
    let core = core().await;
    session_with(&core, "cs1").await;
    medium(&core, "ir1", "cs1", "recording").await;
    // A prompt finishing is not the interaction's end.
    on_event(&core, event("ir1", MediaOutcome::Played))
        .await
        .unwrap();
    assert_eq!(status(&core, "ir1").await.0, MediaStatus::Pending);
    let mut recorded = event("ir1", MediaOutcome::Recorded);
    recorded.recording = Some(RecordedMedia {
        content_type: "audio/wav".into(),
        data: b"RIFF....WAVE".to_vec(),
        duration_ms: 1500,
    });
    on_event(&core, recorded.clone()).await.unwrap();
    on_event(&core, recorded).await.unwrap();
    let (st, result) = status(&core, "ir1").await;
    assert_eq!(st, MediaStatus::Played);
    let id = result.unwrap();
    assert_eq!(
        recording::Entity::find().count(&core.db).await.unwrap(),
        1,
        "a redelivered event records once"
    );
    let got = super::recording(&core, "app1", &id).await.unwrap();
    assert_eq!(got.content_type, "audio/wav");
    assert_eq!(got.data, b"RIFF....WAVE");
    let other = super::recording(&core, "app2", &id).await.unwrap_err();
    assert_eq!(other.code(), tonic::Code::NotFound);

    // Within retention the janitor keeps it; past it, it goes (and reads 404 at once).
    assert_eq!(purge(&core.db, Utc::now()).await.unwrap(), 0);
    let later = Utc::now()
        + chrono::Duration::seconds(core.config.call.recording_retention_secs as i64 + 1);
    assert!(
        media_store::recording(&core.db, "app1", &id, later)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(purge(&core.db, later).await.unwrap(), 1);
    assert!(super::recording(&core, "app1", &id).await.is_err());
}

#[tokio::test]
async fn media_of_purged_sessions_are_purged() {
    let core = core().await;
    session_with(&core, "cs1").await;
    medium(&core, "am1", "cs1", "audio").await;
    medium(&core, "am2", "cs-purged", "audio").await;
    assert_eq!(purge(&core.db, Utc::now()).await.unwrap(), 1);
    assert!(
        media::Entity::find_by_id("am1")
            .one(&core.db)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        media::Entity::find_by_id("am2")
            .one(&core.db)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(target::Entity::find().count(&core.db).await.unwrap(), 1);
}

#[tokio::test]
async fn the_media_tables_go_down_and_up_again() {
    let core = core().await;
    let manager = SchemaManager::new(&core.db);
    migration::MediaTables.down(&manager).await.unwrap();
    assert!(!manager.has_table("call_media").await.unwrap());
    assert!(!manager.has_table("call_recordings").await.unwrap());
    migration::MediaTables.up(&manager).await.unwrap();
    assert!(manager.has_table("call_media_targets").await.unwrap());
}
