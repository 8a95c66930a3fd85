//! Consumer idempotency: a consumer records each event id it processed in the same
//! transaction as the state change; a redelivered event is then recognised and skipped.

use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

/// Records `event_id` as processed by `consumer`; false when it already was.
pub async fn first_time<C: ConnectionTrait>(
    txn: &C,
    consumer: &str,
    event_id: &str,
) -> Result<bool, DbErr> {
    let insert = Query::insert()
        .into_table("inbox")
        .columns(["consumer", "event_id", "processed_at"])
        .values_panic([consumer.into(), event_id.into(), chrono::Utc::now().into()])
        .on_conflict(
            OnConflict::columns(["consumer", "event_id"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let result = txn.execute(&insert).await?;
    Ok(result.rows_affected() == 1)
}

/// How long processed event ids are remembered: longer than any redelivery can take
/// (JetStream keeps messages 7 days).
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(8);

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
    }
}
