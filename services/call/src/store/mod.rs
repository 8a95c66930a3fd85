//! Persistence of call sessions. A session is loaded whole (row + participants), changed
//! by the domain, and saved under optimistic concurrency: the save succeeds only if nobody
//! saved the same session since it was loaded (the `version` column), so two writers
//! (an API call and a network event, or two replicas) never overwrite each other.

pub mod entities;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::{grant, participant, session};
use parlay_kit::db::{eq_literal, update_each};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IntoActiveModel,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
    sea_query::OnConflict,
};

use crate::domain::{Cause, Participant, Session, Status};

/// A session as stored: its row (owner, callback, version) and its domain state.
#[derive(Debug, Clone)]
pub struct Stored {
    pub row: session::Model,
    pub session: Session,
}

/// Loads a session; with `app`, only if that application may use it: it created it, or
/// was notified of the network call (a grant).
pub async fn load<C: ConnectionTrait>(
    db: &C,
    id: &str,
    app: Option<&str>,
) -> Result<Option<Stored>, DbErr> {
    let Some(row) = session::Entity::find_by_id(id.to_string()).one(db).await? else {
        return Ok(None);
    };
    if let Some(app) = app
        && row.app_id != app
        && !granted(db, id, app).await?
    {
        return Ok(None);
    }
    with_participants(db, row).await.map(Some)
}

/// The two reads that load the sessions of `ids` to change them (none for no ids), for a
/// write transaction's first step; [`loaded`] reads what they returned. On PostgreSQL the
/// sessions' rows are locked as they are read, in id order (`FOR UPDATE`), so two
/// replicas' batches lock shared sessions in one order and cannot deadlock, however the one
/// update that saves them ([`Save`]) is planned. SQLite has one writer and no row locks.
pub fn loading(backend: DbBackend, ids: &[String]) -> Vec<Statement> {
    if ids.is_empty() {
        return Vec::new();
    }
    let rows = session::Entity::find()
        .filter(session::Column::Id.is_in(ids.iter().cloned()))
        .order_by_asc(session::Column::Id)
        .lock_exclusive()
        .build(backend);
    let participants = participant::Entity::find()
        .filter(participant::Column::SessionId.is_in(ids.iter().cloned()))
        .order_by_asc(participant::Column::SessionId)
        .order_by_asc(participant::Column::Position)
        .build(backend);
    vec![rows, participants]
}

/// The sessions (those that exist) from what [`loading`]'s two reads returned.
pub fn loaded(
    rows: &[QueryResult],
    participants: &[QueryResult],
) -> Result<HashMap<String, Stored>, DbErr> {
    let mut of: HashMap<String, Vec<Participant>> = HashMap::new();
    for p in participants {
        let p = participant::Model::from_query_result(p, "")?;
        of.entry(p.session_id.clone())
            .or_default()
            .push(to_domain(p));
    }
    rows.iter()
        .map(|row| {
            let row = session::Model::from_query_result(row, "")?;
            let participants = of.remove(&row.id).unwrap_or_default();
            Ok((row.id.clone(), stored(row, participants)))
        })
        .collect()
}

/// Whether `app` was granted the use of network call `session_id`.
pub async fn granted<C: ConnectionTrait>(
    db: &C,
    session_id: &str,
    app: &str,
) -> Result<bool, DbErr> {
    Ok(grant_of(session_id, app).one(db).await?.is_some())
}

/// The grant that lets `app` use network call `session_id`, if there is one.
pub fn grant_of(session_id: &str, app: &str) -> sea_orm::Select<grant::Entity> {
    grant::Entity::find_by_id((session_id.to_string(), app.to_string()))
}

/// The insert that lets each (session, application) of `grants` use that network call (the
/// application was notified of it); None when there are none.
pub fn granting(backend: DbBackend, mut grants: Vec<(String, String)>) -> Option<Statement> {
    grants.sort();
    grants.dedup();
    if grants.is_empty() {
        return None;
    }
    let insert = grant::Entity::insert_many(
        grants
            .into_iter()
            .map(|(session_id, app_id)| grant::Model { session_id, app_id }.into_active_model()),
    )
    .on_conflict(
        OnConflict::columns([grant::Column::SessionId, grant::Column::AppId])
            .do_nothing()
            .to_owned(),
    )
    .into_query();
    Some(backend.build(&insert))
}

/// Pending call-direction decisions whose deadline falls before `cutoff`: (session id,
/// decision id, deadline), earliest first, at most `limit`.
pub async fn pending_decisions_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(String, String, DateTime<Utc>)>, DbErr> {
    let rows: Vec<(String, Option<String>, Option<DateTime<Utc>>)> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .column(session::Column::Decision)
        .column(session::Column::DecisionDeadline)
        .filter(session::Column::DecisionDeadline.lt(cutoff))
        .order_by_asc(session::Column::DecisionDeadline)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, decision, deadline)| {
            let pending = match serde_json::from_str(decision.as_deref()?).ok()? {
                crate::domain::Decision::Pending(p) => p,
                crate::domain::Decision::Decided(_) => return None,
            };
            Some((id, pending.id, deadline?))
        })
        .collect())
}

/// The id of session `id`'s pending decision, if one is pending (a read, no lock).
pub async fn pending_decision<C: ConnectionTrait>(
    db: &C,
    id: &str,
) -> Result<Option<String>, DbErr> {
    let row: Option<(Option<String>, Option<DateTime<Utc>>)> =
        session::Entity::find_by_id(id.to_string())
            .select_only()
            .column(session::Column::Decision)
            .column(session::Column::DecisionDeadline)
            .into_tuple()
            .one(db)
            .await?;
    Ok(row.and_then(|(decision, deadline)| {
        deadline?;
        match serde_json::from_str(decision.as_deref()?).ok()? {
            crate::domain::Decision::Pending(p) => Some(p.id),
            crate::domain::Decision::Decided(_) => None,
        }
    }))
}

/// The session an application created with `correlator`, if any.
pub async fn by_correlator<C: ConnectionTrait>(
    db: &C,
    app: &str,
    correlator: &str,
) -> Result<Option<Stored>, DbErr> {
    let row = session::Entity::find()
        .filter(session::Column::AppId.eq(app))
        .filter(session::Column::ClientCorrelator.eq(correlator))
        .one(db)
        .await?;
    match row {
        Some(row) => with_participants(db, row).await.map(Some),
        None => Ok(None),
    }
}

async fn with_participants<C: ConnectionTrait>(
    db: &C,
    row: session::Model,
) -> Result<Stored, DbErr> {
    let participants = participant::Entity::find()
        .filter(participant::Column::SessionId.eq(&row.id))
        .order_by_asc(participant::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect();
    Ok(stored(row, participants))
}

fn stored(row: session::Model, participants: Vec<Participant>) -> Stored {
    let session = Session {
        id: row.id.clone(),
        participants,
        terminated: row.terminated,
        ended_at: row.ended_at,
        network_call: row.network_call_id.clone(),
        decision: row
            .decision
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok()),
    };
    Stored { row, session }
}

/// `row` as saved with `session`'s state, at `version`.
pub fn refreshed(mut row: session::Model, session: &Session, version: i64) -> session::Model {
    row.version = version;
    row.terminated = session.terminated;
    row.ended_at = session.ended_at;
    row.decision = decision_json(session);
    row.decision_deadline = session.pending().map(|p| p.deadline);
    row
}

/// Inserts a new session and its participants.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    row: session::Model,
    session: &Session,
) -> Result<(), DbErr> {
    insert_all(db, vec![(row, session)]).await
}

/// Inserts new sessions and their participants, in two statements. Each row is saved with
/// its session's state.
pub async fn insert_all<C: ConnectionTrait>(
    db: &C,
    new: Vec<(session::Model, &Session)>,
) -> Result<(), DbErr> {
    for insert in inserting(db.get_database_backend(), new) {
        db.execute_raw(insert).await?;
    }
    Ok(())
}

/// [`insert_all`] as statements, for a transaction that runs them with others.
pub fn inserting(backend: DbBackend, new: Vec<(session::Model, &Session)>) -> Vec<Statement> {
    if new.is_empty() {
        return Vec::new();
    }
    let participants: Vec<_> = new
        .iter()
        .flat_map(|(_, s)| {
            s.participants
                .iter()
                .enumerate()
                .map(|(i, p)| to_row(&s.id, i, p).into_active_model())
        })
        .collect();
    let sessions = session::Entity::insert_many(
        new.into_iter()
            .map(|(row, s)| refreshed(row, s, 0).into_active_model()),
    )
    .into_query();
    let mut inserts = vec![backend.build(&sessions)];
    if !participants.is_empty() {
        inserts.push(backend.build(&participant::Entity::insert_many(participants).into_query()));
    }
    inserts
}

/// The save of each `after` over its `before`: one conditional update of all the sessions
/// (`RETURNING` those it changed), then one statement for every participant that changed
/// or joined. [`Save::saved`] tells from what the update returned whether another writer
/// saved one of the sessions first; the caller then rolls back, reloads and retries.
pub struct Save {
    /// The update, then the participants' upsert when one changed; none for no changes.
    pub statements: Vec<Statement>,
    sessions: usize,
}

impl Save {
    pub fn of(backend: DbBackend, changes: &[(&Stored, &Session)]) -> Self {
        let mut save = Save {
            statements: Vec::new(),
            sessions: changes.len(),
        };
        if changes.is_empty() {
            return save;
        }
        use session::Column;
        let rows = changes.iter().map(|(before, after)| {
            vec![
                before.row.id.as_str().into(),
                after.terminated.into(),
                after.ended_at.into(),
                (before.row.version + 1).into(),
                decision_json(after).into(),
                after.pending().map(|p| p.deadline).into(),
                before.row.version.into(),
            ]
        });
        let mut update = update_each::<session::Entity>(
            Column::Id,
            &[
                Column::Terminated,
                Column::EndedAt,
                Column::Version,
                Column::Decision,
                Column::DecisionDeadline,
            ],
            &[Column::Version],
            rows,
        );
        update.returning_col(Column::Id);
        save.statements.push(backend.build(&update));
        let participants: Vec<_> = changes
            .iter()
            .flat_map(|(before, after)| {
                let old = &before.session.participants;
                after
                    .participants
                    .iter()
                    .enumerate()
                    .filter(move |(i, p)| old.get(*i) != Some(*p))
                    .map(|(i, p)| to_row(&after.id, i, p).into_active_model())
            })
            .collect();
        if participants.is_empty() {
            return save;
        }
        // Participants are never removed, only changed or added: an upsert on the id.
        let upsert = participant::Entity::insert_many(participants)
            .on_conflict(
                OnConflict::column(participant::Column::Id)
                    .update_columns([
                        participant::Column::Position,
                        participant::Column::Address,
                        participant::Column::Name,
                        participant::Column::Status,
                        participant::Column::Cause,
                        participant::Column::Dialled,
                        participant::Column::DialledAt,
                        participant::Column::ClientCorrelator,
                        participant::Column::StartedAt,
                        participant::Column::EndedAt,
                        participant::Column::LegSequence,
                    ])
                    .to_owned(),
            )
            .into_query();
        save.statements.push(backend.build(&upsert));
        save
    }

    /// Whether every session was saved, given the rows each of [`Save::statements`]
    /// returned (the update's first, whether or not they were taken out of the `Save` to
    /// run): false when another writer saved one since it was loaded.
    pub fn saved(&self, returned: &[Vec<QueryResult>]) -> bool {
        self.sessions == 0
            || returned
                .first()
                .is_some_and(|ids| ids.len() == self.sessions)
    }
}

/// Sessions with a leg the network was asked to call before `cutoff` and that is still
/// unanswered (the no-answer timer's candidates): those of at most `limit` such legs, each
/// session once.
pub async fn with_unanswered_legs<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<String>, DbErr> {
    let mut sessions: Vec<String> = unanswered_legs(cutoff, limit).into_tuple().all(db).await?;
    sessions.sort_unstable();
    sessions.dedup();
    Ok(sessions)
}

/// The sessions of at most `limit` legs unanswered since before `cutoff`. Not `DISTINCT`:
/// for that SQLite would walk every leg in the order of the session index instead.
fn unanswered_legs(cutoff: DateTime<Utc>, limit: u64) -> sea_orm::Select<participant::Entity> {
    participant::Entity::find()
        .select_only()
        .column(participant::Column::SessionId)
        // A literal, so that the partial index of `Initial` legs is read.
        .filter(eq_literal::<participant::Entity>(
            participant::Column::Status,
            "Initial",
        ))
        .filter(participant::Column::DialledAt.lt(cutoff))
        .limit(limit)
}

/// Deletes sessions that ended before `cutoff` (their retention passed).
pub async fn purge_ended_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ids: Vec<String> = session::Entity::find()
        .filter(session::Column::Terminated.eq(true))
        .filter(session::Column::EndedAt.lt(cutoff))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    participant::Entity::delete_many()
        .filter(participant::Column::SessionId.is_in(ids.clone()))
        .exec(db)
        .await?;
    let deleted = session::Entity::delete_many()
        .filter(session::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// The decision column's value.
pub fn decision_json(session: &Session) -> Option<String> {
    session
        .decision
        .as_ref()
        .and_then(|d| serde_json::to_string(d).ok())
}

fn to_row(session_id: &str, position: usize, p: &Participant) -> participant::Model {
    let (status, cause) = match p.status {
        Status::Initial => ("Initial", None),
        Status::Connected => ("Connected", None),
        Status::Terminated(c) => ("Terminated", Some(cause_name(c))),
    };
    participant::Model {
        id: p.id.clone(),
        session_id: session_id.to_string(),
        position: position as i32,
        address: p.address.clone(),
        name: p.name.clone(),
        status: status.into(),
        cause: cause.map(str::to_string),
        dialled: p.dialled,
        dialled_at: p.dialled_at,
        client_correlator: p.client_correlator.clone(),
        started_at: p.started_at,
        ended_at: p.ended_at,
        leg_sequence: i32::try_from(p.sequence).unwrap_or(i32::MAX),
    }
}

fn to_domain(row: participant::Model) -> Participant {
    let status = match (row.status.as_str(), row.cause.as_deref()) {
        ("Connected", _) => Status::Connected,
        ("Terminated", cause) => {
            Status::Terminated(cause.and_then(cause_from_name).unwrap_or(Cause::Aborted))
        }
        _ => Status::Initial,
    };
    Participant {
        id: row.id,
        address: row.address,
        name: row.name,
        status,
        dialled: row.dialled,
        dialled_at: row.dialled_at,
        started_at: row.started_at,
        ended_at: row.ended_at,
        client_correlator: row.client_correlator,
        sequence: u32::try_from(row.leg_sequence).unwrap_or(0),
    }
}

const CAUSES: [(Cause, &str); 5] = [
    (Cause::NoAnswer, "NoAnswer"),
    (Cause::Busy, "Busy"),
    (Cause::NotReachable, "NotReachable"),
    (Cause::HangUp, "HangUp"),
    (Cause::Aborted, "Aborted"),
];

fn cause_name(cause: Cause) -> &'static str {
    CAUSES
        .iter()
        .find(|(c, _)| *c == cause)
        .map_or("Aborted", |(_, n)| n)
}

fn cause_from_name(name: &str) -> Option<Cause> {
    CAUSES.iter().find(|(_, n)| *n == name).map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, QueryTrait};

    /// The sweep of unanswered legs reads the partial index of `Initial` legs, never every
    /// leg ever kept.
    #[tokio::test]
    async fn the_sweep_reads_the_index_of_unanswered_legs() {
        let sweep = DbBackend::Sqlite.build(&unanswered_legs(Utc::now(), 500).into_query());
        let plans = parlay_kit::db::sqlite_plans::<crate::migration::Migrator>(&[sweep])
            .await
            .unwrap();
        assert!(
            plans[0].contains("SEARCH call_participants USING INDEX call_participants_initial"),
            "the sweep does not use call_participants_initial:\n{}",
            plans[0]
        );
    }
}
