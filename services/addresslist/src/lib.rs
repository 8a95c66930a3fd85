//! The address-list service (Address List Management): users' contact lists and their
//! members, with the RCS lists `rcs` (presence buddies) and `rcs_revoke` (revoked and
//! blocked contacts) that every user has. Every change of a list or a membership is told to
//! the presence service over gRPC ([`sync`]), which derives who may see whom from the `rcs`
//! lists. The client-visible behaviour is described in docs/presence.md.
#![forbid(unsafe_code)]

mod core;
mod entities;
mod error;
mod grpc;
mod lists;
mod migration;
mod sync;

use std::sync::Arc;

use parlay_kit::{Config, grpc::Transport};
use parlay_proto::{
    addresslist::v1::address_list_server::AddressListServer,
    presence::v1::presence_client::PresenceClient,
};
use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use error::{Error, Result};
pub use grpc::AddressListGrpc;
pub use migration::Migrator;

use crate::core::Core;

/// A running address-list service.
pub struct AddressListService {
    core: Arc<Core>,
    tasks: JoinSet<()>,
}

impl AddressListService {
    /// Starts the background hand-over of list changes to presence, which it reaches over
    /// `presence`. `db` must be migrated with [`Migrator`].
    pub async fn start(
        config: &Config,
        db: DatabaseConnection,
        presence: Transport,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let syncer = Arc::new(sync::Syncer::new(db.clone(), PresenceClient::new(presence)));
        let core = Arc::new(Core {
            db,
            config: Arc::new(config.clone()),
            sync: syncer.clone(),
        });
        let mut tasks = JoinSet::new();
        tasks.spawn(sync::run(syncer, shutdown));
        Ok(Self { core, tasks })
    }

    /// The `AddressList` gRPC service to mount on a tonic server.
    pub fn grpc(&self) -> AddressListServer<AddressListGrpc> {
        AddressListServer::new(AddressListGrpc {
            core: self.core.clone(),
        })
    }

    /// Waits for the workers to stop after shutdown.
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}
