//! sea-orm entities of the address-list tables (created by [`crate::migration`]).

pub mod list {
    //! `addresslist_lists`: a user's contact list. `rcs` and `rcs_revoke` have no row
    //! unless given attributes; they exist for every user all the same.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "addresslist_lists")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub owner: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        pub display_name: Option<String>,
        /// JSON `[[name, value], …]`.
        pub attributes: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod member {
    //! `addresslist_members`: one member of a list.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "addresslist_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub owner: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub list_id: String,
        /// Canonical (scheme in lower case), as the gateway gives it.
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: String,
        pub display_name: Option<String>,
        /// JSON `[[name, value], …]`.
        pub attributes: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod change {
    //! `addresslist_changes`: list changes not yet applied by the presence service, in the
    //! order they were made (the sequence numbers presence orders them by).
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "addresslist_changes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        pub owner: String,
        pub list_id: String,
        /// Empty for a change of the list itself.
        pub member: String,
        pub present: bool,
        /// The member's display name after the change (members only).
        pub display_name: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
