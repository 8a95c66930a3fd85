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
        /// The network's id of a network-originated call (None: a Third Party Call session).
        pub network_call_id: Option<String>,
        /// The call-direction decision, JSON of [`crate::domain::Decision`].
        pub decision: Option<String>,
        /// Set while a decision is pending: when the default action applies.
        pub decision_deadline: Option<ChronoDateTimeUtc>,
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
        /// The sequence number of the last network event applied to the leg (0: none).
        pub leg_sequence: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod grant {
    use sea_orm::entity::prelude::*;

    /// An application allowed to use a network call it was notified of.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_session_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub app_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod subscription {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        /// callEvent, callDirection, recording, collection.
        pub kind: String,
        pub notify_url: String,
        pub callback_data: Option<String>,
        pub client_correlator: Option<String>,
        pub request_hash: String,
        /// JSON array of the addresses as given.
        pub addresses: String,
        /// Comma-separated CallEvents names (expanded: never empty for call kinds).
        pub criteria: String,
        /// Called or Calling.
        pub address_direction: String,
        pub call_session_id: Option<String>,
        /// Continue or EndCall.
        pub default_action: String,
        pub response_timeout_ms: i64,
        pub duration_secs: i64,
        pub expires_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod watched {
    use sea_orm::entity::prelude::*;

    /// One address a call-event or call-direction subscription watches, lower-cased.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "call_subscription_addresses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subscription_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub address: String,
        pub kind: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
