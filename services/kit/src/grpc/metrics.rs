//! RED metrics of a gRPC server, as a tower layer on its tonic `Server`:
//!
//! * `parlay_grpc_requests_total{service,method,code}` (counter)
//! * `parlay_grpc_request_duration_seconds{service,method}` (histogram)
//!
//! `service` and `method` come from the request path (`/parlay.call.v1.ThirdPartyCall/
//! CreateCallSession`); `code` is the gRPC status name (`Ok`, `NotFound`, …). A unary call's
//! status is in the response headers when it failed (a trailers-only answer) and `Ok`
//! otherwise. Calls to methods the server does not have count as `unknown`, so a caller
//! cannot grow the label sets.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use tonic::Code;
use tower::{Layer, Service};

/// The layer: `tonic::transport::Server::builder().layer(GrpcMetrics)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetrics;

impl<S> Layer<S> for GrpcMetrics {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Measured<S> {
        Measured { inner }
    }
}

/// A service whose calls are counted and timed.
#[derive(Debug, Clone)]
pub struct Measured<S> {
    inner: S,
}

impl<S, B, RB> Service<http::Request<B>> for Measured<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (service, method) = names(request.uri().path());
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let answer = call.await;
            let code = match &answer {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map_or(Code::Ok, Code::from_i32),
                Err(_) => Code::Internal,
            };
            let (service, method) = if code == Code::Unimplemented {
                (UNKNOWN.to_owned(), UNKNOWN.to_owned())
            } else {
                (service, method)
            };
            metrics::histogram!(
                "parlay_grpc_request_duration_seconds",
                "service" => service.clone(),
                "method" => method.clone(),
            )
            .record(started.elapsed().as_secs_f64());
            metrics::counter!(
                "parlay_grpc_requests_total",
                "service" => service,
                "method" => method,
                "code" => format!("{code:?}"),
            )
            .increment(1);
            answer
        })
    }
}

/// Label of what is not a method the server has.
const UNKNOWN: &str = "unknown";

/// `(service, method)` of a gRPC path; `unknown` for what is not shaped like one.
fn names(path: &str) -> (String, String) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    match (parts.next(), parts.next()) {
        (Some(service), Some(method))
            if !service.is_empty()
                && !method.is_empty()
                && !method.contains('/')
                && service.len() + method.len() <= 128 =>
        {
            (service.to_owned(), method.to_owned())
        }
        _ => (UNKNOWN.to_owned(), UNKNOWN.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn paths_give_service_and_method() {
        assert_eq!(
            names("/parlay.call.v1.ThirdPartyCall/CreateCallSession"),
            (
                "parlay.call.v1.ThirdPartyCall".into(),
                "CreateCallSession".into()
            )
        );
        for odd in ["/", "", "/a", "/a/b/c", "//m"] {
            assert_eq!(names(odd), ("unknown".into(), "unknown".into()), "{odd}");
        }
    }
}
