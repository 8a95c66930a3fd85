//! gRPC conventions shared by every service and the gateway: the application id in the
//! `x-parlay-app` metadata entry, the trace context in `traceparent`, and ParlayREST
//! exceptions carried in the status details so the gateway renders the exact error body.

pub mod channel;
mod metrics;
pub mod transport;

pub use metrics::{GrpcMetrics, Measured};
use parlay_proto::common::v1::Exception;
use prost::Message;
use tonic::{Code, Request, Status, metadata::MetadataValue};
pub use transport::Transport;

/// Metadata key holding the calling application's id.
pub const APP_METADATA: &str = "x-parlay-app";

/// The application id of a request (set by the gateway).
pub fn app_id<T>(request: &Request<T>) -> Result<String, Status> {
    request
        .metadata()
        .get(APP_METADATA)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Status::unauthenticated("missing x-parlay-app"))
}

/// Builds an outgoing request for `app`, carrying the current trace context.
pub fn request_for<T>(app: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = MetadataValue::try_from(app) {
        request.metadata_mut().insert(APP_METADATA, value);
    }
    if let Some(tp) = crate::telemetry::current_traceparent()
        && let Ok(value) = MetadataValue::try_from(tp.as_str())
    {
        request.metadata_mut().insert("traceparent", value);
    }
    request
}

/// Joins the handler's span to the caller's trace.
pub fn adopt_trace<T>(request: &Request<T>, span: &tracing::Span) {
    let tp = request
        .metadata()
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    crate::telemetry::set_remote_parent(span, tp);
}

/// A status carrying a ParlayREST exception (`SVC…` → client error, `POL…` → policy).
pub fn exception(
    message_id: &str,
    variables: impl IntoIterator<Item = impl Into<String>>,
) -> Status {
    let exception = Exception {
        message_id: message_id.to_string(),
        variables: variables.into_iter().map(Into::into).collect(),
    };
    let code = if message_id.starts_with("POL") {
        Code::PermissionDenied
    } else {
        Code::InvalidArgument
    };
    Status::with_details(
        code,
        message_id.to_string(),
        exception.encode_to_vec().into(),
    )
}

/// The ParlayREST exception a status carries, if any.
pub fn exception_of(status: &Status) -> Option<Exception> {
    if status.details().is_empty() {
        return None;
    }
    Exception::decode(status.details()).ok()
}

/// "No such resource for this application": the gateway answers 404 with SVC0002 naming
/// `path_param`, the path parameter that named the missing resource (`callSessionId`).
pub fn not_found(path_param: &str) -> Status {
    let exception = Exception {
        message_id: "SVC0002".into(),
        variables: vec![path_param.to_string()],
    };
    Status::with_details(
        Code::NotFound,
        format!("{path_param} not found"),
        exception.encode_to_vec().into(),
    )
}

/// An internal failure: logged here with its cause chain, never shown to a client.
pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %chain, "{context}");
    Status::internal(context.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_round_trip_through_status() {
        let status = exception("SVC0261", ["cs1"]);
        assert_eq!(status.code(), Code::InvalidArgument);
        let e = exception_of(&status).unwrap();
        assert_eq!(e.message_id, "SVC0261");
        assert_eq!(e.variables, vec!["cs1"]);
        assert_eq!(
            exception("POL0003", ["participant"]).code(),
            Code::PermissionDenied
        );
        let missing = not_found("callSessionId");
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(
            exception_of(&missing).unwrap().variables,
            vec!["callSessionId"]
        );
    }
}
