//! The consumer: takes `NotificationJob`s from the bus, stores them (once per job id) and
//! acknowledges each only after its row committed, then wakes the dispatcher. A job the bus
//! delivers twice is stored once; a job that cannot be stored now is redelivered later.
//!
//! Deliveries are stored in the order the bus gives them, those waiting together in one
//! statement: jobs about one resource are stored in the order they were published, which
//! the dispatcher's ordered delivery relies on (a later job stored first could be sent
//! before an earlier one arrived).

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use parlay_kit::bus::Delivery;
use parlay_proto::notify::v1::NotificationJob;
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::{
    convert,
    dispatcher::Wake,
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
    /// Told which pools got new jobs, after each store.
    pub wake: Arc<Wake>,
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
            match convert::job_row(
                job,
                envelope.traceparent.clone(),
                store::now(),
                self.max_age,
            ) {
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
        let questions = rows.iter().any(|r| r.reply_deadline.is_some());
        let ordinary = rows.iter().any(|r| r.reply_deadline.is_none());
        match store::insert_jobs(&self.db, rows).await {
            Ok(new) => {
                if new > 0 {
                    if questions {
                        self.wake.stored(Pool::Asking);
                    }
                    if ordinary {
                        self.wake.stored(Pool::Ordinary);
                    }
                }
                futures::future::join_all(taken.into_iter().map(Delivery::ack)).await;
            }
            Err(e) => {
                tracing::warn!(jobs = taken.len(), error = %e,
                    "could not store notification jobs; redelivery requested");
                futures::future::join_all(taken.into_iter().map(|d| d.retry(STORE_RETRY))).await;
            }
        }
    }
}
