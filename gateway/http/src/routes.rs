//! The ParlayREST routes, one module per API family, and what they share: path ids, 405s,
//! `201 Created` answers.
//!
//! Unknown paths (including a trailing `/`) answer 404 with a `requestError` SVC0002
//! ["resource"], so a client that parses error bodies gets one everywhere. Like every other
//! route they are behind authentication: a client without a valid key learns nothing about
//! which paths exist.

use axum::{
    Json, Router,
    extract::{FromRequestParts, Path},
    http::{HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use serde::Serialize;

use crate::{error::ApiError, state::AppState, urls};

pub(crate) mod addresslist;
pub(crate) mod audiocall;
pub(crate) mod callnotification;
pub(crate) mod messaging;
pub(crate) mod presence;
pub(crate) mod thirdpartycall;

/// All API routes under `/{apiVersion}`.
pub(crate) fn api(api_version: &str) -> Router<AppState> {
    // Encoded, so a configured version can never be read as a route parameter.
    let base = format!("/{}", urls::segment(api_version));
    Router::new()
        .merge(thirdpartycall::routes(&format!("{base}/thirdpartycall")))
        .merge(callnotification::routes(&format!(
            "{base}/callnotification"
        )))
        .merge(audiocall::routes(&format!("{base}/audiocall")))
        .merge(messaging::routes(&format!("{base}/messaging")))
        .merge(presence::routes(&format!("{base}/presence")))
        .merge(addresslist::routes(&format!("{base}/addresslistmgt")))
        .fallback(unknown_path)
}

async fn unknown_path() -> ApiError {
    ApiError::Exception(
        StatusCode::NOT_FOUND,
        parlay_model::RequestError::service("SVC0002", ["resource"]),
    )
}

/// `methods` of a resource, answering 405 with `Allow: {allow}` (e.g. `"GET, DELETE"`) to
/// any other method.
pub(crate) fn only(methods: MethodRouter<AppState>, allow: &'static str) -> MethodRouter<AppState> {
    methods
        .fallback(move |method: Method| async move { ApiError::MethodNotAllowed { method, allow } })
}

/// The path parameters of a request. Reading one that is missing, undecodable or not
/// shaped like an id gives 404 naming it, so a bad id never reaches a service.
pub(crate) struct PathIds(Option<Vec<(String, String)>>);

impl PathIds {
    /// The value of path parameter `name`, if plausible as an id.
    pub(crate) fn get(&self, name: &str) -> Result<String, ApiError> {
        self.find(name, parlay_kit::ids::plausible)
    }

    /// The value of path parameter `name` when it is a key a service gave within its parent
    /// resource (an attachment's `a1` within its message): 1 to 64 ASCII letters, digits,
    /// `-` or `_`, else 404 naming it.
    pub(crate) fn key(&self, name: &str) -> Result<String, ApiError> {
        self.find(name, |value| {
            (1..=64).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }

    /// The decoded value of path parameter `name` when it may be an address or a short
    /// code (`tel%3A%2B1555…` → `tel:+1555…`): 1 to 256 characters without control
    /// characters, else 404 naming it. Whether it is one is for the caller to say.
    pub(crate) fn address(&self, name: &str) -> Result<String, ApiError> {
        self.find(name, |value| {
            let chars = value.chars().count();
            (1..=parlay_model::address::MAX_LEN).contains(&chars)
                && !value.chars().any(char::is_control)
        })
    }

    /// The value of path parameter `name` when `shaped` accepts it, else 404 naming it.
    fn find(&self, name: &str, shaped: impl Fn(&str) -> bool) -> Result<String, ApiError> {
        self.0
            .iter()
            .flatten()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
            .filter(|value| shaped(value))
            .cloned()
            .ok_or_else(|| ApiError::not_found(name))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|Path(params)| params);
        Ok(PathIds(params))
    }
}

/// `201 Created` with `Location` and the JSON body.
pub(crate) fn created(location: &str, body: &impl Serialize) -> Result<Response, ApiError> {
    let location = HeaderValue::from_str(location)
        .map_err(|e| ApiError::internal("resource URL is not a valid header value", e))?;
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// `200 OK` with the JSON body.
pub(crate) fn ok(body: &impl Serialize) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}
