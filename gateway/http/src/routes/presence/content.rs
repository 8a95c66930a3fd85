//! Content (rows 8–9): a user's images, uploaded as raw bytes for the status icon to point
//! at. PUT answers 201 with `Location` the first time and 204 when it replaced the file,
//! with the file's `ETag`; the body must be `image/jpeg`, `image/png` or `image/gif` (else
//! 403 POL0011 ["contentType"]) and at most `presence.max_content_bytes` (else 413); a
//! file name is 1 to 128 letters, digits, `.`, `-` or `_`, not starting with `.` (else 400
//! SVC0002 ["fileName"], 404 on GET and DELETE).
//!
//! GET serves the bytes to the owner, and to a watcher authorised to see the owner's
//! presence with its own key: the URL's `{userId}` is then the owner, whom the watcher's
//! key need not act for; the viewer is a user the key acts for (its bound user, or the
//! users it names exactly). Anyone else gets 403 POL0002 [owner].

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use parlay_model::{Address, presence::urls};
use parlay_proto::presence::v1 as pb;

use super::{USER, attributes::IMAGE_TYPES, service, user};
use crate::{
    apps::{App, pattern},
    auth::Caller,
    body::read_limited,
    error::ApiError,
    routes::PathIds,
    state::AppState,
    upstream,
    validate::canonical,
};

const FILE: &str = "fileName";

/// A file name a client may choose.
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn file_name(ids: &PathIds) -> Result<String, ApiError> {
    ids.address(FILE)
        .ok()
        .filter(|n| valid_name(n))
        .ok_or_else(|| ApiError::not_found(FILE))
}

/// PUT `content/{fileName}`.
pub(super) async fn write(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    request: Request,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let file = ids
        .address(FILE)
        .ok()
        .filter(|n| valid_name(n))
        .ok_or_else(|| ApiError::of("SVC0002", [FILE]))?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| IMAGE_TYPES.contains(&v.as_str()))
        .ok_or_else(|| ApiError::of("POL0011", ["contentType"]))?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_content_bytes as u64) {
        return Err(ApiError::too_large());
    }
    let data = read_limited(request.into_body(), state.max_content_bytes).await?;
    if data.is_empty() {
        return Err(ApiError::of("SVC0002", ["content"]));
    }
    let message = pb::PutContentRequest {
        user_id,
        file_name: file.clone(),
        content_type,
        data,
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.put_content(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, FILE))?;
    let url = urls::user(&state.api_root, &raw, &["content", &file]);
    let etag = HeaderValue::from_str(&format!("\"{}\"", reply.etag))
        .map_err(|e| ApiError::internal("etag is not a header value", e))?;
    let mut response = if reply.created {
        let location = HeaderValue::from_str(&url)
            .map_err(|e| ApiError::internal("content URL is not a header value", e))?;
        let mut r = StatusCode::CREATED.into_response();
        r.headers_mut().insert(header::LOCATION, location);
        r
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    response.headers_mut().insert(header::ETAG, etag);
    Ok(response)
}

/// The owner of the URL's file, and who asks for it.
fn reader(app: &App, ids: &PathIds) -> Result<(String, Vec<String>), ApiError> {
    let raw = ids.address(USER)?;
    let owner = match Address::parse(&raw) {
        Ok(a) if a.is_acr_authorization() => user(app, ids)?.0,
        Ok(Address::Tel(s) | Address::Sip(s)) => canonical(&s),
        _ => return Err(ApiError::of("POL0002", [raw])),
    };
    let viewers = if app.may_act_for(&owner) {
        vec![owner.clone()]
    } else {
        app.users
            .iter()
            .filter(|p| !pattern::has_glob(p))
            .map(|p| canonical(p))
            .collect()
    };
    Ok((owner, viewers))
}

/// GET `content/{fileName}`: the bytes, with their type and `ETag`.
pub(super) async fn read(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (owner, viewers) = reader(&app, &ids)?;
    if viewers.is_empty() {
        return Err(ApiError::of("POL0002", [owner]));
    }
    let message = pb::ContentRef {
        user_id: owner,
        file_name: file_name(&ids)?,
        viewers,
    };
    let content = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_content(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, FILE))?;
    let mut response = (StatusCode::OK, content.data).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", content.etag)) {
        headers.insert(header::ETAG, v);
    }
    Ok(response)
}

/// DELETE `content/{fileName}`: 204.
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, _) = user(&app, &ids)?;
    let message = pb::ContentRef {
        user_id,
        file_name: file_name(&ids)?,
        viewers: Vec::new(),
    };
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_content(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, FILE))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
