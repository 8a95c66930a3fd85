//! The dispatcher: claims due jobs with a lease, so replicas sharing a database never make
//! the same attempt at once, runs at most `concurrency` attempts at a time, records each
//! attempt and schedules the next. Woken by the consumer when jobs arrive (told which pool
//! they are for) and by each attempt that ends (for its own pool); otherwise it sleeps until
//! the next job falls due (at most [`MAX_IDLE`], which also bounds how late a lease left by a
//! crashed replica is noticed). Each wake claims only for the pools it concerns: a look is a
//! statement or two on notify's one connection.
//!
//! Jobs that ask a question (see [`crate::ask`]) have their own slots, up to
//! [`ASKING_CONCURRENCY`], and are claimed first, earliest deadline first: a call waits on
//! them, so they never queue behind ordinary deliveries.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use parlay_kit::{bus::SharedBus, config::NotifyConfig};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::{sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    deliver::{Outcome, Request, Sender},
    entity::job,
    recorder::Recorder,
    schedule::{self, Backoff, Next},
    store::{self, Pool},
};

/// Seconds a question stays leased past its deadline, to record its attempt.
const QUESTION_MARGIN_SECS: u64 = 5;

/// Longest sleep between two looks at the table.
pub const MAX_IDLE: Duration = Duration::from_secs(1);

/// How often `parlay_notify_pending` (jobs still to be delivered) is counted afresh.
const COUNT_PENDING_EVERY: Duration = Duration::from_secs(5);

/// Questions in flight at once, besides the `concurrency` ordinary deliveries. Each holds a
/// connection for at most the attempt timeout; the bound keeps a burst of questions to an
/// application that hangs within the file descriptors of one process.
pub const ASKING_CONCURRENCY: usize = 512;

/// Tells the dispatcher that jobs were stored, and for which pools, so that it claims
/// only for those.
#[derive(Debug, Default)]
pub struct Wake {
    notify: Notify,
    asking: AtomicBool,
    ordinary: AtomicBool,
}

impl Wake {
    /// New jobs of `pool` were committed.
    pub fn stored(&self, pool: Pool) {
        let flag = match pool {
            Pool::Asking => &self.asking,
            Pool::Ordinary => &self.ordinary,
        };
        flag.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// Waits for jobs to be stored; the pools that got some since the last time.
    async fn stored_in(&self) -> Look {
        self.notify.notified().await;
        Look {
            asking: self.asking.swap(false, Ordering::AcqRel),
            ordinary: self.ordinary.swap(false, Ordering::AcqRel),
        }
    }
}

/// The pools the dispatcher claims jobs for at its next look at the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    asking: bool,
    ordinary: bool,
}

impl Look {
    const BOTH: Look = Look {
        asking: true,
        ordinary: true,
    };

    fn any(self) -> bool {
        self.asking || self.ordinary
    }
}

/// Shared by the dispatcher and its attempt tasks.
pub struct Dispatcher {
    /// notify's database.
    pub db: DatabaseConnection,
    /// Writes the attempts' outcomes, in batches.
    pub recorder: Recorder,
    /// The HTTP client.
    pub sender: Sender,
    /// notify's settings.
    pub config: NotifyConfig,
    /// Signalled when new jobs were stored.
    pub wake: Arc<Wake>,
    /// Where the answers to questions are published.
    pub bus: SharedBus,
}

impl Dispatcher {
    /// Runs until `shutdown`, then waits for the attempts in flight (each bounded by the
    /// attempt timeout).
    pub async fn run(self, shutdown: CancellationToken) {
        let this = Arc::new(self);
        let mut inflight = JoinSet::new();
        let mut asking = JoinSet::new();
        let mut error_wait = Duration::from_millis(100);
        let mut counted: Option<tokio::time::Instant> = None;
        // Which pools to claim for now, and when to look at the table at the latest.
        let mut look = Look::BOTH;
        let mut next_look = tokio::time::Instant::now();
        while !shutdown.is_cancelled() {
            if counted.is_none_or(|at| at.elapsed() >= COUNT_PENDING_EVERY) {
                counted = Some(tokio::time::Instant::now());
                match store::pending(&this.db).await {
                    Ok(n) => metrics::gauge!("parlay_notify_pending").set(n as f64),
                    Err(e) => tracing::warn!(error = %e, "could not count pending notifications"),
                }
            }
            if look.any() {
                let wait = match this.fill(look, &mut inflight, &mut asking, &shutdown).await {
                    Ok(wait) => {
                        error_wait = Duration::from_millis(100);
                        wait
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "notify dispatcher could not read its jobs");
                        error_wait = (error_wait * 2).min(Duration::from_secs(5));
                        error_wait
                    }
                };
                next_look = tokio::time::Instant::now() + wait;
            }
            // An attempt that ends makes only jobs of its own pool claimable: an ordinary
            // delivery may let the next of its order key go, or free a slot of a full pool.
            // A question makes no other job due (questions are not ordered and get one
            // attempt), so its pool is looked at again only if it was full.
            let asking_full = asking.len() >= ASKING_CONCURRENCY;
            look = tokio::select! {
                _ = shutdown.cancelled() => Look::BOTH,
                look = this.wake.stored_in() => look,
                _ = tokio::time::sleep_until(next_look) => Look::BOTH,
                Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                    log_panic(done);
                    Look { asking: false, ordinary: true }
                }
                Some(done) = asking.join_next(), if !asking.is_empty() => {
                    log_panic(done);
                    Look { asking: asking_full, ordinary: false }
                }
            };
            // Every attempt that ended meanwhile frees its slot now, so the next fill
            // claims them together.
            while let Some(done) = inflight.try_join_next() {
                log_panic(done);
                look.ordinary = true;
            }
            while let Some(done) = asking.try_join_next() {
                log_panic(done);
                look.asking |= asking_full;
            }
        }
        while let Some(done) = inflight.join_next().await {
            log_panic(done);
        }
        while let Some(done) = asking.join_next().await {
            log_panic(done);
        }
    }

    /// Claims due jobs of the pools `look` names into their free slots, questions first;
    /// returns how long to sleep unless woken.
    async fn fill(
        self: &Arc<Self>,
        look: Look,
        inflight: &mut JoinSet<()>,
        asking: &mut JoinSet<()>,
        shutdown: &CancellationToken,
    ) -> Result<Duration, DbErr> {
        if look.asking {
            self.claim_into(Pool::Asking, asking, ASKING_CONCURRENCY, shutdown)
                .await?;
        }
        if look.ordinary {
            self.claim_into(Pool::Ordinary, inflight, self.config.concurrency, shutdown)
                .await?;
        }
        if shutdown.is_cancelled() {
            return Ok(Duration::ZERO);
        }
        // Only a pool with a free slot can take a job now; a full one is woken by the next
        // of its attempts that ends.
        let pool = match (
            asking.len() < ASKING_CONCURRENCY,
            inflight.len() < self.config.concurrency,
        ) {
            (true, true) => None,
            (true, false) => Some(Pool::Asking),
            (false, true) => Some(Pool::Ordinary),
            (false, false) => return Ok(MAX_IDLE),
        };
        let now = store::now();
        Ok(match store::next_due(&self.db, now, pool).await? {
            Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_IDLE),
            None => MAX_IDLE,
        })
    }

    /// Claims due jobs of `pool` until `tasks` holds `limit` attempts.
    async fn claim_into(
        self: &Arc<Self>,
        pool: Pool,
        tasks: &mut JoinSet<()>,
        limit: usize,
        shutdown: &CancellationToken,
    ) -> Result<(), DbErr> {
        let free = limit.saturating_sub(tasks.len());
        if free == 0 || shutdown.is_cancelled() {
            return Ok(());
        }
        let now = store::now();
        // Every free slot in one statement: claiming row by row put one write per job on
        // the dispatcher's own path, each waiting behind the attempts' writes.
        let lease = self.config.lease_secs;
        let (jobs, lease_until) = store::claim_due(&self.db, now, free as u64, pool, |jobs| {
            let lease_until = store::after(now, lease);
            // A question is held until its deadline has passed (it may wait longer than a
            // lease for the application's answer), plus a margin to record it: the latest
            // deadline of those claimed together.
            jobs.iter()
                .filter_map(|job| job.reply_deadline)
                .map(|deadline| store::after(deadline, QUESTION_MARGIN_SECS))
                .fold(lease_until, DateTime::max)
        })
        .await?;
        for job in jobs {
            let this = Arc::clone(self);
            tasks.spawn(async move { this.attempt(job, lease_until).await });
        }
        Ok(())
    }

    /// Makes one attempt of a claimed job and records it.
    async fn attempt(self: Arc<Self>, job: job::Model, lease_until: DateTime<Utc>) {
        let number = job.attempts.saturating_add(1);
        let span = tracing::info_span!(
            "notify.deliver",
            job_id = %job.job_id,
            application_id = %job.application_id,
            resource_kind = %job.resource_kind,
            resource_id = %job.resource_id,
            attempt = number,
        );
        parlay_kit::telemetry::set_remote_parent(&span, job.traceparent.as_deref());
        self.attempt_in_span(job, lease_until, number)
            .instrument(span)
            .await;
    }

    async fn attempt_in_span(&self, mut job: job::Model, lease_until: DateTime<Utc>, number: i32) {
        if let Some((subject, deadline)) = job.reply_to() {
            let subject = subject.to_string();
            return self.ask(job, &subject, deadline, lease_until, number).await;
        }
        if job.expires_at <= store::now() {
            tracing::warn!("notification expired before it could be attempted; abandoned");
            if let Err(e) = store::expire(&self.db, &job, lease_until).await {
                tracing::warn!(error = %e, "could not mark the job expired; retried after its lease");
            }
            return;
        }
        let attempt = self
            .sender
            .send(Request {
                url: &job.notify_url,
                body: std::mem::take(&mut job.body).into(),
                content_type: &job.content_type,
                notification_id: &job.job_id,
                traceparent: job.traceparent.as_deref(),
                timeout: None,
            })
            .await;
        let permanent = matches!(
            attempt.outcome,
            Outcome::Failed {
                permanent: true,
                ..
            }
        );
        let finished = Utc::now();
        let backoff = Backoff {
            initial_ms: self.config.initial_backoff_ms,
            max_ms: self.config.max_backoff_ms,
        };
        let next = schedule::next_step(
            attempt.delivered(),
            permanent,
            number.max(1).unsigned_abs(),
            finished,
            job.expires_at,
            backoff,
            &mut rand::rng(),
        );
        let record = store::Record::new(&job, lease_until, number, &attempt, next);
        if let Err(e) = self.recorder.record(record).await {
            tracing::warn!(error = %e, "could not record the attempt; retried after its lease");
            return;
        }
        let (status, error) = match &attempt.outcome {
            Outcome::Answered { status, .. } => (Some(*status), None),
            Outcome::Failed { error, .. } => (None, Some(error.as_str())),
        };
        match next {
            Next::Delivered => {
                metrics::counter!("parlay_notify_attempts_total", "outcome" => "delivered")
                    .increment(1);
                let age = (finished - job.created_at).to_std().unwrap_or_default();
                metrics::histogram!("parlay_notify_delivery_seconds").record(age.as_secs_f64());
                tracing::debug!(status, "notification delivered");
            }
            Next::Retry(at) => {
                metrics::counter!("parlay_notify_attempts_total", "outcome" => "failed")
                    .increment(1);
                tracing::debug!(status, error, next_attempt_at = %at, "notification attempt failed; will retry");
            }
            Next::Expired => {
                metrics::counter!("parlay_notify_attempts_total", "outcome" => "expired")
                    .increment(1);
                tracing::warn!(status, error, expires_at = %job.expires_at, "notification abandoned after its last attempt");
            }
        }
    }
}

fn log_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        tracing::error!(error = %e, "a notification attempt panicked; retried after its lease");
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn a_wake_names_the_pools_that_got_jobs_since_the_one_before() {
        let wake = Wake::default();
        assert_eq!(wake.stored_in().now_or_never(), None, "nothing stored yet");

        wake.stored(Pool::Asking);
        let only_questions = Look {
            asking: true,
            ordinary: false,
        };
        assert_eq!(wake.stored_in().now_or_never(), Some(only_questions));

        wake.stored(Pool::Ordinary);
        wake.stored(Pool::Asking);
        assert_eq!(wake.stored_in().now_or_never(), Some(Look::BOTH));
        // Both were taken by that one wake: no second one is pending.
        assert_eq!(wake.stored_in().now_or_never(), None);
    }
}
