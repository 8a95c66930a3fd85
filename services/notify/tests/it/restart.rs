//! Nothing lost: shutdown mid-attempt, a crash mid-attempt (the lease is taken over after
//! it expires), and two instances sharing one database without sending a job twice.

use std::{sync::Arc, time::Duration};

use parlay_kit::bus::MemoryBus;
use parlay_notify::entity::job::Status;

use crate::{
    harness::{
        Backend, Harness, Instance, TestDb, attempts, config, eventually, job, job_row, publish,
        until_status,
    },
    receiver::{Receiver, Reply},
};

on_both_backends!(
    shutdown_mid_attempt_then_a_new_instance_delivers,
    crash_mid_attempt_keeps_the_lease_and_a_new_instance_delivers_after_it,
    two_instances_share_the_work_without_double_sends,
);

async fn shutdown_mid_attempt_then_a_new_instance_delivers(backend: Backend) {
    let receiver = Receiver::start([Reply::Hang]).await;
    let mut config = config();
    config.notify.attempt_timeout_ms = 300;
    let h = Harness::start(backend, &config).await;
    let job = job(receiver.url("/hooks/slow"));
    h.publish(&job).await;
    eventually("the first attempt", || async {
        (receiver.requests().len() == 1).then_some(())
    })
    .await;

    // join returns once the hanging attempt timed out and was recorded.
    let Harness {
        test_db,
        db,
        bus,
        instance,
    } = h;
    instance.stop().await;
    let row = job_row(&db, &job.job_id).await.unwrap();
    assert_eq!((row.status, row.attempts), (Status::Pending, 1));
    let first = attempts(&db, &job.job_id).await;
    assert_eq!(first.len(), 1);
    assert!(
        first[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out"))
    );

    let next = Instance::start(&config, test_db.connect().await, bus).await;
    let row = until_status(&db, &job.job_id, Status::Delivered).await;
    assert_eq!(row.attempts, 2);
    let requests = receiver.for_id(&job.job_id);
    assert_eq!(requests.len(), 2);
    next.stop().await;
    let _ = db.close().await;
    test_db.drop_it().await;
}

/// Runs a notify instance on its own runtime in its own thread, and kills that runtime
/// (every task dropped where it stands) when `crash` fires: a process crash, as far as the
/// database and the bus can tell.
fn crashable_instance(
    url: String,
    bus: Arc<MemoryBus>,
    config: parlay_kit::Config,
) -> (
    tokio::sync::oneshot::Receiver<()>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (crash_tx, crash_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let db = parlay_kit::db::connect_and_migrate::<parlay_notify::Migrator>(&url)
                .await
                .unwrap();
            let _instance = Instance::start(&config, db, bus).await;
            started_tx.send(()).unwrap();
            let _ = crash_rx.await;
        });
        runtime.shutdown_background();
    });
    (started_rx, crash_tx, thread)
}

async fn crash_mid_attempt_keeps_the_lease_and_a_new_instance_delivers_after_it(backend: Backend) {
    let receiver = Receiver::start([Reply::Hang]).await;
    let mut config = config();
    config.notify.attempt_timeout_ms = 30_000; // the attempt is still hanging at the crash
    let test_db = TestDb::create(backend).await;
    let db = test_db.connect().await;
    let bus = Arc::new(MemoryBus::new());
    let (started, crash, thread) =
        crashable_instance(test_db.url.clone(), bus.clone(), config.clone());
    started.await.unwrap();

    let job = job(receiver.url("/hooks/crash"));
    publish(&*bus, &job).await;
    eventually("the first attempt", || async {
        (receiver.requests().len() == 1).then_some(())
    })
    .await;
    crash.send(()).unwrap();
    tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();

    // The cut-off attempt left its lease and no record.
    let row = job_row(&db, &job.job_id).await.unwrap();
    assert_eq!((row.status, row.attempts), (Status::Pending, 0));
    let lease = row.lease_until.expect("the crashed attempt's lease");
    assert!(attempts(&db, &job.job_id).await.is_empty());

    config.notify.attempt_timeout_ms = 500;
    let next = Instance::start(&config, test_db.connect().await, bus).await;
    let row = until_status(&db, &job.job_id, Status::Delivered).await;
    assert!(
        row.delivered_at.unwrap() >= lease,
        "taken over before the lease expired"
    );
    let requests = receiver.for_id(&job.job_id);
    assert_eq!(requests.len(), 2);
    let tried = attempts(&db, &job.job_id).await;
    assert_eq!(tried.len(), 1);
    assert!(tried[0].started_at >= lease);
    assert_eq!(tried[0].http_status, Some(200));
    next.stop().await;
    let _ = db.close().await;
    test_db.drop_it().await;
}

async fn two_instances_share_the_work_without_double_sends(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let mut config = config();
    config.notify.concurrency = 4;
    let h = Harness::start(backend, &config).await;
    // A second replica on the same database, fed by another bus: it only claims.
    let other_bus = Arc::new(MemoryBus::new());
    let other = Instance::start(&config, h.test_db.connect().await, other_bus).await;

    let jobs: Vec<_> = (0..40)
        .map(|i| job(receiver.url(&format!("/hooks/{i}"))))
        .collect();
    futures::future::join_all(jobs.iter().map(|j| h.publish(j))).await;
    for j in &jobs {
        until_status(&h.db, &j.job_id, Status::Delivered).await;
    }
    for j in &jobs {
        assert_eq!(receiver.for_id(&j.job_id).len(), 1, "job {}", j.job_id);
        assert_eq!(attempts(&h.db, &j.job_id).await.len(), 1);
    }
    assert_eq!(receiver.requests().len(), jobs.len());
    other.stop().await;
    tokio::time::timeout(Duration::from_secs(30), h.finish())
        .await
        .unwrap();
}
