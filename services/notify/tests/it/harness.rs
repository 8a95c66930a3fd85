//! Test harness: a throwaway database (a SQLite file in the temp dir, or a fresh
//! PostgreSQL database), an in-process bus, notify instances started and stopped on them,
//! job builders, and the bounded `eventually` poll.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use parlay_kit::{
    Config,
    bus::{Bus, ConsumerSpec, Envelope, MemoryBus, SharedBus},
};
use parlay_notify::{
    Migrator, Notify,
    entity::{attempt, job},
    store,
};
use parlay_proto::notify::v1::{NotificationJob, NotificationReply, ReplyTo};
use prost::Message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The trace context published with every test job.
pub const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database of one test run.
pub struct TestDb {
    pub url: String,
    sqlite_file: Option<PathBuf>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        let name = parlay_kit::ids::new_id("notify_t");
        match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("{name}.db"));
                Self {
                    url: format!("sqlite://{}?mode=rwc", file.display()),
                    sqlite_file: Some(file),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let url = parlay_kit::db::create_postgres_database(
                    &parlay_kit::db::test_postgres_server(),
                    &name,
                )
                .await
                .expect("PostgreSQL must be reachable (set PARLAY_TEST_PG)");
                Self {
                    url,
                    sqlite_file: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A new connection pool, migrated.
    pub async fn connect(&self) -> DatabaseConnection {
        parlay_kit::db::connect_and_migrate::<Migrator>(&self.url)
            .await
            .unwrap()
    }

    /// Removes the database (call at the end of a passing test).
    pub async fn drop_it(self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        if let Some(name) = &self.pg_name {
            parlay_kit::db::drop_postgres_database(&parlay_kit::db::test_postgres_server(), name)
                .await
                .unwrap();
        }
    }
}

/// Small settings so retries and leases play out in milliseconds.
pub fn config() -> Config {
    let mut config = Config::default();
    config.notify.initial_backoff_ms = 20;
    config.notify.max_backoff_ms = 200;
    config.notify.lease_secs = 1;
    config.notify.attempt_timeout_ms = 500;
    config.notify.concurrency = 8;
    config
}

/// Logs on when `TEST_LOG` is set (its value is the filter).
fn init_logs() {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        parlay_kit::telemetry::init(&filter, "parlay-notify-test");
    }
}

/// A running notify instance.
pub struct Instance {
    pub shutdown: CancellationToken,
    notify: Notify,
}

impl Instance {
    pub async fn start(config: &Config, db: DatabaseConnection, bus: SharedBus) -> Self {
        init_logs();
        let shutdown = CancellationToken::new();
        let notify = Notify::start(config, db, bus, shutdown.clone())
            .await
            .unwrap();
        Self { shutdown, notify }
    }

    /// Shuts down and waits (bounded) for the in-flight work to end.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.notify.join())
            .await
            .expect("notify did not stop within 10 s");
    }
}

/// A database, a bus and one notify on them.
pub struct Harness {
    pub test_db: TestDb,
    pub db: DatabaseConnection,
    pub bus: Arc<MemoryBus>,
    pub instance: Instance,
}

impl Harness {
    pub async fn start(backend: Backend, config: &Config) -> Self {
        let test_db = TestDb::create(backend).await;
        let db = test_db.connect().await;
        let bus = Arc::new(MemoryBus::new());
        let instance = Instance::start(config, db.clone(), bus.clone()).await;
        Self {
            test_db,
            db,
            bus,
            instance,
        }
    }

    /// Publishes `job`; returns once notify stored it (the in-process bus waits for the ack).
    pub async fn publish(&self, job: &NotificationJob) {
        publish(&*self.bus, job).await;
    }

    /// Stops notify and removes the database.
    pub async fn finish(self) {
        self.instance.stop().await;
        let _ = self.db.close().await;
        self.test_db.drop_it().await;
    }
}

/// The envelope a service would publish for `job`.
pub fn envelope(job: &NotificationJob) -> Envelope {
    Envelope {
        subject: "notify.test".into(),
        id: job.job_id.clone(),
        payload: job.encode_to_vec().into(),
        traceparent: Some(TRACEPARENT.into()),
    }
}

/// Publishes `job` on `bus`, bounded.
pub async fn publish(bus: &dyn Bus, job: &NotificationJob) {
    tokio::time::timeout(Duration::from_secs(10), bus.publish(envelope(job)))
        .await
        .expect("publish not acknowledged within 10 s")
        .unwrap();
}

/// A fresh job for `url`, expiring in a minute.
pub fn job(url: String) -> NotificationJob {
    let now = Utc::now();
    NotificationJob {
        job_id: parlay_kit::ids::new_id("nj"),
        application_id: "app1".into(),
        notify_url: url,
        body: br#"{"callEventNotification":{"eventType":"CallAnswered"}}"#.to_vec(),
        content_type: "application/json; charset=utf-8".into(),
        resource_kind: "callSession".into(),
        resource_id: "cs123".into(),
        created_at: Some(parlay_kit::wire::timestamp(now)),
        expires_at: Some(parlay_kit::wire::timestamp(
            now + chrono::TimeDelta::seconds(60),
        )),
        reply_to: None,
        order_key: String::new(),
    }
}

/// A job for `url` that asks a question: its answer is awaited on `subject` until `deadline`.
pub fn question(url: String, subject: &str, deadline: DateTime<Utc>) -> NotificationJob {
    NotificationJob {
        reply_to: Some(ReplyTo {
            subject: subject.into(),
            deadline: Some(parlay_kit::wire::timestamp(deadline)),
        }),
        ..job(url)
    }
}

/// A consumer of the replies on one subject filter: every reply, decoded, in arrival order
/// (the in-process bus refuses a publish nobody consumes).
pub struct Replies {
    rx: mpsc::UnboundedReceiver<(Envelope, NotificationReply)>,
}

impl Replies {
    /// Joins a consumer group of its own on `filter`; acknowledges every reply at once.
    pub async fn start(bus: &MemoryBus, filter: &str) -> Self {
        let mut deliveries = bus
            .consume(ConsumerSpec {
                durable: parlay_kit::ids::new_id("test_replies"),
                filter: filter.into(),
                ack_wait: Duration::from_secs(30),
            })
            .await
            .unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(delivery) = deliveries.next().await {
                let reply = NotificationReply::decode(delivery.envelope.payload.clone())
                    .expect("a NotificationReply");
                let _ = tx.send((delivery.envelope.clone(), reply));
                delivery.ack().await;
            }
        });
        Self { rx }
    }

    /// The next reply; panics after 15 s.
    pub async fn next(&mut self) -> (Envelope, NotificationReply) {
        tokio::time::timeout(Duration::from_secs(15), self.rx.recv())
            .await
            .expect("no reply within 15 s")
            .expect("the reply consumer stopped")
    }

    /// True when no reply arrived beyond those already taken.
    pub fn is_empty(&mut self) -> bool {
        self.rx.try_recv().is_err()
    }
}

/// A pending ordinary job to store directly (tests of the store): created a day before
/// `expires_at`, due since then, not leased, never attempted.
pub fn row(expires_at: DateTime<Utc>) -> job::Model {
    let created_at = store::micros(expires_at - TimeDelta::days(1));
    job::Model {
        job_id: parlay_kit::ids::new_id("nj"),
        application_id: "app1".into(),
        notify_url: "http://127.0.0.1:1/hooks".into(),
        body: b"{}".to_vec(),
        content_type: "application/json".into(),
        resource_kind: "callSession".into(),
        resource_id: "cs123".into(),
        traceparent: None,
        created_at,
        expires_at: store::micros(expires_at),
        status: job::Status::Pending,
        attempts: 0,
        next_attempt_at: created_at,
        lease_until: None,
        delivered_at: None,
        reply_subject: None,
        reply_deadline: None,
        order_key: None,
    }
}

/// The stored row of job `id`.
pub async fn job_row(db: &DatabaseConnection, id: &str) -> Option<job::Model> {
    job::Entity::find_by_id(id.to_string())
        .one(db)
        .await
        .unwrap()
}

/// The attempts of job `id`, in order.
pub async fn attempts(db: &DatabaseConnection, id: &str) -> Vec<attempt::Model> {
    attempt::Entity::find()
        .filter(attempt::Column::JobId.eq(id))
        .order_by_asc(attempt::Column::Attempt)
        .all(db)
        .await
        .unwrap()
}

/// Waits (at most 15 s) until job `id` has `status`; returns its row.
pub async fn until_status(db: &DatabaseConnection, id: &str, status: job::Status) -> job::Model {
    eventually(&format!("job {id} to be {status:?}"), || async move {
        job_row(db, id).await.filter(|row| row.status == status)
    })
    .await
}

/// Polls `probe` every 10 ms until it yields a value; panics after 15 s naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Milliseconds from `a` to `b`.
pub fn millis_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_milliseconds()
}
