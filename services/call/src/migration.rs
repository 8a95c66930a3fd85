//! The call service's schema: the kit's outbox/inbox, then sessions and participants.
//! Backend-neutral: the same migrations run on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own history table, so the call service's migrations can share a database
    /// (or schema) with another service's without either finding the other's unknown.
    fn migration_table_name() -> DynIden {
        "seaql_migrations_call".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(parlay_kit::migration::KitTables),
            Box::new(CallTables),
        ]
    }
}

struct CallTables;

impl MigrationName for CallTables {
    fn name(&self) -> &str {
        "m20261125_000002_call_sessions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CallTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("call_sessions")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("app_id"))
                    .col(string_null("client_correlator"))
                    .col(string("request_hash"))
                    .col(text_null("notify_url"))
                    .col(text_null("callback_data"))
                    .col(boolean("terminated"))
                    .col(big_integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("ended_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_sessions_correlator")
                    .table("call_sessions")
                    .col("app_id")
                    .col("client_correlator")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_sessions_ended")
                    .table("call_sessions")
                    .col("ended_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("call_participants")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("session_id"))
                    .col(integer("position"))
                    .col(string("address"))
                    .col(string_null("name"))
                    .col(string("status"))
                    .col(string_null("cause"))
                    .col(boolean("dialled"))
                    .col(timestamp_with_time_zone_null("dialled_at"))
                    .col(string_null("client_correlator"))
                    .col(timestamp_with_time_zone_null("started_at"))
                    .col(timestamp_with_time_zone_null("ended_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("call_participants", "session_id")
                            .to("call_sessions", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_participants_unanswered")
                    .table("call_participants")
                    .col("status")
                    .col("dialled_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_participants_session")
                    .table("call_participants")
                    .col("session_id")
                    .col("position")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("call_participants").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("call_sessions").to_owned())
            .await
    }
}
