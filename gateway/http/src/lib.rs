//! The ParlayREST HTTP gateway: the suite's edge.
//!
//! It is thin: it authenticates the application (bearer key, see [`apps`]), parses and
//! validates the ParlayREST JSON, maps the request to a gRPC call on the owning service with
//! the application id in metadata, and maps the reply or the error back to ParlayREST JSON
//! with the right status, `Location` header and absolute `resourceURL`s. It keeps no business
//! state; its only store is the applications and their hashed keys.
//!
//! Every request passes, outermost first: tracing and metrics (`observe`), authentication
//! (`auth`), routing (405 with `Allow`, 404 for unknown paths), the body checks (415, 413,
//! 400), validation, then the service call (errors mapped by one table in `error`).

#![forbid(unsafe_code)]

use axum::middleware::{from_fn, from_fn_with_state};

pub mod apps;
mod auth;
mod body;
mod error;
mod migration;
mod observe;
mod routes;
mod state;
mod upstream;
mod urls;
mod validate;

pub use migration::Migrator;
pub use upstream::Upstreams;

/// The ParlayREST routes with auth, body limits, error mapping, request tracing and metrics.
pub fn router(
    config: &parlay_kit::Config,
    db: sea_orm::DatabaseConnection,
    upstreams: Upstreams,
) -> axum::Router {
    let state = state::AppState::new(config, db, upstreams);
    routes::api(&config.api_version)
        .layer(from_fn_with_state(state.clone(), auth::require_app))
        .layer(from_fn(observe::trace_and_measure))
        .with_state(state)
}
