//! The messaging service's schema: the kit's outbox/inbox, then outbound requests with their
//! per-address delivery statuses, inbound messages with their attachments' metadata, and
//! inbound subscriptions with the addresses they watch. Backend-neutral: the same migration
//! runs on SQLite and PostgreSQL. Case-insensitive look-ups use lower-cased copy columns
//! (`address_lower`, `registration_lower`, watched `address`) rather than expression indexes,
//! which the two backends spell differently.

use parlay_kit::migration::index;
use sea_orm_migration::{prelude::*, schema::*};

/// Every migration of the messaging service, the kit's tables first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    /// Its own history table, so the messaging migrations can share a database (or schema)
    /// with another service's without either finding the other's unknown.
    fn migration_table_name() -> DynIden {
        "seaql_migrations_messaging".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(parlay_kit::migration::KitTables),
            Box::new(MessagingTables),
        ]
    }
}

struct MessagingTables;

impl MigrationName for MessagingTables {
    fn name(&self) -> &str {
        "m20261125_000101_messaging"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MessagingTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("messaging_requests")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("app_id"))
                    .col(text("sender_address"))
                    .col(text_null("sender_name"))
                    .col(string_null("client_correlator"))
                    .col(string("request_hash"))
                    .col(string("root"))
                    .col(string("kind"))
                    .col(text_null("text"))
                    .col(text_null("subject"))
                    .col(string_null("priority"))
                    .col(text_null("attachments"))
                    .col(integer("segments"))
                    .col(text_null("notify_url"))
                    .col(text_null("callback_data"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "messaging_requests_correlator",
                    "messaging_requests",
                    &["app_id", "client_correlator"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "messaging_requests_created",
                "messaging_requests",
                &["created_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("messaging_deliveries")
                    .if_not_exists()
                    .col(string("request_id"))
                    .col(integer("position"))
                    .col(text("address"))
                    .col(text("address_lower"))
                    .col(string("status"))
                    .col(integer("status_rank"))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("request_id").col("position"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("messaging_deliveries", "request_id")
                            .to("messaging_requests", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "messaging_deliveries_address",
                    "messaging_deliveries",
                    &["request_id", "address_lower"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        inbound_tables(manager).await?;
        subscription_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "messaging_subscription_addresses",
            "messaging_subscriptions",
            "messaging_attachments",
            "messaging_inbound",
            "messaging_deliveries",
            "messaging_requests",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn inbound_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("messaging_inbound")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(text("registration"))
                .col(text("registration_lower"))
                .col(text("destination_address"))
                .col(text("sender_address"))
                .col(string("kind"))
                .col(text_null("text"))
                .col(text_null("subject"))
                .col(string_null("priority"))
                .col(timestamp_with_time_zone("received_at"))
                .col(timestamp_with_time_zone("stored_at"))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "messaging_inbound_registration",
            "messaging_inbound",
            &["registration_lower", "received_at", "id"],
        ))
        .await?;
    manager
        .create_index(index(
            "messaging_inbound_stored",
            "messaging_inbound",
            &["stored_at"],
        ))
        .await?;
    manager
        .create_table(
            Table::create()
                .table("messaging_attachments")
                .if_not_exists()
                .col(string("message_id"))
                .col(string("attachment_id"))
                .col(integer("position"))
                .col(text("name"))
                .col(text("content_type"))
                .col(big_integer("size"))
                .col(text("path"))
                .primary_key(Index::create().col("message_id").col("attachment_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("messaging_attachments", "message_id")
                        .to("messaging_inbound", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "messaging_attachments_message",
            "messaging_attachments",
            &["message_id", "position"],
        ))
        .await
}

async fn subscription_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("messaging_subscriptions")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("app_id"))
                .col(text("notify_url"))
                .col(text_null("callback_data"))
                .col(string_null("client_correlator"))
                .col(string("request_hash"))
                .col(text("addresses"))
                .col(text_null("criteria"))
                .col(big_integer("duration_secs"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            index(
                "messaging_subscriptions_correlator",
                "messaging_subscriptions",
                &["app_id", "client_correlator"],
            )
            .unique()
            .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "messaging_subscriptions_app",
            "messaging_subscriptions",
            &["app_id", "expires_at"],
        ))
        .await?;
    manager
        .create_index(index(
            "messaging_subscriptions_expiry",
            "messaging_subscriptions",
            &["expires_at"],
        ))
        .await?;
    manager
        .create_table(
            Table::create()
                .table("messaging_subscription_addresses")
                .if_not_exists()
                .col(string("subscription_id"))
                .col(string("address"))
                .primary_key(Index::create().col("subscription_id").col("address"))
                .foreign_key(
                    ForeignKey::create()
                        .from("messaging_subscription_addresses", "subscription_id")
                        .to("messaging_subscriptions", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(index(
            "messaging_subscription_addresses_lookup",
            "messaging_subscription_addresses",
            &["address"],
        ))
        .await
}
