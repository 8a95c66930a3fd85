//! sea-orm entities of the call service's tables.

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        pub client_correlator: Option<String>,
        pub request_hash: String,
        pub notify_url: Option<String>,
        pub callback_data: Option<String>,
        pub terminated: bool,
        pub version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub ended_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod participant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_participants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub session_id: String,
        pub position: i32,
        pub address: String,
        pub name: Option<String>,
        pub status: String,
        pub cause: Option<String>,
        pub dialled: bool,
        pub dialled_at: Option<ChronoDateTimeUtc>,
        pub client_correlator: Option<String>,
        pub started_at: Option<ChronoDateTimeUtc>,
        pub ended_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
