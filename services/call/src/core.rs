//! The call service's core: every change to a session loads it, lets the domain change it,
//! saves it under optimistic concurrency, and records the commands and notifications it
//! implies in the outbox, in one transaction.
//!
//! Changes are written in batches (the kit's group commit): API calls, network events and
//! timers hand their change to one writer, and the changes waiting at the same time share a
//! transaction. A batch makes one inbox insert, two reads for its sessions, one subscription
//! read per distinct notified party and event, the inserts of new sessions, one conditional
//! update of the changed sessions, one upsert of the changed participants, one grant insert and
//! one outbox insert, instead of about ten statements and a commit per change. Changes of one
//! session in a batch are applied in the order they were handed in, each to the state the
//! one before left.
//!
//! The transaction goes to the database in steps (the kit's `begin_steps`; on SQLite one call
//! to the connection's thread each): the inbox insert with the sessions' reads, each lookup
//! the changes need, and every write with the commit. A batch that creates a session for a
//! network call attempt is two calls, one that decides a call three, where they were seven
//! and eight a statement at a time.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use parlay_kit::{
    Config,
    batch::{Batcher, Traced, together_or_alone},
    bus::Envelope,
    db::{Steps, begin_steps},
    inbox, outbox,
};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, QueryTrait, Statement};

use crate::{
    decisions::{Deadline, Timed},
    domain::{DomainError, Effect, Event, Session},
    effects,
    store::{self, Stored, entities::grant, entities::session, entities::subscription},
    subscriptions,
};

/// How often a batch is written again when another writer saved one of its sessions first.
const MAX_CONFLICT_RETRIES: usize = 16;

/// Changes written per transaction, at most.
const BATCH: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("call session {0} kept changing under us")]
    Contended(String),
    #[error("the call service is shutting down")]
    Stopped,
}

/// The result of a change.
#[derive(Debug, Clone)]
pub enum Changed {
    /// The session after the change.
    Session(Box<Stored>),
    /// No such session (for this application).
    Missing,
    /// The event was processed before (a redelivery).
    Duplicate,
}

/// A change of an existing session: the effects it implies, or why it cannot be made.
type ChangeFn = dyn Fn(&mut Session) -> Result<Vec<Effect>, DomainError> + Send + Sync;
/// What starts a new session: the effects it implies.
type StartFn = dyn Fn(&mut Session) -> Vec<Effect> + Send + Sync;

/// A change handed to the writer.
struct Job {
    what: What,
    /// With an event id, the change happens at most once for that event.
    event: Option<String>,
}

enum What {
    Mutate {
        id: String,
        /// Only if this application may use the session.
        app: Option<String>,
        change: Box<ChangeFn>,
    },
    Create {
        row: Box<session::Model>,
        session: Box<Session>,
        start: Box<StartFn>,
        /// Call-event subscribers the creator already looked up (see [`Seen`]).
        seen: Option<Seen>,
    },
}

impl Job {
    fn session_id(&self) -> &str {
        match &self.what {
            What::Mutate { id, .. } => id,
            What::Create { session, .. } => &session.id,
        }
    }
}

pub struct Core {
    pub db: DatabaseConnection,
    pub waker: outbox::Waker,
    pub config: Arc<Config>,
    writer: Batcher<Job, Result<Changed, CoreError>>,
}

impl Core {
    /// The core, with its writing task; `deadlines` tells the decision timer of every
    /// decision that becomes pending, and of every one that stops being pending.
    pub fn new(
        db: DatabaseConnection,
        waker: outbox::Waker,
        config: Arc<Config>,
        deadlines: tokio::sync::mpsc::UnboundedSender<Timed>,
    ) -> Self {
        let writer = Arc::new(Writer {
            db: db.clone(),
            waker: waker.clone(),
            config: config.clone(),
            deadlines,
        });
        let writer = Batcher::start(BATCH, move |jobs: Vec<Traced<Job>>| {
            let writer = writer.clone();
            async move {
                together_or_alone(jobs.len(), |some| writer.write(&jobs[some]))
                    .await
                    .into_iter()
                    .map(|r| r.unwrap_or_else(|e| Err(e.into())))
                    .collect()
            }
        });
        Self {
            db,
            waker,
            config,
            writer,
        }
    }

    /// Applies `change` to session `id` (owned by `app`, when given). With `event`, the
    /// change happens at most once for that event id.
    pub async fn mutate<F>(
        &self,
        id: &str,
        app: Option<&str>,
        event: Option<&str>,
        change: F,
    ) -> Result<Changed, CoreError>
    where
        F: Fn(&mut Session) -> Result<Vec<Effect>, DomainError> + Send + Sync + 'static,
    {
        self.submit(
            What::Mutate {
                id: id.to_string(),
                app: app.map(str::to_string),
                change: Box::new(change),
            },
            event,
        )
        .await
    }

    /// Stores a new session and starts it.
    pub async fn create(&self, row: session::Model, session: Session) -> Result<Stored, DbErr> {
        // Without an event id there is no redelivery to skip, so this is always Some.
        self.create_with(row, session, None, None, |s| s.start(Utc::now()))
            .await?
            .ok_or_else(|| DbErr::Custom("session creation skipped".into()))
    }

    /// Stores a new session and runs `start` on it; with `event`, at most once for that
    /// event id (None: a redelivery). `seen`: call-event subscribers already looked up.
    pub async fn create_with(
        &self,
        row: session::Model,
        session: Session,
        event: Option<&str>,
        seen: Option<Seen>,
        start: impl Fn(&mut Session) -> Vec<Effect> + Send + Sync + 'static,
    ) -> Result<Option<Stored>, DbErr> {
        let created = self.submit(
            What::Create {
                row: Box::new(row),
                session: Box::new(session),
                start: Box::new(start),
                seen,
            },
            event,
        );
        match created.await {
            Ok(Changed::Session(stored)) => Ok(Some(*stored)),
            Ok(Changed::Duplicate) => Ok(None),
            Ok(Changed::Missing) => Err(DbErr::Custom("created session missing".into())),
            Err(CoreError::Db(e)) => Err(e),
            Err(e) => Err(DbErr::Custom(e.to_string())),
        }
    }

    async fn submit(&self, what: What, event: Option<&str>) -> Result<Changed, CoreError> {
        let job = Job {
            what,
            event: event.map(str::to_string),
        };
        self.writer
            .submit(job)
            .await
            .unwrap_or(Err(CoreError::Stopped))
    }
}

/// The call-event subscriptions watching a call for `event`, found by whoever creates its
/// session in the same statement as its call-direction subscription (a network call
/// attempt), so that the session's first notification needs no second look. Read just
/// before the write, as the call-direction subscription is.
#[derive(Debug, Clone)]
pub struct Seen {
    pub calling: String,
    pub called: String,
    pub event: Event,
    pub subscribers: Vec<subscription::Model>,
}

/// The writing task's state.
struct Writer {
    db: DatabaseConnection,
    waker: outbox::Waker,
    config: Arc<Config>,
    deadlines: tokio::sync::mpsc::UnboundedSender<Timed>,
}

/// A session as a batch changes it.
struct Entry {
    /// As loaded (None: created by this batch).
    before: Option<Stored>,
    /// As the batch's changes so far left it.
    now: Stored,
}

/// What a batch writes besides the sessions.
#[derive(Default)]
struct Writes {
    outbox: Vec<(String, Vec<Envelope>)>,
    grants: Vec<(String, String)>,
    /// Sessions whose pending decision changed: their deadline goes to the timer.
    deadlines: Vec<Session>,
    /// Decisions no longer pending: the timer forgets their deadlines.
    settled: Vec<String>,
    /// Subscriptions found for a (calling, called, event): one read each per batch.
    matching: HashMap<(String, String, Event), Vec<subscription::Model>>,
}

impl Writer {
    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Writes `jobs` in one transaction (again, from the start, when another writer saved one
    /// of their sessions first): one result per job, in their order.
    async fn write(&self, jobs: &[Traced<Job>]) -> Result<Vec<Result<Changed, CoreError>>, DbErr> {
        for _ in 0..MAX_CONFLICT_RETRIES {
            if let Some(results) = self.try_write(jobs).await? {
                return Ok(results);
            }
        }
        Ok(jobs
            .iter()
            .map(|j| Err(CoreError::Contended(j.session_id().to_string())))
            .collect())
    }

    /// None: a session was saved by another writer since it was loaded; nothing was written.
    ///
    /// The transaction goes to the database in steps ([`begin_steps`]): the inbox's insert
    /// with the reads of the sessions, a read for each subscriber or grant lookup the
    /// batch's changes need that it has not made yet, then every write with the commit.
    async fn try_write(
        &self,
        jobs: &[Traced<Job>],
    ) -> Result<Option<Vec<Result<Changed, CoreError>>>, DbErr> {
        let backend = self.backend();
        let events: Vec<&str> = jobs.iter().filter_map(|j| j.event.as_deref()).collect();
        let inbox = inbox::FirstTimes::of(backend, "call", &events);
        // Every session a change names, also those of redelivered events (read for
        // nothing, which is rare): the read goes with the inbox's insert.
        let wanted: Vec<String> = jobs
            .iter()
            .filter_map(|j| match &j.what {
                What::Mutate { id, .. } => Some(id.clone()),
                What::Create { .. } => None,
            })
            .collect();
        let mut first: Vec<Statement> = inbox.statement.iter().cloned().collect();
        first.extend(store::loading(backend, &wanted));
        let mut steps = begin_steps(&self.db).await?;
        let mut returned = if first.is_empty() {
            Vec::new()
        } else {
            steps.step(&first).await?
        }
        .into_iter();
        let mut first_time = inbox.answers_from(&mut returned)?.into_iter();
        let fresh: Vec<bool> = jobs
            .iter()
            .map(|j| j.event.is_none() || first_time.next().unwrap_or(false))
            .collect();
        let mut sessions: BTreeMap<String, Entry> = match (returned.next(), returned.next()) {
            (Some(rows), Some(participants)) => store::loaded(&rows, &participants)?,
            _ => HashMap::new(),
        }
        .into_iter()
        .map(|(id, s)| {
            let entry = Entry {
                before: Some(s.clone()),
                now: s,
            };
            (id, entry)
        })
        .collect();
        let mut writes = Writes::default();
        let now = Utc::now();
        let mut results = Vec::with_capacity(jobs.len());
        let mut unapplied = Vec::new();
        for (job, fresh) in jobs.iter().zip(fresh) {
            let result = if fresh {
                self.apply(&mut steps, job, &mut sessions, &mut writes, now)
                    .await?
            } else {
                Ok(Changed::Duplicate)
            };
            // A change the domain refused (an early leg event, say) is not processed: its
            // event must be applied when it comes again.
            if result.is_err()
                && let Some(event) = &job.event
            {
                unapplied.push(event.clone());
            }
            results.push(result);
        }

        let (mut created, mut changed) = (Vec::new(), Vec::new());
        for entry in sessions.values() {
            match &entry.before {
                None => created.push((entry.now.row.clone(), &entry.now.session)),
                Some(before) if before.session != entry.now.session => {
                    changed.push((before, &entry.now.session));
                }
                Some(_) => {}
            }
        }
        // The save first: its update's rows tell whether another writer came first.
        let mut save = store::Save::of(backend, &changed);
        let mut last = std::mem::take(&mut save.statements);
        last.extend(inbox::forgetting(backend, "call", unapplied));
        last.extend(store::inserting(backend, created));
        last.extend(store::granting(backend, writes.grants));
        let outbox = outbox::Insert::of(backend, writes.outbox);
        last.extend(outbox.as_ref().map(|insert| insert.statement.clone()));
        let Some(returned) = steps.commit_if(&last, |r| save.saved(r)).await? else {
            return Ok(None);
        };
        self.waker
            .hand(outbox::Insert::recorded_last(outbox, &returned)?);
        // The pending first: a decision made pending and settled in one batch is forgotten.
        for session in &writes.deadlines {
            if let Some(p) = session.pending() {
                let _ = self.deadlines.send(Timed::Pending(Deadline {
                    session_id: session.id.clone(),
                    decision_id: p.id.clone(),
                    at: p.deadline,
                }));
            }
        }
        for decision_id in writes.settled {
            let _ = self.deadlines.send(Timed::Settled(decision_id));
        }
        Ok(Some(results))
    }

    /// Applies one job to the batch's sessions; Err only when the batch cannot be written.
    async fn apply(
        &self,
        steps: &mut Steps,
        job: &Traced<Job>,
        sessions: &mut BTreeMap<String, Entry>,
        writes: &mut Writes,
        now: DateTime<Utc>,
    ) -> Result<Result<Changed, CoreError>, DbErr> {
        match &job.what {
            What::Create {
                row,
                session,
                start,
                seen,
            } => {
                if let Some(seen) = seen {
                    let key = (seen.calling.clone(), seen.called.clone(), seen.event);
                    writes
                        .matching
                        .entry(key)
                        .or_insert_with(|| seen.subscribers.clone());
                }
                let mut session = Session::clone(session);
                let fx = start(&mut session);
                let row = store::refreshed(session::Model::clone(row), &session, 0);
                self.render(steps, job, &row, &session, fx, writes, now)
                    .await?;
                if session.pending().is_some() {
                    writes.deadlines.push(session.clone());
                }
                let stored = Stored { row, session };
                let entry = Entry {
                    before: None,
                    now: stored.clone(),
                };
                sessions.insert(stored.session.id.clone(), entry);
                Ok(Ok(Changed::Session(Box::new(stored))))
            }
            What::Mutate { id, app, change } => {
                let Some(entry) = sessions.get_mut(id) else {
                    return Ok(Ok(Changed::Missing));
                };
                if let Some(app) = app
                    && entry.now.row.app_id != *app
                    && !writes.grants.contains(&(id.clone(), app.clone()))
                    && steps
                        .read::<grant::Model>(store::grant_of(id, app).build(self.backend()))
                        .await?
                        .is_empty()
                {
                    return Ok(Ok(Changed::Missing));
                }
                let mut after = entry.now.session.clone();
                let fx = match change(&mut after) {
                    Ok(fx) => fx,
                    Err(e) => return Ok(Err(e.into())),
                };
                if after == entry.now.session && fx.is_empty() {
                    return Ok(Ok(Changed::Session(Box::new(entry.now.clone()))));
                }
                self.render(steps, job, &entry.now.row, &after, fx, writes, now)
                    .await?;
                if after.pending() != entry.now.session.pending() {
                    if let Some(before) = entry.now.session.pending()
                        && after.pending().is_none_or(|p| p.id != before.id)
                    {
                        writes.settled.push(before.id.clone());
                    }
                    writes.deadlines.push(after.clone());
                }
                let version = entry.before.as_ref().map_or(0, |b| b.row.version + 1);
                entry.now = Stored {
                    row: store::refreshed(entry.now.row.clone(), &after, version),
                    session: after,
                };
                Ok(Ok(Changed::Session(Box::new(entry.now.clone()))))
            }
        }
    }

    /// Records the bus messages of `fx`: finds the call-event subscribers of each notified
    /// leg and lets every application notified about the session use it.
    #[allow(clippy::too_many_arguments)]
    async fn render(
        &self,
        steps: &mut Steps,
        job: &Traced<Job>,
        row: &session::Model,
        session: &Session,
        fx: Vec<Effect>,
        writes: &mut Writes,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let mut subscribers = effects::Subscribers::default();
        for effect in &fx {
            match effect {
                Effect::Notify {
                    participant_id,
                    event,
                } => {
                    let Some((calling, called)) = session.parties(participant_id) else {
                        continue;
                    };
                    let key = (calling, called, *event);
                    let found = match writes.matching.get(&key) {
                        Some(found) => found.clone(),
                        None => {
                            let watching = subscriptions::watching(
                                &[subscriptions::Kind::CallEvent],
                                &key.0,
                                &key.1,
                                now,
                            );
                            let found = subscriptions::matching_of(
                                steps.read(watching.build(self.backend())).await?,
                                &key.0,
                                &key.1,
                                *event,
                            );
                            writes.matching.insert(key, found.clone());
                            found
                        }
                    };
                    writes.grants.extend(
                        found
                            .iter()
                            .filter(|s| s.app_id != row.app_id)
                            .map(|s| (session.id.clone(), s.app_id.clone())),
                    );
                    subscribers.0.push((participant_id.clone(), *event, found));
                }
                Effect::Ask { pending, .. } if pending.app_id != row.app_id => {
                    writes
                        .grants
                        .push((session.id.clone(), pending.app_id.clone()));
                }
                _ => {}
            }
        }
        let envelopes =
            job.in_scope(|| effects::envelopes(&self.config, row, session, fx, &subscribers, now));
        if !envelopes.is_empty() {
            writes.outbox.push((session.id.clone(), envelopes));
        }
        Ok(())
    }
}
