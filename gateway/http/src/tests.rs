//! The router as a whole: the whole-request timeout, `Connection: close` after an unread body.

use std::{convert::Infallible, time::Duration};

use axum::{
    Router,
    body::{Body, Bytes, to_bytes},
    http::{Method, Request, StatusCode, header},
};
use futures::{StreamExt, stream};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::*;
use crate::apps::tests::TempDb;

/// How long a request may take in these tests.
const TIMEOUT: Duration = Duration::from_millis(200);

/// A router with one unrestricted application and [`TIMEOUT`]; its key.
async fn timed_router(t: &TempDb) -> (Router, String) {
    let config = parlay_kit::Config {
        public_url: Some("http://api.example.com/exampleAPI".into()),
        ..Default::default()
    };
    let (_, key) = apps::create(&t.db, "test app", vec![]).await.unwrap();
    // Nothing listens there: no request here gets as far as a service.
    let upstreams = Upstreams::connect_lazy("http://127.0.0.1:1", "http://127.0.0.1:1").unwrap();
    (router_with(&config, t.db.clone(), upstreams, TIMEOUT), key)
}

/// Sends `request`, giving up (and failing) long after [`TIMEOUT`].
async fn send(router: &Router, request: Request<Body>) -> (StatusCode, header::HeaderMap, Value) {
    let response = tokio::time::timeout(Duration::from_secs(10), router.clone().oneshot(request))
        .await
        .expect("the request was not cut off")
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_trickled_body_gets_408_with_a_request_error() {
    let t = TempDb::new().await;
    let (router, key) = timed_router(&t).await;
    // The start of a body, then nothing more, ever.
    let first: Result<Bytes, Infallible> =
        Ok(Bytes::from_static(br#"{"callSessionInformation": "#));
    let trickle = stream::iter([first]).chain(stream::pending());
    let request = create(&key, "application/json", Body::from_stream(trickle));

    let started = std::time::Instant::now();
    let (status, headers, body) = send(&router, request).await;
    assert!(started.elapsed() >= TIMEOUT, "{:?}", started.elapsed());
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let e = &body["requestError"]["serviceException"];
    assert_eq!(e["messageId"], "SVC0001", "{body}");
    assert_eq!(e["variables"], json!(["request timeout"]));
    assert_eq!(
        headers[header::CONNECTION],
        "close",
        "the body is still unread"
    );
}

/// A POST of `body` as `content_type` to the call sessions, with `key`.
fn create(key: &str, content_type: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/1/thirdpartycall/callSessions")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .unwrap()
}

/// [`create`] with `body`, answered without a service.
async fn post_body(content_type: &str, body: &'static str) -> (StatusCode, header::HeaderMap) {
    let t = TempDb::new().await;
    let (router, key) = timed_router(&t).await;
    let (status, headers, _) = send(&router, create(&key, content_type, Body::from(body))).await;
    (status, headers)
}

#[tokio::test]
async fn an_answer_before_the_body_was_read_closes_the_connection() {
    let (status, headers) = post_body("text/plain", "not json").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(headers[header::CONNECTION], "close");
    // Read to its end: the connection can carry the next request.
    let (status, headers) = post_body("application/json", r#"{"nothing": 1}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::CONNECTION).is_none(), "{headers:?}");
}

#[tokio::test]
async fn requests_answered_in_time_are_untouched() {
    let t = TempDb::new().await;
    let (router, key) = timed_router(&t).await;
    let request = Request::builder()
        .method(Method::GET)
        .uri("/1/nowhere")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        body["requestError"]["serviceException"]["variables"],
        json!(["resource"])
    );
    assert!(headers.get(header::CONNECTION).is_none(), "no body to read");
}
