//! The dispatcher: claims due jobs with a lease, so replicas sharing a database never make
//! the same attempt at once, runs at most `concurrency` attempts at a time, records each
//! attempt and schedules the next. The consumer hands it the jobs it stored already leased
//! (see [`crate::handoff`]), which it attempts at once; it is woken to claim from the table
//! when the consumer stored jobs unleased (told which pool they are for), and when an
//! attempt ends that may have made another job due: one with an order key (the next of its
//! order may go), one that failed (its retry is scheduled), or any while its pool had jobs
//! waiting for a slot. Otherwise it sleeps until the next job falls due (at most
//! [`MAX_IDLE`], which also bounds how late a lease left by a crashed replica is noticed).
//! Each wake claims only for the pools it concerns: a look is a statement or two on
//! notify's one connection.
//!
//! Jobs that ask a question (see [`crate::ask`]) have their own slots, up to
//! [`ASKING_CONCURRENCY`](crate::handoff::ASKING_CONCURRENCY), and are claimed first,
//! earliest deadline first: a call waits on them, so they never queue behind ordinary
//! deliveries.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use parlay_kit::{bus::SharedBus, config::NotifyConfig};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::{sync::OwnedSemaphorePermit, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    deliver::{Outcome, Request, Sender},
    entity::job,
    handoff::{Handoff, Leased, Look},
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

/// The lease of a job claimed or stored at `now`: `lease_secs`, or for a question until
/// its deadline has passed (it may wait longer than a lease for the application's answer)
/// plus a margin to record it, whichever is later.
pub fn lease_until(
    now: DateTime<Utc>,
    lease_secs: u64,
    reply_deadline: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let lease = store::after(now, lease_secs);
    reply_deadline.map_or(lease, |deadline| {
        lease.max(store::after(deadline, QUESTION_MARGIN_SECS))
    })
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
    /// The slots of both pools; hands over the jobs stored leased, and signals the
    /// others.
    pub handoff: Arc<Handoff>,
    /// Where the answers to questions are published.
    pub bus: SharedBus,
}

impl Dispatcher {
    /// Runs until `shutdown`, then waits for the attempts in flight (each bounded by the
    /// attempt timeout), those handed over meanwhile included, and for the jobs the
    /// consumer hands over until it has stopped (`consumer_stopped`).
    pub async fn run(self, shutdown: CancellationToken, consumer_stopped: CancellationToken) {
        let this = Arc::new(self);
        let mut inflight = JoinSet::new();
        let mut asking = JoinSet::new();
        let mut error_wait = Duration::from_millis(100);
        let mut counted: Option<tokio::time::Instant> = None;
        // Which pools to claim for now, and when to look at the table at the latest.
        let mut look = Look::BOTH;
        let mut next_look = tokio::time::Instant::now();
        // The pools whose last look found more claimable jobs than free slots (or no free
        // slot): each attempt of theirs that ends lets the next one go.
        let mut behind = Look::default();
        while !shutdown.is_cancelled() {
            if counted.is_none_or(|at| at.elapsed() >= COUNT_PENDING_EVERY) {
                counted = Some(tokio::time::Instant::now());
                match store::pending(&this.db).await {
                    Ok(n) => metrics::gauge!("parlay_notify_pending").set(n as f64),
                    Err(e) => tracing::warn!(error = %e, "could not count pending notifications"),
                }
            }
            if look.any() {
                let wait = match this
                    .fill(look, &mut behind, &mut inflight, &mut asking, &shutdown)
                    .await
                {
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
            look = tokio::select! {
                _ = shutdown.cancelled() => Look::BOTH,
                (look, arrived) = this.handoff.stored_in() => {
                    this.start(arrived, &mut inflight, &mut asking);
                    look
                }
                _ = tokio::time::sleep_until(next_look) => Look::BOTH,
                Some(done) = inflight.join_next(), if !inflight.is_empty() => Look {
                    asking: false,
                    ordinary: ended(done) || behind.ordinary,
                },
                // A question makes no other job due (questions are not ordered and get one
                // attempt), so its pool is looked at again only if jobs wait for a slot.
                Some(done) = asking.join_next(), if !asking.is_empty() => Look {
                    asking: ended(done) || behind.asking,
                    ordinary: false,
                },
            };
            // Every attempt that ended meanwhile frees its slot now, so the next fill
            // claims them together.
            while let Some(done) = inflight.try_join_next() {
                look.ordinary |= ended(done) || behind.ordinary;
            }
            while let Some(done) = asking.try_join_next() {
                look.asking |= ended(done) || behind.asking;
            }
        }
        // Jobs handed over as shutdown began are leased to this instance: attempt them
        // rather than leave them to wait for their lease to run out. The consumer finishes
        // storing the chunk it holds when shutdown comes, and hands that chunk's jobs over
        // after this loop may have ended: they are taken once it has stopped.
        this.start(this.handoff.take_arrived(), &mut inflight, &mut asking);
        consumer_stopped.cancelled().await;
        this.start(this.handoff.take_arrived(), &mut inflight, &mut asking);
        while let Some(done) = inflight.join_next().await {
            ended(done);
        }
        while let Some(done) = asking.join_next().await {
            ended(done);
        }
    }

    /// Starts the attempts of jobs the consumer stored leased to this instance.
    fn start(
        self: &Arc<Self>,
        arrived: Vec<Leased>,
        inflight: &mut JoinSet<bool>,
        asking: &mut JoinSet<bool>,
    ) {
        for Leased {
            job,
            lease_until,
            slot,
        } in arrived
        {
            let tasks = match Pool::of(&job) {
                Pool::Asking => &mut *asking,
                Pool::Ordinary => &mut *inflight,
            };
            self.spawn(tasks, job, lease_until, Some(slot));
        }
    }

    fn spawn(
        self: &Arc<Self>,
        tasks: &mut JoinSet<bool>,
        job: job::Model,
        lease_until: DateTime<Utc>,
        slot: Option<OwnedSemaphorePermit>,
    ) {
        let this = Arc::clone(self);
        tasks.spawn(async move {
            let more = this.attempt(job, lease_until).await;
            drop(slot);
            more
        });
    }

    /// Claims due jobs of the pools `look` names into their free slots, questions first,
    /// and notes in `behind` which pools have jobs left waiting for a slot; returns how long
    /// to sleep unless woken.
    async fn fill(
        self: &Arc<Self>,
        look: Look,
        behind: &mut Look,
        inflight: &mut JoinSet<bool>,
        asking: &mut JoinSet<bool>,
        shutdown: &CancellationToken,
    ) -> Result<Duration, DbErr> {
        if look.asking {
            behind.asking = self.claim_into(Pool::Asking, asking, shutdown).await?;
        }
        if look.ordinary {
            behind.ordinary = self.claim_into(Pool::Ordinary, inflight, shutdown).await?;
        }
        if shutdown.is_cancelled() {
            return Ok(Duration::ZERO);
        }
        // Only a pool with a free slot can take a job now; a full one is woken by the next
        // of its attempts that ends.
        let pool = match (!behind.asking, !behind.ordinary) {
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

    /// Claims due jobs of `pool` into its free slots; whether jobs may be left waiting for
    /// a slot (every free slot was filled, or none was free).
    async fn claim_into(
        self: &Arc<Self>,
        pool: Pool,
        tasks: &mut JoinSet<bool>,
        shutdown: &CancellationToken,
    ) -> Result<bool, DbErr> {
        if shutdown.is_cancelled() {
            return Ok(false);
        }
        // The slots are taken once the jobs are leased, not held during the claim: the
        // consumer leasing the jobs it stores meanwhile finds them free.
        let free = self.handoff.free(pool);
        if free == 0 {
            return Ok(true);
        }
        let now = store::now();
        // Every free slot in one statement: claiming row by row put one write per job on
        // the dispatcher's own path, each waiting behind the attempts' writes.
        let lease = self.config.lease_secs;
        let (jobs, lease_until) = store::claim_due(&self.db, now, free as u64, pool, |deadlines| {
            // The latest deadline of those claimed together.
            deadlines
                .iter()
                .map(|deadline| lease_until(now, lease, *deadline))
                .fold(lease_until(now, lease, None), DateTime::max)
        })
        .await?;
        let claimed = jobs.len();
        for job in jobs {
            // A job whose slot the consumer took meanwhile is leased to this instance all
            // the same: it is attempted now, one over the bound for that moment.
            let slot = self.handoff.take(pool, 1);
            self.spawn(tasks, job, lease_until, slot);
        }
        Ok(claimed == free)
    }

    /// Makes one attempt of a leased job and records it; whether its end may have made
    /// another job due (see [`Dispatcher::attempt_in_span`]).
    async fn attempt(self: Arc<Self>, job: job::Model, lease_until: DateTime<Utc>) -> bool {
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
            .await
    }

    /// The attempt; true when its end may let another job go: the next of its order (it
    /// has an order key), or its own retry (it was not delivered). A question never does.
    async fn attempt_in_span(
        &self,
        mut job: job::Model,
        lease_until: DateTime<Utc>,
        number: i32,
    ) -> bool {
        if let Some((subject, deadline)) = job.reply_to() {
            let subject = subject.to_string();
            self.ask(job, &subject, deadline, lease_until, number).await;
            return false;
        }
        let ordered = job.order_key.is_some();
        if job.expires_at <= store::now() {
            tracing::warn!("notification expired before it could be attempted; abandoned");
            if let Err(e) = store::expire(&self.db, &job, lease_until).await {
                tracing::warn!(error = %e, "could not mark the job expired; retried after its lease");
            }
            return ordered;
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
            return true;
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
        ordered || !matches!(next, Next::Delivered)
    }
}

/// What an attempt task said when it ended (a panic counts as "look again": its job waits
/// for its lease to run out).
fn ended(done: Result<bool, tokio::task::JoinError>) -> bool {
    done.unwrap_or_else(|e| {
        if e.is_panic() {
            tracing::error!(error = %e, "a notification attempt panicked; retried after its lease");
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{Router, http::StatusCode, routing::post};
    use parlay_kit::bus::MemoryBus;
    use parlay_proto::notify::v1::NotificationJob;
    use sea_orm::EntityTrait;

    use super::*;
    use crate::{convert, entity::job::Status};

    /// An application answering 204 to every POST; its URL and how many it got.
    async fn application() -> (String, Arc<AtomicUsize>) {
        let posts = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&posts);
        let app = Router::new().route(
            "/hook",
            post(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                StatusCode::NO_CONTENT
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, posts)
    }

    #[tokio::test]
    async fn jobs_handed_over_as_the_consumer_stops_are_attempted_before_the_dispatcher_ends() {
        let (url, posts) = application().await;
        let dir = std::env::temp_dir().join(parlay_kit::ids::new_id("dispatcher-test-"));
        let db = parlay_kit::db::connect_and_migrate::<crate::Migrator>(
            &parlay_kit::db::sqlite_url(&dir, "notify"),
        )
        .await
        .unwrap();
        let config = parlay_kit::Config::default().notify;
        let handoff = Arc::new(Handoff::new(config.concurrency));
        let dispatcher = Dispatcher {
            db: db.clone(),
            recorder: Recorder::start(db.clone()),
            sender: Sender::new(&config).unwrap(),
            config: config.clone(),
            handoff: Arc::clone(&handoff),
            bus: Arc::new(MemoryBus::new()),
        };
        // What the consumer does with a chunk: the job stored leased to this instance, in
        // a slot of its pool.
        let now = store::now();
        let mut row = convert::job_row(
            NotificationJob {
                job_id: "nj-handed-late".into(),
                application_id: "app1".into(),
                notify_url: url,
                body: b"{}".to_vec(),
                content_type: "application/json".into(),
                resource_kind: "test".into(),
                resource_id: "r1".into(),
                created_at: Some(parlay_kit::wire::timestamp(now)),
                expires_at: Some(parlay_kit::wire::timestamp(
                    now + chrono::TimeDelta::seconds(60),
                )),
                reply_to: None,
                order_key: String::new(),
            },
            None,
            now,
            Duration::from_secs(60),
        )
        .unwrap();
        let lease_until = lease_until(now, config.lease_secs, None);
        row.lease_until = Some(lease_until);
        store::insert_jobs(&db, std::slice::from_ref(&row))
            .await
            .unwrap();
        let slot = handoff.take(Pool::Ordinary, 1).unwrap();

        // Shutdown comes while the consumer is still storing that chunk.
        let shutdown = CancellationToken::new();
        let consumer_stopped = CancellationToken::new();
        shutdown.cancel();
        let running = tokio::spawn(dispatcher.run(shutdown, consumer_stopped.clone()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !running.is_finished(),
            "the dispatcher waits for the consumer to stop"
        );
        handoff.arrived(vec![Leased {
            job: row,
            lease_until,
            slot,
        }]);
        consumer_stopped.cancel();
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the dispatcher ends once the consumer stopped")
            .unwrap();

        assert_eq!(posts.load(Ordering::SeqCst), 1, "attempted before the end");
        let stored = job::Entity::find_by_id("nj-handed-late")
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.status, stored.attempts), (Status::Delivered, 1));
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
