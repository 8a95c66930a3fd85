//! The crate's error: what the control API refuses, mapped to a status and a
//! `{"error": "<message>"}` body. Bad input is always a 4xx, never a 500.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Why a control request was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The request (body, query, path) is not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// The request is well formed but carries more than netsim accepts (attachments).
    #[error("{0}")]
    TooLarge(String),
    /// The request was refused before its body was read (too large, for example).
    #[error("{1}")]
    Rejected(StatusCode, String),
    #[error("no call session {0} is known to netsim")]
    UnknownSession(String),
    #[error("no connected leg of call session {session} has address {address}")]
    NoConnectedLeg { session: String, address: String },
    #[error("no network call {0} is known to netsim")]
    UnknownCall(String),
    /// A hangup for a network call no command has named yet: no leg is connected.
    #[error("network call {0} is still waiting for the suite; no leg is connected")]
    CallWaiting(String),
}

impl Error {
    fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Rejected(status, _) => *status,
            Error::UnknownSession(_) => StatusCode::NOT_FOUND,
            Error::NoConnectedLeg { .. } | Error::CallWaiting(_) => StatusCode::CONFLICT,
            Error::UnknownCall(_) => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        tracing::debug!(%status, error = %self, "control request refused");
        let body = serde_json::json!({ "error": self.to_string() });
        (status, Json(body)).into_response()
    }
}
