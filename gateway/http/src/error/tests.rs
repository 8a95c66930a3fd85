//! The status table and the shape of every error response.

use axum::body::to_bytes;
use parlay_kit::grpc;
use serde_json::{Value, json};

use super::*;

async fn render(error: ApiError) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = error.into_response();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

fn exception(body: &Value) -> (&str, &Value) {
    let error = &body["requestError"];
    match (error.get("serviceException"), error.get("policyException")) {
        (Some(e), None) => ("service", e),
        (None, Some(e)) => ("policy", e),
        _ => panic!("not a requestError: {body}"),
    }
}

#[tokio::test]
async fn service_exceptions_are_400_and_policy_exceptions_403() {
    let (status, headers, body) = render(ApiError::from_status(
        &grpc::exception("SVC0261", ["cs1"]),
        "callSessionId",
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let (kind, e) = exception(&body);
    assert_eq!(kind, "service");
    assert_eq!(e["messageId"], "SVC0261");
    assert_eq!(e["variables"], json!(["cs1"]));
    assert!(e["text"].as_str().unwrap().contains("%1"));

    let (status, _, body) = render(ApiError::from_status(
        &grpc::exception("POL0003", ["participant"]),
        "callSessionId",
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (kind, e) = exception(&body);
    assert_eq!(kind, "policy");
    assert_eq!(e["messageId"], "POL0003");
    assert_eq!(e["variables"], json!(["participant"]));
}

#[tokio::test]
async fn not_found_names_the_path_id_unless_the_service_says_more() {
    let (status, _, body) = render(ApiError::from_status(
        &Status::not_found("call session not found"),
        "callSessionId",
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, e) = exception(&body);
    assert_eq!(e["messageId"], "SVC0002");
    assert_eq!(e["variables"], json!(["callSessionId"]));

    let with_details = Status::with_details(
        Code::NotFound,
        "gone",
        prost::Message::encode_to_vec(&parlay_proto::common::v1::Exception {
            message_id: "SVC0002".into(),
            variables: vec!["participantId".into()],
        })
        .into(),
    );
    let (status, _, body) = render(ApiError::from_status(&with_details, "callSessionId")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(exception(&body).1["variables"], json!(["participantId"]));
}

#[tokio::test]
async fn unavailable_and_deadline_are_503_with_retry_after() {
    for status in [
        Status::unavailable("connection refused to 10.0.0.7"),
        Status::deadline_exceeded("upstream timeout"),
    ] {
        let (code, headers, body) = render(ApiError::from_status(&status, "x")).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers[header::RETRY_AFTER], "1");
        let (_, e) = exception(&body);
        assert_eq!(e["messageId"], "SVC0001");
        assert_eq!(e["variables"], json!(["service temporarily unavailable"]));
        assert!(!body.to_string().contains("10.0.0.7"));
    }
}

#[tokio::test]
async fn everything_else_is_500_without_details() {
    for status in [
        Status::internal("db exploded at /var/lib/secret"),
        Status::unauthenticated("missing x-parlay-app"),
        Status::invalid_argument("no exception attached"),
        Status::unknown("?"),
    ] {
        let (code, _, body) = render(ApiError::from_status(&status, "x")).await;
        assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
        let (_, e) = exception(&body);
        assert_eq!(e["messageId"], "SVC0001");
        assert_eq!(e["variables"], json!(["internal error"]));
        assert!(!body.to_string().contains("secret"));
    }
}

#[tokio::test]
async fn edge_errors_have_their_headers_and_bodies() {
    let (status, headers, body) = render(ApiError::Unauthorized).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer realm=\"parlay\"");
    let (kind, e) = exception(&body);
    assert_eq!((kind, &e["messageId"]), ("policy", &json!("POL0001")));
    assert_eq!(e["variables"], json!(["missing or invalid access token"]));

    let (status, headers, body) = render(ApiError::MethodNotAllowed {
        method: Method::PUT,
        allow: "GET, DELETE",
    })
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "GET, DELETE");
    assert_eq!(
        exception(&body).1["variables"],
        json!(["PUT not supported on this resource"])
    );

    let (status, _, body) = render(ApiError::unsupported_media_type()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        exception(&body).1["variables"],
        json!(["Content-Type must be application/json"])
    );

    let (status, _, body) = render(ApiError::too_large()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        exception(&body).1["variables"],
        json!(["request body too large"])
    );
}

#[tokio::test]
async fn call_notification_and_audio_call_ids_map_to_their_statuses() {
    for (id, variable, expected, kind) in [
        ("SVC0008", "Busy", StatusCode::BAD_REQUEST, "service"),
        ("SVC0261", "cs1", StatusCode::BAD_REQUEST, "service"),
        ("POL0011", "audio/flac", StatusCode::FORBIDDEN, "policy"),
    ] {
        let (status, _, body) = render(ApiError::from_status(
            &grpc::exception(id, [variable]),
            "messageId",
        ))
        .await;
        assert_eq!(status, expected, "{id}");
        let (k, e) = exception(&body);
        assert_eq!(k, kind);
        assert_eq!(e["messageId"], id);
        assert_eq!(e["variables"], json!([variable]));
    }
}

#[tokio::test]
async fn not_found_on_a_create_is_about_the_body() {
    let (status, _, body) = render(ApiError::from_body_status(
        &Status::not_found("no session"),
        "callSessionIdentifier",
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        exception(&body).1["variables"],
        json!(["callSessionIdentifier"])
    );

    let (status, _, body) = render(ApiError::from_body_status(
        &grpc::not_found("callSessionIdentifier"),
        "address",
    ))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        exception(&body).1["variables"],
        json!(["callSessionIdentifier"])
    );

    let (status, _, _) = render(ApiError::from_body_status(
        &grpc::exception("POL0011", ["audio/flac"]),
        "callSessionIdentifier",
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = render(ApiError::from_body_status(
        &Status::unavailable("down"),
        "callSessionIdentifier",
    ))
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_call_cut_off_by_a_dying_replica_is_503_but_a_services_own_unknown_is_500() {
    let cut = tonic::Status::from_error(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset",
    )));
    assert_eq!(cut.code(), tonic::Code::Unknown);
    for status in [cut, tonic::Status::cancelled("stream reset")] {
        let (code, headers, _) = render(ApiError::from_status(&status, "id")).await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{status:?}");
        assert_eq!(headers[header::RETRY_AFTER], "1");
    }
    let (code, _, _) = render(ApiError::from_status(&tonic::Status::unknown("bug"), "id")).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
}
