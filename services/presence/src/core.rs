//! What every part of the service shares.

use std::sync::Arc;

use parlay_kit::{Config, outbox};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

pub struct Core {
    pub db: DatabaseConnection,
    /// Wakes the outbox relay after a commit that recorded notification jobs.
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

    /// After a commit: notification jobs may be in the outbox, notifications may be due.
    pub fn wake(&self) {
        self.waker.wake();
        self.flusher.notify_one();
    }
}
