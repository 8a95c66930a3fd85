//! The ParlayREST HTTP gateway: the suite's edge.
//!
//! It is thin: it authenticates the application (bearer key, see [`apps`]), parses and
//! validates the ParlayREST JSON, maps the request to a gRPC call on the owning service with
//! the application id in metadata, and maps the reply or the error back to ParlayREST JSON
//! with the right status, `Location` header and absolute `resourceURL`s. It keeps no business
//! state; its only store is the applications and their hashed keys.
//!
//! Every request passes, outermost first: tracing and metrics (`observe`), the whole-request
//! timeout (408, see [`router`]; this and every other answer given before the request's body
//! was read says `Connection: close`), authentication (`auth`), routing (405 with `Allow`, 404 for
//! unknown paths), the body checks (415, 413, 400), validation, then the service call (errors
//! mapped by one table in `error`).

#![forbid(unsafe_code)]

use std::time::Duration;

use axum::{
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state, map_response},
};
use tower_http::timeout::TimeoutLayer;

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

#[cfg(test)]
mod tests;

/// How much longer than one service call (`gateway.upstream_timeout_secs`) a whole request
/// may take: time to authenticate and to receive the body.
const REQUEST_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);

/// The ParlayREST routes with auth, body limits, error mapping, request tracing and metrics.
///
/// A request not answered within `gateway.upstream_timeout_secs` + 5 seconds, from its head
/// until the handler is done (the body included, so a client trickling one cannot hold the
/// connection, or a graceful shutdown, forever), gets 408 with a `requestError` SVC0001
/// ["request timeout"].
pub fn router(
    config: &parlay_kit::Config,
    db: sea_orm::DatabaseConnection,
    upstreams: Upstreams,
) -> axum::Router {
    let timeout = Duration::from_secs(config.gateway.upstream_timeout_secs)
        .saturating_add(REQUEST_TIMEOUT_MARGIN);
    router_with(config, db, upstreams, timeout)
}

/// [`router`] with the whole-request timeout given.
fn router_with(
    config: &parlay_kit::Config,
    db: sea_orm::DatabaseConnection,
    upstreams: Upstreams,
    timeout: Duration,
) -> axum::Router {
    let state = state::AppState::new(config, db, upstreams);
    routes::api(&config.api_version)
        .layer(from_fn_with_state(state.clone(), auth::require_app))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(map_response(error::render_timeout))
        .layer(from_fn(body::close_if_unread))
        .layer(from_fn(observe::trace_and_measure))
        .with_state(state)
}
