//! The body of `POST …/outbound/{senderAddress}/requests` in its three encodings, read
//! into one shape before validation:
//!
//! | `Content-Type` | root | limit |
//! |---|---|---|
//! | `application/json` (or `…+json`) | `outboundMessageRequest` or `outboundSMSMessageRequest` | `gateway.max_body_bytes` |
//! | `application/x-www-form-urlencoded` | `outboundSMSMessageRequest` (see [`super::form`]) | `gateway.max_body_bytes` |
//! | `multipart/form-data` | `root-fields` part, plus files (see [`super::multipart`]) | `messaging.max_attachment_bytes` + 64 KiB |
//!
//! Anything else is 415. Above its limit a body is 413 without more of it being read:
//! at once when `Content-Length` says so, else as soon as it grows past.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    body::Body,
    extract::{FromRequest, Request},
    http::{HeaderMap, StatusCode, header},
};
use futures::StreamExt;
use parlay_model::{
    RequestError,
    messaging::{OutboundMessageRequestIn, OutboundRequestBody},
};
use parlay_proto::messaging::v1 as pb;
use serde::de::DeserializeOwned;

use super::{form, multipart};
use crate::{
    body::{JsonBody, is_json},
    error::ApiError,
    state::AppState,
};

/// What a multipart body may hold beyond the attachments: the `root-fields` part and the
/// part headers.
pub(super) const ROOT_PART_BYTES: usize = 64 * 1024;

/// An outbound request as received, whatever its encoding.
#[derive(Debug, Default)]
pub(super) struct Submitted {
    /// The root it came with, so it reads back in kind.
    pub root: pb::RequestRoot,
    pub request: OutboundMessageRequestIn,
    /// The files of a multipart request, decoded.
    pub attachments: Vec<pb::Attachment>,
}

impl Submitted {
    /// A request parsed from JSON, with `attachments`.
    pub(super) fn from_json(body: OutboundRequestBody, attachments: Vec<pb::Attachment>) -> Self {
        let (root, request) = match body {
            OutboundRequestBody::Message(m) => (pb::RequestRoot::Message, m),
            OutboundRequestBody::Sms(s) => (pb::RequestRoot::Sms, s.into()),
        };
        Submitted {
            root,
            request,
            attachments,
        }
    }
}

/// The encodings accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Encoding {
    Json,
    Form,
    Multipart,
}

/// The encoding `Content-Type` names, if accepted.
pub(super) fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    if is_json(headers) {
        return Some(Encoding::Json);
    }
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(Encoding::Form)
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        Some(Encoding::Multipart)
    } else {
        None
    }
}

/// Reads and parses the body of an outbound request.
pub(super) async fn read(request: Request, state: &AppState) -> Result<Submitted, ApiError> {
    match encoding(request.headers()) {
        Some(Encoding::Json) => {
            let JsonBody(body) =
                JsonBody::<OutboundRequestBody>::from_request(request, state).await?;
            Ok(Submitted::from_json(body, Vec::new()))
        }
        Some(Encoding::Form) => {
            let bytes = read_all(request, state.max_body_bytes).await?;
            Ok(Submitted {
                root: pb::RequestRoot::Sms,
                request: form::parse(&bytes)?,
                attachments: Vec::new(),
            })
        }
        Some(Encoding::Multipart) => {
            let limit = state.max_attachment_bytes.saturating_add(ROOT_PART_BYTES);
            multipart::read(request, limit, state.max_attachment_bytes).await
        }
        None => Err(ApiError::Exception(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RequestError::service(
                "SVC0001",
                [
                    "Content-Type must be application/json, application/x-www-form-urlencoded or multipart/form-data",
                ],
            ),
        )),
    }
}

/// An optional JSON body: `None` when there is none; otherwise it must be JSON (415) of
/// at most `gateway.max_body_bytes` (413) and parse as `T` (400 SVC0002).
pub(super) async fn optional_json<T: DeserializeOwned>(
    request: Request,
    state: &AppState,
) -> Result<Option<T>, ApiError> {
    let json = is_json(request.headers());
    let bytes = read_all(request, state.max_body_bytes).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !json {
        return Err(ApiError::unsupported_media_type());
    }
    parlay_model::from_json(&bytes)
        .map(Some)
        .map_err(ApiError::request)
}

/// The whole body of `request`, or 413 when it is (or says it is) over `limit`.
pub(super) async fn read_all(request: Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    if declares_more_than(request.headers(), limit) {
        return Err(ApiError::too_large());
    }
    crate::body::read_limited(request.into_body(), limit).await
}

/// Does `Content-Length` announce more than `limit` bytes?
pub(super) fn declares_more_than(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
}

/// `body` cut off after `limit` bytes: the stream then fails, and `exceeded` tells why.
pub(super) fn limited(body: Body, limit: usize, exceeded: Arc<AtomicBool>) -> Body {
    let mut seen = 0usize;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            exceeded.store(true, Ordering::Relaxed);
            return Err(axum::Error::new("request body too large"));
        }
        Ok(chunk)
    });
    Body::from_stream(stream)
}
