//! Call-direction decisions: the application's answer comes back from notify as a
//! `NotificationReply` on `reply.call.decision`; the deadline is kept here (in the session
//! row, and in a timer) so the default action applies even when no reply ever comes, and
//! after a restart. Whichever comes first decides; the other changes nothing.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream::BoxStream};
use parlay_kit::{
    bus::{ConsumerSpec, Delivery},
    ids::new_id,
    telemetry,
};
use parlay_model::{
    Address,
    callnotif::{ActionResponse, ActionValue},
};
use parlay_proto::notify::v1::{NotificationReply, notification_reply};
use prost::Message;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    core::{Changed, Core},
    domain::{Action, Decision, Reason, Source, Verdict},
    effects::SUBJECT_DECISION_REPLY,
    store,
};

/// A decision's deadline, for the timer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    pub at: DateTime<Utc>,
    pub session_id: String,
    pub decision_id: String,
}

/// What the core's writer tells the decision timer after each commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timed {
    /// A decision became pending: its default applies at the deadline unless it is decided
    /// first.
    Pending(Deadline),
    /// The decision of this id is no longer pending (the application's answer, the default,
    /// or the call's end decided it): its deadline needs no look at the store.
    Settled(String),
}

pub fn consumer_spec() -> ConsumerSpec {
    ConsumerSpec {
        durable: "call-decision-replies".into(),
        filter: SUBJECT_DECISION_REPLY.into(),
        ack_wait: Duration::from_secs(30),
    }
}

/// What the application's answer means. Only a 2xx with an `action` body decides; `Route`
/// needs a valid routing address.
pub fn verdict(reply: &NotificationReply) -> Verdict {
    let answer = match &reply.outcome {
        Some(notification_reply::Outcome::Answer(a)) => a,
        // notify's failures: exactly "timeout" or "deadline passed", else "unreachable: …".
        Some(notification_reply::Outcome::Failure(f))
            if f == "timeout" || f == "deadline passed" =>
        {
            return Verdict::Default(Reason::Timeout);
        }
        _ => return Verdict::Default(Reason::Unreachable),
    };
    if !(200..300).contains(&answer.status) {
        return Verdict::Default(Reason::Status);
    }
    let Ok(parsed) = serde_json::from_slice::<ActionResponse>(&answer.body) else {
        return Verdict::Default(Reason::BadBody);
    };
    let action = parsed.action;
    match action.action_to_perform {
        ActionValue::Continue => Verdict::Application {
            action: Action::Continue,
            routing_address: None,
        },
        ActionValue::EndCall => Verdict::Application {
            action: Action::EndCall,
            routing_address: None,
        },
        // A call goes to a telephone number or a SIP user, never to an opaque reference.
        ActionValue::Route => match action
            .routing_address
            .as_deref()
            .and_then(|a| Address::parse(a).ok())
            .filter(|a| !matches!(a, Address::Acr(_)))
        {
            Some(address) => Verdict::Application {
                action: Action::Route,
                routing_address: Some(address.as_str().to_string()),
            },
            None => Verdict::Default(Reason::BadBody),
        },
        ActionValue::Deferred => Verdict::Default(Reason::Deferred),
    }
}

/// Applies `verdict` to decision `decision_id` of session `session_id`, counting it when it
/// was the one that decided.
pub async fn decide(
    core: &Core,
    session_id: &str,
    decision_id: &str,
    verdict: Verdict,
) -> Result<(), crate::core::CoreError> {
    let routed_id = new_id("pa");
    let now = Utc::now();
    let max = core.config.call.max_participants;
    let changed = core
        .mutate(session_id, None, None, {
            let decision_id = decision_id.to_string();
            move |s| Ok(s.decide(&decision_id, verdict.clone(), routed_id.clone(), max, now))
        })
        .await?;
    if let Changed::Session(stored) = changed
        && let Some(Decision::Decided(d)) = &stored.session.decision
        && d.id == decision_id
        && d.at == now
    {
        let action = match d.action {
            Action::Continue => "Continue",
            Action::EndCall => "EndCall",
            Action::Route => "Route",
        };
        let source = match d.source {
            Source::Application => "application",
            Source::Default => "default",
        };
        metrics::counter!(
            "parlay_call_decisions_total",
            "action" => action,
            "source" => source,
            "reason" => d.reason.as_str(),
        )
        .increment(1);
        tracing::info!(
            session = session_id,
            decision = decision_id,
            action,
            source,
            reason = d.reason.as_str(),
            "call-direction decision applied"
        );
    }
    Ok(())
}

/// Consumes replies until shutdown, several at a time (each is one session's change).
pub async fn replies(
    core: Arc<Core>,
    deliveries: BoxStream<'static, Delivery>,
    shutdown: CancellationToken,
) {
    let handled = deliveries
        .take_until(shutdown.cancelled_owned())
        .for_each_concurrent(32, |delivery| {
            let core = core.clone();
            let span = tracing::info_span!("call.decision_reply");
            telemetry::set_remote_parent(&span, delivery.envelope.traceparent.as_deref());
            async move {
                let Ok(reply) = NotificationReply::decode(delivery.envelope.payload.as_ref())
                else {
                    tracing::warn!("undecodable notification reply dropped");
                    return delivery.ack().await;
                };
                let verdict = verdict(&reply);
                match decide(&core, &reply.resource_id, &reply.job_id, verdict).await {
                    Ok(()) => delivery.ack().await,
                    Err(e) => {
                        tracing::warn!(error = %e, "decision reply not applied; retrying");
                        delivery.retry(Duration::from_millis(200)).await
                    }
                }
            }
            .instrument(span)
        });
    handled.await;
}

/// Applies the default action to decisions whose deadline passes: those handed over by
/// the core as they become pending, and those the store holds (looked up at start and
/// every [`SWEEP`]: decisions made before a restart, or by another replica), queued ahead
/// of their deadline so a restart does not delay them. A decision this process's core
/// settles before its deadline leaves the queue; one settled elsewhere (another replica)
/// is found settled by a read at its deadline.
pub async fn timer(
    core: Arc<Core>,
    mut incoming: mpsc::UnboundedReceiver<Timed>,
    shutdown: CancellationToken,
) {
    let mut queue = Queue::default();
    let mut sweep = tokio::time::interval(SWEEP);
    loop {
        let next = queue.next_at();
        let sleep = next.map_or(SWEEP, |at| (at - Utc::now()).to_std().unwrap_or_default());
        tokio::select! {
            _ = shutdown.cancelled() => return,
            Some(timed) = incoming.recv() => match timed {
                Timed::Pending(d) => queue.push(d),
                Timed::Settled(decision_id) => queue.forget(&decision_id),
            },
            _ = tokio::time::sleep(sleep), if next.is_some() => {
                for d in queue.due(Utc::now()) {
                    let core = core.clone();
                    tokio::spawn(async move { expire(&core, d).await });
                }
            }
            _ = sweep.tick() => {
                let horizon = Utc::now() + chrono::Duration::from_std(SWEEP * 2).unwrap_or_default();
                match store::pending_decisions_before(&core.db, horizon, 1000).await {
                    Ok(rows) => {
                        for (session_id, decision_id, at) in rows {
                            queue.push(Deadline { at, session_id, decision_id });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "decision sweep could not read the store"),
                }
            }
        }
    }
}

/// How often the store is looked at for deadlines the timer was not handed.
const SWEEP: Duration = Duration::from_secs(5);

/// Deadlines in order, each decision once. `queued` holds the decisions still to be
/// looked at; a forgotten one's entry stays in the heap until its time and is passed over.
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Deadline>>,
    queued: HashSet<String>,
}

impl Queue {
    fn push(&mut self, d: Deadline) {
        if self.queued.insert(d.decision_id.clone()) {
            self.heap.push(Reverse(d));
        }
    }

    /// The decision was settled: nothing to do at its deadline.
    fn forget(&mut self, decision_id: &str) {
        self.queued.remove(decision_id);
    }

    fn next_at(&self) -> Option<DateTime<Utc>> {
        self.heap.peek().map(|Reverse(d)| d.at)
    }

    fn due(&mut self, now: DateTime<Utc>) -> Vec<Deadline> {
        let mut due = Vec::new();
        while self.heap.peek().is_some_and(|Reverse(d)| d.at <= now) {
            if let Some(Reverse(d)) = self.heap.pop()
                && self.queued.remove(&d.decision_id)
            {
                due.push(d);
            }
        }
        due
    }
}

/// Applies the default to `d` unless it was decided meanwhile (checked with a read first,
/// so decisions the application answered cost no write).
async fn expire(core: &Core, d: Deadline) {
    match store::pending_decision(&core.db, &d.session_id).await {
        Ok(Some(pending)) if pending == d.decision_id => {}
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, session = %d.session_id, "decision deadline not checked; the sweep retries");
            return;
        }
    }
    if let Err(e) = decide(
        core,
        &d.session_id,
        &d.decision_id,
        Verdict::Default(Reason::Timeout),
    )
    .await
    {
        tracing::warn!(error = %e, session = %d.session_id, "decision deadline not applied; the sweep retries");
    }
}

#[cfg(test)]
mod tests {
    use parlay_proto::notify::v1::HttpAnswer;

    use super::*;

    fn answered(status: u32, body: &str) -> NotificationReply {
        NotificationReply {
            job_id: "nt1".into(),
            resource_kind: "callSession".into(),
            resource_id: "cs1".into(),
            outcome: Some(notification_reply::Outcome::Answer(HttpAnswer {
                status,
                content_type: "application/json".into(),
                body: body.as_bytes().to_vec(),
            })),
            replied_at: None,
        }
    }

    #[test]
    fn answers_map_to_verdicts() {
        assert_eq!(
            verdict(&answered(
                200,
                r#"{"action":{"actionToPerform":"EndCall"}}"#
            )),
            Verdict::Application {
                action: Action::EndCall,
                routing_address: None
            }
        );
        assert_eq!(
            verdict(&answered(
                200,
                r#"{"action":{"actionToPerform":"Route","routingAddress":"tel:+15551239999"}}"#
            )),
            Verdict::Application {
                action: Action::Route,
                routing_address: Some("tel:+15551239999".into())
            }
        );
        let bad = [
            (
                200,
                r#"{"action":{"actionToPerform":"Route"}}"#,
                Reason::BadBody,
            ),
            (
                200,
                r#"{"action":{"actionToPerform":"Route","routingAddress":"nope"}}"#,
                Reason::BadBody,
            ),
            (200, "not json", Reason::BadBody),
            (204, "", Reason::BadBody),
            (
                500,
                r#"{"action":{"actionToPerform":"EndCall"}}"#,
                Reason::Status,
            ),
            (
                200,
                r#"{"action":{"actionToPerform":"Deferred"}}"#,
                Reason::Deferred,
            ),
        ];
        for (status, body, reason) in bad {
            assert_eq!(
                verdict(&answered(status, body)),
                Verdict::Default(reason),
                "{status} {body}"
            );
        }
        let mut failed = answered(200, "");
        failed.outcome = Some(notification_reply::Outcome::Failure("timeout".into()));
        assert_eq!(verdict(&failed), Verdict::Default(Reason::Timeout));
        failed.outcome = Some(notification_reply::Outcome::Failure(
            "unreachable: connection refused".into(),
        ));
        assert_eq!(verdict(&failed), Verdict::Default(Reason::Unreachable));
    }

    fn deadline(decision_id: &str, at_ms: i64) -> Deadline {
        Deadline {
            at: DateTime::from_timestamp_millis(at_ms).unwrap(),
            session_id: format!("cs-{decision_id}"),
            decision_id: decision_id.into(),
        }
    }

    fn ids(due: Vec<Deadline>) -> Vec<String> {
        due.into_iter().map(|d| d.decision_id).collect()
    }

    #[test]
    fn a_settled_decision_is_not_due() {
        let mut queue = Queue::default();
        queue.push(deadline("d1", 1_000));
        queue.push(deadline("d2", 2_000));
        queue.push(deadline("d3", 3_000));
        queue.forget("d2");
        // Settled without having been queued (the default decided it, or another replica
        // queued it): nothing changes.
        queue.forget("d9");
        let at = |ms| DateTime::from_timestamp_millis(ms).unwrap();
        assert_eq!(ids(queue.due(at(2_500))), ["d1"]);
        assert_eq!(ids(queue.due(at(5_000))), ["d3"]);
        assert_eq!(queue.next_at(), None);
    }

    #[test]
    fn a_decision_queued_again_after_it_was_forgotten_is_due_once() {
        let mut queue = Queue::default();
        queue.push(deadline("d1", 1_000));
        queue.forget("d1");
        // The sweep read it as pending before its decision committed.
        queue.push(deadline("d1", 1_000));
        queue.push(deadline("d1", 1_000));
        let at = DateTime::from_timestamp_millis(1_000).unwrap();
        assert_eq!(ids(queue.due(at)), ["d1"]);
        assert!(queue.due(at).is_empty());
    }

    #[tokio::test]
    async fn the_timer_is_told_when_a_decision_is_settled() {
        use crate::domain::{Ask, Participant, Session};

        let (tell, mut told) = mpsc::unbounded_channel();
        let core = crate::testing::core_telling(tell).await;
        let now = Utc::now();
        let ask = Ask {
            subscription_id: "sub1".into(),
            app_id: "app1".into(),
            notify_url: "http://127.0.0.1:9/decide".into(),
            callback_data: None,
            deadline: now + chrono::Duration::seconds(10),
            default: Action::Continue,
        };
        let session = Session::network(
            "cs1".into(),
            "nc1".into(),
            Participant::new("pa1".into(), "tel:+15550001".into(), None),
            Participant::new("pa2".into(), "tel:+15550002".into(), None),
            now,
        );
        core.create_with(
            crate::testing::session_row("cs1"),
            session,
            None,
            None,
            move |s| s.attempt("d1".into(), Some(ask.clone()), now),
        )
        .await
        .unwrap();
        assert_eq!(
            told.try_recv().unwrap(),
            Timed::Pending(Deadline {
                at: now + chrono::Duration::seconds(10),
                session_id: "cs1".into(),
                decision_id: "d1".into(),
            })
        );
        let verdict = Verdict::Application {
            action: Action::EndCall,
            routing_address: None,
        };
        decide(&core, "cs1", "d1", verdict.clone()).await.unwrap();
        assert_eq!(told.try_recv().unwrap(), Timed::Settled("d1".into()));
        // A late answer decides nothing, and tells the timer nothing.
        decide(&core, "cs1", "d1", verdict).await.unwrap();
        assert!(told.try_recv().is_err());
    }
}
