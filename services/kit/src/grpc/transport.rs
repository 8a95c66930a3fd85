//! What a gRPC client's calls travel over. Distributed, a channel to the service's replicas
//! over the network ([`connect`]). Embedded (`parlay up`), where the client and the service
//! share one process, the service's own routes called directly ([`in_process`]): the same
//! messages, encoded and decoded by the same codecs, through the same generated server and
//! the same metrics, but without HTTP/2 framing, a loopback socket, and the channel's worker
//! task between the two ends. Deadlines keep their meaning: a call dropped at its deadline
//! drops the handler with it, as a reset HTTP/2 stream cancels it on a remote server.

use std::{convert::Infallible, time::Duration};

use tonic::{
    body::Body,
    service::Routes,
    transport::{Channel, Error},
};
use tower::{Layer, ServiceExt, util::BoxCloneSyncService};

use super::GrpcMetrics;

/// The transport of every gRPC client of the suite (`FooClient<Transport>`). Its error is
/// the channel's, which the client turns into a status as before (a refused connection is
/// `Unavailable`); in process there is none.
pub type Transport = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Error>;

/// How long dialling a service may take before the call fails as unavailable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A lazily dialled transport to the service at `urls`: one URL, or replicas separated by
/// commas and balanced while healthy ([`super::channel::connect`]).
pub fn connect(urls: &str) -> Result<Transport, Error> {
    Ok(over(super::channel::connect(urls, CONNECT_TIMEOUT)?))
}

/// A transport over `channel`.
pub fn over(channel: Channel) -> Transport {
    BoxCloneSyncService::new(channel)
}

/// A transport straight into `routes`, the services of this process, measured as their
/// gRPC server measures the calls it serves ([`GrpcMetrics`]).
pub fn in_process(routes: Routes) -> Transport {
    let measured = GrpcMetrics.layer(routes.prepare());
    BoxCloneSyncService::new(ServiceExt::<http::Request<Body>>::map_err(
        measured,
        |never: Infallible| -> Error { match never {} },
    ))
}

#[cfg(test)]
mod tests {
    use tonic::{Code, service::Routes};
    use tonic_health::{
        ServingStatus,
        pb::{HealthCheckRequest, health_check_response, health_client::HealthClient},
    };

    use super::in_process;

    fn check(service: &str) -> HealthCheckRequest {
        HealthCheckRequest {
            service: service.to_owned(),
        }
    }

    #[tokio::test]
    async fn a_call_in_process_reaches_the_service_and_its_errors_come_back_as_statuses() {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("parlay.test.v1.Served", ServingStatus::Serving)
            .await;
        let mut client = HealthClient::new(in_process(Routes::new(health)));

        let answer = client
            .check(check("parlay.test.v1.Served"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            answer.status(),
            health_check_response::ServingStatus::Serving
        );
        let unknown = client
            .check(check("parlay.test.v1.Other"))
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
    }

    #[tokio::test]
    async fn a_method_the_process_does_not_serve_is_unimplemented() {
        // The routes hold no health service: the call finds no route.
        let mut client = HealthClient::new(in_process(Routes::default()));
        let missing = client.check(check("")).await.unwrap_err();
        assert_eq!(missing.code(), Code::Unimplemented);
    }
}
