//! The address-list service's schema: lists, members, and the changes presence has not
//! applied yet. Backend-neutral (SQLite and PostgreSQL).

use sea_orm_migration::{prelude::*, schema::*};

/// Every migration of the address-list service.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own history table, so it can share a database with another service's.
    fn migration_table_name() -> DynIden {
        "seaql_migrations_addresslist".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(AddressListTables), Box::new(ChangeDisplayNames)]
    }
}

struct AddressListTables;

impl MigrationName for AddressListTables {
    fn name(&self) -> &str {
        "m20261201_000101_addresslist"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddressListTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("addresslist_lists")
                    .if_not_exists()
                    .col(string("owner"))
                    .col(string("list_id"))
                    .col(text_null("display_name"))
                    .col(text("attributes"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("owner").col("list_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("addresslist_members")
                    .if_not_exists()
                    .col(string("owner"))
                    .col(string("list_id"))
                    .col(string("member_id"))
                    .col(text_null("display_name"))
                    .col(text("attributes"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("owner").col("list_id").col("member_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("addresslist_changes")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string("owner"))
                    .col(string("list_id"))
                    .col(string("member"))
                    .col(boolean("present"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "addresslist_changes",
            "addresslist_members",
            "addresslist_lists",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Changes carry the member's display name, so presence can show a watcher's
/// (`watcher.displayName`).
struct ChangeDisplayNames;

impl MigrationName for ChangeDisplayNames {
    fn name(&self) -> &str {
        "m20261202_000102_addresslist_change_display_names"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ChangeDisplayNames {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("addresslist_changes")
                    .add_column(text_null("display_name"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("addresslist_changes")
                    .drop_column("display_name")
                    .to_owned(),
            )
            .await
    }
}
