//! The call service: owns Third Party Call sessions and their participants, Call
//! Notification subscriptions and decisions, and Audio Call media; drives the network
//! through `net.cmd.call.*` commands, applies `net.evt.call.*` events, and hands the
//! notifications it renders to notify. See docs/third-party-call.md and
//! docs/call-notification.md.
#![forbid(unsafe_code)]

mod convert;
pub mod core;
pub mod decisions;
pub mod domain;
mod effects;
mod events;
mod grpc;
mod media;
mod migration;
mod network;
pub mod store;
pub mod subscriptions;
#[cfg(test)]
mod testing;

use std::{sync::Arc, time::Duration};

use parlay_kit::{Config, bus::SharedBus, outbox};
use parlay_proto::call::v1::{
    audio_call_server::AudioCallServer, call_notification_server::CallNotificationServer,
    third_party_call_server::ThirdPartyCallServer,
};
use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use grpc::CallGrpc;
pub use migration::Migrator;

/// A running call service: its background workers and the state its gRPC service uses.
pub struct CallService {
    core: Arc<core::Core>,
    tasks: JoinSet<()>,
}

impl CallService {
    /// Subscribes to network events and starts the outbox relay and the retention janitor.
    pub async fn start(
        config: &Config,
        db: DatabaseConnection,
        bus: SharedBus,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let waker = outbox::Waker::default();
        let (deadlines, deadlines_rx) = tokio::sync::mpsc::unbounded_channel();
        let core = Arc::new(core::Core::new(
            db.clone(),
            waker.clone(),
            Arc::new(config.clone()),
            deadlines,
        ));
        let deliveries = bus.consume(events::consumer_spec()).await?;
        let replies = bus.consume(decisions::consumer_spec()).await?;
        let mut tasks = JoinSet::new();
        tasks.spawn(events::run(core.clone(), deliveries, shutdown.clone()));
        tasks.spawn(decisions::replies(core.clone(), replies, shutdown.clone()));
        tasks.spawn(decisions::timer(
            core.clone(),
            deadlines_rx,
            shutdown.clone(),
        ));
        tasks.spawn(outbox::Relay::new(db.clone(), bus, waker).run(shutdown.clone()));
        tasks.spawn(no_answer_timer(core.clone(), shutdown.clone()));
        tasks.spawn(janitor(db, config.call.retention_secs, shutdown));
        Ok(Self { core, tasks })
    }

    /// The Third Party Call gRPC service to mount on a tonic server.
    pub fn grpc(&self) -> ThirdPartyCallServer<CallGrpc> {
        ThirdPartyCallServer::new(CallGrpc {
            core: self.core.clone(),
        })
    }

    /// The Call Notification gRPC service.
    pub fn notification_grpc(&self) -> CallNotificationServer<subscriptions::NotificationGrpc> {
        CallNotificationServer::new(subscriptions::NotificationGrpc {
            core: self.core.clone(),
        })
    }

    /// The Audio Call gRPC service.
    pub fn audio_grpc(&self) -> AudioCallServer<media::AudioGrpc> {
        AudioCallServer::new(media::AudioGrpc {
            core: self.core.clone(),
        })
    }

    /// Waits for the workers to stop after shutdown.
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Ends legs left unanswered past `call.no_answer_timeout_secs` (see
/// [`domain::Session::expire_unanswered`]), checking every few seconds.
async fn no_answer_timer(core: Arc<core::Core>, shutdown: CancellationToken) {
    let timeout = chrono::Duration::seconds(core.config.call.no_answer_timeout_secs as i64);
    let every = Duration::from_secs((core.config.call.no_answer_timeout_secs / 4).clamp(1, 5));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let now = chrono::Utc::now();
        let ids = match store::with_unanswered_legs(&core.db, now - timeout, 500).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "no-answer timer could not read the store");
                continue;
            }
        };
        for id in ids {
            let result = core
                .mutate(&id, None, None, move |s| {
                    Ok(s.expire_unanswered(now - timeout, now))
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, session = %id, "no-answer timer could not end a leg");
            }
        }
    }
}

/// Purges sessions whose retention after ending has passed (they then answer 404), and
/// event ids old enough never to be redelivered.
async fn janitor(db: DatabaseConnection, retention_secs: u64, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        let cutoff = chrono::Utc::now() - chrono::Duration::seconds(retention_secs as i64);
        match store::purge_ended_before(&db, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "ended call sessions purged"),
            Err(e) => tracing::warn!(error = %e, "call session purge failed"),
        }
        if let Err(e) =
            parlay_kit::inbox::prune_before(&db, chrono::Utc::now() - parlay_kit::inbox::RETENTION)
                .await
        {
            tracing::warn!(error = %e, "inbox prune failed");
        }
        match subscriptions::purge_expired(&db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired call-notification subscriptions purged"),
            Err(e) => tracing::warn!(error = %e, "subscription purge failed"),
        }
        match media::purge(&db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "recordings and media past retention purged"),
            Err(e) => tracing::warn!(error = %e, "media purge failed"),
        }
    }
}
