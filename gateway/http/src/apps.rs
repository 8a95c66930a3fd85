//! The applications allowed to call the gateway and their access keys: the gateway's only
//! store.
//!
//! A key is shown once, when the application is created; only its SHA-256 is kept, so a
//! stolen database does not hand out working keys. An application may be restricted to a
//! set of users (address patterns such as `tel:+1555*`, see [`pattern`]); with exactly one
//! pattern and no glob the key is bound to that user, who is what `acr:Authorization`
//! stands for in its requests.

use rand::{Rng, distr::Alphanumeric};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

pub mod pattern;
#[cfg(test)]
pub(crate) mod tests;

/// Prefix of every key, so a leaked one is recognisable by secret scanners.
const KEY_PREFIX: &str = "prl_";
/// Random alphanumerics after the prefix (about 238 bits).
const KEY_RANDOM_CHARS: usize = 40;
/// Longest application name accepted.
const MAX_NAME_CHARS: usize = 128;

pub mod entity {
    //! The `apps` table.
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "apps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        /// Hex SHA-256 of the key.
        #[sea_orm(unique)]
        pub key_hash: String,
        /// JSON array of user patterns; `[]` means unrestricted.
        pub users: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An application as the gateway knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// Stable id, sent to the services in gRPC metadata.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Address patterns of the users it may act for; empty means any user.
    pub users: Vec<String>,
}

impl App {
    /// The one user the key is bound to: exactly one pattern and it has no glob.
    pub fn bound_user(&self) -> Option<&str> {
        match self.users.as_slice() {
            [only] if !pattern::has_glob(only) => Some(only),
            _ => None,
        }
    }

    /// May the application act for `address`? Always when it is unrestricted.
    pub fn may_act_for(&self, address: &str) -> bool {
        self.users.is_empty() || self.users.iter().any(|p| pattern::matches(p, address))
    }
}

/// Why an application could not be created.
#[derive(Debug, thiserror::Error)]
pub enum AppsError {
    /// The name is empty or too long.
    #[error("the application name must be 1 to {MAX_NAME_CHARS} characters")]
    InvalidName,
    /// A user pattern is not a `tel:`, `sip:` or `acr:` address (with `*`/`?` globs).
    #[error(
        "invalid user pattern {0:?}: expected a tel:, sip: or acr: address, where * and ? may stand as globs"
    )]
    InvalidPattern(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Validates the user patterns, creates the app, returns it and its key (shown once; only
/// its SHA-256 is stored). Key = `prl_` + 40 random alphanumerics.
pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    users: Vec<String>,
) -> Result<(App, String), AppsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppsError::InvalidName);
    }
    if let Some(bad) = users.iter().find(|p| !pattern::is_valid(p)) {
        return Err(AppsError::InvalidPattern(bad.clone()));
    }
    let key = new_key();
    let app = App {
        id: parlay_kit::ids::new_id("app"),
        name: name.to_owned(),
        users,
    };
    let users_json = serde_json::to_string(&app.users).map_err(|e| DbErr::Custom(e.to_string()))?;
    let row = entity::ActiveModel {
        id: Set(app.id.clone()),
        name: Set(app.name.clone()),
        key_hash: Set(key_hash(&key)),
        users: Set(users_json),
        created_at: Set(chrono::Utc::now()),
    };
    entity::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok((app, key))
}

/// The application holding `key`, if any.
pub async fn authenticate(db: &DatabaseConnection, key: &str) -> Result<Option<App>, DbErr> {
    find_by_hash(db, &key_hash(key)).await
}

/// The application whose key hashes to `hash`.
pub(crate) async fn find_by_hash(
    db: &DatabaseConnection,
    hash: &str,
) -> Result<Option<App>, DbErr> {
    let Some(row) = entity::Entity::find()
        .filter(entity::Column::KeyHash.eq(hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let users: Vec<String> = serde_json::from_str(&row.users)
        .map_err(|e| DbErr::Custom(format!("apps.users of {} is not a JSON array: {e}", row.id)))?;
    Ok(Some(App {
        id: row.id,
        name: row.name,
        users,
    }))
}

/// Hex SHA-256 of a key: what the table stores and the cache is keyed by.
pub(crate) fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn new_key() -> String {
    let random: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(KEY_RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("{KEY_PREFIX}{random}")
}
