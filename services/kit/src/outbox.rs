//! The transactional outbox. A service writes its state change and the bus messages it
//! implies in one database transaction ([`enqueue`]); the [`Relay`] publishes the rows and
//! deletes each only after the bus acknowledged it. Messages with the same ordering key
//! (a call session, say) are published in order; different keys go out concurrently.
//! Several relays on one table (replicas) may publish a row twice: the bus de-duplicates
//! on the message id and consumers are idempotent.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::{StreamExt, stream};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::bus::{Envelope, SharedBus};

pub mod entity {
    //! The `outbox` table.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        pub msg_id: String,
        pub subject: String,
        pub order_key: String,
        pub payload: Vec<u8>,
        pub traceparent: Option<String>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records `envelopes` for publication, inside the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    order_key: &str,
    envelopes: Vec<Envelope>,
) -> Result<(), DbErr> {
    enqueue_many(txn, vec![(order_key.to_string(), envelopes)]).await
}

/// Records the envelopes of several ordering keys in one statement, inside the caller's
/// transaction (a batch of writes, see [`crate::batch`]).
pub async fn enqueue_many<C: ConnectionTrait>(
    txn: &C,
    keyed: Vec<(String, Vec<Envelope>)>,
) -> Result<(), DbErr> {
    let now = chrono::Utc::now();
    let rows: Vec<entity::ActiveModel> = keyed
        .into_iter()
        .flat_map(|(key, envelopes)| {
            envelopes.into_iter().map(move |e| entity::ActiveModel {
                msg_id: Set(e.id),
                subject: Set(e.subject),
                order_key: Set(key.clone()),
                payload: Set(e.payload.to_vec()),
                traceparent: Set(e.traceparent),
                created_at: Set(now),
                ..Default::default()
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    entity::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Wakes the relay after a commit, so messages leave at once instead of at the next poll.
#[derive(Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Publishes outbox rows to the bus.
pub struct Relay {
    db: DatabaseConnection,
    bus: SharedBus,
    waker: Waker,
    /// How often to look for rows when nobody wakes the relay (rows of a crashed process,
    /// of another replica, or left by a failed publish).
    pub poll: Duration,
}

const BATCH: u64 = 512;

impl Relay {
    pub fn new(db: DatabaseConnection, bus: SharedBus, waker: Waker) -> Self {
        Self {
            db,
            bus,
            waker,
            poll: Duration::from_millis(500),
        }
    }

    /// Runs until `shutdown`; publishes what is pending first.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(50);
        loop {
            // Shutdown cuts a batch short: what was not deleted is published after a
            // restart (the bus de-duplicates; consumers are idempotent).
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = self.publish_batch() => outcome,
            };
            let wait = match outcome {
                Ok((published, 0)) => {
                    backoff = Duration::from_millis(50);
                    if published as u64 == BATCH {
                        continue;
                    }
                    self.poll
                }
                failed => {
                    if let Err(e) = failed {
                        tracing::warn!(error = %e, "outbox relay could not read its table");
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    backoff
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.waker.0.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Publishes one batch; returns (published, failed).
    async fn publish_batch(&self) -> Result<(usize, usize), DbErr> {
        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            return Ok((0, 0));
        }
        let mut by_key: HashMap<String, Vec<entity::Model>> = HashMap::new();
        for row in rows {
            by_key.entry(row.order_key.clone()).or_default().push(row);
        }
        let results: Vec<(Vec<i64>, bool)> = stream::iter(by_key.into_values())
            .map(|rows| self.publish_in_order(rows))
            .buffer_unordered(64)
            .collect()
            .await;
        let mut done = Vec::new();
        let mut failed = 0;
        for (seqs, ok) in results {
            done.extend(seqs);
            failed += usize::from(!ok);
        }
        if !done.is_empty() {
            entity::Entity::delete_many()
                .filter(entity::Column::Seq.is_in(done.iter().copied()))
                .exec(&self.db)
                .await?;
        }
        Ok((done.len(), failed))
    }

    /// Publishes rows of one key in order, stopping at the first failure.
    async fn publish_in_order(&self, rows: Vec<entity::Model>) -> (Vec<i64>, bool) {
        let mut done = Vec::with_capacity(rows.len());
        for row in rows {
            let envelope = Envelope {
                subject: row.subject,
                id: row.msg_id,
                payload: row.payload.into(),
                traceparent: row.traceparent,
            };
            let subject = envelope.subject.clone();
            match self.bus.publish(envelope).await {
                Ok(()) => done.push(row.seq),
                Err(e) => {
                    tracing::debug!(%subject, error = %e, "outbox publish failed; will retry");
                    return (done, false);
                }
            }
        }
        (done, true)
    }
}
