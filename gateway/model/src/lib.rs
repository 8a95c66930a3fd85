//! The ParlayREST JSON model: request and response bodies with the exact spec names,
//! validated user addresses, and the `requestError` body.
//!
//! Shared by the gateway (parsing requests, rendering responses) and the services
//! (rendering notification bodies). Plain data and serde only: no I/O, no async.

#![forbid(unsafe_code)]

pub mod address;
pub mod addresslist;
pub mod audiocall;
pub mod callnotif;
pub mod common;
pub mod error;
pub mod messaging;
pub mod parse;
pub mod presence;
pub mod thirdpartycall;
pub mod timestamp;
pub mod tolerant;

pub use address::Address;
pub use error::RequestError;
pub use parse::from_json;
