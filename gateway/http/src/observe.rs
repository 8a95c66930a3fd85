//! Request tracing and metrics: one span per request (method, route template, status),
//! joined to the caller's trace when it sends a W3C `traceparent`, and two metrics:
//!
//! * `parlay_http_requests_total{route,method,status}` (counter)
//! * `parlay_http_request_duration_seconds{route,method}` (histogram)
//!
//! Labels stay bounded: the route is the template (`/1/thirdpartycall/callSessions/{callSessionId}`)
//! or `unmatched`, and methods outside the standard set count as `OTHER`.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// Route label of requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// Middleware: runs the request inside its span and records the metrics.
pub(crate) async fn trace_and_measure(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned());
    let span = tracing::info_span!(
        "http_request",
        http.method = method,
        http.route = %route,
        http.status = tracing::field::Empty,
    );
    let traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok());
    parlay_kit::telemetry::set_remote_parent(&span, traceparent);

    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    span.record("http.status", status);
    span.in_scope(|| tracing::debug!(status, elapsed, "request served"));

    metrics::counter!(
        "parlay_http_requests_total",
        "route" => route.clone(),
        "method" => method,
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(
        "parlay_http_request_duration_seconds",
        "route" => route,
        "method" => method,
    )
    .record(elapsed);
    response
}

/// The method as a metric label; anything unusual is `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_become_bounded_labels() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        assert_eq!(method_label(&Method::CONNECT), "CONNECT");
        let custom = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&custom), "OTHER");
    }
}
