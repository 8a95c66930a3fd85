//! Jobs that ask a question (a call-direction notification, though notify knows nothing of
//! calls): `reply_to` names a subject and a deadline. Such a job gets exactly one attempt,
//! bounded by the time left until the deadline, and is then final: delivered when the
//! application answered 2xx, abandoned otherwise. Whatever happened, a `NotificationReply`
//! goes out on the subject: the application's answer (any status, the first 64 KiB of the
//! body), or why there was none (`timeout`, `unreachable: …`, `deadline passed`).
//!
//! The reply is published while the attempt is recorded, not after, to keep the database
//! off the critical path. Its envelope id is the job id plus [`REPLY_ID_SUFFIX`], the same
//! for any reply to the job, so the bus drops a second one (after a crash between the two).
//! A reply the bus refuses is retried for [`PUBLISH_BUDGET`], then given up: the asker
//! enforces its own deadline and applies its default.

use std::time::Duration;

use chrono::{DateTime, Utc};
use parlay_kit::wire;
use parlay_proto::notify::v1::{NotificationReply, notification_reply::Outcome as ReplyOutcome};

use crate::{
    convert,
    deliver::{Attempt, Request},
    dispatcher::Dispatcher,
    entity::job,
    schedule::Next,
    store,
};

/// Appended to the job id to make the reply's envelope id.
pub const REPLY_ID_SUFFIX: &str = ".reply";

/// How long a reply the bus refuses is retried.
pub const PUBLISH_BUDGET: Duration = Duration::from_secs(2);

/// The pause after the first refusal; it doubles after each.
const FIRST_PAUSE: Duration = Duration::from_millis(50);

impl Dispatcher {
    /// Makes the one attempt of a claimed question, whose answer is awaited (published on
    /// `subject`) until `deadline` (no attempt once the deadline has passed), then records it and
    /// publishes the reply at the same time.
    pub(crate) async fn ask(
        &self,
        mut job: job::Model,
        subject: &str,
        deadline: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        number: i32,
    ) {
        let left = (deadline - Utc::now())
            .to_std()
            .ok()
            .filter(|left| !left.is_zero());
        let attempt = match left {
            Some(left) => {
                // Bounded by the deadline only: the asking service chose how long the
                // application may take (it can exceed an ordinary attempt's timeout).
                let timeout = left;
                let request = Request {
                    url: &job.notify_url,
                    body: std::mem::take(&mut job.body).into(),
                    content_type: &job.content_type,
                    notification_id: &job.job_id,
                    traceparent: job.traceparent.as_deref(),
                    timeout: Some(timeout.max(Duration::from_millis(1))),
                };
                Some(self.sender.send(request).await)
            }
            None => None,
        };
        let reply = convert::reply(&job, attempt.as_ref(), Utc::now());
        let (recorded, ()) = tokio::join!(
            self.settle(&job, lease_until, number, attempt.as_ref()),
            self.publish_reply(subject, &job, reply),
        );
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "could not record the question's attempt; looked at again after its lease");
        }
    }

    /// Records `attempt` (or its absence) and makes the job final.
    async fn settle(
        &self,
        job: &job::Model,
        lease_until: DateTime<Utc>,
        number: i32,
        attempt: Option<&Attempt>,
    ) -> Result<bool, sea_orm::DbErr> {
        let Some(attempt) = attempt else {
            metrics::counter!("parlay_notify_attempts_total", "outcome" => "expired").increment(1);
            tracing::warn!("the question's deadline passed before it could be asked; abandoned");
            return store::expire(&self.db, job, lease_until).await;
        };
        let next = if attempt.delivered() {
            metrics::counter!("parlay_notify_attempts_total", "outcome" => "delivered")
                .increment(1);
            let age = (Utc::now() - job.created_at).to_std().unwrap_or_default();
            metrics::histogram!("parlay_notify_delivery_seconds").record(age.as_secs_f64());
            Next::Delivered
        } else {
            metrics::counter!("parlay_notify_attempts_total", "outcome" => "expired").increment(1);
            Next::Expired
        };
        self.recorder
            .record(store::Record::new(job, lease_until, number, attempt, next))
            .await
    }

    /// Publishes `reply` to `job` on `subject`, retrying a refusal for [`PUBLISH_BUDGET`].
    async fn publish_reply(&self, subject: &str, job: &job::Model, reply: NotificationReply) {
        let outcome = match &reply.outcome {
            Some(ReplyOutcome::Answer(answer)) => {
                tracing::debug!(
                    status = answer.status,
                    "the application answered the question"
                );
                "answered"
            }
            Some(ReplyOutcome::Failure(failure)) => {
                tracing::debug!(%failure, "the question got no answer");
                "failure"
            }
            None => "failure",
        };
        let id = format!("{}{REPLY_ID_SUFFIX}", job.job_id);
        let envelope = wire::envelope(subject, id, &reply);
        let give_up = tokio::time::Instant::now() + PUBLISH_BUDGET;
        let mut pause = FIRST_PAUSE;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let left = give_up.saturating_duration_since(tokio::time::Instant::now());
            let error = match tokio::time::timeout(left, self.bus.publish(envelope.clone())).await {
                Ok(Ok(())) => {
                    metrics::counter!("parlay_notify_replies_total", "outcome" => outcome)
                        .increment(1);
                    let age = (Utc::now() - job.created_at).to_std().unwrap_or_default();
                    metrics::histogram!("parlay_notify_reply_seconds").record(age.as_secs_f64());
                    return;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "the bus did not acknowledge in time".to_string(),
            };
            if tokio::time::Instant::now() + pause >= give_up {
                metrics::counter!("parlay_notify_replies_lost_total").increment(1);
                tracing::warn!(%subject, tries, %error, "could not publish the reply to a question; given up (the asker applies its default)");
                return;
            }
            tracing::debug!(%subject, tries, %error, "reply refused by the bus; retrying");
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
}
