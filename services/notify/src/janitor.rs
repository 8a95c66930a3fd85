//! The janitor: once a minute (and once at start) deletes the jobs that became final
//! (delivered or expired) more than `notify.retention_secs` ago, with their attempts, in
//! batches of [`store::PRUNE_BATCH`] jobs (see [`store::prune`] for when a job became
//! final). Pending jobs are never deleted. Replicas sharing a database may all run it: a
//! job deleted by one is simply not found by the others.
//!
//! A job published again after its row was deleted is stored again, and delivered again
//! unless it has expired by then; a retention longer than the jobs' life
//! (`notify.max_age_secs`) rules that out.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::store;

/// Time between two prunes.
pub const EVERY: Duration = Duration::from_secs(60);

/// Deletes final jobs after their retention.
pub struct Janitor {
    /// notify's database.
    pub db: DatabaseConnection,
    /// Seconds a final job is kept.
    pub retention_secs: u64,
    /// Time between two prunes.
    pub every: Duration,
}

impl Janitor {
    /// Prunes now and every `every` until `shutdown`. A prune under way at shutdown is
    /// abandoned: the batches it committed stay deleted, the one in flight is rolled back.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(self.every.max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let cutoff = store::before(store::now(), self.retention_secs);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                pruned = store::prune(&self.db, cutoff, store::PRUNE_BATCH) => match pruned {
                    Ok(0) => {}
                    Ok(n) => {
                        metrics::counter!("parlay_notify_pruned_jobs_total").increment(n);
                        tracing::info!(deleted = n, %cutoff, "final notification jobs past their retention deleted");
                    }
                    Err(e) => tracing::warn!(error = %e, "notification job prune failed; retried at the next run"),
                },
            }
        }
    }
}
