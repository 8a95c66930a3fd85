//! sea-orm entities of the media tables (see [`super::migration`]).

pub mod media {
    use sea_orm::entity::prelude::*;

    /// An audio message or an interaction, as the application asked for it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_media")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        pub session_id: String,
        /// audio, recording or collection.
        pub kind: String,
        pub client_correlator: Option<String>,
        pub request_hash: String,
        /// The audio to play, or the interaction's prompt.
        pub url: Option<String>,
        pub media_type: Option<String>,
        pub interrupt_media: Option<bool>,
        pub max_duration_secs: Option<i32>,
        pub min_digits: Option<i32>,
        pub max_digits: Option<i32>,
        pub end_char: Option<String>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod target {
    use sea_orm::entity::prelude::*;

    /// One participant a medium is played to (or recorded, or asked for digits).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_media_targets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub media_id: String,
        /// Request order.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub participant_id: String,
        /// The address as the application gave it.
        pub address: String,
        /// Pending, Playing, Played or Error.
        pub status: String,
        /// The recording id or the collected digits, once taken.
        pub result: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod recording {
    use sea_orm::entity::prelude::*;

    /// What a play-and-record interaction recorded, readable by its application.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_recordings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        pub media_id: String,
        pub session_id: String,
        pub address: String,
        pub content_type: String,
        #[sea_orm(column_type = "Blob")]
        pub data: Vec<u8>,
        pub duration_ms: i64,
        pub created_at: ChronoDateTimeUtc,
        /// `created_at` plus the retention configured when it was recorded.
        pub expires_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
