//! Recording attempts in batches: each record of a batch changes its job exactly as it would
//! alone (a delivery always wins, a failure only under the lease it was made under, a final
//! job never changes), whatever else is in the batch.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use parlay_notify::{
    deliver::{Attempt, Outcome},
    entity::job::{self, Status},
    schedule::Next,
    store::{self, Record},
};
use sea_orm::DatabaseConnection;

use crate::harness::{Backend, TestDb, attempts, job_row, row};

on_both_backends!(
    a_batch_applies_each_record_as_if_alone,
    a_job_named_twice_in_a_batch_sees_its_first_record,
    a_retried_job_holds_back_the_jobs_of_its_order,
);

/// Stores a pending job leased until `lease_until`; returns it as stored.
async fn leased(db: &DatabaseConnection, lease_until: DateTime<Utc>) -> job::Model {
    let stored = job::Model {
        lease_until: Some(lease_until),
        ..row(Utc::now() + TimeDelta::hours(1))
    };
    assert!(store::insert_job(db, stored.clone()).await.unwrap());
    stored
}

fn answered(status: u16) -> Attempt {
    Attempt {
        started_at: Utc::now(),
        duration: Duration::from_millis(3),
        outcome: Outcome::Answered {
            status,
            content_type: String::new(),
            body: Bytes::new(),
        },
    }
}

fn record(job: &job::Model, lease_until: DateTime<Utc>, number: i32, next: Next) -> Record {
    let status = if next == Next::Delivered { 204 } else { 503 };
    Record::new(job, lease_until, number, &answered(status), next)
}

async fn now_row(db: &DatabaseConnection, job: &job::Model) -> job::Model {
    job_row(db, &job.job_id).await.expect("the job is stored")
}

async fn a_batch_applies_each_record_as_if_alone(backend: Backend) {
    let tdb = TestDb::create(backend).await;
    let db = tdb.connect().await;
    let ours = store::micros(Utc::now() + TimeDelta::seconds(30));
    let theirs = store::micros(ours + TimeDelta::seconds(5));
    let retry_at = store::micros(Utc::now() + TimeDelta::minutes(2));

    let delivered = leased(&db, ours).await;
    let delivered_after_takeover = leased(&db, theirs).await;
    let retried = leased(&db, ours).await;
    let retried_after_takeover = leased(&db, theirs).await;
    let expired = leased(&db, ours).await;
    let already_final = job::Model {
        status: Status::Expired,
        lease_until: None,
        ..row(Utc::now() + TimeDelta::hours(1))
    };
    assert!(store::insert_job(&db, already_final.clone()).await.unwrap());

    let batch = [
        record(&delivered, ours, 1, Next::Delivered),
        record(&retried, ours, 1, Next::Retry(retry_at)),
        record(&delivered_after_takeover, ours, 1, Next::Delivered),
        record(&expired, ours, 1, Next::Expired),
        record(&retried_after_takeover, ours, 1, Next::Retry(retry_at)),
        record(&already_final, ours, 1, Next::Delivered),
    ];
    let changed = store::record_many(&db, &batch).await.unwrap();
    assert_eq!(changed, [true, true, true, true, false, false]);

    for (job, record) in [
        (&delivered, &batch[0]),
        (&delivered_after_takeover, &batch[2]),
    ] {
        let now = now_row(&db, job).await;
        assert_eq!(now.status, Status::Delivered);
        assert_eq!(now.attempts, 1);
        assert_eq!(now.lease_until, None);
        // When the application answered, not when the batch was written.
        assert_eq!(now.delivered_at, Some(record.ended_at));
    }
    let now = now_row(&db, &retried).await;
    assert_eq!(now.status, Status::Pending);
    assert_eq!((now.attempts, now.next_attempt_at), (1, retry_at));
    assert_eq!(now.lease_until, None);
    let now = now_row(&db, &expired).await;
    assert_eq!(
        (now.status, now.attempts, now.lease_until),
        (Status::Expired, 1, None)
    );
    // The failure came under a lease that had passed to another dispatcher: the job is
    // theirs, as it was.
    assert_eq!(
        now_row(&db, &retried_after_takeover).await,
        retried_after_takeover
    );
    assert_eq!(now_row(&db, &already_final).await, already_final);
    // Every attempt is recorded, whether or not it changed its job.
    for job in [&delivered, &retried_after_takeover, &already_final] {
        let rows = attempts(&db, &job.job_id).await;
        assert_eq!(rows.len(), 1, "one attempt of {}", job.job_id);
    }

    tdb.drop_it().await;
}

async fn a_job_named_twice_in_a_batch_sees_its_first_record(backend: Backend) {
    let tdb = TestDb::create(backend).await;
    let db = tdb.connect().await;
    let first_lease = store::micros(Utc::now() + TimeDelta::seconds(30));
    let second_lease = store::micros(first_lease + TimeDelta::seconds(5));
    let retry_at = store::micros(Utc::now() + TimeDelta::minutes(2));
    let twice = leased(&db, second_lease).await;
    let other = leased(&db, first_lease).await;

    // The first attempt ran past its lease; the job was leased again and attempted a second
    // time, and both records reached the same batch. The second failure holds the lease.
    let batch = [
        record(&twice, first_lease, 1, Next::Retry(retry_at)),
        record(&other, first_lease, 1, Next::Delivered),
        record(&twice, second_lease, 2, Next::Retry(retry_at)),
    ];
    let changed = store::record_many(&db, &batch).await.unwrap();
    assert_eq!(changed, [false, true, true]);
    let now = now_row(&db, &twice).await;
    assert_eq!(now.status, Status::Pending);
    assert_eq!((now.attempts, now.next_attempt_at), (2, retry_at));
    assert_eq!(now.lease_until, None);
    assert_eq!(attempts(&db, &twice.job_id).await.len(), 2);
    assert_eq!(now_row(&db, &other).await.status, Status::Delivered);

    // Once settled, a record of the first lease changes nothing more.
    let late = [record(&twice, first_lease, 1, Next::Expired)];
    assert_eq!(store::record_many(&db, &late).await.unwrap(), [false]);
    assert_eq!(now_row(&db, &twice).await.status, Status::Pending);

    tdb.drop_it().await;
}

async fn a_retried_job_holds_back_the_jobs_of_its_order(backend: Backend) {
    let tdb = TestDb::create(backend).await;
    let db = tdb.connect().await;
    let lease = store::micros(Utc::now() + TimeDelta::seconds(30));
    let retry_at = store::micros(Utc::now() + TimeDelta::minutes(2));
    let other_retry_at = store::micros(retry_at + TimeDelta::seconds(10));
    let keyed = |key: &str, created: TimeDelta| {
        let base = row(Utc::now() + TimeDelta::hours(1));
        job::Model {
            order_key: Some(key.into()),
            created_at: store::micros(base.created_at + created),
            next_attempt_at: store::micros(base.created_at + created),
            ..base
        }
    };
    let (ours, theirs) = ("tel:+15550001", "tel:+15550002");
    let head = job::Model {
        lease_until: Some(lease),
        ..keyed(ours, TimeDelta::zero())
    };
    let behind = keyed(ours, TimeDelta::seconds(1));
    let behind_later_still = job::Model {
        next_attempt_at: store::micros(retry_at + TimeDelta::minutes(1)),
        ..keyed(ours, TimeDelta::seconds(2))
    };
    let to_another_url = job::Model {
        notify_url: "http://127.0.0.1:2/hooks".into(),
        ..keyed(ours, TimeDelta::seconds(1))
    };
    // Another order retried in the same batch, with its own retry time.
    let other_head = job::Model {
        lease_until: Some(lease),
        ..keyed(theirs, TimeDelta::zero())
    };
    let behind_other = keyed(theirs, TimeDelta::seconds(1));
    for job in [
        &head,
        &behind,
        &behind_later_still,
        &to_another_url,
        &other_head,
        &behind_other,
    ] {
        assert!(store::insert_job(&db, job.clone()).await.unwrap());
    }

    let batch = [
        record(&head, lease, 1, Next::Retry(retry_at)),
        record(&other_head, lease, 1, Next::Retry(other_retry_at)),
    ];
    assert_eq!(store::record_many(&db, &batch).await.unwrap(), [true, true]);
    assert_eq!(now_row(&db, &head).await.next_attempt_at, retry_at);
    // The job behind it cannot go before the retry, and is not due before it either.
    assert_eq!(now_row(&db, &behind).await.next_attempt_at, retry_at);
    assert_eq!(
        now_row(&db, &behind_other).await.next_attempt_at,
        other_retry_at
    );
    assert_eq!(now_row(&db, &behind_later_still).await, behind_later_still);
    // Another URL's jobs are another order.
    assert_eq!(now_row(&db, &to_another_url).await, to_another_url);

    let claim = async |now: DateTime<Utc>| {
        // Leased past both claims: a job claimed first is not claimed again.
        let (jobs, _) = store::claim_due(&db, now, 10, store::Pool::Ordinary, |_| {
            store::micros(retry_at + TimeDelta::hours(1))
        })
        .await
        .unwrap();
        jobs.into_iter().map(|j| j.job_id).collect::<Vec<_>>()
    };
    assert_eq!(claim(Utc::now()).await, [to_another_url.job_id.as_str()]);
    // At the retry, the retried job goes first and the one behind still waits for it.
    assert_eq!(claim(retry_at).await, [head.job_id.as_str()]);

    tdb.drop_it().await;
}
