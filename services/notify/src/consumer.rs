//! The consumer: takes `NotificationJob`s from the bus, stores them (once per job id) and
//! acknowledges each only after its row committed, then wakes the dispatcher. A job the bus
//! delivers twice is stored once; a job that cannot be stored now is redelivered later.
//!
//! Deliveries are stored in the order the bus gives them, those waiting together in one
//! statement: jobs about one resource are stored in the order they were published, which
//! the dispatcher's ordered delivery relies on (a later job stored first could be sent
//! before an earlier one arrived).
//!
//! Questions and jobs without an order key are stored leased to this instance, as many as
//! their pool has free slots, and handed to the dispatcher to attempt at once (see
//! [`crate::handoff`]); the others are left for the dispatcher to claim.

use std::{collections::HashSet, sync::Arc, time::Duration};

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
        let mut leases = self.lease(&mut rows);
        let index = |pool: Pool| pool as usize;
        match store::insert_jobs(&self.db, &rows).await {
            Ok(new) => {
                let new: HashSet<String> = new.into_iter().collect();
                let mut arrived = Vec::new();
                let mut unleased = [false; 2];
                for row in rows {
                    if !new.contains(&row.job_id) {
                        continue;
                    }
                    let pool = Pool::of(&row);
                    match row.lease_until {
                        Some(lease_until) => {
                            if let Some(slot) =
                                leases[index(pool)].as_mut().and_then(|s| s.split(1))
                            {
                                arrived.push(Leased {
                                    job: row,
                                    lease_until,
                                    slot,
                                });
                            }
                        }
                        None => unleased[index(pool)] = true,
                    }
                }
                // The slots of jobs that were not new go back.
                drop(leases);
                for pool in [Pool::Asking, Pool::Ordinary] {
                    if unleased[index(pool)] {
                        self.handoff.stored(pool);
                    }
                }
                self.handoff.arrived(arrived);
                futures::future::join_all(taken.into_iter().map(Delivery::ack)).await;
            }
            Err(e) => {
                drop(leases);
                tracing::warn!(jobs = taken.len(), error = %e,
                    "could not store notification jobs; redelivery requested");
                futures::future::join_all(taken.into_iter().map(|d| d.retry(STORE_RETRY))).await;
            }
        }
    }

    /// Leases the rows that may be attempted at once (questions, and jobs without an order
    /// key, due now) into free slots of their pool, in order, as many as there are; the
    /// slots taken, by pool (`Pool as usize`).
    fn lease(&self, rows: &mut [job::Model]) -> [Option<OwnedSemaphorePermit>; 2] {
        let now = store::now();
        [Pool::Asking, Pool::Ordinary].map(|pool| {
            let mut eligible: Vec<&mut job::Model> = rows
                .iter_mut()
                .filter(|r| Pool::of(r) == pool && at_once(r, now))
                .collect();
            let taken = self.handoff.take(pool, eligible.len())?;
            for row in eligible.iter_mut().take(taken.num_permits()) {
                row.lease_until = Some(dispatcher::lease_until(
                    now,
                    self.lease_secs,
                    row.reply_deadline,
                ));
            }
            Some(taken)
        })
    }
}

/// Whether `row` may be attempted as soon as it is stored: nothing orders it behind another
/// job, and it is due.
fn at_once(row: &job::Model, now: DateTime<Utc>) -> bool {
    (row.reply_deadline.is_some() || row.order_key.is_none()) && row.next_attempt_at <= now
}
