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
            Box::new(FanOutProbes),
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
        replace_index(
            manager,
            MEMBERS,
            (
                "presence_list_members_member_owner",
                &["member", "list_id", "owner"],
            ),
            "presence_list_members_member",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(
            manager,
            MEMBERS,
            ("presence_list_members_member", &["member", "list_id"]),
            "presence_list_members_member_owner",
        )
        .await
    }
}

/// Exact probes for the fan-out's join, whichever side a plan starts from. PostgreSQL, on
/// tables filled since their last analysis, starts from the presentity's watchers and
/// probes, for each, the member row by (member, owner) and the subscriptions by their
/// user: with (member, list_id, owner) the first probe read every member row of the
/// presentity (a thousand, for each of a thousand watchers), and the subscriptions were
/// found through (kind, user_id) without the kind. With (member, owner, list_id) and
/// (user_id, list_id) each probe finds its one row: the statement choosing 500 of 1,000
/// watchers' subscriptions took 72 ms, 4.4 ms with these (docs/benchmarks.md,
/// twenty-first pass). A plan that starts from the subscriptions probes the members by all
/// three columns, as before.
struct FanOutProbes;

impl MigrationName for FanOutProbes {
    fn name(&self) -> &str {
        "m20261207_000204_presence_fan_out_probes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for FanOutProbes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "presence_subscriptions_user_list",
                "presence_subscriptions",
                &["user_id", "list_id"],
            ))
            .await?;
        replace_index(
            manager,
            MEMBERS,
            (
                "presence_list_members_member_owner_list",
                &["member", "owner", "list_id"],
            ),
            "presence_list_members_member_owner",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(
            manager,
            MEMBERS,
            (
                "presence_list_members_member_owner",
                &["member", "list_id", "owner"],
            ),
            "presence_list_members_member_owner_list",
        )
        .await?;
        drop_index(
            manager,
            "presence_subscriptions",
            "presence_subscriptions_user_list",
        )
        .await
    }
}

const MEMBERS: &str = "presence_list_members";

/// Makes the index (name, columns) on `table`, then drops its index `old`.
async fn replace_index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    (name, columns): (&str, &[&'static str]),
    old: &str,
) -> Result<(), DbErr> {
    manager.create_index(index(name, table, columns)).await?;
    drop_index(manager, table, old).await
}

/// Drops `table`'s index `name`, if it is there.
async fn drop_index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &str,
) -> Result<(), DbErr> {
    manager
        .drop_index(Index::drop().name(name).table(table).if_exists().to_owned())
        .await
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

    use super::*;

    async fn indexes(db: &DatabaseConnection) -> Vec<String> {
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'presence_%' ORDER BY name",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
    }

    #[tokio::test]
    async fn the_fan_out_probes_replace_the_member_index_and_roll_back() {
        let dir = std::env::temp_dir().join(parlay_kit::ids::new_id("presence-migration-"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = parlay_kit::db::sqlite_url(&dir, "presence");
        let db = parlay_kit::db::connect_and_migrate::<Migrator>(&url)
            .await
            .unwrap();
        let up = indexes(&db).await;
        assert!(
            up.contains(&"presence_list_members_member_owner_list".to_string()),
            "{up:?}"
        );
        assert!(
            up.contains(&"presence_subscriptions_user_list".to_string()),
            "{up:?}"
        );
        assert!(
            !up.contains(&"presence_list_members_member_owner".to_string()),
            "{up:?}"
        );

        Migrator::down(&db, Some(1)).await.unwrap();
        let down = indexes(&db).await;
        assert!(
            down.contains(&"presence_list_members_member_owner".to_string()),
            "{down:?}"
        );
        assert!(
            !down.contains(&"presence_list_members_member_owner_list".to_string()),
            "{down:?}"
        );
        assert!(
            !down.contains(&"presence_subscriptions_user_list".to_string()),
            "{down:?}"
        );

        Migrator::up(&db, None).await.unwrap();
        assert_eq!(indexes(&db).await, up);
        db.close().await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
