//! What every part of the service shares.

use std::sync::Arc;

use parlay_kit::Config;
use sea_orm::DatabaseConnection;

use crate::sync::Syncer;

pub struct Core {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub sync: Arc<Syncer>,
}

impl Core {
    /// Hands the changes just committed to presence; on failure they are retried in the
    /// background (they are in the database), and the request still succeeds.
    pub async fn after_change(&self) {
        if let Err(e) = self.sync.flush().await {
            tracing::warn!(error = %e, "presence has not applied a list change yet");
            self.sync.retry_soon();
        }
    }
}
