//! The messaging service (Multimedia Messaging, with the ShortMessaging SMS-only bodies the
//! gateway maps onto it). It owns:
//!
//! - **outbound requests**: SMS (segmented here, GSM 7-bit or UCS-2: [`segments`]) and MMS
//!   to one or more addresses, stored with one delivery status per address and submitted to
//!   the network on `net.cmd.msg.submit` through the outbox; idempotent per application and
//!   clientCorrelator; readable by their owner until `messaging.request_retention_secs`;
//! - **delivery statuses**: moved forward only by `net.evt.msg.receipt` receipts under the
//!   monotonic rule ([`domain::applies`]), each change notified to the request's
//!   `receiptRequest` callback;
//! - **inbound messages** (`net.evt.msg.inbound`) of registrations, with their attachments
//!   as files under `messaging.attachments_dir` (never in the database), readable, deletable
//!   and retrievable-and-deletable until `messaging.inbound_retention_secs`;
//! - **inbound subscriptions**: notified of matching inbound messages until they expire.
//!
//! Notifications are rendered here with the shared ParlayREST model and handed to notify as
//! jobs on `notify.msg`. The client-visible behaviour is described in docs/messaging.md.
#![forbid(unsafe_code)]

mod convert;
mod core;
pub mod domain;
mod entities;
mod error;
mod events;
mod files;
mod grpc;
mod inbound;
mod mailbox;
mod migration;
mod notifications;
mod outbound;
mod receipts;
pub mod segments;
mod subscriptions;

use std::{sync::Arc, time::Duration};

use parlay_kit::{Config, bus::SharedBus, outbox};
use parlay_proto::messaging::v1::messaging_server::MessagingServer;
use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use error::{Error, Result};
pub use grpc::MessagingGrpc;
pub use migration::Migrator;

use crate::core::Core;

/// A running messaging service: its background workers (network events, outbox relay,
/// janitor) and the state its gRPC service uses.
pub struct MessagingService {
    core: Arc<Core>,
    tasks: JoinSet<()>,
}

impl MessagingService {
    /// Joins the `net.evt.msg.>` consumer group and starts the outbox relay and the
    /// retention janitor. `db` must be migrated with [`Migrator`].
    pub async fn start(
        config: &Config,
        db: DatabaseConnection,
        bus: SharedBus,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let waker = outbox::Waker::default();
        let core = Arc::new(Core {
            db: db.clone(),
            waker: waker.clone(),
            config: Arc::new(config.clone()),
            files: files::Files::new(config.attachments_dir()),
            sends: outbound::sends(db.clone(), waker.clone()),
        });
        let deliveries = bus.consume(events::consumer_spec()).await?;
        let mut tasks = JoinSet::new();
        tasks.spawn(events::run(core.clone(), deliveries, shutdown.clone()));
        tasks.spawn(outbox::Relay::new(db, bus, waker).run(shutdown.clone()));
        tasks.spawn(janitor(core.clone(), shutdown));
        Ok(Self { core, tasks })
    }

    /// The `Messaging` gRPC service to mount on a tonic server.
    pub fn grpc(&self) -> MessagingServer<MessagingGrpc> {
        MessagingServer::new(MessagingGrpc {
            core: self.core.clone(),
        })
    }

    /// Waits for the workers to stop after shutdown.
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// How old an attachment directory no message owns must be before the sweep removes it
/// (well past any write that is about to commit).
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// How often the janitor runs: every minute, or more often when a retention is shorter
/// (a quarter of it, at least every second).
fn janitor_period(config: &Config) -> Duration {
    let m = &config.messaging;
    let shortest = m.inbound_retention_secs.min(m.request_retention_secs);
    Duration::from_secs((shortest / 4).clamp(1, 60))
}

/// Purges what is past retention: outbound requests with their statuses, inbound messages
/// with their files, expired subscriptions, event ids never to be redelivered; and sweeps
/// orphan attachment directories.
async fn janitor(core: Arc<Core>, shutdown: CancellationToken) {
    let period = janitor_period(&core.config);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(period) => {}
        }
        let now = chrono::Utc::now();
        let m = &core.config.messaging;
        let requests = now - chrono::Duration::seconds(m.request_retention_secs as i64);
        match outbound::purge(&core.db, requests).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "outbound requests past retention purged"),
            Err(e) => tracing::warn!(error = %e, "outbound request purge failed"),
        }
        let messages = now - chrono::Duration::seconds(m.inbound_retention_secs as i64);
        match mailbox::purge(&core, messages).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "inbound messages past retention purged"),
            Err(e) => tracing::warn!(error = %e, "inbound message purge failed"),
        }
        match subscriptions::purge_expired(&core.db, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired inbound subscriptions purged"),
            Err(e) => tracing::warn!(error = %e, "inbound subscription purge failed"),
        }
        if let Err(e) =
            parlay_kit::inbox::prune_before(&core.db, now - parlay_kit::inbox::RETENTION).await
        {
            tracing::warn!(error = %e, "inbox prune failed");
        }
        match mailbox::sweep_orphans(&core, ORPHAN_AGE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "orphan attachment directories removed"),
            Err(e) => tracing::warn!(error = %e, "attachment sweep failed"),
        }
    }
}
