//! The presence service's schema: the kit's outbox/inbox, person attributes, the mirror of
//! the users' lists, watcher states, subscriptions and coalescing deliveries.
//! Backend-neutral (SQLite and PostgreSQL).

use parlay_kit::migration::index;
use sea_orm_migration::{prelude::*, schema::*};

/// Every migration of the presence service, the kit's tables first.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        "seaql_migrations_presence".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(parlay_kit::migration::KitTables),
            Box::new(PresenceTables),
            Box::new(MemberDisplayNames),
            Box::new(MembersByOwnerToo),
        ]
    }
}

struct PresenceTables;

impl MigrationName for PresenceTables {
    fn name(&self) -> &str {
        "m20261201_000201_presence"
    }
}

const TABLES: [&str; 9] = [
    "presence_content",
    "presence_sources",
    "presence_deliveries",
    "presence_subscriptions",
    "presence_watchers",
    "presence_lists",
    "presence_list_members",
    "presence_presentities",
    "presence_attributes",
];

#[async_trait::async_trait]
impl MigrationTrait for PresenceTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("presence_attributes")
                    .if_not_exists()
                    .col(string("user_id"))
                    .col(string("kind"))
                    .col(blob("value"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("user_id").col("kind"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_content")
                    .if_not_exists()
                    .col(string("user_id"))
                    .col(string("file_name"))
                    .col(string("content_type"))
                    .col(blob("data"))
                    .col(string("etag"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("user_id").col("file_name"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_sources")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("user_id"))
                    .col(blob("value"))
                    .col(string_null("client_correlator"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "presence_sources_user",
                "presence_sources",
                &["user_id", "expires_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "presence_sources_expiry",
                "presence_sources",
                &["expires_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_presentities")
                    .if_not_exists()
                    .col(string("user_id").primary_key())
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_list_members")
                    .if_not_exists()
                    .col(string("owner"))
                    .col(string("list_id"))
                    .col(string("member"))
                    .col(boolean("present"))
                    .col(big_integer("seq"))
                    .primary_key(Index::create().col("owner").col("list_id").col("member"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "presence_list_members_member",
                "presence_list_members",
                &["member", "list_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_lists")
                    .if_not_exists()
                    .col(string("owner"))
                    .col(string("list_id"))
                    .col(boolean("present"))
                    .col(big_integer("seq"))
                    .primary_key(Index::create().col("owner").col("list_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_watchers")
                    .if_not_exists()
                    .col(string("presentity"))
                    .col(string("watcher"))
                    .col(string("state"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("presentity").col("watcher"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_subscriptions")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("app_id"))
                    .col(string("kind"))
                    .col(string("user_id"))
                    .col(string("path_user_id"))
                    .col(string("list_id"))
                    .col(text("notify_url"))
                    .col(text_null("callback_data"))
                    .col(string_null("client_correlator"))
                    .col(big_integer("duration_secs"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "presence_subscriptions_user",
                "presence_subscriptions",
                &["kind", "user_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("presence_deliveries")
                    .if_not_exists()
                    .col(string("subscription_id"))
                    .col(string("presentity"))
                    .col(timestamp_with_time_zone_null("last_sent_at"))
                    .col(timestamp_with_time_zone_null("due_at"))
                    .primary_key(Index::create().col("subscription_id").col("presentity"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "presence_deliveries_due",
                "presence_deliveries",
                &["due_at"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The display name each list member has in its owner's list (`watcher.displayName`).
struct MemberDisplayNames;

impl MigrationName for MemberDisplayNames {
    fn name(&self) -> &str {
        "m20261202_000202_presence_member_display_names"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MemberDisplayNames {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("presence_list_members")
                    .add_column(text_null("display_name"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("presence_list_members")
                    .drop_column("display_name")
                    .to_owned(),
            )
            .await
    }
}

/// The index of the lists a user is a member of, with the owner in it: the fan-out's join
/// (each subscription to its owner's list member row for the presentity) then finds one
/// row a subscription by the index alone. With (member, list_id) only, a plan that took
/// that index instead of the primary key read the presentity's member rows in that list
/// and filtered them by owner: 500 rows on average for each of a thousand watchers, as
/// PostgreSQL did on tables filled since their last analysis (docs/benchmarks.md,
/// twentieth pass). SQLite's plan takes the primary key either way.
struct MembersByOwnerToo;

impl MigrationName for MembersByOwnerToo {
    fn name(&self) -> &str {
        "m20261207_000203_presence_members_by_owner_too"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MembersByOwnerToo {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "presence_list_members_member_owner",
                "presence_list_members",
                &["member", "list_id", "owner"],
            ))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("presence_list_members_member")
                    .table("presence_list_members")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "presence_list_members_member",
                "presence_list_members",
                &["member", "list_id"],
            ))
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("presence_list_members_member_owner")
                    .table("presence_list_members")
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
