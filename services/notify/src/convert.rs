//! From the wire (`NotificationJob` on the bus) to a stored `notify_jobs` row, and from an
//! attempt of a job that asks a question to the `NotificationReply` carrying its answer.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use parlay_kit::wire;
use parlay_proto::notify::v1::{
    HttpAnswer, NotificationJob, NotificationReply, notification_reply::Outcome as ReplyOutcome,
};

use crate::{
    deliver::{Attempt, Outcome},
    entity::job::{Model, Status},
    error::Error,
    store,
};

/// The failure published when a job's deadline passed before its attempt could start.
pub const DEADLINE_PASSED: &str = "deadline passed";

/// The failure published when the application did not answer within the attempt's time.
pub const TIMEOUT: &str = "timeout";

/// The start of the failure published when the application could not be reached.
pub const UNREACHABLE: &str = "unreachable: ";

/// The longest a job may live when neither the job nor the configuration bound it sanely.
const LONGEST_LIFE: TimeDelta = TimeDelta::days(366);

/// The row for `job`, received at `now` with the envelope's `traceparent`. A job without
/// `expires_at` lives `max_age` after its creation. A job with `reply_to` expires at its
/// deadline at the latest (at `expires_at` when it names no deadline).
pub fn job_row(
    job: NotificationJob,
    traceparent: Option<String>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<Model, Error> {
    if job.job_id.trim().is_empty() {
        return Err(Error::InvalidJob("job_id is empty"));
    }
    if job.notify_url.trim().is_empty() {
        return Err(Error::InvalidJob("notify_url is empty"));
    }
    let created_at = job
        .created_at
        .as_ref()
        .map(wire::time)
        .map_or(now, store::micros);
    let max_age = TimeDelta::from_std(max_age)
        .unwrap_or(LONGEST_LIFE)
        .min(LONGEST_LIFE);
    let mut expires_at = match job.expires_at.as_ref() {
        Some(ts) => store::micros(wire::time(ts)),
        None => created_at.checked_add_signed(max_age).unwrap_or(created_at),
    };
    let (reply_subject, reply_deadline) = match job.reply_to {
        Some(reply_to) => {
            if !valid_subject(&reply_to.subject) {
                return Err(Error::InvalidJob(
                    "reply_to.subject is not a subject to publish on",
                ));
            }
            let deadline = reply_to
                .deadline
                .as_ref()
                .map_or(expires_at, |ts| store::micros(wire::time(ts)));
            expires_at = expires_at.min(deadline);
            (Some(reply_to.subject), Some(deadline))
        }
        None => (None, None),
    };
    Ok(Model {
        job_id: job.job_id,
        application_id: job.application_id,
        notify_url: job.notify_url,
        body: job.body,
        content_type: job.content_type,
        resource_kind: job.resource_kind,
        resource_id: job.resource_id,
        traceparent,
        created_at,
        expires_at,
        status: Status::Pending,
        attempts: 0,
        next_attempt_at: now,
        lease_until: None,
        delivered_at: None,
        reply_subject,
        reply_deadline,
        order_key: (!job.order_key.is_empty()).then_some(job.order_key),
    })
}

/// Dot-separated tokens, none empty, none a wildcard, no whitespace.
fn valid_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject
            .split('.')
            .all(|t| !t.is_empty() && t != "*" && t != ">" && !t.contains(char::is_whitespace))
}

/// The reply to `job` after `attempt`, or after no attempt (the deadline had passed), at
/// `now`: the application's answer whatever its status, or why there was none.
pub fn reply(job: &Model, attempt: Option<&Attempt>, now: DateTime<Utc>) -> NotificationReply {
    let outcome = match attempt.map(|a| &a.outcome) {
        None => ReplyOutcome::Failure(DEADLINE_PASSED.into()),
        Some(Outcome::Answered {
            status,
            content_type,
            body,
        }) => ReplyOutcome::Answer(HttpAnswer {
            status: u32::from(*status),
            content_type: content_type.clone(),
            body: body.to_vec(),
        }),
        Some(Outcome::Failed {
            timed_out: true, ..
        }) => ReplyOutcome::Failure(TIMEOUT.into()),
        Some(Outcome::Failed { error, .. }) => {
            ReplyOutcome::Failure(format!("{UNREACHABLE}{error}"))
        }
    };
    NotificationReply {
        job_id: job.job_id.clone(),
        resource_kind: job.resource_kind.clone(),
        resource_id: job.resource_id.clone(),
        outcome: Some(outcome),
        replied_at: Some(wire::timestamp(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> NotificationJob {
        NotificationJob {
            job_id: "nj1".into(),
            notify_url: "http://127.0.0.1:1/hook".into(),
            ..Default::default()
        }
    }

    #[test]
    fn expiry_defaults_to_creation_plus_max_age() {
        let now = store::now();
        let row = job_row(job(), None, now, Duration::from_secs(60)).unwrap();
        assert_eq!(row.created_at, now);
        assert_eq!(row.expires_at, now + TimeDelta::seconds(60));
        assert_eq!(row.next_attempt_at, now);
        assert_eq!(
            (row.status, row.attempts, row.lease_until),
            (Status::Pending, 0, None)
        );
    }

    #[test]
    fn the_jobs_own_times_win_and_absurd_ages_are_bounded() {
        let now = store::now();
        let created = now - TimeDelta::seconds(5);
        let mut j = job();
        j.created_at = Some(wire::timestamp(created));
        let row = job_row(j.clone(), None, now, Duration::from_secs(u64::MAX)).unwrap();
        assert_eq!(row.created_at, created);
        assert_eq!(row.expires_at, created + LONGEST_LIFE);
        j.expires_at = Some(wire::timestamp(now));
        let row = job_row(j, Some("tp".into()), now, Duration::from_secs(1)).unwrap();
        assert_eq!(row.expires_at, now);
        assert_eq!(row.traceparent.as_deref(), Some("tp"));
    }

    fn question(subject: &str, deadline: Option<DateTime<Utc>>) -> NotificationJob {
        NotificationJob {
            reply_to: Some(parlay_proto::notify::v1::ReplyTo {
                subject: subject.into(),
                deadline: deadline.map(wire::timestamp),
            }),
            ..job()
        }
    }

    #[test]
    fn a_question_expires_at_its_deadline_at_the_latest() {
        let now = store::now();
        let soon = now + TimeDelta::seconds(5);
        let row = job_row(
            question("reply.call.decision", Some(soon)),
            None,
            now,
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(row.reply_to(), Some(("reply.call.decision", soon)));
        assert_eq!(row.expires_at, soon);
        // Without a deadline, the job's expiry is the deadline.
        let row = job_row(
            question("reply.x", None),
            None,
            now,
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(row.reply_deadline, Some(now + TimeDelta::seconds(60)));
        // An ordinary job asks nothing.
        let row = job_row(job(), None, now, Duration::from_secs(60)).unwrap();
        assert_eq!((row.reply_subject, row.reply_deadline), (None, None));
    }

    #[test]
    fn reply_subjects_must_be_publishable() {
        let now = store::now();
        for bad in ["", "reply.>", "reply.*.x", "reply..x", "reply x", ".reply"] {
            let result = job_row(question(bad, Some(now)), None, now, Duration::from_secs(1));
            assert!(result.is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn replies_carry_the_answer_or_the_reason() {
        let now = store::now();
        let row = job_row(
            question("reply.x", Some(now)),
            None,
            now,
            Duration::from_secs(1),
        )
        .unwrap();
        let attempt = |outcome| Attempt {
            started_at: now,
            duration: Duration::from_millis(3),
            outcome,
        };
        let outcome = |a: Option<&Attempt>| reply(&row, a, now).outcome.unwrap();
        assert_eq!(
            outcome(None),
            ReplyOutcome::Failure("deadline passed".into())
        );
        let answered = attempt(Outcome::Answered {
            status: 404,
            content_type: "text/plain".into(),
            body: bytes::Bytes::from_static(b"no"),
        });
        assert_eq!(
            outcome(Some(&answered)),
            ReplyOutcome::Answer(HttpAnswer {
                status: 404,
                content_type: "text/plain".into(),
                body: b"no".to_vec(),
            })
        );
        let failed = |timed_out| {
            attempt(Outcome::Failed {
                error: "connection refused".into(),
                permanent: false,
                timed_out,
            })
        };
        assert_eq!(
            outcome(Some(&failed(true))),
            ReplyOutcome::Failure("timeout".into())
        );
        assert_eq!(
            outcome(Some(&failed(false))),
            ReplyOutcome::Failure("unreachable: connection refused".into())
        );
        let full = reply(&row, None, now);
        assert_eq!(
            (full.job_id.as_str(), full.replied_at),
            ("nj1", Some(wire::timestamp(now)))
        );
    }

    #[test]
    fn jobs_without_id_or_url_are_refused() {
        let now = store::now();
        let mut j = job();
        j.job_id.clear();
        assert!(job_row(j, None, now, Duration::from_secs(1)).is_err());
        let mut j = job();
        j.notify_url = " ".into();
        assert!(job_row(j, None, now, Duration::from_secs(1)).is_err());
    }
}
