//! Hands recorded list changes to the presence service (`Presence.ApplyListChanges`), oldest
//! first, deleting them once presence answered. A request that changed a list flushes
//! before it answers, so a block takes effect before the client hears back; what could not
//! be handed over (presence down) is retried by [`run`] until it is. Presence ignores a
//! change older than one it applied for the same key, so a change handed over twice (a
//! crash between the call and the delete, or two replicas) is harmless.

use std::time::Duration;

use parlay_proto::presence::v1::{self as ppb, presence_client::PresenceClient};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

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
    presence: PresenceClient<Channel>,
    flushing: Mutex<()>,
    wake: Notify,
}

impl Syncer {
    pub fn new(db: DatabaseConnection, presence: PresenceClient<Channel>) -> Self {
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
        let _one_at_a_time = self.flushing.lock().await;
        loop {
            let rows = change::Entity::find()
                .order_by_asc(change::Column::Seq)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                return Ok(());
            };
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
            let request = parlay_kit::grpc::request_for(CALLER, ppb::ListChanges { changes });
            let mut client = self.presence.clone();
            tokio::time::timeout(CALL_TIMEOUT, client.apply_list_changes(request))
                .await
                .map_err(|_| anyhow::anyhow!("presence did not answer in time"))??;
            change::Entity::delete_many()
                .filter(change::Column::Seq.lte(last))
                .exec(&self.db)
                .await?;
            if (rows.len() as u64) < BATCH {
                return Ok(());
            }
        }
    }

    /// Flushes after a failed attempt by a request.
    pub fn retry_soon(&self) {
        self.wake.notify_one();
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
