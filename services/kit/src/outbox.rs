//! The transactional outbox. A service writes its state change and the bus messages it
//! implies in one database transaction ([`enqueue`]) and, once it committed, hands the rows
//! to its [`Relay`] ([`Waker::hand`]), which publishes them without reading them back and
//! deletes each only after the bus acknowledged it. Rows nobody handed over (those of a
//! crashed process, of another replica, or handed over while the relay was full) are found
//! by the relay's periodic scan of the table. Messages with the same ordering key (a call
//! session, say) are published in order; different keys go out concurrently. Several relays
//! on one table (replicas) may publish a row twice: the bus de-duplicates on the message id
//! and consumers are idempotent.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    sync::Arc,
    time::Duration,
};

use futures::{FutureExt, StreamExt, stream::FuturesUnordered};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait,
    Statement,
};
use tokio::{sync::Notify, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::bus::{BusError, Envelope, SharedBus};

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

/// Rows recorded in a transaction: once it committed, [`Waker::hand`] them to the relay.
/// Dropped instead (the transaction rolled back, or an error came first), they change
/// nothing: rows that were committed all the same go out after the relay's next scan.
#[must_use = "hand the rows to the relay once the transaction committed"]
#[derive(Debug, Default)]
pub struct Recorded(Vec<entity::Model>);

/// Records `envelopes` for publication, inside the caller's transaction.
pub async fn enqueue<C: ConnectionTrait>(
    txn: &C,
    order_key: &str,
    envelopes: Vec<Envelope>,
) -> Result<Recorded, DbErr> {
    enqueue_many(txn, vec![(order_key.to_string(), envelopes)]).await
}

/// Records the envelopes of several ordering keys in one statement, inside the caller's
/// transaction (a batch of writes, see [`crate::batch`]).
pub async fn enqueue_many<C: ConnectionTrait>(
    txn: &C,
    keyed: Vec<(String, Vec<Envelope>)>,
) -> Result<Recorded, DbErr> {
    let Some(insert) = Insert::of(txn.get_database_backend(), keyed) else {
        return Ok(Recorded::default());
    };
    let rows = txn.query_all_raw(insert.statement.clone()).await?;
    insert.recorded(&rows)
}

/// The insert of envelopes into the outbox as a statement, for a transaction that runs it
/// with others ([`crate::db::write_together`]); [`Insert::recorded`] takes the rows it
/// returned.
pub struct Insert {
    /// `INSERT … RETURNING seq`.
    pub statement: Statement,
    rows: Vec<entity::Model>,
}

impl Insert {
    /// The insert of the envelopes of several ordering keys; None when there are none.
    pub fn of(backend: DbBackend, keyed: Vec<(String, Vec<Envelope>)>) -> Option<Self> {
        let now = chrono::Utc::now();
        let rows: Vec<entity::Model> = keyed
            .into_iter()
            .flat_map(|(key, envelopes)| {
                envelopes.into_iter().map(move |e| entity::Model {
                    seq: 0,
                    msg_id: e.id,
                    subject: e.subject,
                    order_key: key.clone(),
                    payload: e.payload.to_vec(),
                    traceparent: e.traceparent,
                    created_at: now,
                })
            })
            .collect();
        if rows.is_empty() {
            return None;
        }
        // The table gives the seq.
        let inserts = rows.iter().map(|r| entity::ActiveModel {
            seq: NotSet,
            ..r.clone().into_active_model()
        });
        let mut insert = entity::Entity::insert_many(inserts).into_query();
        insert.returning_col(entity::Column::Seq);
        Some(Self {
            statement: backend.build(&insert),
            rows,
        })
    }

    /// The rows `insert` recorded, when its statement was the last of those run together
    /// (`returned`, a list of rows per statement); nothing without an insert.
    pub fn recorded_last(
        insert: Option<Self>,
        returned: &[Vec<QueryResult>],
    ) -> Result<Recorded, DbErr> {
        match insert {
            Some(insert) => insert.recorded(returned.last().map_or(&[], Vec::as_slice)),
            None => Ok(Recorded::default()),
        }
    }

    /// The rows recorded, given the rows the statement returned.
    pub fn recorded(self, returned: &[QueryResult]) -> Result<Recorded, DbErr> {
        let Self { mut rows, .. } = self;
        let mut seqs = returned
            .iter()
            .map(|r| r.try_get::<i64>("", "seq"))
            .collect::<Result<Vec<_>, _>>()?;
        // One statement's rows take increasing seqs in the order of its VALUES (SQLite's
        // rowids and PostgreSQL's sequence alike), while RETURNING lists them in no
        // promised order.
        seqs.sort_unstable();
        if seqs.len() != rows.len() {
            return Err(DbErr::Custom(format!(
                "outbox insert of {} rows returned {} keys",
                rows.len(),
                seqs.len()
            )));
        }
        for (row, seq) in rows.iter_mut().zip(seqs) {
            row.seq = seq;
        }
        Ok(Recorded(rows))
    }
}

/// The way from the services' transactions to their relay: rows handed over after their
/// commit leave at once, instead of at the relay's next scan of the table.
#[derive(Clone, Default)]
pub struct Waker(Arc<Handed>);

#[derive(Default)]
struct Handed {
    rows: std::sync::Mutex<Vec<entity::Model>>,
    notify: Notify,
}

impl Handed {
    fn rows(&self) -> std::sync::MutexGuard<'_, Vec<entity::Model>> {
        // A poisoned lock only means a panic elsewhere; the rows themselves stay whole.
        self.rows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Waker {
    /// Hands the rows of a committed transaction to the relay.
    pub fn hand(&self, recorded: Recorded) {
        if recorded.0.is_empty() {
            return;
        }
        self.0.rows().extend(recorded.0);
        self.0.notify.notify_one();
    }

    /// Waits for rows to be handed over, and takes them.
    async fn handed(&self) -> Vec<entity::Model> {
        loop {
            let rows = std::mem::take(&mut *self.0.rows());
            if !rows.is_empty() {
                return rows;
            }
            self.0.notify.notified().await;
        }
    }
}

/// Publishes outbox rows to the bus, continuously: a row is published as soon as it is handed
/// over (or read) and the earlier rows of its key were acknowledged, without waiting for the
/// other keys' rows. Acknowledged rows are deleted in batches.
pub struct Relay {
    db: DatabaseConnection,
    bus: SharedBus,
    waker: Waker,
    /// How often to scan the table for rows nobody handed over (rows of a crashed process,
    /// of another replica, or handed over while the relay held [`MAX_QUEUED`] rows).
    pub poll: Duration,
}

/// Rows read at once.
const BATCH: u64 = 512;
/// Publishes awaiting the bus's acknowledgement at once (one per key).
const IN_FLIGHT: usize = 256;
/// Rows taken and not yet published: past this the relay takes no more (it leaves those
/// handed over to its next scan) until they drain.
const MAX_QUEUED: usize = 4 * BATCH as usize;
/// Acknowledged rows wait at most this long to be deleted together (or until 64 gathered).
const DELETE_AFTER: Duration = Duration::from_millis(20);

type Published = (String, entity::Model, Result<(), BusError>);

/// What the relay holds: rows taken (handed over or read) and not yet deleted, by key.
#[derive(Default)]
struct Held {
    /// Every held row's seq: a row read by a scan after it was handed over is not queued
    /// twice.
    known: HashSet<i64>,
    /// Rows waiting for their turn, per key, in seq order.
    queued: HashMap<String, VecDeque<entity::Model>>,
    queued_rows: usize,
    /// Keys ready for their next publish, in flight, or cooling: a key is in at most one
    /// of these, so its rows go out one at a time, in order.
    active: HashSet<String>,
    /// Keys with a queued row and nothing in flight.
    ready: VecDeque<String>,
    /// Keys whose last publish failed, with when to try again.
    cooling: Vec<(Instant, String)>,
    /// Acknowledged rows not deleted yet, and since when the oldest waits.
    done: Vec<i64>,
    done_since: Option<Instant>,
}

impl Held {
    /// Takes rows handed over or read, but not those it holds already.
    fn take(&mut self, rows: Vec<entity::Model>) {
        for row in rows {
            if !self.known.insert(row.seq) {
                continue;
            }
            self.queued_rows += 1;
            if self.active.insert(row.order_key.clone()) {
                self.ready.push_back(row.order_key.clone());
            }
            self.queued
                .entry(row.order_key.clone())
                .or_default()
                .push_back(row);
        }
    }

    /// The next row to publish, if a key is ready; its key stays active (in flight).
    fn next(&mut self) -> Option<(String, entity::Model)> {
        loop {
            let key = self.ready.pop_front()?;
            if let Some(row) = self.queued.get_mut(&key).and_then(VecDeque::pop_front) {
                self.queued_rows -= 1;
                return Some((key, row));
            }
            self.queued.remove(&key);
            self.active.remove(&key);
        }
    }

    /// A publish settled: the key's next row becomes ready, or after a failure the same row
    /// again once `retry_at` passed.
    fn settled(&mut self, (key, row, result): Published, retry_at: Instant) {
        match result {
            Ok(()) => {
                self.done.push(row.seq);
                self.done_since.get_or_insert_with(Instant::now);
                match self.queued.get(&key) {
                    Some(q) if !q.is_empty() => self.ready.push_back(key),
                    _ => {
                        self.queued.remove(&key);
                        self.active.remove(&key);
                    }
                }
            }
            Err(e) => {
                tracing::debug!(subject = %row.subject, error = %e, "outbox publish failed; will retry");
                self.queued_rows += 1;
                self.queued.entry(key.clone()).or_default().push_front(row);
                self.cooling.push((retry_at, key));
            }
        }
    }

    /// Keys whose cooling time passed become ready again; the next time one ends.
    fn cooled(&mut self, now: Instant) -> Option<Instant> {
        let (over, still): (Vec<_>, Vec<_>) = self.cooling.drain(..).partition(|(t, _)| *t <= now);
        self.cooling = still;
        self.ready.extend(over.into_iter().map(|(_, k)| k));
        self.cooling.iter().map(|(t, _)| *t).min()
    }

    /// When the acknowledged rows should be deleted.
    fn delete_due(&self, now: Instant) -> bool {
        self.done.len() >= 64 || self.done_since.is_some_and(|t| now >= t + DELETE_AFTER)
    }
}

impl Relay {
    pub fn new(db: DatabaseConnection, bus: SharedBus, waker: Waker) -> Self {
        Self {
            db,
            bus,
            waker,
            poll: Duration::from_millis(500),
        }
    }

    /// Runs until `shutdown`; publishes what is pending first. Shutdown cuts publishes
    /// short: a row not deleted is published again after a restart (the bus de-duplicates;
    /// consumers are idempotent).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut held = Held::default();
        let mut in_flight = FuturesUnordered::new();
        // Where the scan of the table under way has got to (the seq it reads after).
        let mut scan = Some(0);
        let mut next_poll = Instant::now() + self.poll;
        let mut backoff = Duration::from_millis(50);
        loop {
            if let Some(after) = scan
                && held.queued_rows < MAX_QUEUED
            {
                match self.read(after).await {
                    Ok(rows) => {
                        backoff = Duration::from_millis(50);
                        let full = rows.len() as u64 == BATCH;
                        scan = rows.last().map(|r| r.seq).filter(|_| full);
                        held.take(rows);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox relay could not read its table");
                        scan = None;
                        next_poll = Instant::now() + backoff;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
            let now = Instant::now();
            let cooling_ends = held.cooled(now);
            while in_flight.len() < IN_FLIGHT
                && let Some((key, row)) = held.next()
            {
                in_flight.push(self.publish(key, row));
            }
            if held.delete_due(now) {
                self.delete(&mut held).await;
            }
            let delete_at = held.done_since.map(|t| t + DELETE_AFTER);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                Some(published) = in_flight.next(), if !in_flight.is_empty() => {
                    let retry_at = Instant::now() + self.poll;
                    held.settled(published, retry_at);
                    // Everything else that settled meanwhile, at once.
                    while let Some(Some(published)) = in_flight.next().now_or_never() {
                        held.settled(published, retry_at);
                    }
                }
                rows = self.waker.handed() => {
                    if held.queued_rows < MAX_QUEUED {
                        held.take(rows);
                    } else {
                        // Full: these stay in the table until a scan reads them, once the
                        // rows held drain.
                        scan.get_or_insert(0);
                    }
                }
                _ = tokio::time::sleep_until(next_poll) => {
                    scan = Some(0);
                    next_poll = Instant::now() + self.poll;
                }
                _ = sleep_until_some(cooling_ends) => {}
                _ = sleep_until_some(delete_at) => {}
            }
        }
    }

    /// Rows after `after`, in seq order.
    async fn read(&self, after: i64) -> Result<Vec<entity::Model>, DbErr> {
        entity::Entity::find()
            .filter(entity::Column::Seq.gt(after))
            .order_by_asc(entity::Column::Seq)
            .limit(BATCH)
            .all(&self.db)
            .await
    }

    fn publish(&self, key: String, row: entity::Model) -> impl Future<Output = Published> + use<> {
        let bus = self.bus.clone();
        let envelope = Envelope {
            subject: row.subject.clone(),
            id: row.msg_id.clone(),
            payload: row.payload.clone().into(),
            traceparent: row.traceparent.clone(),
        };
        async move {
            let result = bus.publish(envelope).await;
            (key, row, result)
        }
    }

    /// Deletes the acknowledged rows; on failure they are kept for the next try.
    async fn delete(&self, held: &mut Held) {
        let done = std::mem::take(&mut held.done);
        let result = entity::Entity::delete_many()
            .filter(entity::Column::Seq.is_in(done.iter().copied()))
            .exec(&self.db)
            .await;
        match result {
            Ok(_) => {
                for seq in &done {
                    held.known.remove(seq);
                }
                held.done_since = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay could not delete published rows; will retry");
                held.done = done;
                held.done_since = Some(Instant::now() + Duration::from_secs(1));
            }
        }
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::stream::BoxStream;

    use super::*;
    use crate::{
        bus::{Bus, ConsumerSpec, Delivery, MemoryBus},
        migration::KitOnly,
    };

    async fn db() -> DatabaseConnection {
        let path = std::env::temp_dir().join(crate::ids::new_id("outbox-test-"));
        crate::db::connect_and_migrate::<KitOnly>(&crate::db::sqlite_url(&path, "kit"))
            .await
            .unwrap()
    }

    fn envelopes(key: &str, ids: &[&str]) -> Vec<Envelope> {
        ids.iter()
            .map(|id| Envelope {
                subject: format!("t.{key}"),
                id: id.to_string(),
                payload: Bytes::from(id.to_string()),
                traceparent: None,
            })
            .collect()
    }

    async fn put(db: &DatabaseConnection, key: &str, ids: &[&str]) -> Recorded {
        enqueue(db, key, envelopes(key, ids)).await.unwrap()
    }

    async fn left(db: &DatabaseConnection) -> Vec<String> {
        entity::Entity::find()
            .order_by_asc(entity::Column::Seq)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.msg_id)
            .collect()
    }

    async fn consumer(bus: &MemoryBus) -> BoxStream<'static, Delivery> {
        bus.consume(ConsumerSpec {
            durable: "t".into(),
            filter: "t.>".into(),
            ack_wait: Duration::from_secs(30),
        })
        .await
        .unwrap()
    }

    async fn next(deliveries: &mut BoxStream<'static, Delivery>) -> Delivery {
        tokio::time::timeout(Duration::from_secs(10), deliveries.next())
            .await
            .expect("a delivery within 10 s")
            .expect("the bus is open")
    }

    async fn wait_until_empty(db: &DatabaseConnection) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = left(db).await;
            if left.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "{left:?} never deleted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_key_waits_for_its_own_earlier_row_and_holds_back_no_other_key() {
        let db = db().await;
        let bus = MemoryBus::new();
        let mut deliveries = consumer(&bus).await;
        // Not handed over: the relay's first scan finds them.
        let _ = put(&db, "slow", &["s1", "s2"]).await;
        let _ = put(&db, "fast", &["f1", "f2", "f3"]).await;
        let shutdown = CancellationToken::new();
        let waker = Waker::default();
        let relay = Relay::new(db.clone(), Arc::new(bus.clone()), waker.clone());
        let task = tokio::spawn(relay.run(shutdown.clone()));

        // s1 stays unacknowledged while the fast key's rows all go out, in their order;
        // s2 waits behind s1.
        let mut held = None;
        let mut fast = Vec::new();
        while fast.len() < 3 {
            let d = next(&mut deliveries).await;
            match d.envelope.id.as_str() {
                "s1" if held.is_none() => held = Some(d),
                id if id.starts_with('f') => {
                    fast.push(id.to_string());
                    d.ack().await;
                }
                other => panic!("{other} delivered before s1 was acknowledged"),
            }
        }
        assert_eq!(fast, ["f1", "f2", "f3"]);
        // A row committed while s1 is still out goes out too.
        waker.hand(put(&db, "fast", &["f4"]).await);
        let d = next(&mut deliveries).await;
        assert_eq!(d.envelope.id, "f4");
        d.ack().await;
        held.expect("s1 delivered").ack().await;
        let d = next(&mut deliveries).await;
        assert_eq!(d.envelope.id, "s2");
        d.ack().await;

        wait_until_empty(&db).await;
        shutdown.cancel();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_row_that_could_not_be_published_goes_out_later_before_the_next_of_its_key() {
        let db = db().await;
        let bus = MemoryBus::new();
        let _ = put(&db, "k", &["a"]).await;
        let shutdown = CancellationToken::new();
        let waker = Waker::default();
        let mut relay = Relay::new(db.clone(), Arc::new(bus.clone()), waker.clone());
        relay.poll = Duration::from_millis(100);
        let task = tokio::spawn(relay.run(shutdown.clone()));
        // Nobody consumes yet: the publish fails and the row stays.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(entity::Entity::find().all(&db).await.unwrap().len(), 1);
        waker.hand(put(&db, "k", &["b"]).await);
        let mut deliveries = consumer(&bus).await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let d = next(&mut deliveries).await;
            ids.push(d.envelope.id.clone());
            d.ack().await;
        }
        assert_eq!(ids, ["a", "b"]);
        wait_until_empty(&db).await;
        shutdown.cancel();
        task.await.unwrap();
    }

    async fn start(db: &DatabaseConnection, bus: &MemoryBus, poll: Duration) -> Running {
        let shutdown = CancellationToken::new();
        let waker = Waker::default();
        let mut relay = Relay::new(db.clone(), Arc::new(bus.clone()), waker.clone());
        relay.poll = poll;
        let task = tokio::spawn(relay.run(shutdown.clone()));
        Running {
            waker,
            shutdown,
            task,
        }
    }

    struct Running {
        waker: Waker,
        shutdown: CancellationToken,
        task: tokio::task::JoinHandle<()>,
    }

    impl Running {
        async fn stop(self) {
            self.shutdown.cancel();
            self.task.await.unwrap();
        }
    }

    #[tokio::test]
    async fn handed_rows_go_out_without_a_scan_and_rows_nobody_handed_wait_for_the_next() {
        let db = db().await;
        let bus = MemoryBus::new();
        let mut deliveries = consumer(&bus).await;
        // No scan but the first, at start (on an empty table) for the hour.
        let relay = start(&db, &bus, Duration::from_secs(3600)).await;
        relay.waker.hand(put(&db, "k", &["a"]).await);
        let d = next(&mut deliveries).await;
        assert_eq!(d.envelope.id, "a");
        d.ack().await;
        // b is committed and not handed over (as if by another replica); c is handed over.
        let _ = put(&db, "j", &["b"]).await;
        relay.waker.hand(put(&db, "k", &["c"]).await);
        let d = next(&mut deliveries).await;
        assert_eq!(d.envelope.id, "c");
        d.ack().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while left(&db).await != ["b"] {
            assert!(Instant::now() < deadline, "left: {:?}", left(&db).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        relay.stop().await;
        // A relay starting again scans the table first: b goes out.
        let relay = start(&db, &bus, Duration::from_secs(3600)).await;
        let d = next(&mut deliveries).await;
        assert_eq!(d.envelope.id, "b");
        d.ack().await;
        wait_until_empty(&db).await;
        relay.stop().await;
    }

    /// A transaction's rows, recorded with the seqs the table gave them.
    async fn records_its_rows_with_their_seqs(db: &DatabaseConnection) {
        use sea_orm::TransactionTrait;
        let _ = put(db, "before", &["x"]).await;
        let txn = db.begin().await.unwrap();
        let mut recorded = enqueue_many(
            &txn,
            vec![
                ("k1".into(), envelopes("k1", &["a", "b"])),
                ("k2".into(), envelopes("k2", &["c"])),
                ("k3".into(), envelopes("k3", &["d", "e", "f"])),
            ],
        )
        .await
        .unwrap();
        // A second statement of the same transaction.
        recorded.0.extend(
            enqueue(&txn, "k1", envelopes("k1", &["g"]))
                .await
                .unwrap()
                .0,
        );
        txn.commit().await.unwrap();
        let stored: Vec<(i64, String, String)> = entity::Entity::find()
            .filter(entity::Column::MsgId.ne("x"))
            .order_by_asc(entity::Column::Seq)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.seq, r.msg_id, r.order_key))
            .collect();
        let handed: Vec<(i64, String, String)> = recorded
            .0
            .into_iter()
            .map(|r| (r.seq, r.msg_id, r.order_key))
            .collect();
        assert_eq!(handed, stored);
        assert_eq!(
            stored.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c", "d", "e", "f", "g"]
        );
    }

    #[tokio::test]
    async fn recorded_rows_carry_their_seqs_on_sqlite() {
        records_its_rows_with_their_seqs(&db().await).await;
    }

    #[tokio::test]
    async fn recorded_rows_carry_their_seqs_on_postgres() {
        let server = crate::db::test_postgres_server();
        let name = crate::ids::new_id("parlay_t_outbox_").to_lowercase();
        let url = crate::db::create_postgres_database(&server, &name)
            .await
            .unwrap();
        let db = crate::db::connect_and_migrate::<KitOnly>(&url)
            .await
            .unwrap();
        records_its_rows_with_their_seqs(&db).await;
        db.close().await.unwrap();
        crate::db::drop_postgres_database(&server, &name)
            .await
            .unwrap();
    }
}
