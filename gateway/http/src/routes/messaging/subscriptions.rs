//! Inbound-message subscriptions (rows 13–14, §4.7): created with `201`, `Location` and the
//! `subscription` echoed with its `resourceURL` and granted `duration`; listed as
//! `{"subscriptionList": {"subscription": […]}}`; read; deleted.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use parlay_model::messaging::{
    InboundSubscriptionList, InboundSubscriptionListResponse, InboundSubscriptionRequest,
    InboundSubscriptionResponse,
};
use parlay_proto::messaging::v1::{
    CreateInboundSubscriptionRequest, InboundSubscriptionRef, ListInboundSubscriptionsRequest,
};

use super::{SUBSCRIPTION_ID, convert, service, validate};
use crate::{
    auth::Caller,
    body::JsonBody,
    error::ApiError,
    routes::{PathIds, created, ok},
    state::AppState,
    upstream,
};

/// POST `inbound/subscriptions`.
pub(super) async fn create(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<InboundSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let subscription = validate::subscription(&app, body.subscription)?;
    let message = CreateInboundSubscriptionRequest {
        subscription: Some(subscription),
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.create_inbound_subscription(r).await
    })
    .await
    .map_err(|status| ApiError::from_body_status(&status, "destinationAddress"))?;
    let subscription = reply.subscription.ok_or_else(|| {
        ApiError::internal(
            "CreateInboundSubscription",
            "answered without a subscription",
        )
    })?;
    let subscription = convert::subscription(&state.api_root, subscription);
    created(
        &subscription.resource_url.clone(),
        &InboundSubscriptionResponse { subscription },
    )
}

/// GET `inbound/subscriptions`: the caller's live subscriptions.
pub(super) async fn list(
    State(state): State<AppState>,
    Caller(app): Caller,
) -> Result<Response, ApiError> {
    let reply = upstream::call(
        &state,
        &app,
        service,
        ListInboundSubscriptionsRequest {},
        |mut c, r| async move { c.list_inbound_subscriptions(r).await },
    )
    .await
    .map_err(|status| ApiError::from_status(&status, SUBSCRIPTION_ID))?;
    let subscription = reply
        .subscriptions
        .into_iter()
        .map(|s| convert::subscription(&state.api_root, s))
        .collect();
    Ok(ok(&InboundSubscriptionListResponse {
        subscription_list: InboundSubscriptionList { subscription },
    }))
}

fn subscription_ref(ids: &PathIds) -> Result<InboundSubscriptionRef, ApiError> {
    Ok(InboundSubscriptionRef {
        subscription_id: ids.get(SUBSCRIPTION_ID)?,
    })
}

/// GET `inbound/subscriptions/{subscriptionId}`.
pub(super) async fn read(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = subscription_ref(&ids)?;
    let subscription = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_inbound_subscription(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, SUBSCRIPTION_ID))?;
    Ok(ok(&InboundSubscriptionResponse {
        subscription: convert::subscription(&state.api_root, subscription),
    }))
}

/// DELETE `inbound/subscriptions/{subscriptionId}`: 204.
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = subscription_ref(&ids)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_inbound_subscription(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, SUBSCRIPTION_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
