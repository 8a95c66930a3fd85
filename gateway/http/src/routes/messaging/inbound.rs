//! Received messages of a registration (rows 7–12): polled in batches, fetched one by one
//! as JSON or `multipart/mixed`, deleted; their attachments fetched as raw bytes and
//! deleted; and the NetAPI retrieve-and-delete.
//!
//! Every route first checks that `{registrationId}` is one of the caller's registrations
//! (404 SVC0002 ["registrationId"] otherwise), so no other application's message is ever
//! asked for.

use axum::{
    body::Bytes,
    extract::{RawQuery, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use parlay_model::messaging::{
    InboundMessageListResponse, InboundMessageResponse, InboundMessageRetrieveAndDeleteBody,
};
use parlay_proto::messaging::v1::{
    self as pb, AttachmentRef, InboundMessageRef, ListInboundRequest, RetrieveAndDeleteRequest,
};

use super::{
    ATTACHMENT_ID, MESSAGE_ID, REGISTRATION, content, convert,
    multipart::{self, Part},
    registration, service, validate,
};
use crate::{
    apps::App,
    auth::Caller,
    error::ApiError,
    routes::{PathIds, ok},
    state::AppState,
    upstream,
};

/// GET `inbound/registrations/{registrationId}/messages[?maxBatchSize=n]`: the oldest
/// pending messages, at most `n` (the service caps it at `messaging.max_batch_size`).
pub(super) async fn list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let registration_id = registration(&app, &ids)?;
    let max_batch_size = validate::max_batch_size(query.as_deref())?;
    let message = ListInboundRequest {
        registration_id: registration_id.clone(),
        max_batch_size,
    };
    let list = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.list_inbound_messages(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, REGISTRATION))?;
    Ok(ok(&InboundMessageListResponse {
        inbound_message_list: convert::message_list(&state.api_root, &registration_id, list),
    }))
}

/// POST `…/messages/retrieveAndDeleteMessages`, with an optional
/// `inboundMessageRetrieveAndDeleteRequest`: a batch, deleted as it is answered.
pub(super) async fn retrieve_and_delete(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    request: Request,
) -> Result<Response, ApiError> {
    let registration_id = registration(&app, &ids)?;
    let body =
        content::optional_json::<InboundMessageRetrieveAndDeleteBody>(request, &state).await?;
    let (max_batch_size, newest_first) = validate::retrieve_and_delete(body)?;
    let message = RetrieveAndDeleteRequest {
        registration_id: registration_id.clone(),
        max_batch_size,
        newest_first,
    };
    let list = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.retrieve_and_delete_messages(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, REGISTRATION))?;
    Ok(ok(&InboundMessageListResponse {
        inbound_message_list: convert::message_list(&state.api_root, &registration_id, list),
    }))
}

fn message_ref(app: &App, ids: &PathIds) -> Result<InboundMessageRef, ApiError> {
    Ok(InboundMessageRef {
        registration_id: registration(app, ids)?,
        message_id: ids.get(MESSAGE_ID)?,
    })
}

/// GET `…/messages/{messageId}`: `{"inboundMessage": …}`, or, when the client's `Accept`
/// prefers `multipart/mixed`, a `root-fields` JSON part followed by one part per
/// attachment (named by its id, with its file name and type).
pub(super) async fn read(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let reference = message_ref(&app, &ids)?;
    let m = upstream::call(
        &state,
        &app,
        service,
        reference.clone(),
        |mut c, r| async move { c.get_inbound_message(r).await },
    )
    .await
    .map_err(|status| ApiError::from_status(&status, MESSAGE_ID))?;
    let attachments: Vec<pb::AttachmentInfo> = match &m.content {
        Some(pb::inbound_message::Content::Mms(mms)) => mms.attachments.clone(),
        _ => Vec::new(),
    };
    let body = InboundMessageResponse {
        inbound_message: convert::message(&state.api_root, &reference.registration_id, m),
    };
    if !multipart::prefers_mixed(&headers) {
        return Ok(ok(&body));
    }
    let root = serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal("cannot render an inbound message", e))?;
    let mut parts = vec![Part {
        name: "root-fields".into(),
        file_name: None,
        content_type: "application/json".into(),
        data: root,
    }];
    for info in attachments {
        let content = fetch_attachment(&state, &app, &reference, &info.attachment_id).await?;
        parts.push(Part {
            name: info.attachment_id,
            file_name: Some(info.name).filter(|n| !n.is_empty()),
            content_type: info.content_type,
            data: content.data,
        });
    }
    let (boundary, bytes) = multipart::mixed(&parts);
    let content_type = HeaderValue::from_str(&format!("multipart/mixed; boundary={boundary}"))
        .map_err(|e| ApiError::internal("multipart boundary is not a header value", e))?;
    Ok(([(header::CONTENT_TYPE, content_type)], Bytes::from(bytes)).into_response())
}

/// DELETE `…/messages/{messageId}`: 204, its attachments with it.
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let reference = message_ref(&app, &ids)?;
    upstream::call(&state, &app, service, reference, |mut c, r| async move {
        c.delete_inbound_message(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, MESSAGE_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn fetch_attachment(
    state: &AppState,
    app: &App,
    message: &InboundMessageRef,
    attachment_id: &str,
) -> Result<pb::AttachmentContent, ApiError> {
    let reference = AttachmentRef {
        registration_id: message.registration_id.clone(),
        message_id: message.message_id.clone(),
        attachment_id: attachment_id.to_owned(),
    };
    upstream::call(state, app, service, reference, |mut c, r| async move {
        c.get_attachment(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, ATTACHMENT_ID))
}

/// GET `…/messages/{messageId}/attachments/{attachmentId}`: the bytes with their
/// `Content-Type` (`application/octet-stream` when the stored one is unusable) and
/// `Content-Length`.
pub(super) async fn attachment(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = message_ref(&app, &ids)?;
    let content = fetch_attachment(&state, &app, &message, &ids.key(ATTACHMENT_ID)?).await?;
    let content_type = content
        .info
        .as_ref()
        .and_then(|i| HeaderValue::from_str(i.content_type.trim()).ok())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        Bytes::from(content.data),
    )
        .into_response())
}

/// DELETE `…/messages/{messageId}/attachments/{attachmentId}`: 204.
pub(super) async fn delete_attachment(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = message_ref(&app, &ids)?;
    let reference = AttachmentRef {
        registration_id: message.registration_id,
        message_id: message.message_id,
        attachment_id: ids.key(ATTACHMENT_ID)?,
    };
    upstream::call(&state, &app, service, reference, |mut c, r| async move {
        c.delete_attachment(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, ATTACHMENT_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
