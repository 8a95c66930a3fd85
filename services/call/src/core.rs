//! The call service's core: every change to a session is one transaction that loads it,
//! lets the domain change it, saves it under optimistic concurrency, and records the
//! commands and notifications it implies in the outbox.

use std::sync::Arc;

use chrono::Utc;
use parlay_kit::{Config, inbox, outbox};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::{
    domain::{DomainError, Effect, Session},
    effects,
    store::{self, Stored},
    subscriptions,
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
    /// Deadlines of decisions that became pending, for the decision timer.
    pub deadlines: tokio::sync::mpsc::UnboundedSender<crate::decisions::Deadline>,
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
            let envelopes = self.render(&txn, &stored.row, &after, fx).await?;
            outbox::enqueue(&txn, id, envelopes).await?;
            txn.commit().await?;
            self.waker.wake();
            if after.pending() != stored.session.pending() {
                self.watch_deadline(&after);
            }
            let mut row = stored.row;
            row.version += 1;
            row.terminated = after.terminated;
            row.ended_at = after.ended_at;
            row.decision = store::decision_json(&after);
            row.decision_deadline = after.pending().map(|p| p.deadline);
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
        session: Session,
    ) -> Result<Stored, DbErr> {
        // Without an event id there is no redelivery to skip, so this is always Some.
        self.create_with(row, session, None, |s| s.start(Utc::now()))
            .await?
            .ok_or_else(|| DbErr::Custom("session creation skipped".into()))
    }

    /// Stores a new session and runs `start` on it, in one transaction; with `event`, at
    /// most once for that event id (None: a redelivery).
    pub async fn create_with(
        &self,
        row: store::entities::session::Model,
        mut session: Session,
        event: Option<&str>,
        start: impl FnOnce(&mut Session) -> Vec<Effect>,
    ) -> Result<Option<Stored>, DbErr> {
        let txn = parlay_kit::db::begin_write(&self.db).await?;
        if let Some(event_id) = event
            && !inbox::first_time(&txn, "call", event_id).await?
        {
            txn.rollback().await?;
            return Ok(None);
        }
        let fx = start(&mut session);
        store::insert(&txn, row.clone(), &session).await?;
        let envelopes = self.render(&txn, &row, &session, fx).await?;
        outbox::enqueue(&txn, &session.id, envelopes).await?;
        txn.commit().await?;
        self.waker.wake();
        if session.pending().is_some() {
            self.watch_deadline(&session);
        }
        Ok(Some(Stored { row, session }))
    }

    /// The bus messages of `fx`: finds the call-event subscribers of each notified leg and
    /// lets every application notified about the session use it.
    async fn render<C: ConnectionTrait>(
        &self,
        txn: &C,
        row: &store::entities::session::Model,
        session: &Session,
        fx: Vec<Effect>,
    ) -> Result<Vec<parlay_kit::bus::Envelope>, DbErr> {
        let now = Utc::now();
        let mut subscribers = effects::Subscribers::default();
        let mut notified = Vec::new();
        for effect in &fx {
            match effect {
                Effect::Notify {
                    participant_id,
                    event,
                } => {
                    let Some((calling, called)) = session.parties(participant_id) else {
                        continue;
                    };
                    let found = subscriptions::matching(
                        txn,
                        &[subscriptions::Kind::CallEvent],
                        &calling,
                        &called,
                        *event,
                        now,
                    )
                    .await?;
                    notified.extend(found.iter().map(|s| s.app_id.clone()));
                    subscribers.0.push((participant_id.clone(), *event, found));
                }
                Effect::Ask { pending, .. } => notified.push(pending.app_id.clone()),
                _ => {}
            }
        }
        notified.retain(|app| *app != row.app_id);
        if !notified.is_empty() {
            store::grant(txn, &session.id, notified).await?;
        }
        Ok(effects::envelopes(
            &self.config,
            row,
            session,
            fx,
            &subscribers,
            now,
        ))
    }

    /// Hands a newly pending decision's deadline to the decision timer.
    fn watch_deadline(&self, session: &Session) {
        if let Some(p) = session.pending() {
            let _ = self.deadlines.send(crate::decisions::Deadline {
                session_id: session.id.clone(),
                decision_id: p.id.clone(),
                at: p.deadline,
            });
        }
    }
}
