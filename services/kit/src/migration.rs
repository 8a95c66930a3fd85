//! The kit's tables (`outbox`, `inbox`), part of every service's migrator, and the index
//! statements every service's migrations make.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `outbox` and `inbox`. Each service lists it first in its migrator.
pub struct KitTables;

impl MigrationName for KitTables {
    fn name(&self) -> &str {
        "m20261125_000001_kit_outbox_inbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for KitTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string("msg_id"))
                    .col(string("subject"))
                    .col(string("order_key"))
                    .col(blob("payload"))
                    .col(text_null("traceparent"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("inbox")
                    .if_not_exists()
                    .col(string("consumer"))
                    .col(string("event_id"))
                    .col(timestamp_with_time_zone("processed_at"))
                    .primary_key(Index::create().col("consumer").col("event_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("inbox").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("outbox").to_owned())
            .await
    }
}

/// An index `name` on `table` over `cols`, made unless it exists.
pub fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).if_not_exists();
    for col in cols {
        index.col(*col);
    }
    index
}

/// A partial index: [`index`] holding only the rows whose `column` is `value`. The queries
/// that are to read it must name `value` as a literal, not a bound parameter: a planner uses
/// a partial index only for a query it can tell wants no other rows, which it can tell from
/// a literal but not from a parameter (SQLite's plans, PostgreSQL's generic plans).
pub fn index_where(
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    column: &'static str,
    value: &'static str,
) -> IndexCreateStatement {
    let mut index = index(name, table, cols);
    index.and_where(Expr::col(column).eq(value));
    index
}

/// Drops the index `name` of `table`, if it exists.
pub fn drop_index(name: &str, table: &'static str) -> IndexDropStatement {
    Index::drop().name(name).table(table).if_exists().to_owned()
}

/// A migrator of the kit's tables alone, for the kit's own tests.
#[cfg(test)]
pub(crate) struct KitOnly;

#[cfg(test)]
impl MigratorTrait for KitOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(KitTables)]
    }
}
