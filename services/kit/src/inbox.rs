//! Consumer idempotency: a consumer records each event id it processed in the same
//! transaction as the state change; a redelivered event is then recognised and skipped.

use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{OnConflict, Query},
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
