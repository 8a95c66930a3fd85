//! First-attempt delivery: headers, body, de-duplication, bad payloads.

use bytes::Bytes;
use chrono::{TimeDelta, Utc};
use parlay_kit::bus::{Bus, Envelope};
use parlay_kit::wire::timestamp;
use parlay_notify::{NOTIFICATION_ID_HEADER, entity::job::Status};
use parlay_proto::notify::v1::NotificationJob;

use crate::{
    harness::{Backend, Harness, TRACEPARENT, attempts, config, job, job_row, until_status},
    receiver::{Receiver, Reply},
};

on_both_backends!(
    delivered_once_with_headers_and_body,
    same_job_published_twice_is_delivered_once,
    bad_payloads_are_acknowledged_and_dropped,
    traceparent_can_be_turned_off,
    jobs_beyond_the_free_slots_wait_unleased_and_go_as_slots_free,
);

async fn delivered_once_with_headers_and_body(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let h = Harness::start(backend, &config()).await;
    let job = job(receiver.url("/hooks/calls"));
    h.publish(&job).await;

    // Stored as published, before any acknowledgement.
    let stored = job_row(&h.db, &job.job_id).await.expect("stored on ack");
    assert_eq!(stored.notify_url, job.notify_url);
    assert_eq!(stored.body, job.body);
    assert_eq!(stored.application_id, "app1");
    assert_eq!(stored.resource_kind, "callSession");
    assert_eq!(stored.resource_id, "cs123");
    assert_eq!(stored.traceparent.as_deref(), Some(TRACEPARENT));

    let row = until_status(&h.db, &job.job_id, Status::Delivered).await;
    assert_eq!(row.attempts, 1);
    assert_eq!(row.lease_until, None);
    assert!(row.delivered_at.is_some());

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hooks/calls");
    assert_eq!(r.body, Bytes::from(job.body.clone()));
    assert_eq!(r.header("content-type"), "application/json; charset=utf-8");
    assert_eq!(r.header("accept"), "application/json");
    assert_eq!(r.header(NOTIFICATION_ID_HEADER), job.job_id);
    assert_eq!(r.header("traceparent"), TRACEPARENT);

    let tried = attempts(&h.db, &job.job_id).await;
    assert_eq!(tried.len(), 1);
    assert_eq!((tried[0].attempt, tried[0].http_status), (1, Some(200)));
    assert_eq!(tried[0].error, None);
    h.finish().await;
}

async fn same_job_published_twice_is_delivered_once(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let h = Harness::start(backend, &config()).await;
    let job = job(receiver.url("/hooks/dup"));
    h.publish(&job).await;
    h.publish(&job).await;
    until_status(&h.db, &job.job_id, Status::Delivered).await;
    // A redelivery after the delivery changes nothing either.
    h.publish(&job).await;
    // A later job delivered shows the dispatcher has had every chance to resend.
    let sentinel = crate::harness::job(receiver.url("/hooks/sentinel"));
    h.publish(&sentinel).await;
    until_status(&h.db, &sentinel.job_id, Status::Delivered).await;

    assert_eq!(receiver.for_id(&job.job_id).len(), 1);
    assert_eq!(attempts(&h.db, &job.job_id).await.len(), 1);
    assert_eq!(job_row(&h.db, &job.job_id).await.unwrap().attempts, 1);
    h.finish().await;
}

async fn bad_payloads_are_acknowledged_and_dropped(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let h = Harness::start(backend, &config()).await;
    // `publish` returns only once notify acknowledged, so returning at all is the check.
    let garbage = Envelope {
        subject: "notify.test".into(),
        id: "garbage".into(),
        payload: Bytes::from_static(b"\xff\xff\xff not protobuf"),
        traceparent: None,
    };
    h.bus.publish(garbage).await.unwrap();
    let mut no_url = job(String::new());
    h.publish(&no_url).await;
    no_url.job_id.clear();
    no_url.notify_url = receiver.url("/x");
    h.publish(&no_url).await;
    assert!(job_row(&h.db, "garbage").await.is_none());

    let good = job(receiver.url("/hooks/ok"));
    h.publish(&good).await;
    until_status(&h.db, &good.job_id, Status::Delivered).await;
    assert_eq!(receiver.requests().len(), 1);
    h.finish().await;
}

async fn traceparent_can_be_turned_off(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let mut config = config();
    config.notify.send_traceparent = false;
    let h = Harness::start(backend, &config).await;
    let job = job(receiver.url("/hooks/quiet"));
    h.publish(&job).await;
    until_status(&h.db, &job.job_id, Status::Delivered).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].headers.get("traceparent").is_none());
    h.finish().await;
}

async fn jobs_beyond_the_free_slots_wait_unleased_and_go_as_slots_free(backend: Backend) {
    // The first three attempts hold the three slots until they time out, 5 s on.
    let receiver = Receiver::start([Reply::Hang; 3]).await;
    let mut config = config();
    config.notify.concurrency = 3;
    config.notify.attempt_timeout_ms = 5_000;
    config.notify.lease_secs = 30;
    let h = Harness::start(backend, &config).await;
    let url = receiver.url("/hooks/calls");
    let keyed = |created: TimeDelta| NotificationJob {
        order_key: "rq1:tel:+15550001".into(),
        created_at: Some(timestamp(Utc::now() + created)),
        ..job(url.clone())
    };
    let first = job(url.clone());
    let keyed_first = keyed(TimeDelta::zero());
    let keyed_second = keyed(TimeDelta::milliseconds(1));
    let third = job(url.clone());
    let waiting = job(url.clone());
    let all = [&first, &keyed_first, &keyed_second, &third, &waiting];
    for j in all {
        h.publish(j).await;
    }

    // Each is stored when it is acknowledged. Leased to this instance there and then, each
    // into a free slot: the first, the first of its order, and the third. Left unleased: the
    // second of the order (the first is pending), and the last (no slot was free).
    for (j, leased) in all.iter().zip([true, true, false, true, false]) {
        let row = job_row(&h.db, &j.job_id).await.expect("stored on ack");
        assert_eq!(
            row.lease_until.is_some(),
            leased,
            "{} leased on arrival",
            j.job_id
        );
        if !leased {
            assert_eq!(row.attempts, 0);
        }
    }

    // As the hanging attempts time out, the waiting jobs are claimed and delivered, the
    // second of the order after the first; the three that hung are retried and delivered.
    for (j, attempts) in all.iter().zip([2, 2, 1, 2, 1]) {
        let row = until_status(&h.db, &j.job_id, Status::Delivered).await;
        assert_eq!(row.attempts, attempts, "{}", j.job_id);
        assert_eq!(receiver.for_id(&j.job_id).len(), attempts as usize);
    }
    let order: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.notification_id().to_string())
        .filter(|id| [&keyed_first.job_id, &keyed_second.job_id].contains(&id))
        .collect();
    assert_eq!(
        order,
        [
            &keyed_first.job_id,
            &keyed_first.job_id,
            &keyed_second.job_id
        ]
        .map(|s| s.to_string())
    );
    h.finish().await;
}
