//! Call Notification (callnotif.md rows 1–10, docs/call-notification.md) under
//! `/{apiVersion}/callnotification`, served by the call service's `CallNotification` gRPC
//! API; also the recorded media of Audio Call interactions (`audiocall/recordings/{id}`,
//! routed by [`super::audiocall`]), which the same gRPC API serves.
//!
//! | resource | methods |
//! |---|---|
//! | `subscriptions/callEvent`, `subscriptions/callDirection` | POST, GET (list) |
//! | `subscriptions/{callEvent,callDirection}/{subscriptionId}` | GET, DELETE |
//! | `subscriptions/recording`, `subscriptions/collection` | POST |
//! | `subscriptions/{recording,collection}/{subscriptionId}` | GET, DELETE |
//!
//! Another application's subscription is the service's `NotFound`: 404 SVC0002
//! ["subscriptionId"]. A clientCorrelator retry answers `201` like the first request (see
//! [`super::thirdpartycall`]).

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get, post},
};
use parlay_kit::grpc::Transport;
use parlay_model::callnotif::{
    CallDirectionSubscriptionRequest, CallDirectionSubscriptionResponse,
    CallEventSubscriptionRequest, CallEventSubscriptionResponse,
    PlayAndCollectInteractionSubscriptionRequest, PlayAndCollectInteractionSubscriptionResponse,
    PlayAndRecordInteractionSubscriptionRequest, PlayAndRecordInteractionSubscriptionResponse,
    SubscriptionList, SubscriptionListResponse,
};
use parlay_proto::call::v1::{
    self as pb, CreateSubscriptionRequest, ListSubscriptionsRequest, RecordingRef, SubscriptionRef,
    call_notification_client::CallNotificationClient,
};

use super::{PathIds, created, ok, only};
use crate::{
    apps::App,
    auth::Caller,
    body::JsonBody,
    error::ApiError,
    state::AppState,
    upstream::{self, Upstreams},
};

mod convert;
#[cfg(test)]
mod tests;
mod validate;

type Client = CallNotificationClient<Transport>;

/// This API\'s service among the upstreams.
fn service(u: &Upstreams) -> &Client {
    &u.call_notification
}

const SUBSCRIPTION_ID: &str = "subscriptionId";
pub(super) const RECORDING_ID: &str = "recordingId";
/// The body field a `NotFound` on creating a media-interaction subscription is about.
const SESSION_FIELD: &str = "callSessionIdentifier";
/// The body field a `NotFound` on creating a call subscription is about.
const ADDRESS_FIELD: &str = "address";

/// The four kinds of subscription, each with its own collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    CallEvent,
    CallDirection,
    Recording,
    Collection,
}

impl Kind {
    /// The collection's path segment under `subscriptions/`.
    pub(crate) fn segment(self) -> &'static str {
        match self {
            Kind::CallEvent => "callEvent",
            Kind::CallDirection => "callDirection",
            Kind::Recording => "recording",
            Kind::Collection => "collection",
        }
    }

    fn proto(self) -> pb::SubscriptionKind {
        match self {
            Kind::CallEvent => pb::SubscriptionKind::CallEvent,
            Kind::CallDirection => pb::SubscriptionKind::CallDirection,
            Kind::Recording => pb::SubscriptionKind::Recording,
            Kind::Collection => pb::SubscriptionKind::Collection,
        }
    }
}

/// The routes, under `base` (`/{apiVersion}/callnotification`).
pub(crate) fn routes(base: &str) -> Router<AppState> {
    let mut router = Router::new();
    for kind in [
        Kind::CallEvent,
        Kind::CallDirection,
        Kind::Recording,
        Kind::Collection,
    ] {
        let collection = format!("{base}/subscriptions/{}", kind.segment());
        let one = format!("{collection}/{{{SUBSCRIPTION_ID}}}");
        router = router.route(&collection, collection_methods(kind)).route(
            &one,
            only(
                get(move |s: State<AppState>, c: Caller, ids: PathIds| read(s, c, ids, kind))
                    .delete(move |s: State<AppState>, c: Caller, ids: PathIds| {
                        delete(s, c, ids, kind)
                    }),
                "GET, DELETE",
            ),
        );
    }
    router
}

/// POST (and GET, the list, for the call subscriptions) on a collection.
fn collection_methods(kind: Kind) -> MethodRouter<AppState> {
    let list = move |s: State<AppState>, c: Caller| list(s, c, kind);
    match kind {
        Kind::CallEvent => only(post(create_call_event).get(list), "GET, POST"),
        Kind::CallDirection => only(post(create_call_direction).get(list), "GET, POST"),
        Kind::Recording => only(post(create_recording), "POST"),
        Kind::Collection => only(post(create_collection), "POST"),
    }
}

/// Creates `subscription` and answers 201 + `Location` + its representation.
async fn create(
    state: &AppState,
    app: &App,
    kind: Kind,
    subscription: pb::Subscription,
    body_field: &str,
) -> Result<Response, ApiError> {
    let message = CreateSubscriptionRequest {
        subscription: Some(subscription),
    };
    let reply = upstream::call(state, app, service, message, |mut c, r| async move {
        c.create_subscription(r).await
    })
    .await
    .map_err(|status| ApiError::from_body_status(&status, body_field))?;
    let subscription = reply.subscription.ok_or_else(|| {
        ApiError::internal("CreateSubscription", "answered without a subscription")
    })?;
    let url = convert::subscription_url(&state.api_root, kind, &subscription.id);
    respond(&state.api_root, kind, subscription, Some(&url))
}

/// The representation of `subscription` with the root element of `kind`: `201` with
/// `Location: {location}` when given, else `200`.
fn respond(
    root: &str,
    kind: Kind,
    subscription: pb::Subscription,
    location: Option<&str>,
) -> Result<Response, ApiError> {
    fn answer(location: Option<&str>, body: &impl serde::Serialize) -> Result<Response, ApiError> {
        match location {
            Some(url) => created(url, body),
            None => Ok(ok(body)),
        }
    }
    match kind {
        Kind::CallEvent => answer(
            location,
            &CallEventSubscriptionResponse {
                call_event_subscription: convert::call_subscription(root, kind, subscription),
            },
        ),
        Kind::CallDirection => answer(
            location,
            &CallDirectionSubscriptionResponse {
                call_direction_subscription: convert::call_subscription(root, kind, subscription),
            },
        ),
        Kind::Recording => answer(
            location,
            &PlayAndRecordInteractionSubscriptionResponse {
                play_and_record_interaction_subscription: convert::media_subscription(
                    root,
                    kind,
                    subscription,
                ),
            },
        ),
        Kind::Collection => answer(
            location,
            &PlayAndCollectInteractionSubscriptionResponse {
                play_and_collect_interaction_subscription: convert::media_subscription(
                    root,
                    kind,
                    subscription,
                ),
            },
        ),
    }
}

/// POST `subscriptions/callEvent`.
async fn create_call_event(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<CallEventSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let subscription = validate::call_event(&app, body.call_event_subscription)?;
    create(&state, &app, Kind::CallEvent, subscription, ADDRESS_FIELD).await
}

/// POST `subscriptions/callDirection`.
async fn create_call_direction(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<CallDirectionSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let subscription = validate::call_direction(
        &app,
        body.call_direction_subscription,
        state.max_response_timeout_secs,
    )?;
    create(
        &state,
        &app,
        Kind::CallDirection,
        subscription,
        ADDRESS_FIELD,
    )
    .await
}

/// POST `subscriptions/recording`.
async fn create_recording(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<PlayAndRecordInteractionSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let subscription = validate::media(
        body.play_and_record_interaction_subscription,
        Kind::Recording,
    )?;
    create(&state, &app, Kind::Recording, subscription, SESSION_FIELD).await
}

/// POST `subscriptions/collection`.
async fn create_collection(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<PlayAndCollectInteractionSubscriptionRequest>,
) -> Result<Response, ApiError> {
    let subscription = validate::media(
        body.play_and_collect_interaction_subscription,
        Kind::Collection,
    )?;
    create(&state, &app, Kind::Collection, subscription, SESSION_FIELD).await
}

/// GET `subscriptions/{callEvent,callDirection}`: the application's live subscriptions.
async fn list(
    State(state): State<AppState>,
    Caller(app): Caller,
    kind: Kind,
) -> Result<Response, ApiError> {
    let message = ListSubscriptionsRequest {
        kind: kind.proto() as i32,
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.list_subscriptions(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, SUBSCRIPTION_ID))?;
    let root = &state.api_root;
    let items: Vec<_> = reply
        .subscriptions
        .into_iter()
        .map(|s| convert::call_subscription(root, kind, s))
        .collect();
    let resource_url = convert::collection_url(root, kind);
    let subscription_list = match kind {
        Kind::CallDirection => SubscriptionList {
            call_direction_subscription: Some(items),
            resource_url,
            ..Default::default()
        },
        _ => SubscriptionList {
            call_event_subscription: Some(items),
            resource_url,
            ..Default::default()
        },
    };
    Ok(ok(&SubscriptionListResponse { subscription_list }))
}

fn subscription_ref(ids: &PathIds, kind: Kind) -> Result<SubscriptionRef, ApiError> {
    Ok(SubscriptionRef {
        kind: kind.proto() as i32,
        subscription_id: ids.get(SUBSCRIPTION_ID)?,
    })
}

/// GET `subscriptions/{kind}/{subscriptionId}`.
async fn read(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    kind: Kind,
) -> Result<Response, ApiError> {
    let message = subscription_ref(&ids, kind)?;
    let subscription = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_subscription(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, SUBSCRIPTION_ID))?;
    respond(&state.api_root, kind, subscription, None)
}

/// DELETE `subscriptions/{kind}/{subscriptionId}`: 204.
async fn delete(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    kind: Kind,
) -> Result<Response, ApiError> {
    let message = subscription_ref(&ids, kind)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_subscription(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, SUBSCRIPTION_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET `audiocall/recordings/{recordingId}`: the media bytes with the recording's
/// `Content-Type` (`application/octet-stream` when the service names none usable). Only
/// the application that started the interaction gets it; others get 404 from the service.
pub(super) async fn recording(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = RecordingRef {
        recording_id: ids.get(RECORDING_ID)?,
    };
    let media = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_recording(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, RECORDING_ID))?;
    let content_type = HeaderValue::from_str(media.content_type.trim())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        Bytes::from(media.data),
    )
        .into_response())
}
