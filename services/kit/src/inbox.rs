//! Consumer idempotency: a consumer records each event id it processed in the same
//! transaction as the state change; a redelivered event is then recognised and skipped.

use std::collections::HashSet;

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, QueryResult, Statement,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

/// Records `event_id` as processed by `consumer`; false when it already was.
pub async fn first_time<C: ConnectionTrait>(
    txn: &C,
    consumer: &str,
    event_id: &str,
) -> Result<bool, DbErr> {
    Ok(first_times(txn, consumer, &[event_id]).await?[0])
}

/// [`first_time`] for several events in one statement (a batch of them, see
/// [`crate::batch`]): one answer per id, in their order. An id given twice is new at most
/// the first time.
pub async fn first_times<C: ConnectionTrait>(
    txn: &C,
    consumer: &str,
    event_ids: &[&str],
) -> Result<Vec<bool>, DbErr> {
    let check = FirstTimes::of(txn.get_database_backend(), consumer, event_ids);
    let returned = match &check.statement {
        Some(statement) => txn.query_all_raw(statement.clone()).await?,
        None => Vec::new(),
    };
    check.answers(&returned)
}

/// [`first_times`] as a statement, for a transaction that runs it with others
/// ([`crate::db::begin_steps`]); [`FirstTimes::answers`] reads what it returned.
pub struct FirstTimes {
    /// The insert of the ids not recorded yet (`RETURNING` them); None when there are none.
    pub statement: Option<Statement>,
    event_ids: Vec<String>,
}

impl FirstTimes {
    pub fn of(backend: DbBackend, consumer: &str, event_ids: &[&str]) -> Self {
        let mut distinct: Vec<&str> = event_ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let event_ids = event_ids.iter().map(|id| id.to_string()).collect();
        if distinct.is_empty() {
            return Self {
                statement: None,
                event_ids,
            };
        }
        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert
            .into_table("inbox")
            .columns(["consumer", "event_id", "processed_at"]);
        for id in &distinct {
            insert.values_panic([consumer.into(), (*id).into(), now.into()]);
        }
        insert
            .on_conflict(
                OnConflict::columns(["consumer", "event_id"])
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col("event_id");
        Self {
            statement: Some(backend.build(&insert)),
            event_ids,
        }
    }

    /// [`FirstTimes::answers`] from a step's results, in their order: takes the
    /// statement's rows from `returned` when there was a statement, nothing otherwise.
    pub fn answers_from(
        self,
        returned: &mut impl Iterator<Item = Vec<QueryResult>>,
    ) -> Result<Vec<bool>, DbErr> {
        let rows = match self.statement {
            Some(_) => returned.next().unwrap_or_default(),
            None => Vec::new(),
        };
        self.answers(&rows)
    }

    /// One answer per id, in their order, from the rows the statement returned. An id
    /// given twice is new at most the first time.
    pub fn answers(self, returned: &[QueryResult]) -> Result<Vec<bool>, DbErr> {
        let mut new: HashSet<String> = returned
            .iter()
            .map(|row| row.try_get::<String>("", "event_id"))
            .collect::<Result<_, _>>()?;
        // Taken out as it is answered: a repeat of an id in this call is not new.
        Ok(self.event_ids.iter().map(|id| new.remove(id)).collect())
    }
}

/// How long processed event ids are remembered: longer than any redelivery can take
/// (JetStream keeps messages 7 days).
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(8);

/// Forgets that `event_ids` were seen, inside the caller's transaction: a batch recorded
/// them with [`first_times`], then could not apply them, and they must be applied when
/// they come again.
pub async fn forget<C: ConnectionTrait>(
    txn: &C,
    consumer: &str,
    event_ids: Vec<String>,
) -> Result<(), DbErr> {
    match forgetting(txn.get_database_backend(), consumer, event_ids) {
        Some(delete) => txn.execute_raw(delete).await.map(|_| ()),
        None => Ok(()),
    }
}

/// [`forget`] as a statement, for a transaction that runs it with others; None when there
/// is nothing to forget.
pub fn forgetting(backend: DbBackend, consumer: &str, event_ids: Vec<String>) -> Option<Statement> {
    if event_ids.is_empty() {
        return None;
    }
    let delete = Query::delete()
        .from_table("inbox")
        .and_where(Expr::col("consumer").eq(consumer))
        .and_where(Expr::col("event_id").is_in(event_ids))
        .to_owned();
    Some(backend.build(&delete))
}

/// Forgets event ids processed before `cutoff`; returns how many.
pub async fn prune_before<C: ConnectionTrait>(
    db: &C,
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let delete = Query::delete()
        .from_table("inbox")
        .and_where(Expr::col("processed_at").lt(cutoff))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::KitOnly;

    #[tokio::test]
    async fn an_event_is_first_seen_once_and_pruned_later() {
        let path = std::env::temp_dir().join(crate::ids::new_id("inbox-test-"));
        let url = crate::db::sqlite_url(&path, "kit");
        let db = crate::db::connect_and_migrate::<KitOnly>(&url)
            .await
            .unwrap();
        assert!(first_time(&db, "call", "ev1").await.unwrap());
        assert!(!first_time(&db, "call", "ev1").await.unwrap());
        assert!(
            first_time(&db, "other", "ev1").await.unwrap(),
            "per consumer"
        );
        let past = chrono::Utc::now() - chrono::TimeDelta::days(1);
        assert_eq!(prune_before(&db, past).await.unwrap(), 0);
        let future = chrono::Utc::now() + chrono::TimeDelta::seconds(1);
        assert_eq!(prune_before(&db, future).await.unwrap(), 2);
        assert!(first_time(&db, "call", "ev1").await.unwrap());
        assert_eq!(
            first_times(&db, "call", &["ev1", "ev2", "ev2", "ev3"])
                .await
                .unwrap(),
            [false, true, false, true],
            "seen before, new, repeated in the batch, new"
        );
        assert!(first_times(&db, "call", &[]).await.unwrap().is_empty());
        forget(&db, "call", vec!["ev2".into(), "ev9".into()])
            .await
            .unwrap();
        assert_eq!(
            first_times(&db, "call", &["ev2", "ev3"]).await.unwrap(),
            [true, false],
            "a forgotten event is new again, the others are not"
        );
    }
}
