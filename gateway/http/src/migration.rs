//! The gateway's schema: the `apps` table (with its `registrations` column since the
//! second migration). Its migrations are recorded in a table of their
//! own (`seaql_migrations_gateway`), so the gateway's database may be shared with another
//! component without the two migrators mistaking each other's history for missing files.

use sea_orm_migration::{prelude::*, schema::*};

/// Applies the gateway's migrations (`parlay migrate`, and at gateway start).
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(AppsTable), Box::new(AppsRegistrations)]
    }

    fn migration_table_name() -> DynIden {
        "seaql_migrations_gateway".into_iden()
    }
}

/// Creates `apps`: id, name, the key's SHA-256 (unique), the user patterns as a JSON array.
struct AppsTable;

impl MigrationName for AppsTable {
    fn name(&self) -> &str {
        "m20261125_000100_gateway_apps"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AppsTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("apps")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("name"))
                    .col(string_uniq("key_hash"))
                    .col(text("users"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("apps").to_owned())
            .await
    }
}

/// Adds `apps.registrations`: the application's inbound registrations as a JSON array,
/// `[]` for the applications created before.
struct AppsRegistrations;

impl MigrationName for AppsRegistrations {
    fn name(&self) -> &str {
        "m20261220_000100_gateway_apps_registrations"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AppsRegistrations {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("apps")
                    .add_column(text("registrations").default("[]"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("apps")
                    .drop_column("registrations")
                    .to_owned(),
            )
            .await
    }
}
