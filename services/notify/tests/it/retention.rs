//! Retention: final jobs (delivered, expired) are deleted with their attempts once their
//! retention has passed; pending jobs and recent final jobs stay.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use parlay_kit::bus::MemoryBus;
use parlay_notify::{
    entity::{
        attempt,
        job::{self, Status},
    },
    store,
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};

use crate::harness::{Backend, Instance, TestDb, attempts, config, eventually, job_row, row};

on_both_backends!(
    prune_deletes_final_jobs_past_retention_with_their_attempts,
    the_janitor_prunes_when_notify_starts,
);

/// Stores a job with `status`, delivered at `delivered_at` (delivered jobs), expiring at
/// `expires_at`, with `tries` attempts; returns its id.
async fn seed(
    db: &DatabaseConnection,
    status: Status,
    delivered_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    tries: i32,
) -> String {
    let stored = job::Model {
        status,
        attempts: tries,
        delivered_at: delivered_at.map(store::micros),
        ..row(expires_at)
    };
    let created_at = stored.created_at;
    let id = stored.job_id.clone();
    assert!(store::insert_job(db, stored).await.unwrap());
    for n in 1..=tries {
        attempt::ActiveModel {
            job_id: Set(id.clone()),
            attempt: Set(n),
            started_at: Set(created_at),
            duration_ms: Set(5),
            http_status: Set(Some(if n == tries && status == Status::Delivered {
                200
            } else {
                500
            })),
            error: Set(None),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    id
}

async fn prune_deletes_final_jobs_past_retention_with_their_attempts(backend: Backend) {
    let test_db = TestDb::create(backend).await;
    let db = test_db.connect().await;
    let now = store::now();
    let old = now - TimeDelta::hours(2);
    let recent = now - TimeDelta::minutes(10);
    let later = now + TimeDelta::hours(1);

    let mut gone = Vec::new();
    for _ in 0..3 {
        gone.push(seed(&db, Status::Delivered, Some(old), later, 2).await);
    }
    // Abandoned: counted from expires_at.
    gone.push(seed(&db, Status::Expired, None, old, 3).await);
    let kept = [
        seed(&db, Status::Delivered, Some(recent), later, 1).await,
        seed(&db, Status::Expired, None, recent, 2).await,
        // Pending stays however old, even past its expiry (not yet picked up).
        seed(&db, Status::Pending, None, old, 1).await,
        seed(&db, Status::Pending, None, later, 0).await,
    ];

    // Retention one hour, in batches of two jobs: the three delivered take two batches.
    let cutoff = store::before(now, 3600);
    assert_eq!(store::prune(&db, cutoff, 2).await.unwrap(), 4);
    for id in &gone {
        assert!(job_row(&db, id).await.is_none(), "job {id} kept");
        assert!(attempts(&db, id).await.is_empty(), "attempts of {id} kept");
    }
    for (id, tries) in kept.iter().zip([1, 2, 1, 0]) {
        assert!(job_row(&db, id).await.is_some(), "job {id} deleted");
        assert_eq!(attempts(&db, id).await.len(), tries, "attempts of {id}");
    }
    assert_eq!(
        job::Entity::find().all(&db).await.unwrap().len(),
        kept.len()
    );
    assert_eq!(attempt::Entity::find().all(&db).await.unwrap().len(), 4);
    // Nothing more to do until time passes.
    assert_eq!(
        store::prune(&db, cutoff, store::PRUNE_BATCH).await.unwrap(),
        0
    );
    let _ = db.close().await;
    test_db.drop_it().await;
}

async fn the_janitor_prunes_when_notify_starts(backend: Backend) {
    let test_db = TestDb::create(backend).await;
    let db = test_db.connect().await;
    let now = store::now();
    let later = now + TimeDelta::hours(1);
    let old = seed(
        &db,
        Status::Delivered,
        Some(now - TimeDelta::hours(2)),
        later,
        2,
    )
    .await;
    let recent = seed(
        &db,
        Status::Delivered,
        Some(now - TimeDelta::minutes(10)),
        later,
        1,
    )
    .await;

    let mut config = config();
    config.notify.retention_secs = 3600;
    let instance =
        Instance::start(&config, test_db.connect().await, Arc::new(MemoryBus::new())).await;
    eventually("the old job to be deleted", || async {
        job_row(&db, &old).await.is_none().then_some(())
    })
    .await;
    assert!(attempts(&db, &old).await.is_empty());
    assert!(job_row(&db, &recent).await.is_some());
    assert_eq!(attempts(&db, &recent).await.len(), 1);
    instance.stop().await;
    let _ = db.close().await;
    test_db.drop_it().await;
}
