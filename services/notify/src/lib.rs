//! Notification dispatch, domain-agnostic. notify takes `NotificationJob`s from the bus
//! (`notify.>`), stores each before acknowledging it, POSTs it to the application's URL,
//! retries failures with exponential back-off and jitter until the job expires, and records
//! every attempt. Delivery is at-least-once, with the job id in the
//! [`NOTIFICATION_ID_HEADER`] of every attempt so applications can drop duplicates.
//!
//! A job with `reply_to` asks a question (see [`ask`]): it is attempted once, at once,
//! before its deadline, and the application's answer, or why there was none, is published
//! as a `NotificationReply` on the subject it names.
//!
//! Nothing is lost on a crash: a job is acknowledged on the bus only once stored, and a
//! stored job is attempted under a lease that any instance may take over once it expires.
//! Jobs delivered or abandoned are kept, with their attempts, for `notify.retention_secs`,
//! then deleted by a janitor.
#![forbid(unsafe_code)]

pub mod ask;
mod consumer;
pub mod convert;
pub mod deliver;
mod dispatcher;
pub mod entity;
pub mod error;
mod handoff;
mod janitor;
pub mod migration;
mod recorder;
pub mod schedule;
pub mod store;

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use parlay_kit::bus::{ConsumerSpec, SharedBus};
use sea_orm::DatabaseConnection;
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use error::{Error, Result};

/// The header carrying the job id on every attempt of a notification.
pub const NOTIFICATION_ID_HEADER: &str = "x-parlay-notification-id";

/// The durable consumer group notify replicas share.
pub const CONSUMER_GROUP: &str = "notify-jobs";

/// The subjects notify consumes.
pub const SUBJECT_FILTER: &str = "notify.>";

/// How long a delivery may stay unacknowledged before the bus offers it again.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// notify's migrations: the kit's tables, then notify's own.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own history table, so notify's migrations can share a database (or schema)
    /// with another service's without either finding the other's unknown.
    fn migration_table_name() -> sea_orm::sea_query::DynIden {
        sea_orm::sea_query::IntoIden::into_iden("seaql_migrations_notify")
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(parlay_kit::migration::KitTables),
            Box::new(migration::NotifyTables),
            Box::new(migration::ReplyTo),
            Box::new(migration::OrderedDelivery),
            Box::new(migration::PartialIndexes),
        ]
    }
}

/// A running notify: the bus consumer, the dispatcher and the janitor.
pub struct Notify {
    consumer: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
    janitor: JoinHandle<()>,
}

impl Notify {
    /// Subscribes (durable "notify-jobs", filter "notify.>", ack_wait 30 s), spawns the
    /// consumer, the dispatcher and the janitor (which prunes once right away, then every
    /// minute), returns once subscribed.
    pub async fn start(
        config: &parlay_kit::Config,
        db: DatabaseConnection,
        bus: SharedBus,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Notify> {
        let settings = config.notify.clone();
        if settings.attempt_timeout_ms >= settings.lease_secs.saturating_mul(1000) {
            tracing::warn!(
                attempt_timeout_ms = settings.attempt_timeout_ms,
                lease_secs = settings.lease_secs,
                "notify.lease_secs should exceed the attempt timeout; replicas may attempt a job twice at once"
            );
        }
        if settings.retention_secs < settings.max_age_secs {
            tracing::warn!(
                retention_secs = settings.retention_secs,
                max_age_secs = settings.max_age_secs,
                "notify.retention_secs should exceed max_age_secs; a job published again after its row was deleted may be delivered again"
            );
        }
        let sender = deliver::Sender::new(&settings).context("building notify's HTTP client")?;
        let deliveries = bus
            .consume(ConsumerSpec {
                durable: CONSUMER_GROUP.into(),
                filter: SUBJECT_FILTER.into(),
                ack_wait: ACK_WAIT,
            })
            .await
            .context("subscribing to notification jobs")?;
        let handoff = Arc::new(handoff::Handoff::new(settings.concurrency));
        let consumer = consumer::Consumer {
            db: db.clone(),
            max_age: Duration::from_secs(settings.max_age_secs),
            lease_secs: settings.lease_secs,
            handoff: Arc::clone(&handoff),
        };
        let janitor = janitor::Janitor {
            db: db.clone(),
            retention_secs: settings.retention_secs,
            every: janitor::EVERY,
        };
        let dispatcher = dispatcher::Dispatcher {
            recorder: recorder::Recorder::start(db.clone()),
            db,
            sender,
            config: settings,
            handoff,
            bus,
        };
        // Cancelled when the consumer's task ends, however it ends.
        let consumer_stopped = CancellationToken::new();
        let stopped = consumer_stopped.clone().drop_guard();
        let consumer = consumer.run(deliveries, shutdown.clone());
        Ok(Notify {
            consumer: tokio::spawn(async move {
                let _stopped = stopped;
                consumer.await
            }),
            janitor: tokio::spawn(janitor.run(shutdown.clone())),
            dispatcher: tokio::spawn(dispatcher.run(shutdown, consumer_stopped)),
        })
    }

    /// Waits until the consumer, the dispatcher and the janitor have stopped after shutdown
    /// (in-flight attempts finish or time out first).
    pub async fn join(self) {
        for (name, task) in [
            ("consumer", self.consumer),
            ("dispatcher", self.dispatcher),
            ("janitor", self.janitor),
        ] {
            if let Err(e) = task.await {
                tracing::error!(task = name, error = %e, "notify task ended abnormally");
            }
        }
    }
}
