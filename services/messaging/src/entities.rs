//! sea-orm entities of the messaging tables (created by [`crate::migration`]).

pub mod request {
    //! `messaging_requests`: one outbound request (SMS or MMS) of an application.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        pub sender_address: String,
        pub sender_name: Option<String>,
        pub client_correlator: Option<String>,
        /// SHA-256 of the request's canonical content (clientCorrelator replays).
        pub request_hash: String,
        /// `message` (`outboundMessageRequest`) or `sms` (`outboundSMSMessageRequest`).
        pub root: String,
        /// `sms` or `mms`.
        pub kind: String,
        /// The SMS text, or the MMS's text field.
        pub text: Option<String>,
        pub subject: Option<String>,
        /// The MMS priority's ParlayREST name.
        pub priority: Option<String>,
        /// The MMS's files without their bytes: JSON `[{name, contentType, size}]`.
        pub attachments: Option<String>,
        /// SMS segments per recipient (0 for an MMS).
        pub segments: i32,
        pub notify_url: Option<String>,
        pub callback_data: Option<String>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    //! `messaging_deliveries`: the delivery status of one address of a request.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        /// As the application wrote it.
        pub address: String,
        /// Lower-cased, for receipts (matched case-insensitively).
        pub address_lower: String,
        pub status: String,
        /// [`crate::domain::rank`] of `status`: a receipt updates the row only if it is
        /// higher (a conditional UPDATE, so concurrent receipts never lose an update).
        pub status_rank: i32,
        pub description: Option<String>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message {
    //! `messaging_inbound`: a message received for a registration.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_inbound")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The destination address as received.
        pub registration: String,
        /// Lower-cased, for look-ups (registrations match case-insensitively).
        pub registration_lower: String,
        pub destination_address: String,
        pub sender_address: String,
        /// `sms` or `mms`.
        pub kind: String,
        /// The SMS text, or the MMS's text part.
        pub text: Option<String>,
        pub subject: Option<String>,
        pub priority: Option<String>,
        /// When the network received it (`dateTime`).
        pub received_at: ChronoDateTimeUtc,
        /// When it was stored here (retention counts from this).
        pub stored_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attachment {
    //! `messaging_attachments`: metadata of an inbound attachment; its bytes are a file.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_attachments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub attachment_id: String,
        pub position: i32,
        pub name: String,
        pub content_type: String,
        pub size: i64,
        /// Relative to the attachments directory: `{message_id}/{attachment_id}`.
        pub path: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod subscription {
    //! `messaging_subscriptions`: an application's inbound-message subscription.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub app_id: String,
        pub notify_url: String,
        pub callback_data: Option<String>,
        pub client_correlator: Option<String>,
        pub request_hash: String,
        /// JSON array of the destination addresses, as the application wrote them.
        pub addresses: String,
        pub criteria: Option<String>,
        /// The granted lifetime.
        pub duration_secs: i64,
        pub expires_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod watched {
    //! `messaging_subscription_addresses`: one row per (subscription, lower-cased address),
    //! so an inbound message finds its subscriptions by destination.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messaging_subscription_addresses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub subscription_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub address: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::subscription::Entity",
            from = "Column::SubscriptionId",
            to = "super::subscription::Column::Id"
        )]
        Subscription,
    }

    impl Related<super::subscription::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Subscription.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
