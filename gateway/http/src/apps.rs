//! The applications allowed to call the gateway and their access keys: the gateway's only
//! store.
//!
//! A key is shown once, when the application is created; only its SHA-256 is kept, so a
//! stolen database does not hand out working keys. An application may be restricted to a
//! set of users (address patterns such as `tel:+1555*`, see [`pattern`]); with exactly one
//! pattern and no glob the key is bound to that user, who is what `acr:Authorization`
//! stands for in its requests.
//!
//! An application may also be provisioned **registrations**: the addresses and short codes
//! (`tel:+15551230001`, `3456`) whose inbound messages it reads and subscribes to, and from
//! which it may send. Nobody else reads them; nothing stops an operator from provisioning
//! one registration to two applications.

use parlay_model::address::same_ignoring_case;
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
/// Longest short code accepted as a registration.
const MAX_SHORT_CODE_CHARS: usize = 32;

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
        /// JSON array of registration addresses and short codes.
        pub registrations: String,
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
    /// Registrations (exact addresses or short codes) whose inbound messages it reads.
    pub registrations: Vec<String>,
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

    /// The registration `address` names, as provisioned; compared without regard to case.
    pub fn registration(&self, address: &str) -> Option<&str> {
        self.registrations
            .iter()
            .find(|r| same_ignoring_case(r, address))
            .map(String::as_str)
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
    /// A registration is neither a `tel:`/`sip:` address nor a short code.
    #[error(
        "invalid registration {0:?}: expected a tel: or sip: address, or a short code of 1 to {MAX_SHORT_CODE_CHARS} letters and digits"
    )]
    InvalidRegistration(String),
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Validates the user patterns, creates the app, returns it and its key (shown once; only
/// its SHA-256 is stored). Key = `prl_` + 40 random alphanumerics. It has no registrations.
pub async fn create(
    db: &DatabaseConnection,
    name: &str,
    users: Vec<String>,
) -> Result<(App, String), AppsError> {
    create_with(db, name, users, Vec::new()).await
}

/// [`create`] with registrations: each a `tel:`/`sip:` address (checked as in bodies, no
/// globs) or a short code of 1 to 32 ASCII letters and digits. A registration given twice
/// (without regard to case) is kept once.
pub async fn create_with(
    db: &DatabaseConnection,
    name: &str,
    users: Vec<String>,
    registrations: Vec<String>,
) -> Result<(App, String), AppsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppsError::InvalidName);
    }
    if let Some(bad) = users.iter().find(|p| !pattern::is_valid(p)) {
        return Err(AppsError::InvalidPattern(bad.clone()));
    }
    let registrations = checked_registrations(registrations)?;
    let key = new_key();
    let app = App {
        id: parlay_kit::ids::new_id("app"),
        name: name.to_owned(),
        users,
        registrations,
    };
    let json =
        |list: &[String]| serde_json::to_string(list).map_err(|e| DbErr::Custom(e.to_string()));
    let users_json = json(&app.users)?;
    let registrations_json = json(&app.registrations)?;
    let row = entity::ActiveModel {
        id: Set(app.id.clone()),
        name: Set(app.name.clone()),
        key_hash: Set(key_hash(&key)),
        users: Set(users_json),
        registrations: Set(registrations_json),
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
    let list = |column: &str, text: &str| {
        serde_json::from_str::<Vec<String>>(text).map_err(|e| {
            DbErr::Custom(format!(
                "apps.{column} of {} is not a JSON array: {e}",
                row.id
            ))
        })
    };
    let users = list("users", &row.users)?;
    let registrations = list("registrations", &row.registrations)?;
    Ok(Some(App {
        id: row.id,
        name: row.name,
        users,
        registrations,
    }))
}

/// The registrations, each checked, duplicates (without regard to case) dropped.
fn checked_registrations(registrations: Vec<String>) -> Result<Vec<String>, AppsError> {
    let mut kept: Vec<String> = Vec::with_capacity(registrations.len());
    for r in registrations {
        if !is_registration(&r) {
            return Err(AppsError::InvalidRegistration(r));
        }
        if !kept.iter().any(|k| same_ignoring_case(k, &r)) {
            kept.push(r);
        }
    }
    Ok(kept)
}

/// A `tel:`/`sip:` address, or a short code of ASCII letters and digits.
fn is_registration(r: &str) -> bool {
    let short_code = (1..=MAX_SHORT_CODE_CHARS).contains(&r.len())
        && r.bytes().all(|b| b.is_ascii_alphanumeric());
    short_code
        || matches!(
            parlay_model::Address::parse(r),
            Ok(parlay_model::Address::Tel(_) | parlay_model::Address::Sip(_))
        )
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
