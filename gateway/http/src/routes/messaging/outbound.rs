//! Outbound requests: sending (rows 1, §4.1–§4.2), reading a request back (row 2) and its
//! delivery status (row 3).
//!
//! A send answers `201 Created`, `Location` and `{"resourceReference": {"resourceURL"}}`
//! (the request's URL under the sender it was stored with: `acr:Authorization` resolved,
//! a registration as provisioned). A clientCorrelator retry answers the same, and sends
//! nothing.

use axum::{
    extract::{Request, State},
    response::Response,
};
use parlay_model::{
    common::ResourceReference,
    messaging::{DeliveryInfoListResponse, urls},
};
use parlay_proto::messaging::v1::{self as pb, OutboundRef, SendMessageRequest};

use super::{REQUEST_ID, SENDER, content, convert, service, validate};
use crate::{
    auth::Caller,
    error::ApiError,
    routes::{PathIds, created, ok},
    state::AppState,
    upstream,
};

/// POST `outbound/{senderAddress}/requests`.
pub(super) async fn send(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    request: Request,
) -> Result<Response, ApiError> {
    let path_sender = ids.address(SENDER)?;
    let submitted = content::read(request, &state).await?;
    let message = validate::outbound(&app, &path_sender, submitted, state.max_message_addresses)?;
    let request = SendMessageRequest {
        message: Some(message),
    };
    let reply = upstream::call(&state, &app, service, request, |mut c, r| async move {
        c.send_message(r).await
    })
    .await
    .map_err(|status| ApiError::from_body_status(&status, "address"))?;
    let message = reply
        .message
        .ok_or_else(|| ApiError::internal("SendMessage", "answered without a message"))?;
    let url = urls::request(
        &state.api_root,
        &message.sender_address,
        &message.request_id,
    );
    created(
        &url,
        &ResourceReference {
            resource_url: url.clone(),
        },
    )
}

/// The request `{requestId}` sent from `{senderAddress}` by the caller.
async fn fetch(
    state: &AppState,
    app: &crate::apps::App,
    ids: &PathIds,
) -> Result<pb::OutboundMessage, ApiError> {
    let sender_address = validate::path_sender(app, ids.address(SENDER)?)?;
    let message = OutboundRef {
        sender_address,
        request_id: ids.get(REQUEST_ID)?,
    };
    upstream::call(state, app, service, message, |mut c, r| async move {
        c.get_outbound_request(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, REQUEST_ID))
}

/// GET `outbound/{senderAddress}/requests/{requestId}`: the request in its root
/// (`outboundMessageRequest`, or `outboundSMSMessageRequest` when it came so or
/// form-encoded), with its `deliveryInfoList`.
pub(super) async fn read(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = fetch(&state, &app, &ids).await?;
    Ok(ok(&convert::outbound(&state.api_root, message)))
}

/// GET `outbound/{senderAddress}/requests/{requestId}/deliveryInfos`: `deliveryInfoList`.
pub(super) async fn delivery_infos(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = fetch(&state, &app, &ids).await?;
    Ok(ok(&DeliveryInfoListResponse {
        delivery_info_list: convert::delivery_infos(&state.api_root, &message),
    }))
}
