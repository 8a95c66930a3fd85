//! Failed attempts: back-off, the stable notification id, expiry.

use chrono::{TimeDelta, Utc};
use parlay_kit::wire::timestamp;
use parlay_notify::entity::job::Status;

use crate::{
    harness::{
        Backend, Harness, attempts, config, eventually, job, job_row, millis_between, until_status,
    },
    receiver::{Receiver, Reply},
};

on_both_backends!(
    three_failures_then_delivered_on_the_fourth,
    expired_job_stops_being_retried,
    unreachable_receiver_is_retried_with_the_error_recorded,
    job_expired_on_arrival_is_never_attempted,
    a_later_notification_of_a_key_waits_for_the_earlier_one,
);

async fn three_failures_then_delivered_on_the_fourth(backend: Backend) {
    let receiver = Receiver::start([Reply::Status(500); 3]).await;
    let h = Harness::start(backend, &config()).await;
    let job = job(receiver.url("/hooks/flaky"));
    h.publish(&job).await;
    let row = until_status(&h.db, &job.job_id, Status::Delivered).await;
    assert_eq!(row.attempts, 4);

    let requests = receiver.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.notification_id() == job.job_id));
    assert!(requests.iter().all(|r| r.body == job.body));

    let tried = attempts(&h.db, &job.job_id).await;
    let numbers: Vec<_> = tried.iter().map(|a| a.attempt).collect();
    let statuses: Vec<_> = tried.iter().map(|a| a.http_status).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert_eq!(statuses, [Some(500), Some(500), Some(500), Some(200)]);
    // Back-off: at least half of 20, 40, 80 ms between the end of a failure and the next try.
    for (i, pair) in tried.windows(2).enumerate() {
        let ended = pair[0].started_at + TimeDelta::milliseconds(pair[0].duration_ms);
        let gap = millis_between(ended, pair[1].started_at);
        let least = (20 << i) / 2 - 2; // rounding of stored times
        assert!(
            gap >= least,
            "gap {gap} ms after attempt {} < {least}",
            i + 1
        );
    }
    h.finish().await;
}

async fn expired_job_stops_being_retried(backend: Backend) {
    let receiver = Receiver::with_default([], 500).await;
    let h = Harness::start(backend, &config()).await;
    let mut job = job(receiver.url("/hooks/down"));
    let expires_at = Utc::now() + TimeDelta::milliseconds(400);
    job.expires_at = Some(timestamp(expires_at));
    h.publish(&job).await;

    let row = until_status(&h.db, &job.job_id, Status::Expired).await;
    assert!(row.attempts >= 2, "only {} attempts", row.attempts);
    assert_eq!(row.lease_until, None);
    assert_eq!(row.delivered_at, None);
    let tried = attempts(&h.db, &job.job_id).await;
    assert_eq!(tried.len(), row.attempts as usize);
    assert!(tried.iter().all(|a| a.started_at <= expires_at));
    assert_eq!(receiver.for_id(&job.job_id).len(), tried.len());

    // Nothing more for it once a later job has been through the dispatcher.
    let other = Receiver::start([]).await;
    let sentinel = crate::harness::job(other.url("/hooks/sentinel"));
    h.publish(&sentinel).await;
    until_status(&h.db, &sentinel.job_id, Status::Delivered).await;
    assert_eq!(receiver.for_id(&job.job_id).len(), tried.len());
    assert_eq!(
        job_row(&h.db, &job.job_id).await.unwrap().status,
        Status::Expired
    );
    h.finish().await;
}

async fn unreachable_receiver_is_retried_with_the_error_recorded(backend: Backend) {
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    let h = Harness::start(backend, &config()).await;
    let mut job = job(url);
    job.expires_at = Some(timestamp(Utc::now() + TimeDelta::milliseconds(300)));
    h.publish(&job).await;
    let row = until_status(&h.db, &job.job_id, Status::Expired).await;
    let tried = attempts(&h.db, &job.job_id).await;
    assert_eq!(tried.len(), row.attempts as usize);
    assert!(tried.len() >= 2);
    for a in &tried {
        assert_eq!(a.http_status, None);
        assert!(a.error.as_deref().is_some_and(|e| !e.is_empty()), "{a:?}");
    }
    h.finish().await;
}

async fn job_expired_on_arrival_is_never_attempted(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let h = Harness::start(backend, &config()).await;
    let mut late = job(receiver.url("/hooks/late"));
    late.expires_at = Some(timestamp(Utc::now() - TimeDelta::seconds(1)));
    h.publish(&late).await;
    let row = until_status(&h.db, &late.job_id, Status::Expired).await;
    assert_eq!(row.attempts, 0);
    assert!(attempts(&h.db, &late.job_id).await.is_empty());
    // A job without expiry gets created_at + max_age_secs.
    let mut open = job(receiver.url("/hooks/open"));
    open.expires_at = None;
    h.publish(&open).await;
    let row = eventually("the open job's row", || async {
        job_row(&h.db, &open.job_id).await
    })
    .await;
    assert_eq!(
        row.expires_at - row.created_at,
        TimeDelta::seconds(config().notify.max_age_secs as i64)
    );
    until_status(&h.db, &open.job_id, Status::Delivered).await;
    assert!(receiver.for_id(&late.job_id).is_empty());
    h.finish().await;
}

/// Notifications with one order key to one URL arrive in the order they were made, even
/// while the first is being retried; an unkeyed notification does not wait.
async fn a_later_notification_of_a_key_waits_for_the_earlier_one(backend: Backend) {
    let ordered = Receiver::start([Reply::Status(500); 2]).await;
    let other = Receiver::start([]).await;
    // The first's two retries take at least 300 ms (back-off 200 then 400 ms, each at least
    // half that), well past the other publishes and the unkeyed delivery.
    let mut config = config();
    config.notify.initial_backoff_ms = 200;
    config.notify.max_backoff_ms = 400;
    let h = Harness::start(backend, &config).await;
    let mut first = job(ordered.url("/hooks/receipts"));
    first.order_key = "rq1/tel:+15550001".into();
    let mut second = job(ordered.url("/hooks/receipts"));
    second.order_key = first.order_key.clone();
    second.created_at = Some(timestamp(Utc::now() + TimeDelta::milliseconds(1)));
    // Unkeyed, to another URL: never held by the others.
    let elsewhere = job(other.url("/hooks/other"));
    h.publish(&first).await;
    h.publish(&second).await;
    h.publish(&elsewhere).await;

    let second_row = until_status(&h.db, &second.job_id, Status::Delivered).await;
    let first_row = until_status(&h.db, &first.job_id, Status::Delivered).await;
    let elsewhere_row = until_status(&h.db, &elsewhere.job_id, Status::Delivered).await;
    let order: Vec<String> = ordered
        .requests()
        .iter()
        .map(|r| r.notification_id().to_string())
        .collect();
    assert_eq!(
        order,
        [&first.job_id, &first.job_id, &first.job_id, &second.job_id].map(|s| s.to_string()),
        "first retried twice, then delivered, and only then the second"
    );
    assert_eq!(second_row.attempts, 1);
    assert!(first_row.delivered_at <= second_row.delivered_at);
    // The unkeyed one went out while the first was still being retried.
    assert!(elsewhere_row.delivered_at < first_row.delivered_at);
    h.finish().await;
}
