//! Integration tests of the messaging service: the real service over gRPC, with a fake
//! network and a fake notify on the in-process bus, on SQLite (and once on PostgreSQL).

mod harness;
mod inbound;
mod outbound;
mod postgres;
mod receipts;
mod subscriptions;

use sea_orm::ConnectionTrait;

/// Rows in `table` of the service's database.
pub async fn count(h: &harness::Harness, table: &str) -> i64 {
    let row =
        h.db.query_one_raw(sea_orm::Statement::from_string(
            h.db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}
