//! Multimedia Messaging (messaging.md rows 1–3 and 7–14) under `/{apiVersion}/messaging`,
//! served by the messaging service's `Messaging` gRPC API.
//!
//! | resource | methods |
//! |---|---|
//! | `outbound/{senderAddress}/requests` | POST (JSON, form-encoded or multipart) |
//! | `outbound/{senderAddress}/requests/{requestId}` | GET |
//! | `outbound/{senderAddress}/requests/{requestId}/deliveryInfos` | GET |
//! | `inbound/registrations/{registrationId}/messages` | GET (`?maxBatchSize=`) |
//! | `inbound/registrations/{registrationId}/messages/retrieveAndDeleteMessages` | POST |
//! | `inbound/registrations/{registrationId}/messages/{messageId}` | GET (JSON or multipart/mixed), DELETE |
//! | `…/messages/{messageId}/attachments/{attachmentId}` | GET (the bytes), DELETE |
//! | `inbound/subscriptions` | POST, GET (list) |
//! | `inbound/subscriptions/{subscriptionId}` | GET, DELETE |
//!
//! Addresses in paths (`{senderAddress}`, `{registrationId}`) are percent-encoded
//! (`tel%3A%2B15551230001`). A registration is read only by the applications it was
//! provisioned to (see [`crate::apps`]); to any other it does not exist (404 SVC0002
//! ["registrationId"]). Outbound requests and subscriptions belong to the application that
//! made them: another application's is the service's `NotFound`. A clientCorrelator retry
//! answers `201` like the first request (see [`super::thirdpartycall`]).

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use parlay_kit::grpc::Transport;
use parlay_proto::messaging::v1::messaging_client::MessagingClient;

use super::{PathIds, only};
use crate::{apps::App, error::ApiError, state::AppState, upstream::Upstreams};

mod content;
mod convert;
mod form;
mod inbound;
mod multipart;
mod outbound;
mod subscriptions;
#[cfg(test)]
mod tests;
mod validate;

type Client = MessagingClient<Transport>;

/// This API\'s service among the upstreams.
fn service(u: &Upstreams) -> &Client {
    &u.messaging
}

const SENDER: &str = "senderAddress";
const REQUEST_ID: &str = "requestId";
const REGISTRATION: &str = "registrationId";
const MESSAGE_ID: &str = "messageId";
const ATTACHMENT_ID: &str = "attachmentId";
const SUBSCRIPTION_ID: &str = "subscriptionId";

/// The routes, under `base` (`/{apiVersion}/messaging`).
pub(crate) fn routes(base: &str) -> Router<AppState> {
    let requests = format!("{base}/outbound/{{{SENDER}}}/requests");
    let request = format!("{requests}/{{{REQUEST_ID}}}");
    let messages = format!("{base}/inbound/registrations/{{{REGISTRATION}}}/messages");
    let message = format!("{messages}/{{{MESSAGE_ID}}}");
    let attachment = format!("{message}/attachments/{{{ATTACHMENT_ID}}}");
    let subscriptions = format!("{base}/inbound/subscriptions");
    Router::new()
        .route(
            &requests,
            // The multipart reader applies its own limit (see `content`), not axum's.
            only(post(outbound::send), "POST").layer(DefaultBodyLimit::disable()),
        )
        .route(&request, only(get(outbound::read), "GET"))
        .route(
            &format!("{request}/deliveryInfos"),
            only(get(outbound::delivery_infos), "GET"),
        )
        .route(&messages, only(get(inbound::list), "GET"))
        .route(
            &format!("{messages}/retrieveAndDeleteMessages"),
            only(post(inbound::retrieve_and_delete), "POST"),
        )
        .route(
            &message,
            only(get(inbound::read).delete(inbound::delete), "GET, DELETE"),
        )
        .route(
            &attachment,
            only(
                get(inbound::attachment).delete(inbound::delete_attachment),
                "GET, DELETE",
            ),
        )
        .route(
            &subscriptions,
            only(
                post(subscriptions::create).get(subscriptions::list),
                "GET, POST",
            ),
        )
        .route(
            &format!("{subscriptions}/{{{SUBSCRIPTION_ID}}}"),
            only(
                get(subscriptions::read).delete(subscriptions::delete),
                "GET, DELETE",
            ),
        )
}

/// The registration `{registrationId}` names, as provisioned to `app`: 404 SVC0002
/// ["registrationId"] when it is not one of the application's (or not plausible).
fn registration(app: &App, ids: &PathIds) -> Result<String, ApiError> {
    let raw = ids.address(REGISTRATION)?;
    app.registration(&raw)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::not_found(REGISTRATION))
}
