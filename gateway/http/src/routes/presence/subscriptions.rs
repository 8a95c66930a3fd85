//! Watchers subscriptions (rows 13–14) and presence-list subscriptions (rows 16–17):
//! created with 201, `Location` and the subscription echoed with its `resourceURL` and
//! granted `duration`; read; deleted (204). Each belongs to the application that made it.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use parlay_model::presence::{
    PresenceListSubscriptionBody, PresenceListSubscriptionList, PresenceListSubscriptionListBody,
    PresenceSubscription, WatchersSubscriptionBody, urls,
};
use parlay_proto::presence::v1 as pb;

use super::{LIST, SUBSCRIPTION_ID, list_id, service, user};
use crate::{
    apps::App,
    auth::Caller,
    body::JsonBody,
    error::ApiError,
    routes::{PathIds, created, ok},
    state::AppState,
    upstream,
    validate::{callback, client_correlator, duration},
};

fn json(url: String, s: pb::Subscription) -> PresenceSubscription {
    let callback = s.callback.unwrap_or_default();
    PresenceSubscription {
        callback_reference: parlay_model::common::CallbackReference {
            notify_url: callback.notify_url,
            callback_data: callback.callback_data,
            notification_format: None,
        },
        duration: Some(i64::from(s.duration_secs)),
        client_correlator: s.client_correlator,
        resource_url: Some(url),
    }
}

fn create_request(
    user_id: String,
    raw: &str,
    list: String,
    body: PresenceSubscription,
) -> Result<pb::CreateSubscriptionRequest, ApiError> {
    let callback = callback(Some(body.callback_reference))?;
    Ok(pb::CreateSubscriptionRequest {
        subscription: Some(pb::Subscription {
            user_id,
            contact_list_id: list,
            callback,
            client_correlator: client_correlator(body.client_correlator)?,
            path_user_id: raw.to_string(),
            ..Default::default()
        }),
        duration_secs: duration(body.duration)?,
    })
}

/// POST `subscriptions/watchersSubscriptions`.
pub(super) async fn create_watchers(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<WatchersSubscriptionBody>,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let message = create_request(user_id, &raw, String::new(), body.watchers_subscription)?;
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.create_watchers_subscription(r).await
    })
    .await
    .map_err(|s| ApiError::from_body_status(&s, "callbackReference"))?;
    let s = reply
        .subscription
        .ok_or_else(|| ApiError::internal("CreateWatchersSubscription", "no subscription"))?;
    let url = urls::watchers_subscription(&state.api_root, &raw, &s.subscription_id);
    created(
        &url,
        &WatchersSubscriptionBody {
            watchers_subscription: json(url.clone(), s),
        },
    )
}

fn watchers_ref(app: &App, ids: &PathIds) -> Result<(pb::SubscriptionRef, String), ApiError> {
    let (user_id, raw) = user(app, ids)?;
    Ok((
        pb::SubscriptionRef {
            user_id,
            contact_list_id: String::new(),
            subscription_id: ids.get(SUBSCRIPTION_ID)?,
        },
        raw,
    ))
}

/// GET `subscriptions/watchersSubscriptions/{subscriptionId}`.
pub(super) async fn read_watchers(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, raw) = watchers_ref(&app, &ids)?;
    let s = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_watchers_subscription(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SUBSCRIPTION_ID))?;
    let url = urls::watchers_subscription(&state.api_root, &raw, &s.subscription_id);
    Ok(ok(&WatchersSubscriptionBody {
        watchers_subscription: json(url, s),
    }))
}

/// DELETE `subscriptions/watchersSubscriptions/{subscriptionId}`: 204.
pub(super) async fn delete_watchers(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, _) = watchers_ref(&app, &ids)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_watchers_subscription(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SUBSCRIPTION_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST `subscriptions/presenceListSubscriptions/{contactListId}`: 404 for a list the
/// user does not have.
pub(super) async fn create_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<PresenceListSubscriptionBody>,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let list = list_id(&ids)?;
    let message = create_request(user_id, &raw, list.clone(), body.presence_list_subscription)?;
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.create_presence_list_subscription(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    let s = reply
        .subscription
        .ok_or_else(|| ApiError::internal("CreatePresenceListSubscription", "no subscription"))?;
    let url = urls::list_subscription(&state.api_root, &raw, &list, &s.subscription_id);
    created(
        &url,
        &PresenceListSubscriptionBody {
            presence_list_subscription: json(url.clone(), s),
        },
    )
}

/// GET `subscriptions/presenceListSubscriptions/{contactListId}`: the application's
/// subscriptions of that list.
pub(super) async fn list_lists(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let list = list_id(&ids)?;
    let message = pb::ListRef {
        user_id,
        contact_list_id: list.clone(),
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.list_presence_list_subscriptions(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    Ok(ok(&PresenceListSubscriptionListBody {
        subscription_list: PresenceListSubscriptionList {
            presence_list_subscription: reply
                .subscriptions
                .into_iter()
                .map(|s| {
                    let url =
                        urls::list_subscription(&state.api_root, &raw, &list, &s.subscription_id);
                    json(url, s)
                })
                .collect(),
            resource_url: urls::list_subscriptions(&state.api_root, &raw, &list),
        },
    }))
}

fn list_ref(app: &App, ids: &PathIds) -> Result<(pb::SubscriptionRef, String), ApiError> {
    let (user_id, raw) = user(app, ids)?;
    Ok((
        pb::SubscriptionRef {
            user_id,
            contact_list_id: list_id(ids)?,
            subscription_id: ids.get(SUBSCRIPTION_ID)?,
        },
        raw,
    ))
}

/// GET `…/presenceListSubscriptions/{contactListId}/{subscriptionId}`.
pub(super) async fn read_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, raw) = list_ref(&app, &ids)?;
    let list = message.contact_list_id.clone();
    let s = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_presence_list_subscription(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SUBSCRIPTION_ID))?;
    let url = urls::list_subscription(&state.api_root, &raw, &list, &s.subscription_id);
    Ok(ok(&PresenceListSubscriptionBody {
        presence_list_subscription: json(url, s),
    }))
}

/// DELETE `…/presenceListSubscriptions/{contactListId}/{subscriptionId}`: 204.
pub(super) async fn delete_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, _) = list_ref(&app, &ids)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_presence_list_subscription(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SUBSCRIPTION_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
