//! The media tables: audio messages and interactions (`call_media`), their per-participant
//! progress (`call_media_targets`), and the recordings they produced (`call_recordings`).
//! Media rows name their session without a foreign key: sessions are purged on their own
//! schedule, and the media janitor removes what they leave behind. Recordings outlive
//! both (they are kept for `call.recording_retention_secs`).

use sea_orm_migration::{prelude::*, schema::*};

pub struct MediaTables;

impl MigrationName for MediaTables {
    fn name(&self) -> &str {
        "m20261125_000004_call_media"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MediaTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("call_media")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("app_id"))
                    .col(string("session_id"))
                    .col(string("kind"))
                    .col(string_null("client_correlator"))
                    .col(string("request_hash"))
                    .col(text_null("url"))
                    .col(string_null("media_type"))
                    .col(boolean_null("interrupt_media"))
                    .col(integer_null("max_duration_secs"))
                    .col(integer_null("min_digits"))
                    .col(integer_null("max_digits"))
                    .col(string_null("end_char"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_media_correlator")
                    .table("call_media")
                    .col("app_id")
                    .col("client_correlator")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_media_session")
                    .table("call_media")
                    .col("session_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("call_media_targets")
                    .if_not_exists()
                    .col(string("media_id"))
                    .col(integer("position"))
                    .col(string("participant_id"))
                    .col(string("address"))
                    .col(string("status"))
                    .col(text_null("result"))
                    .primary_key(Index::create().col("media_id").col("position"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("call_media_targets", "media_id")
                            .to("call_media", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("call_recordings")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("app_id"))
                    .col(string("media_id"))
                    .col(string("session_id"))
                    .col(string("address"))
                    .col(string("content_type"))
                    .col(blob("data"))
                    .col(big_integer("duration_ms"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("call_recordings_expiry")
                    .table("call_recordings")
                    .col("expires_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["call_recordings", "call_media_targets", "call_media"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
