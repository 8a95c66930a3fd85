//! Every error the gateway answers with, and the one table that maps a service's gRPC status
//! to an HTTP status and a `requestError` body ([`ApiError::from_status`]).
//!
//! | gRPC status | HTTP | body |
//! |---|---|---|
//! | `NotFound` | 404 | the status's exception if it carries one, else SVC0002 [path id name] |
//! | `NotFound` on a `POST` to a collection ([`ApiError::from_body_status`]) | 400 (403 for POL) | the status's exception, else SVC0002 [body field] |
//! | carries an exception (`exception_of`) | 400 for SVC ids, 403 for POL ids | that exception |
//! | `Unavailable`, `DeadlineExceeded` (also the gateway's own upstream timeout); `Cancelled`, or `Unknown` from the transport (a replica died with the call in flight) | 503 + `Retry-After: 1` | SVC0001 ["service temporarily unavailable"] |
//! | anything else | 500 | SVC0001 ["internal error"]; the status is logged once, here |
//!
//! Internal details (status messages, database errors) are logged, never sent.

use axum::{
    Json,
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use parlay_model::{RequestError, error::ExceptionKind};
use tonic::{Code, Status};

#[cfg(test)]
mod tests;

/// Why a request was not served. Each variant knows its status, headers and body.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// A ParlayREST exception, sent with this status.
    Exception(StatusCode, RequestError),
    /// No or an unknown bearer key: 401 with `WWW-Authenticate`.
    Unauthorized,
    /// The resource exists but not with this method: 405 with `Allow`.
    MethodNotAllowed { method: Method, allow: &'static str },
    /// A service did not answer in time or is down: 503 with `Retry-After`.
    Unavailable,
    /// A bug or an infrastructure failure, already logged: 500.
    Internal,
}

impl ApiError {
    /// An exception sent as 400 (SVC ids) or 403 (POL ids).
    pub(crate) fn request(error: RequestError) -> ApiError {
        let status = match error.kind {
            ExceptionKind::Service => StatusCode::BAD_REQUEST,
            ExceptionKind::Policy => StatusCode::FORBIDDEN,
        };
        ApiError::Exception(status, error)
    }

    /// 400 or 403 for exception `id` with `variables`, kind from the id.
    pub(crate) fn of(id: &str, variables: impl IntoIterator<Item = impl Into<String>>) -> Self {
        ApiError::request(RequestError::from_id(id, variables))
    }

    /// 404 naming the path id that matched nothing (e.g. `callSessionId`).
    pub(crate) fn not_found(path_id: &str) -> ApiError {
        ApiError::Exception(
            StatusCode::NOT_FOUND,
            RequestError::service("SVC0002", [path_id]),
        )
    }

    /// 415: the body is not JSON.
    pub(crate) fn unsupported_media_type() -> ApiError {
        ApiError::Exception(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RequestError::service("SVC0001", ["Content-Type must be application/json"]),
        )
    }

    /// 413: the body is larger than `gateway.max_body_bytes`.
    pub(crate) fn too_large() -> ApiError {
        ApiError::Exception(
            StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::service("SVC0001", ["request body too large"]),
        )
    }

    /// 408: the whole request took longer than the gateway allows (see [`crate::router`]).
    pub(crate) fn request_timeout() -> ApiError {
        ApiError::Exception(
            StatusCode::REQUEST_TIMEOUT,
            RequestError::service("SVC0001", ["request timeout"]),
        )
    }

    /// 500 after logging `what` went wrong and why.
    pub(crate) fn internal(what: &str, cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "{what}");
        ApiError::Internal
    }

    /// The status table (see the module documentation). `path_id` names the path parameter
    /// a plain `NotFound` is about.
    pub(crate) fn from_status(status: &Status, path_id: &str) -> ApiError {
        let exception = parlay_kit::grpc::exception_of(status)
            .map(|e| RequestError::from_id(&e.message_id, e.variables));
        match (status.code(), exception) {
            (Code::NotFound, Some(error)) => ApiError::Exception(StatusCode::NOT_FOUND, error),
            (Code::NotFound, None) => ApiError::not_found(path_id),
            (_, Some(error)) => ApiError::request(error),
            (Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled, None) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "service unavailable");
                ApiError::Unavailable
            }
            // The connection broke under the call (tonic keeps the transport error as the
            // source); a service's own Unknown has none.
            (Code::Unknown, None) if std::error::Error::source(status).is_some() => {
                tracing::warn!(code = ?status.code(), message = status.message(), "service unavailable");
                ApiError::Unavailable
            }
            (code, None) => {
                tracing::error!(?code, message = status.message(), "service call failed");
                ApiError::Internal
            }
        }
    }

    /// The status table for a `POST` to a collection, whose URL names nothing that could be
    /// missing: a `NotFound` is about an id in the body, so it is 400 (403 for a policy
    /// exception) with the status's exception, or SVC0002 [`body_field`] without one.
    pub(crate) fn from_body_status(status: &Status, body_field: &str) -> ApiError {
        if status.code() != Code::NotFound {
            return ApiError::from_status(status, body_field);
        }
        let error = parlay_kit::grpc::exception_of(status)
            .map(|e| RequestError::from_id(&e.message_id, e.variables))
            .unwrap_or_else(|| RequestError::service("SVC0002", [body_field]));
        ApiError::request(error)
    }

    /// The HTTP status this error is sent with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Exception(status, _) => *status,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `requestError` body.
    fn body(&self) -> RequestError {
        match self {
            ApiError::Exception(_, error) => error.clone(),
            ApiError::Unauthorized => {
                RequestError::policy("POL0001", ["missing or invalid access token"])
            }
            ApiError::MethodNotAllowed { method, .. } => RequestError::service(
                "SVC0001",
                [format!("{method} not supported on this resource")],
            ),
            ApiError::Unavailable => {
                RequestError::service("SVC0001", ["service temporarily unavailable"])
            }
            ApiError::Internal => RequestError::service("SVC0001", ["internal error"]),
        }
    }
}

/// Middleware, just outside `tower_http`'s `TimeoutLayer`: its 408 comes with an empty body
/// and no `Content-Type`; this sends [`ApiError::request_timeout`] in its place, so a client
/// gets a `requestError` here as everywhere else. No route answers 408 itself.
pub(crate) async fn render_timeout(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        tracing::warn!("request timed out");
        return ApiError::request_timeout().into_response();
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"parlay\""),
                );
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Exception(..) | ApiError::Internal => {}
        }
        response
    }
}
