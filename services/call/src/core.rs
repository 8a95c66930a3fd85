//! The call service's core: every change to a session is one transaction that loads it,
//! lets the domain change it, saves it under optimistic concurrency, and records the
//! commands and notifications it implies in the outbox.

use std::sync::Arc;

use chrono::Utc;
use parlay_kit::{Config, inbox, outbox};
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    domain::{DomainError, Effect, Session},
    effects,
    store::{self, Stored},
};

/// How often a change is retried when another writer saved the same session first.
const MAX_CONFLICT_RETRIES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("call session {0} kept changing under us")]
    Contended(String),
}

/// The result of a change.
pub enum Changed {
    /// The session after the change.
    Session(Box<Stored>),
    /// No such session (for this application).
    Missing,
    /// The event was processed before (a redelivery).
    Duplicate,
}

pub struct Core {
    pub db: DatabaseConnection,
    pub waker: outbox::Waker,
    pub config: Arc<Config>,
}

impl Core {
    /// Applies `change` to session `id` (owned by `app`, when given) in one transaction.
    /// With `event`, the change happens at most once for that event id.
    pub async fn mutate<F>(
        &self,
        id: &str,
        app: Option<&str>,
        event: Option<&str>,
        change: F,
    ) -> Result<Changed, CoreError>
    where
        F: Fn(&mut Session) -> Result<Vec<Effect>, DomainError>,
    {
        for _ in 0..MAX_CONFLICT_RETRIES {
            let txn = parlay_kit::db::begin_write(&self.db).await?;
            if let Some(event_id) = event
                && !inbox::first_time(&txn, "call", event_id).await?
            {
                txn.rollback().await?;
                return Ok(Changed::Duplicate);
            }
            let Some(stored) = store::load(&txn, id, app).await? else {
                txn.commit().await?;
                return Ok(Changed::Missing);
            };
            let mut after = stored.session.clone();
            let fx = change(&mut after)?;
            if after == stored.session && fx.is_empty() {
                txn.commit().await?;
                return Ok(Changed::Session(Box::new(stored)));
            }
            if !store::save(&txn, &stored, &after).await? {
                txn.rollback().await?;
                continue;
            }
            let envelopes = effects::envelopes(&self.config, &stored.row, &after, fx, Utc::now());
            outbox::enqueue(&txn, id, envelopes).await?;
            txn.commit().await?;
            self.waker.wake();
            let mut row = stored.row;
            row.version += 1;
            row.terminated = after.terminated;
            row.ended_at = after.ended_at;
            return Ok(Changed::Session(Box::new(Stored {
                row,
                session: after,
            })));
        }
        Err(CoreError::Contended(id.to_string()))
    }

    /// Stores a new session and starts it, in one transaction.
    pub async fn create(
        &self,
        row: store::entities::session::Model,
        mut session: Session,
    ) -> Result<Stored, DbErr> {
        let fx = session.start(Utc::now());
        let txn = parlay_kit::db::begin_write(&self.db).await?;
        store::insert(&txn, row.clone(), &session).await?;
        let envelopes = effects::envelopes(&self.config, &row, &session, fx, Utc::now());
        outbox::enqueue(&txn, &session.id, envelopes).await?;
        txn.commit().await?;
        self.waker.wake();
        Ok(Stored { row, session })
    }
}
