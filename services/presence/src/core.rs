//! What every part of the service shares.

use std::sync::Arc;

use parlay_kit::{Config, outbox};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

pub struct Core {
    pub db: DatabaseConnection,
    /// Takes the outbox rows of a commit to the relay.
    pub waker: outbox::Waker,
    /// Wakes the coalescing flusher after a commit that made a notification due.
    pub flusher: Arc<Notify>,
    pub config: Arc<Config>,
}

impl Core {
    pub fn api_root(&self) -> String {
        self.config.api_root()
    }

    /// The shortest time between two presence notifications of one presentity to one
    /// subscription (`presence.notify_interval_ms`).
    pub fn interval(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(
            i64::try_from(self.config.presence.notify_interval_ms).unwrap_or(i64::MAX / 2),
        )
    }

    /// After a commit: presence notifications may be due (the outbox's rows are handed to
    /// the relay with [`outbox::Waker::hand`]).
    pub fn wake(&self) {
        self.flusher.notify_one();
    }
}
