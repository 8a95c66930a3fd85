//! Hands recorded list changes to the presence service (`Presence.ApplyListChanges`), oldest
//! first, deleting those handed over once presence answered. A request that changed a list
//! flushes before it answers, so a block takes effect before the client hears back; what could not
//! be handed over (presence down) is retried by [`run`] until it is. Presence ignores a
//! change older than one it applied for the same key, so a change handed over twice (a
//! crash between the call and the delete, or two replicas) is harmless.

use std::time::Duration;

use parlay_kit::grpc::Transport;
use parlay_proto::presence::v1::{self as ppb, presence_client::PresenceClient};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use crate::entities::change;

/// The application id this service calls presence as.
pub const CALLER: &str = "addresslist";

/// Changes handed over in one call.
const BATCH: u64 = 256;

/// How long one call to presence may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Hands changes over, one flush at a time.
pub struct Syncer {
    db: DatabaseConnection,
    presence: PresenceClient<Transport>,
    flushing: Mutex<()>,
    wake: Notify,
}

impl Syncer {
    pub fn new(db: DatabaseConnection, presence: PresenceClient<Transport>) -> Self {
        Self {
            db,
            presence,
            flushing: Mutex::new(()),
            wake: Notify::new(),
        }
    }

    /// Hands over everything recorded so far. Fails when presence did not take a batch;
    /// what is left stays for the next flush.
    pub async fn flush(&self) -> anyhow::Result<()> {
        flush_with(&self.db, &self.flushing, |changes| {
            let request = parlay_kit::grpc::request_for(CALLER, changes);
            let mut client = self.presence.clone();
            async move {
                tokio::time::timeout(CALL_TIMEOUT, client.apply_list_changes(request))
                    .await
                    .map_err(|_| anyhow::anyhow!("presence did not answer in time"))??;
                Ok(())
            }
        })
        .await
    }

    /// Flushes after a failed attempt by a request.
    pub fn retry_soon(&self) {
        self.wake.notify_one();
    }
}

/// The recorded changes of `db`, oldest first, a batch at a time, each to `hand` (one
/// flush at a time, under `flushing`); a batch is deleted once `hand` took it.
async fn flush_with<F, Fut>(
    db: &DatabaseConnection,
    flushing: &Mutex<()>,
    mut hand: F,
) -> anyhow::Result<()>
where
    F: FnMut(ppb::ListChanges) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let _one_at_a_time = flushing.lock().await;
    loop {
        let rows = change::Entity::find()
            .order_by_asc(change::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        // Exactly the rows handed over: on PostgreSQL a change with a lower seq can commit
        // while this batch is with presence (sequence numbers are taken before commit), and
        // a `seq <= last` delete would drop it unseen.
        let handed: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let changes = rows
            .iter()
            .map(|r| ppb::ListChange {
                seq: r.seq,
                owner: r.owner.clone(),
                contact_list_id: r.list_id.clone(),
                member: r.member.clone(),
                present: r.present,
                display_name: r.display_name.clone(),
            })
            .collect();
        hand(ppb::ListChanges { changes }).await?;
        change::Entity::delete_many()
            .filter(change::Column::Seq.is_in(handed))
            .exec(db)
            .await?;
        if (rows.len() as u64) < BATCH {
            return Ok(());
        }
    }
}

/// Flushes every second (changes of another replica, or left by a failed flush) and when
/// woken, until shutdown.
pub async fn run(syncer: std::sync::Arc<Syncer>, shutdown: CancellationToken) {
    loop {
        if let Err(e) = syncer.flush().await {
            tracing::warn!(error = %e, "list changes not yet applied by presence; retrying");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = syncer.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveValue::Set, ConnectionTrait, TransactionTrait};

    use super::*;

    async fn record<C: ConnectionTrait>(db: &C, owner: &str) {
        change::Entity::insert(change::ActiveModel {
            owner: Set(owner.to_string()),
            list_id: Set("rcs".into()),
            member: Set("tel:+15550000001".into()),
            present: Set(true),
            display_name: Set(None),
            ..Default::default()
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }

    /// On PostgreSQL a change takes its seq at insert and can commit after a later one was
    /// read and handed over. It must still reach presence, at the next flush.
    #[tokio::test]
    async fn a_change_committed_during_a_hand_over_is_handed_over_next() {
        let (server, name) = (
            parlay_kit::db::test_postgres_server(),
            parlay_kit::ids::new_id("parlay_t_sync"),
        );
        let url = parlay_kit::db::create_postgres_database(&server, &name)
            .await
            .expect("PostgreSQL (PARLAY_TEST_PG) is reachable");
        let db = parlay_kit::db::connect_and_migrate::<crate::Migrator>(&url)
            .await
            .unwrap();

        // `early` takes the lower seq and commits only while `late`'s batch is with presence.
        let early = db.begin().await.unwrap();
        record(&early, "tel:+15551000001").await;
        record(&db, "tel:+15551000002").await;
        let flushing = Mutex::new(());
        let mut handed: Vec<String> = Vec::new();
        let mut early = Some(early);
        flush_with(&db, &flushing, |changes| {
            handed.extend(changes.changes.into_iter().map(|c| c.owner));
            let early = early.take();
            async move {
                if let Some(early) = early {
                    early.commit().await?;
                }
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(handed, ["tel:+15551000002"]);
        flush_with(&db, &flushing, |changes| {
            handed.extend(changes.changes.into_iter().map(|c| c.owner));
            async { Ok(()) }
        })
        .await
        .unwrap();
        assert_eq!(handed, ["tel:+15551000002", "tel:+15551000001"]);
        assert!(change::Entity::find().all(&db).await.unwrap().is_empty());

        db.close().await.unwrap();
        parlay_kit::db::drop_postgres_database(&server, &name)
            .await
            .unwrap();
    }
}
