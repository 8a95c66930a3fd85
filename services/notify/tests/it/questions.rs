//! Jobs that ask a question (`reply_to`): one attempt before the deadline, never retried,
//! and the answer (or why there was none) published as a `NotificationReply`.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use parlay_notify::{NOTIFICATION_ID_HEADER, ask::REPLY_ID_SUFFIX, entity::job::Status};
use parlay_proto::notify::v1::{NotificationReply, notification_reply::Outcome};

use crate::{
    harness::{
        Backend, Harness, Replies, TRACEPARENT, attempts, config, job, job_row, question,
        until_status,
    },
    receiver::{Receiver, Reply},
};

on_both_backends!(
    answer_is_published_with_status_and_body,
    non_2xx_answer_is_published_and_never_retried,
    slow_application_times_out_at_the_deadline,
    unreachable_application_is_a_failure,
    deadline_passed_before_the_attempt_means_no_post,
    questions_do_not_wait_behind_ordinary_deliveries,
    reply_nobody_takes_is_given_up_and_the_job_stays_final,
);

const SUBJECT: &str = "reply.test.decision";

const DECISION: &str = r#"{"action":{"actionToPerform":"Continue"}}"#;

fn in_ms(ms: i64) -> chrono::DateTime<Utc> {
    Utc::now() + TimeDelta::milliseconds(ms)
}

fn failure(reply: &NotificationReply) -> &str {
    match &reply.outcome {
        Some(Outcome::Failure(reason)) => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Publishes an ordinary job and waits until it is delivered: the dispatcher has had every
/// chance to attempt anything else again by then.
async fn sentinel(h: &Harness) {
    let receiver = Receiver::start([]).await;
    let sentinel = job(receiver.url("/hooks/sentinel"));
    h.publish(&sentinel).await;
    until_status(&h.db, &sentinel.job_id, Status::Delivered).await;
}

async fn answer_is_published_with_status_and_body(backend: Backend) {
    let receiver = Receiver::start([Reply::Json(200, DECISION)]).await;
    let h = Harness::start(backend, &config()).await;
    let mut replies = Replies::start(&h.bus, "reply.>").await;
    let job = question(receiver.url("/hooks/decide"), SUBJECT, in_ms(5_000));
    h.publish(&job).await;

    let (envelope, reply) = replies.next().await;
    assert_eq!(envelope.subject, SUBJECT);
    assert_eq!(envelope.id, format!("{}{REPLY_ID_SUFFIX}", job.job_id));
    assert_eq!(reply.job_id, job.job_id);
    assert_eq!(
        (reply.resource_kind.as_str(), reply.resource_id.as_str()),
        ("callSession", "cs123")
    );
    assert!(reply.replied_at.is_some());
    match reply.outcome {
        Some(Outcome::Answer(answer)) => {
            assert_eq!(answer.status, 200);
            assert_eq!(answer.content_type, "application/json");
            assert_eq!(answer.body, DECISION.as_bytes());
        }
        other => panic!("expected an answer, got {other:?}"),
    }

    let row = until_status(&h.db, &job.job_id, Status::Delivered).await;
    assert_eq!((row.attempts, row.lease_until), (1, None));
    assert_eq!(row.reply_subject.as_deref(), Some(SUBJECT));
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/hooks/decide");
    assert_eq!(requests[0].body, job.body);
    assert_eq!(requests[0].header(NOTIFICATION_ID_HEADER), job.job_id);
    assert_eq!(requests[0].header("traceparent"), TRACEPARENT);
    let tried = attempts(&h.db, &job.job_id).await;
    assert_eq!(tried.len(), 1);
    assert_eq!((tried[0].attempt, tried[0].http_status), (1, Some(200)));
    assert!(replies.is_empty());
    h.finish().await;
}

async fn non_2xx_answer_is_published_and_never_retried(backend: Backend) {
    let receiver = Receiver::start([Reply::Json(503, r#"{"busy":true}"#)]).await;
    let h = Harness::start(backend, &config()).await;
    let mut replies = Replies::start(&h.bus, "reply.>").await;
    let job = question(receiver.url("/hooks/decide"), SUBJECT, in_ms(5_000));
    h.publish(&job).await;

    let (_, reply) = replies.next().await;
    match reply.outcome {
        Some(Outcome::Answer(answer)) => {
            assert_eq!(answer.status, 503);
            assert_eq!(answer.body, br#"{"busy":true}"#);
        }
        other => panic!("expected an answer, got {other:?}"),
    }
    let row = until_status(&h.db, &job.job_id, Status::Expired).await;
    assert_eq!(row.attempts, 1);
    sentinel(&h).await;
    assert_eq!(receiver.for_id(&job.job_id).len(), 1);
    assert_eq!(attempts(&h.db, &job.job_id).await.len(), 1);
    assert!(replies.is_empty());
    h.finish().await;
}

async fn slow_application_times_out_at_the_deadline(backend: Backend) {
    let receiver = Receiver::start([Reply::Slow(Duration::from_secs(6), 200)]).await;
    let mut config = config();
    // Longer than the test's deadline: the deadline must bound the attempt.
    config.notify.attempt_timeout_ms = 10_000;
    config.notify.lease_secs = 30;
    let h = Harness::start(backend, &config).await;
    let mut replies = Replies::start(&h.bus, "reply.>").await;
    // Time enough to be asked on a loaded machine (a question whose deadline passed before
    // it could be asked is another outcome, `deadline passed`), far less than the answer
    // takes.
    let job = question(receiver.url("/hooks/slow"), SUBJECT, in_ms(1_500));
    let started = Instant::now();
    h.publish(&job).await;

    let (_, reply) = replies.next().await;
    assert_eq!(failure(&reply), "timeout");
    assert!(
        started.elapsed() < Duration::from_millis(4_500),
        "the reply took {:?}",
        started.elapsed()
    );
    let row = until_status(&h.db, &job.job_id, Status::Expired).await;
    assert_eq!(row.attempts, 1);
    let tried = attempts(&h.db, &job.job_id).await;
    assert_eq!(tried.len(), 1);
    assert_eq!(tried[0].http_status, None);
    assert!(
        tried[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{:?}",
        tried[0]
    );
    sentinel(&h).await;
    assert_eq!(receiver.for_id(&job.job_id).len(), 1);
    assert!(replies.is_empty());
    h.finish().await;
}

async fn unreachable_application_is_a_failure(backend: Backend) {
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    let h = Harness::start(backend, &config()).await;
    let mut replies = Replies::start(&h.bus, "reply.>").await;
    let job = question(url, SUBJECT, in_ms(5_000));
    h.publish(&job).await;

    let (_, reply) = replies.next().await;
    let reason = failure(&reply);
    assert!(
        reason.starts_with("unreachable: ") && reason.len() > "unreachable: ".len(),
        "{reason}"
    );
    let row = until_status(&h.db, &job.job_id, Status::Expired).await;
    assert_eq!(row.attempts, 1);
    sentinel(&h).await;
    let tried = attempts(&h.db, &job.job_id).await;
    assert_eq!(tried.len(), 1);
    assert!(tried[0].error.is_some());
    assert!(replies.is_empty());
    h.finish().await;
}

async fn deadline_passed_before_the_attempt_means_no_post(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let h = Harness::start(backend, &config()).await;
    let mut replies = Replies::start(&h.bus, "reply.>").await;
    let job = question(receiver.url("/hooks/late"), SUBJECT, in_ms(-1_000));
    h.publish(&job).await;

    let (envelope, reply) = replies.next().await;
    assert_eq!(envelope.id, format!("{}{REPLY_ID_SUFFIX}", job.job_id));
    assert_eq!(reply.job_id, job.job_id);
    assert_eq!(failure(&reply), "deadline passed");
    let row = until_status(&h.db, &job.job_id, Status::Expired).await;
    assert_eq!(row.attempts, 0);
    // A deadline before the job's own expiry caps it.
    assert!(row.expires_at <= row.reply_deadline.unwrap());
    sentinel(&h).await;
    assert!(receiver.for_id(&job.job_id).is_empty());
    assert!(attempts(&h.db, &job.job_id).await.is_empty());
    assert!(replies.is_empty());
    h.finish().await;
}

async fn questions_do_not_wait_behind_ordinary_deliveries(backend: Backend) {
    let hanging = Receiver::start([Reply::Hang]).await;
    let answering = Receiver::start([Reply::Json(200, DECISION)]).await;
    let mut config = config();
    // One ordinary slot, taken by an attempt that hangs for 5 s.
    config.notify.concurrency = 1;
    config.notify.attempt_timeout_ms = 5_000;
    config.notify.lease_secs = 30;
    let h = Harness::start(backend, &config).await;
    let mut replies = Replies::start(&h.bus, "reply.>").await;
    let ordinary = job(hanging.url("/hooks/hang"));
    h.publish(&ordinary).await;
    crate::harness::eventually("the ordinary attempt to start", || async {
        (!hanging.requests().is_empty()).then_some(())
    })
    .await;

    let asked = question(answering.url("/hooks/decide"), SUBJECT, in_ms(10_000));
    let started = Instant::now();
    h.publish(&asked).await;
    let (_, reply) = replies.next().await;
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "the question waited {:?}",
        started.elapsed()
    );
    assert!(matches!(reply.outcome, Some(Outcome::Answer(ref a)) if a.status == 200));
    assert_eq!(
        job_row(&h.db, &ordinary.job_id).await.unwrap().status,
        Status::Pending
    );
    h.finish().await;
}

async fn reply_nobody_takes_is_given_up_and_the_job_stays_final(backend: Backend) {
    let receiver = Receiver::start([]).await;
    let h = Harness::start(backend, &config()).await;
    // No consumer on `reply.>`: the in-process bus refuses every publish.
    let job = question(receiver.url("/hooks/decide"), SUBJECT, in_ms(5_000));
    h.publish(&job).await;
    let row = until_status(&h.db, &job.job_id, Status::Delivered).await;
    assert_eq!(row.attempts, 1);
    sentinel(&h).await;
    assert_eq!(receiver.for_id(&job.job_id).len(), 1);
    // Stops within the publish budget.
    let stopping = Instant::now();
    h.finish().await;
    assert!(stopping.elapsed() < Duration::from_secs(8));
}
