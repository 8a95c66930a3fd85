//! From the wire (`NotificationJob` on the bus) to a stored `notify_jobs` row.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use parlay_kit::wire;
use parlay_proto::notify::v1::NotificationJob;

use crate::{
    entity::job::{Model, Status},
    error::Error,
    store,
};

/// The longest a job may live when neither the job nor the configuration bound it sanely.
const LONGEST_LIFE: TimeDelta = TimeDelta::days(366);

/// The row for `job`, received at `now` with the envelope's `traceparent`. A job without
/// `expires_at` lives `max_age` after its creation.
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
    let expires_at = match job.expires_at.as_ref() {
        Some(ts) => store::micros(wire::time(ts)),
        None => created_at.checked_add_signed(max_age).unwrap_or(created_at),
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
    })
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
