//! The consumer: takes `NotificationJob`s from the bus, stores them (once per job id) and
//! acknowledges each only after its row committed, then wakes the dispatcher. A job the bus
//! delivers twice is stored once; a job that cannot be stored now is redelivered later.
//!
//! Deliveries are stored in the order the bus gives them, those waiting together in one
//! statement: jobs about one resource are stored in the order they were published, which
//! the dispatcher's ordered delivery relies on (a later job stored first could be sent
//! before an earlier one arrived).
//!
//! Jobs are leased to this instance as they are stored, as many as their pool has free
//! slots, and handed to the dispatcher to attempt at once (see [`crate::handoff`]): a
//! question or a job without an order key in the statement that stores it; a job with an
//! order key in that statement too when it is the first of its order in the chunk and no
//! pending job holds its key (asked just before), else right after its commit if it is
//! then the first pending of its order. The others are left for the dispatcher to claim.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream::BoxStream};
use parlay_kit::bus::Delivery;
use parlay_proto::notify::v1::NotificationJob;
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use crate::{
    convert, dispatcher,
    entity::job,
    handoff::{Handoff, Leased},
    store::{self, Pool},
};

/// Deliveries stored per statement, at most.
const CHUNK: usize = 256;

/// Delay before the bus offers a job again that could not be stored.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Stores jobs from the bus.
pub struct Consumer {
    /// notify's database.
    pub db: DatabaseConnection,
    /// How long a job without `expires_at` lives.
    pub max_age: Duration,
    /// Seconds a job is leased for its attempt (`notify.lease_secs`).
    pub lease_secs: u64,
    /// The dispatcher's slots, and its wake-up after each store.
    pub handoff: Arc<Handoff>,
}

impl Consumer {
    /// Runs until `shutdown` or the end of `deliveries`; the deliveries being stored finish
    /// first, the rest stay unacknowledged for the bus to deliver again.
    pub async fn run(self, deliveries: BoxStream<'static, Delivery>, shutdown: CancellationToken) {
        let chunks = deliveries
            .take_until(shutdown.cancelled_owned())
            .ready_chunks(CHUNK);
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            self.store(chunk).await;
        }
    }

    async fn store(&self, chunk: Vec<Delivery>) {
        let now = store::now();
        let mut rows = Vec::with_capacity(chunk.len());
        let mut taken = Vec::with_capacity(chunk.len());
        for delivery in chunk {
            let envelope = &delivery.envelope;
            let job = match NotificationJob::decode(envelope.payload.clone()) {
                Ok(job) => job,
                Err(e) => {
                    tracing::warn!(subject = %envelope.subject, id = %envelope.id, error = %e,
                        "undecodable notification job dropped");
                    delivery.ack().await;
                    continue;
                }
            };
            match convert::job_row(job, envelope.traceparent.clone(), now, self.max_age) {
                Ok(row) => {
                    rows.push(row);
                    taken.push(delivery);
                }
                Err(e) => {
                    tracing::warn!(subject = %envelope.subject, id = %envelope.id, error = %e,
                        "notification job dropped");
                    delivery.ack().await;
                }
            }
        }
        if rows.is_empty() {
            return;
        }
        // A repeat within the chunk is stored once, as its first: lease only that one.
        let mut seen = HashSet::with_capacity(rows.len());
        rows.retain(|r| seen.insert(r.job_id.clone()));
        let held = self.held_orders(&rows, now).await;
        let mut lease = self.lease(&mut rows, now, held.as_ref());
        match store::insert_jobs(&self.db, &rows).await {
            Ok(new) => {
                let new: HashSet<String> = new.into_iter().collect();
                let keyed = self.claim_keyed(&mut lease, &new).await;
                let mut arrived = Vec::new();
                let mut unleased = [false; 2];
                for mut row in rows {
                    if !new.contains(&row.job_id) {
                        continue;
                    }
                    let pool = Pool::of(&row);
                    if row.lease_until.is_none() {
                        row.lease_until = keyed.lease_of(&row.job_id);
                    }
                    let slot = row
                        .lease_until
                        .and_then(|_| lease.slots[index(pool)].as_mut())
                        .and_then(|slots| slots.split(1));
                    match (row.lease_until, slot) {
                        (Some(lease_until), Some(slot)) => arrived.push(Leased {
                            job: row,
                            lease_until,
                            slot,
                        }),
                        // The end of the earlier job's attempt lets it go.
                        _ if keyed.waiting.contains(&row.job_id) => {}
                        _ => unleased[index(pool)] = true,
                    }
                }
                // The slots of jobs that were not new, or not first of their order, go back.
                drop(lease);
                for pool in [Pool::Asking, Pool::Ordinary] {
                    if unleased[index(pool)] {
                        self.handoff.stored(pool);
                    }
                }
                self.handoff.arrived(arrived);
                futures::future::join_all(taken.into_iter().map(Delivery::ack)).await;
            }
            Err(e) => {
                drop(lease);
                tracing::warn!(jobs = taken.len(), error = %e,
                    "could not store notification jobs; redelivery requested");
                futures::future::join_all(taken.into_iter().map(|d| d.retry(STORE_RETRY))).await;
            }
        }
    }

    /// The order keys of `rows`' due ordinary jobs that a pending job already holds; `None`
    /// when that was not read (then every such job that gets a slot waits for its commit
    /// to be leased, as [`Self::claim_keyed`] decides). Not read while every ordinary slot
    /// is busy, as it is under a backlog: no job could be leased in the insert anyway.
    async fn held_orders(
        &self,
        rows: &[job::Model],
        now: DateTime<Utc>,
    ) -> Option<HashSet<String>> {
        if self.handoff.free(Pool::Ordinary) == 0 {
            return None;
        }
        let mut keys: Vec<String> = rows
            .iter()
            .filter(|r| Pool::of(r) == Pool::Ordinary && r.next_attempt_at <= now)
            .filter_map(|r| r.order_key.clone())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        match store::pending_orders(&self.db, keys).await {
            Ok(held) => Some(held),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the orders pending jobs hold; the jobs just stored are leased after their commit");
                None
            }
        }
    }

    /// Takes free slots of their pool for the rows that may be attempted at once (every
    /// due job), in order, as many as there are. Questions and jobs without an order key
    /// are leased as they are stored, and so is the first job of an order in `rows` whose
    /// key no pending job holds (`held`, see [`Self::held_orders`]); the other jobs with an
    /// order key right after their commit, if they are then the first of their order.
    fn lease(
        &self,
        rows: &mut [job::Model],
        now: DateTime<Utc>,
        held: Option<&HashSet<String>>,
    ) -> Lease {
        let firsts = held.map(|held| first_of_each_order(rows, held));
        let mut keyed = Vec::new();
        let slots = [Pool::Asking, Pool::Ordinary].map(|pool| {
            let mut eligible: Vec<&mut job::Model> = rows
                .iter_mut()
                .filter(|r| Pool::of(r) == pool && r.next_attempt_at <= now)
                .collect();
            let taken = self.handoff.take(pool, eligible.len())?;
            for row in eligible.iter_mut().take(taken.num_permits()) {
                let first = firsts
                    .as_ref()
                    .is_some_and(|firsts| firsts.contains(row.job_id.as_str()));
                if row.reply_deadline.is_none() && row.order_key.is_some() && !first {
                    keyed.push(row.job_id.clone());
                } else {
                    row.lease_until = Some(dispatcher::lease_until(
                        now,
                        self.lease_secs,
                        row.reply_deadline,
                    ));
                }
            }
            Some(taken)
        });
        Lease { slots, keyed }
    }

    /// Leases the jobs with an order key that were given a slot and stored new, those first
    /// of their order. After their commit, so that the check sees what a claim would (see
    /// [`store::claim_stored`]); a failure leaves them to the dispatcher.
    async fn claim_keyed(&self, lease: &mut Lease, new: &HashSet<String>) -> Keyed {
        let ids: Vec<String> = std::mem::take(&mut lease.keyed)
            .into_iter()
            .filter(|id| new.contains(id))
            .collect();
        if ids.is_empty() {
            return Keyed::default();
        }
        let now = store::now();
        let lease_until = dispatcher::lease_until(now, self.lease_secs, None);
        match store::claim_stored(&self.db, ids.clone(), now, lease_until).await {
            Ok(leased) => {
                let leased: HashSet<String> = leased.into_iter().collect();
                Keyed {
                    waiting: ids.into_iter().filter(|id| !leased.contains(id)).collect(),
                    leased: Some((leased, lease_until)),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not lease the jobs just stored; the dispatcher claims them");
                Keyed::default()
            }
        }
    }
}

/// The ids of the jobs of `rows` that go first in their order (key, URL and application):
/// the earliest made of those in `rows`, when no pending job holds the key (`held`). The
/// same job as [`store::claim_stored`] would lease after the commit, save that of two made
/// at the same instant only the one the bus gave first goes.
fn first_of_each_order(rows: &[job::Model], held: &HashSet<String>) -> HashSet<String> {
    let mut firsts: HashMap<(&str, &str, &str), &job::Model> = HashMap::new();
    for row in rows.iter().filter(|r| Pool::of(r) == Pool::Ordinary) {
        let Some(key) = row.order_key.as_deref().filter(|k| !held.contains(*k)) else {
            continue;
        };
        firsts
            .entry((key, row.notify_url.as_str(), row.application_id.as_str()))
            .and_modify(|first| {
                if row.created_at < first.created_at {
                    *first = row;
                }
            })
            .or_insert(row);
    }
    firsts.into_values().map(|r| r.job_id.clone()).collect()
}

/// What leasing the stored jobs with an order key found.
#[derive(Default)]
struct Keyed {
    /// Those first of their order, and their lease.
    leased: Option<(HashSet<String>, DateTime<Utc>)>,
    /// Those an earlier pending job of their order holds back (or that a claim took
    /// meanwhile): nothing to wake the dispatcher for.
    waiting: HashSet<String>,
}

impl Keyed {
    fn lease_of(&self, job_id: &str) -> Option<DateTime<Utc>> {
        self.leased
            .as_ref()
            .filter(|(ids, _)| ids.contains(job_id))
            .map(|(_, lease_until)| *lease_until)
    }
}

/// The slots a chunk of jobs took, by pool ([`index`]), and the jobs with an order key
/// given one, to lease once stored.
struct Lease {
    slots: [Option<OwnedSemaphorePermit>; 2],
    keyed: Vec<String>,
}

/// Where `pool`'s slots are in [`Lease::slots`].
fn index(pool: Pool) -> usize {
    match pool {
        Pool::Asking => 0,
        Pool::Ordinary => 1,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::entity::job::Status;

    fn row(id: &str, key: &str, url: &str, created_ms: i64) -> job::Model {
        let at = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::milliseconds(created_ms);
        job::Model {
            job_id: id.into(),
            application_id: "app".into(),
            notify_url: url.into(),
            body: Vec::new(),
            content_type: "application/json".into(),
            resource_kind: "kind".into(),
            resource_id: "res".into(),
            traceparent: None,
            created_at: at,
            expires_at: at + TimeDelta::minutes(1),
            status: Status::Pending,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            delivered_at: None,
            reply_subject: None,
            reply_deadline: None,
            order_key: (!key.is_empty()).then(|| key.into()),
        }
    }

    #[test]
    fn first_of_each_order_is_the_earliest_made_of_an_order_no_pending_job_holds() {
        let url = "http://app.example/hooks";
        let mut question = row("question", "k4", url, 0);
        question.reply_deadline = Some(question.created_at + TimeDelta::seconds(5));
        let rows = [
            // Given by the bus after a job of its order made earlier: that one goes first.
            row("k1-later", "k1", url, 20),
            row("k1-earlier", "k1", url, 10),
            row("k1-latest", "k1", url, 30),
            // The same key to another URL is another order.
            row("k1-elsewhere", "k1", "http://other.example/hooks", 40),
            // Held by a pending job stored before: none of its order goes first.
            row("k2", "k2", url, 0),
            // Made at the same instant: the one the bus gave first.
            row("k3-a", "k3", url, 5),
            row("k3-b", "k3", url, 5),
            // Without a key, or a question: not an order's.
            row("unkeyed", "", url, 0),
            question,
        ];
        let held = HashSet::from(["k2".to_string()]);
        let mut firsts: Vec<String> = first_of_each_order(&rows, &held).into_iter().collect();
        firsts.sort();
        assert_eq!(firsts, ["k1-earlier", "k1-elsewhere", "k3-a"]);
    }
}
