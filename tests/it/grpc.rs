//! The gRPC listeners as an operator's tools see them: gRPC health reports each API, and
//! server reflection (when `grpc_reflection` is on) lists exactly the APIs served there and
//! hands out their descriptors; off, reflection is unimplemented.

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

use crate::harness::{test_config, unique};

/// Starts the embedded suite; returns the call service's gRPC URL, the token stopping it,
/// and its data directory.
async fn suite(reflection: bool) -> (String, CancellationToken, std::path::PathBuf) {
    crate::harness::init();
    let mut config = test_config();
    config.data_dir = std::env::temp_dir().join(unique("parlay-grpc-"));
    config.grpc_reflection = reflection;
    config.grpc_max_connection_age_secs = 30;
    let shutdown = CancellationToken::new();
    let served = parlay::up(config.clone(), shutdown.clone()).await.unwrap();
    let url = format!(
        "http://{}",
        served.grpc.expect("the call service serves gRPC")
    );
    // Dropping `Served` aborts its tasks: keep it running until the token is cancelled.
    tokio::spawn(async move { served.join().await });
    (url, shutdown, config.data_dir)
}

async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// One reflection request; the first answer.
async fn reflect(url: &str, request: MessageRequest) -> Result<MessageResponse, tonic::Status> {
    let mut client = ServerReflectionClient::new(channel(url).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([request]))
        .await?
        .into_inner();
    let answer = answers.next().await.expect("one answer")?;
    Ok(answer.message_response.expect("a response"))
}

#[tokio::test]
async fn reflection_lists_the_apis_served_and_their_descriptors() {
    let (url, shutdown, dir) = suite(true).await;
    let Ok(MessageResponse::ListServicesResponse(list)) =
        reflect(&url, MessageRequest::ListServices(String::new())).await
    else {
        panic!("no service list");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "parlay.call.v1.AudioCall",
            "parlay.call.v1.CallNotification",
            "parlay.call.v1.ThirdPartyCall",
        ]
    );
    // A client can fetch a service's file (and what it imports) to call it.
    match reflect(
        &url,
        MessageRequest::FileContainingSymbol("parlay.call.v1.ThirdPartyCall".into()),
    )
    .await
    {
        Ok(MessageResponse::FileDescriptorResponse(files)) => {
            assert!(!files.file_descriptor_proto.is_empty())
        }
        other => panic!("no descriptor: {other:?}"),
    }

    // Health reports each API as serving.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel(&url).await);
    for service in ["parlay.call.v1.ThirdPartyCall", "parlay.call.v1.AudioCall"] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving
        );
    }
    shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn reflection_is_off_unless_configured() {
    let (url, shutdown, dir) = suite(false).await;
    let refused = reflect(&url, MessageRequest::ListServices(String::new()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unimplemented);
    shutdown.cancel();
    let _ = std::fs::remove_dir_all(dir);
}
