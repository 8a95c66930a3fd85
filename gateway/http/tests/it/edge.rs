//! What the gateway answers on its own, before (or instead of) any service call.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use parlay_gateway::apps;
use serde_json::json;

use crate::helpers::{NOWHERE, harness};

const SESSIONS: &str = "/1/thirdpartycall/callSessions";
const VALID: &str = r#"{"callSessionInformation": {"participant": [
    {"participantAddress": "tel:+15551230001"}, {"participantAddress": "tel:+15551230002"}]}}"#;

#[tokio::test]
async fn requests_without_a_valid_key_get_401() {
    let h = harness(&[], NOWHERE).await;
    for auth in [
        None,
        Some("Bearer prl_unknown"),
        Some("Basic dXNlcjpwdw=="),
        Some("Bearer "),
    ] {
        let mut builder = Request::builder()
            .method(Method::GET)
            .uri(format!("{SESSIONS}/cs7f31"));
        if let Some(auth) = auth {
            builder = builder.header(header::AUTHORIZATION, auth);
        }
        let reply = h.send(builder.body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            reply.header(header::WWW_AUTHENTICATE),
            "Bearer realm=\"parlay\""
        );
        assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
        assert!(reply.body["requestError"]["policyException"].is_object());
        assert_eq!(
            reply.exception(),
            ("POL0001".into(), json!(["missing or invalid access token"]))
        );
    }
}

#[tokio::test]
async fn a_key_stored_after_a_failed_attempt_works_at_once() {
    use sea_orm::ConnectionTrait;
    use sha2::{Digest, Sha256};

    let mut h = harness(&[], NOWHERE).await;
    h.key = "prl_storedbyanotherprocess".into();
    assert_eq!(
        h.call(Method::GET, "/1/nowhere", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // `parlay apps create` in another process stores the key now; failures are never cached.
    let hash = hex::encode(Sha256::digest(h.key.as_bytes()));
    h.db.execute_unprepared(&format!(
        "INSERT INTO apps (id, name, key_hash, users, created_at) \
         VALUES ('applater', 'later', '{hash}', '[]', '2026-01-01T00:00:00Z')"
    ))
    .await
    .unwrap();
    assert_eq!(
        h.call(Method::GET, "/1/nowhere", None).await.status,
        StatusCode::NOT_FOUND
    );
    // A key made by `apps::create` works too.
    let (_, key) = apps::create(&h.db, "another", vec![]).await.unwrap();
    h.key = key;
    assert_eq!(
        h.call(Method::GET, "/1/nowhere", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let h = harness(&[], NOWHERE).await;
    let cases = [
        (Method::GET, SESSIONS.to_string(), "POST"),
        (Method::PUT, format!("{SESSIONS}/cs7f31"), "GET, DELETE"),
        (Method::POST, format!("{SESSIONS}/cs7f31"), "GET, DELETE"),
        (
            Method::DELETE,
            format!("{SESSIONS}/cs7f31/participants"),
            "GET, POST",
        ),
        (
            Method::PATCH,
            format!("{SESSIONS}/cs7f31/participants/p1"),
            "GET, DELETE",
        ),
    ];
    for (method, path, allow) in cases {
        let reply = h.call(method.clone(), &path, Some("{}")).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.header(header::ALLOW), allow);
        assert_eq!(
            reply.exception(),
            (
                "SVC0001".into(),
                json!([format!("{method} not supported on this resource")])
            )
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_implausible_ids_get_404() {
    let h = harness(&[], NOWHERE).await;
    for path in [
        "/1/thirdpartycall",
        "/2/thirdpartycall/callSessions",
        "/1/thirdpartycall/callSessions/",
        "/",
    ] {
        let reply = h.call(Method::GET, path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.exception(), ("SVC0002".into(), json!(["resource"])));
    }
    let reply = h
        .call(Method::GET, &format!("{SESSIONS}/a%2Fb"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.exception(),
        ("SVC0002".into(), json!(["callSessionId"]))
    );
    let reply = h
        .call(
            Method::DELETE,
            &format!("{SESSIONS}/cs7f31/participants/x"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.exception(),
        ("SVC0002".into(), json!(["participantId"]))
    );
}

#[tokio::test]
async fn bodies_must_be_json() {
    let h = harness(&[], NOWHERE).await;
    for content_type in [None, Some("text/plain"), Some("application/xml")] {
        let mut request = h.request(Method::POST, SESSIONS, None);
        *request.body_mut() = Body::from(VALID);
        if let Some(t) = content_type {
            request
                .headers_mut()
                .insert(header::CONTENT_TYPE, t.parse().unwrap());
        }
        let reply = h.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            reply.exception(),
            (
                "SVC0001".into(),
                json!(["Content-Type must be application/json"])
            )
        );
    }
}

#[tokio::test]
async fn large_bodies_get_413() {
    let h = harness(&[], NOWHERE).await;
    let big = format!(
        r#"{{"callSessionInformation": {{"clientCorrelator": "{}"}}}}"#,
        "x".repeat(2000)
    );
    let mut request = h.request(Method::POST, SESSIONS, Some(&big));
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, big.len().into());
    let declared = h.send(request).await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        declared.exception(),
        ("SVC0001".into(), json!(["request body too large"]))
    );

    // Without Content-Length, the limit is enforced while reading.
    let undeclared = h.call(Method::POST, SESSIONS, Some(&big)).await;
    assert_eq!(undeclared.status, StatusCode::PAYLOAD_TOO_LARGE);
    let chunks: Vec<Result<String, std::io::Error>> = (0..4).map(|_| Ok("x".repeat(400))).collect();
    let mut request = h.request(Method::POST, SESSIONS, Some(""));
    *request.body_mut() = Body::from_stream(futures::stream::iter(chunks));
    let streamed = h.send(request).await;
    assert_eq!(streamed.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn malformed_json_gets_400_svc0002() {
    let h = harness(&[], NOWHERE).await;
    let cases = [
        ("{not json", "body"),
        ("", "body"),
        (
            r#"{"callSessionInformation": {"participant": []}} trailing"#,
            "body",
        ),
        (
            r#"{"callSessionInformation": {"participant": [], "resourceURL": "x"}}"#,
            "resourceURL",
        ),
        (r#"{"callSession": {}}"#, "callSession"),
        (r#"{"callSessionInformation": {}}"#, "participant"),
    ];
    for (body, variable) in cases {
        let reply = h.call(Method::POST, SESSIONS, Some(body)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            reply.exception(),
            ("SVC0002".into(), json!([variable])),
            "{body}"
        );
    }
}

#[tokio::test]
async fn invalid_requests_never_reach_the_service() {
    // The service is unreachable: any call would be a 503.
    let h = harness(&["tel:+1555*"], NOWHERE).await;
    let cases = [
        (
            r#"{"callSessionInformation": {"participant": []}}"#,
            400,
            "SVC0004",
            json!(["participant"]),
        ),
        (
            r#"{"callSessionInformation": {"participant": [{"participantAddress": "acr:Authorization"}]}}"#,
            403,
            "POL0002",
            json!(["acr:Authorization"]),
        ),
        (
            r#"{"callSessionInformation": {"participant": {"participantAddress": "tel:+4930123"}}}"#,
            403,
            "POL0002",
            json!(["tel:+4930123"]),
        ),
    ];
    for (body, status, id, variables) in cases {
        let reply = h.call(Method::POST, SESSIONS, Some(body)).await;
        assert_eq!(reply.status.as_u16(), status, "{body}");
        assert_eq!(reply.exception(), (id.into(), variables));
    }
    let add = r#"{"callParticipantInformation": {"participantAddress": "acr:someone"}}"#;
    let reply = h
        .call(
            Method::POST,
            &format!("{SESSIONS}/cs7f31/participants"),
            Some(add),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.exception(),
        ("SVC0004".into(), json!(["participantAddress"]))
    );
}

#[tokio::test]
async fn an_unreachable_service_gets_503_with_retry_after() {
    let h = harness(&[], NOWHERE).await;
    let mut request = h.request(Method::POST, SESSIONS, Some(VALID));
    request.headers_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    let reply = h.send(request).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.header(header::RETRY_AFTER), "1");
    assert_eq!(
        reply.exception(),
        ("SVC0001".into(), json!(["service temporarily unavailable"]))
    );
}
