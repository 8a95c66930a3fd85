//! The call service's schema: the kit's outbox/inbox, sessions and participants, then
//! call-notification subscriptions, network-call columns and access grants, then media, then
//! each leg's event sequence, then the index of unanswered legs made partial.
//! Backend-neutral: the same migrations run on SQLite and PostgreSQL.

use parlay_kit::migration::{drop_index, index, index_where};
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
            Box::new(NotificationTables),
            Box::new(crate::media::migration::MediaTables),
            Box::new(LegSequence),
            Box::new(UnansweredPartial),
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

/// Call Notification: subscriptions (and the addresses they watch, for look-up by address),
/// the columns of network-originated sessions and their call-direction decision, and the
/// applications granted access to a network call they were notified of.
struct NotificationTables;

impl MigrationName for NotificationTables {
    fn name(&self) -> &str {
        "m20261125_000003_call_notification"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NotificationTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_null("network_call_id"),
            text_null("decision"),
            timestamp_with_time_zone_null("decision_deadline"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("call_sessions")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("call_sessions_decision_deadline")
                    .table("call_sessions")
                    .col("decision_deadline")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("call_session_grants")
                    .if_not_exists()
                    .col(string("session_id"))
                    .col(string("app_id"))
                    .primary_key(Index::create().col("session_id").col("app_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("call_session_grants", "session_id")
                            .to("call_sessions", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("call_subscriptions")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("app_id"))
                    .col(string("kind"))
                    .col(text("notify_url"))
                    .col(text_null("callback_data"))
                    .col(string_null("client_correlator"))
                    .col(string("request_hash"))
                    .col(text("addresses"))
                    .col(string("criteria"))
                    .col(string("address_direction"))
                    .col(string_null("call_session_id"))
                    .col(string("default_action"))
                    .col(big_integer("response_timeout_ms"))
                    .col(big_integer("duration_secs"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_subscriptions_correlator")
                    .table("call_subscriptions")
                    .col("app_id")
                    .col("client_correlator")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_subscriptions_app")
                    .table("call_subscriptions")
                    .col("app_id")
                    .col("kind")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_subscriptions_expiry")
                    .table("call_subscriptions")
                    .col("expires_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("call_subscription_addresses")
                    .if_not_exists()
                    .col(string("subscription_id"))
                    .col(string("address"))
                    .col(string("kind"))
                    .primary_key(Index::create().col("subscription_id").col("address"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("call_subscription_addresses", "subscription_id")
                            .to("call_subscriptions", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_subscription_addresses_lookup")
                    .table("call_subscription_addresses")
                    .col("address")
                    .col("kind")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "call_subscription_addresses",
            "call_subscriptions",
            "call_session_grants",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in ["network_call_id", "decision", "decision_deadline"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("call_sessions")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Each leg remembers the sequence number of the last network event applied to it, so its
/// events apply in order even when two replicas receive them side by side.
struct LegSequence;

impl MigrationName for LegSequence {
    fn name(&self) -> &str {
        "m20261202_000005_call_leg_sequence"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for LegSequence {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("call_participants")
                    .add_column(integer("leg_sequence").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("call_participants")
                    .drop_column("leg_sequence")
                    .to_owned(),
            )
            .await
    }
}

/// The index of unanswered legs holds only the legs still `Initial`, instead of every leg
/// led by its status: a leg enters it when dialled and leaves it when answered or ended,
/// rather than moving in it at every change of status. The sweep names the status as a
/// literal (see `store::with_unanswered_legs`), so both databases' planners use it; the
/// previous release's sweep binds it, which PostgreSQL still plans onto this index (see
/// notify's `PartialIndexes`).
struct UnansweredPartial;

impl MigrationName for UnansweredPartial {
    fn name(&self) -> &str {
        "m20261206_000006_call_unanswered_partial"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UnansweredPartial {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(drop_index(
                "call_participants_unanswered",
                "call_participants",
            ))
            .await?;
        manager
            .create_index(index_where(
                "call_participants_initial",
                "call_participants",
                &["dialled_at"],
                "status",
                "Initial",
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(drop_index("call_participants_initial", "call_participants"))
            .await?;
        manager
            .create_index(index(
                "call_participants_unanswered",
                "call_participants",
                &["status", "dialled_at"],
            ))
            .await
    }
}
