//! notify's schema: `notify_jobs` and `notify_attempts`, then the columns of jobs that ask a
//! question (`reply_subject`, `reply_deadline`), then the index of ordered delivery, then
//! partial indexes in place of those keyed by status; backend-neutral (SQLite and
//! PostgreSQL run the same migrations). A migration, once released, is never edited:
//! changes come as new ones, appended to `Migrator`.

use parlay_kit::migration::{drop_index, index, index_where};
use sea_orm_migration::{prelude::*, schema::*};

/// Creates `notify_jobs`, `notify_attempts` and the indexes the dispatcher's and the
/// janitor's queries use.
pub struct NotifyTables;

impl MigrationName for NotifyTables {
    fn name(&self) -> &str {
        "m20261201_000001_notify_jobs_attempts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NotifyTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notify_jobs")
                    .if_not_exists()
                    .col(string("job_id").primary_key())
                    .col(string("application_id"))
                    .col(text("notify_url"))
                    .col(blob("body"))
                    .col(string("content_type"))
                    .col(string("resource_kind"))
                    .col(string("resource_id"))
                    .col(text_null("traceparent"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .to_owned(),
            )
            .await?;
        // The dispatcher looks for due jobs: pending, ordered by next attempt.
        manager
            .create_index(
                Index::create()
                    .name("notify_jobs_due")
                    .table("notify_jobs")
                    .if_not_exists()
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        // The janitor looks for final jobs by the time they became final: delivered ones by
        // `delivered_at`, expired ones by `expires_at`.
        for (name, column) in [
            ("notify_jobs_delivered", "delivered_at"),
            ("notify_jobs_expired", "expires_at"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("notify_jobs")
                        .if_not_exists()
                        .col("status")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("notify_attempts")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string("job_id"))
                    .col(integer("attempt"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(big_integer("duration_ms"))
                    .col(integer_null("http_status"))
                    .col(text_null("error"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notify_attempts_job")
                    .table("notify_attempts")
                    .if_not_exists()
                    .col("job_id")
                    .col("attempt")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("notify_attempts").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("notify_jobs").to_owned())
            .await
    }
}

/// Adds what a job that asks a question needs: the subject its answer is published on and
/// the deadline of that answer. Both are null for ordinary jobs; `reply_deadline` also
/// marks a job as one that asks, and orders those jobs (earliest deadline first).
pub struct ReplyTo;

impl MigrationName for ReplyTo {
    fn name(&self) -> &str {
        "m20261215_000002_notify_reply_to"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReplyTo {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("notify_jobs")
                    .add_column(text_null("reply_subject"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("notify_jobs")
                    .add_column(timestamp_with_time_zone_null("reply_deadline"))
                    .to_owned(),
            )
            .await?;
        // The dispatcher claims the jobs that ask before all others, earliest deadline first.
        manager
            .create_index(
                Index::create()
                    .name("notify_jobs_asking")
                    .table("notify_jobs")
                    .if_not_exists()
                    .col("status")
                    .col("reply_deadline")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("notify_jobs_asking")
                    .table("notify_jobs")
                    .to_owned(),
            )
            .await?;
        for column in ["reply_deadline", "reply_subject"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notify_jobs")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Ordered delivery: the jobs' `order_key`, and the index behind the rule that a job waits
/// while an earlier pending job with its key to its URL exists (see `store::due`).
pub struct OrderedDelivery;

impl MigrationName for OrderedDelivery {
    fn name(&self) -> &str {
        "m20261202_000003_notify_ordered_delivery"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for OrderedDelivery {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("notify_jobs")
                    .add_column(text_null("order_key"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notify_jobs_order")
                    .table("notify_jobs")
                    .if_not_exists()
                    .col("order_key")
                    .col("status")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("notify_jobs_order")
                    .table("notify_jobs")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("notify_jobs")
                    .drop_column("order_key")
                    .to_owned(),
            )
            .await
    }
}

/// Each index of `notify_jobs` but the primary key now holds only the jobs its queries look
/// for: pending jobs by due time, pending questions by deadline, pending jobs of an order,
/// delivered jobs by delivery time, expired ones by expiry. The indexes they replace had
/// `status` among their columns (first, but for the order's) and held every job, so that
/// every job's insert and every change of status wrote all five of them; now a job enters
/// two or three and a delivery moves it out of two and into one. The queries name the
/// status as a literal, not a parameter, so that either database's planner can tell that
/// they only want what a partial index holds.
///
/// The previous release's queries bind the status. On PostgreSQL (the mode that rolls
/// releases side by side) they still read the partial indexes: PostgreSQL plans such a
/// statement for its values each time when the plan for any value (a scan) would cost far
/// more, so old replicas during a rolling update, or after a rollback, are not slowed.
pub struct PartialIndexes;

impl MigrationName for PartialIndexes {
    fn name(&self) -> &str {
        "m20261206_000004_notify_partial_indexes"
    }
}

/// The partial indexes: name, columns, and the status the rows they hold have, with one more
/// column that must not be null.
type Partial = (
    &'static str,
    &'static [&'static str],
    &'static str,
    Option<&'static str>,
);

const PARTIAL: [Partial; 5] = [
    (
        "notify_jobs_pending_due",
        &["next_attempt_at"],
        "pending",
        None,
    ),
    (
        "notify_jobs_pending_asking",
        &["reply_deadline"],
        "pending",
        Some("reply_deadline"),
    ),
    (
        "notify_jobs_pending_order",
        &["order_key", "created_at"],
        "pending",
        Some("order_key"),
    ),
    (
        "notify_jobs_delivered_at",
        &["delivered_at"],
        "delivered",
        None,
    ),
    ("notify_jobs_expired_at", &["expires_at"], "expired", None),
];

/// The indexes [`PartialIndexes`] replaces: name and columns.
const BY_STATUS: [(&str, &[&str]); 5] = [
    ("notify_jobs_due", &["status", "next_attempt_at"]),
    ("notify_jobs_delivered", &["status", "delivered_at"]),
    ("notify_jobs_expired", &["status", "expires_at"]),
    ("notify_jobs_asking", &["status", "reply_deadline"]),
    ("notify_jobs_order", &["order_key", "status", "created_at"]),
];

#[async_trait::async_trait]
impl MigrationTrait for PartialIndexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in BY_STATUS {
            manager.drop_index(drop_index(name, "notify_jobs")).await?;
        }
        for (name, columns, status, not_null) in PARTIAL {
            let mut index = index_where(name, "notify_jobs", columns, "status", status);
            if let Some(column) = not_null {
                index.and_where(Expr::col(column).is_not_null());
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, ..) in PARTIAL {
            manager.drop_index(drop_index(name, "notify_jobs")).await?;
        }
        for (name, columns) in BY_STATUS {
            manager
                .create_index(index(name, "notify_jobs", columns))
                .await?;
        }
        Ok(())
    }
}
