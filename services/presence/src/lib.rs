//! The presence service (Presence, RCS social presence). It owns:
//!
//! - **person attributes** of users ([`attributes`]): note, status icon, links, location;
//! - **who may see whom** ([`relations`], [`domain`]): the users' lists as the address-list
//!   service tells them (`ApplyListChanges`), and the watcher states derived from `rcs`
//!   and `rcs_revoke` (pending, active, revoked; terminated when gone);
//! - **subscriptions** ([`subscriptions`]) of applications: watchers subscriptions
//!   (notified of each watcher change at once) and presence-list subscriptions (notified
//!   of contacts' presence, coalesced per presentity: [`deliveries`]), each ended with a
//!   `subscriptionCancellationNotification` when its duration runs out ([`expiry`]).
//!
//! Notifications are rendered here with the shared ParlayREST model and handed to notify
//! as jobs on `notify.presence` through the outbox. The client-visible behaviour is
//! described in docs/presence.md.
#![forbid(unsafe_code)]

mod attributes;
mod contacts;
mod content;
mod convert;
mod core;
mod deliveries;
pub mod domain;
mod entities;
mod error;
mod expiry;
mod grpc;
mod migration;
mod notifications;
mod relations;
mod sources;
mod subscriptions;

use std::sync::Arc;

use parlay_kit::{Config, bus::SharedBus, outbox};
use parlay_proto::presence::v1::presence_server::PresenceServer;
use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use error::{Error, Result};
pub use grpc::PresenceGrpc;
pub use migration::Migrator;

use crate::core::Core;

/// A running presence service: its workers (outbox relay, notification flusher, the
/// expiry of temporary sources and of subscriptions) and the state its gRPC service uses.
pub struct PresenceService {
    core: Arc<Core>,
    tasks: JoinSet<()>,
}

impl PresenceService {
    /// Starts the workers. `db` must be migrated with [`Migrator`]. Notifications that
    /// fell due while the service was down go out at once.
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
            flusher: Arc::default(),
            config: Arc::new(config.clone()),
        });
        let mut tasks = JoinSet::new();
        tasks.spawn(outbox::Relay::new(db, bus, waker).run(shutdown.clone()));
        tasks.spawn(deliveries::run(core.clone(), shutdown.clone()));
        tasks.spawn(expiry::run::<sources::Expiry>(
            core.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(expiry::run::<subscriptions::Expiry>(core.clone(), shutdown));
        Ok(Self { core, tasks })
    }

    /// The `Presence` gRPC service to mount on a tonic server.
    pub fn grpc(&self) -> PresenceServer<PresenceGrpc> {
        PresenceServer::new(PresenceGrpc {
            core: self.core.clone(),
        })
    }

    /// Waits for the workers to stop after shutdown.
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}
