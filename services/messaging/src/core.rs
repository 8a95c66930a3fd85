//! What every part of the service shares: the database, the outbox relay's waker, the
//! configuration and the attachment files.

use std::sync::Arc;

use parlay_kit::{Config, outbox};
use sea_orm::DatabaseConnection;

use crate::files::Files;

/// The name this service records processed event ids under (the kit's inbox).
pub const CONSUMER: &str = "messaging";

/// The service's shared state.
pub struct Core {
    pub db: DatabaseConnection,
    /// Wakes the outbox relay after a commit that recorded bus messages.
    pub waker: outbox::Waker,
    pub config: Arc<Config>,
    pub files: Files,
    /// Stores new outbound requests, in batches.
    pub sends: crate::outbound::Sends,
}

impl Core {
    /// The API root every URL in a notification starts with.
    pub fn api_root(&self) -> String {
        self.config.api_root()
    }
}
