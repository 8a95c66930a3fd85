//! The consumer: takes `NotificationJob`s from the bus, stores each (once per job id) and
//! acknowledges it only after the row committed, then wakes the dispatcher. A job the bus
//! delivers twice is stored once; a job that cannot be stored now is redelivered later.

use std::{sync::Arc, time::Duration};

use futures::{StreamExt, stream::BoxStream};
use parlay_kit::bus::Delivery;
use parlay_proto::notify::v1::NotificationJob;
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify as Wake;
use tokio_util::sync::CancellationToken;

use crate::{convert, store};

/// Deliveries stored at once.
const PARALLEL: usize = 32;

/// Delay before the bus offers a job again that could not be stored.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Stores jobs from the bus.
pub struct Consumer {
    /// notify's database.
    pub db: DatabaseConnection,
    /// How long a job without `expires_at` lives.
    pub max_age: Duration,
    /// Signalled after each new job is stored.
    pub wake: Arc<Wake>,
}

impl Consumer {
    /// Runs until `shutdown` or the end of `deliveries`; deliveries being stored finish
    /// first, the rest stay unacknowledged for the bus to deliver again.
    pub async fn run(self, deliveries: BoxStream<'static, Delivery>, shutdown: CancellationToken) {
        deliveries
            .take_until(shutdown.cancelled_owned())
            .for_each_concurrent(PARALLEL, |delivery| self.handle(delivery))
            .await;
    }

    async fn handle(&self, delivery: Delivery) {
        let envelope = &delivery.envelope;
        let job = match NotificationJob::decode(envelope.payload.clone()) {
            Ok(job) => job,
            Err(e) => {
                tracing::warn!(subject = %envelope.subject, id = %envelope.id, error = %e,
                    "undecodable notification job dropped");
                delivery.ack().await;
                return;
            }
        };
        let row = match convert::job_row(
            job,
            envelope.traceparent.clone(),
            store::now(),
            self.max_age,
        ) {
            Ok(row) => row,
            Err(e) => {
                tracing::warn!(subject = %envelope.subject, id = %envelope.id, error = %e,
                    "notification job dropped");
                delivery.ack().await;
                return;
            }
        };
        let job_id = row.job_id.clone();
        match store::insert_job(&self.db, row).await {
            Ok(new) => {
                if new {
                    self.wake.notify_one();
                } else {
                    tracing::debug!(%job_id, "notification job already stored");
                }
                delivery.ack().await;
            }
            Err(e) => {
                tracing::warn!(%job_id, error = %e, "could not store notification job; redelivery requested");
                delivery.retry(STORE_RETRY).await;
            }
        }
    }
}
