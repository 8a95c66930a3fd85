//! The crate's error type.

use parlay_kit::bus::BusError;
use sea_orm::DbErr;

/// Why a notify operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A job on the bus that can never be delivered (missing id or URL).
    #[error("invalid notification job: {0}")]
    InvalidJob(&'static str),
    /// The database refused or failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The bus refused or failed.
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
