//! JSON request bodies: the media type is checked first (415), then the size while reading
//! (413, without buffering more than the limit), then the JSON itself with
//! `parlay_model::from_json` (400 SVC0002 naming the culprit field).

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Request},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use futures::StreamExt;
use http_body::{Frame, SizeHint};
use serde::de::DeserializeOwned;

use crate::{error::ApiError, state::AppState};

/// A request body parsed from JSON into `T`.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > state.max_body_bytes as u64) {
            return Err(ApiError::too_large());
        }
        let bytes = read_limited(request.into_body(), state.max_body_bytes).await?;
        parlay_model::from_json(&bytes)
            .map(JsonBody)
            .map_err(ApiError::request)
    }
}

/// Is the `Content-Type` `application/json` or `application/…+json` (parameters allowed)?
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let subtype = subtype.to_ascii_lowercase();
    kind.eq_ignore_ascii_case("application") && (subtype == "json" || subtype.ends_with("+json"))
}

/// The whole body, or 413 as soon as it grows past `limit`.
pub(crate) async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        // A body that breaks off mid-way is the client's problem, not ours.
        let chunk = chunk.map_err(|_| ApiError::of("SVC0002", ["body"]))?;
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Middleware: a response sent before the request's body was read to its end (413, 415, 401,
/// 408, …) says `Connection: close`.
///
/// The server cannot reuse such a connection: the unread rest of the body is still on it, so
/// hyper closes it after the response. Without the header a client returns the connection to
/// its pool and may send its next request on it just as it closes, and that request fails
/// with no answer (RFC 9112 §9.6).
pub(crate) async fn close_if_unread(request: Request, next: Next) -> Response {
    use http_body::Body as _;
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let request = request.map(|inner| {
        Body::new(Watched {
            inner,
            read: read.clone(),
        })
    });
    let mut response = next.run(request).await;
    if !read.load(Ordering::Acquire) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that notes when it has been read to its end.
struct Watched {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl http_body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn json_media_types_are_recognised() {
        for good in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            "application/vnd.parlay+json",
            "application/problem+json; q=1",
        ] {
            assert!(is_json(&with_type(good)), "{good}");
        }
        for bad in [
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "json",
            "text/json",
            "application/jsonx",
            "",
        ] {
            assert!(!is_json(&with_type(bad)), "{bad}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit() {
        let ok = read_limited(Body::from("x".repeat(10)), 10).await.unwrap();
        assert_eq!(ok.len(), 10);
        let err = read_limited(Body::from("x".repeat(11)), 10)
            .await
            .unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    }
}
