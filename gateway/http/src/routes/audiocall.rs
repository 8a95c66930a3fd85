//! Audio Call (audiocall.md rows 1–4, 8–10, docs/call-notification.md) under
//! `/{apiVersion}/audiocall`, served by the call service's `AudioCall` gRPC API.
//!
//! | resource | methods |
//! |---|---|
//! | `messages/audio` | POST |
//! | `messages/audio/{messageId}` | GET, DELETE |
//! | `messages/audio/{messageId}/statusList` | GET |
//! | `interactions/{recording,collection}` | POST |
//! | `interactions/{recording,collection}/{interactionId}` | GET, DELETE |
//! | `recordings/{recordingId}` | GET (the media, see [`super::callnotification`]) |
//!
//! The session in a body is the service's to find: an unknown or inaccessible one is 400
//! SVC0002 ["callSessionIdentifier"] (a `NotFound` answer is mapped so too, see
//! [`ApiError::from_body_status`]). A clientCorrelator retry answers `201` like the first
//! request.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use parlay_kit::grpc::Transport;
use parlay_model::audiocall::{
    AudioMessageRequest, AudioMessageResponse, MessageStatusListResponse,
    PlayAndCollectInteractionRequest, PlayAndCollectInteractionResponse,
    PlayAndRecordInteractionRequest, PlayAndRecordInteractionResponse,
};
use parlay_proto::call::v1::{
    self as pb, InteractionKind, MediaRef, PlayAudioRequest, StartInteractionRequest,
    audio_call_client::AudioCallClient,
};

use super::{PathIds, callnotification, created, ok, only};
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

type Client = AudioCallClient<Transport>;

/// This API\'s service among the upstreams.
fn service(u: &Upstreams) -> &Client {
    &u.audio
}

const MESSAGE_ID: &str = "messageId";
const INTERACTION_ID: &str = "interactionId";
/// The body field a `NotFound` on creating is about.
const SESSION_FIELD: &str = "callSessionIdentifier";

/// The routes, under `base` (`/{apiVersion}/audiocall`).
pub(crate) fn routes(base: &str) -> Router<AppState> {
    let messages = format!("{base}/messages/audio");
    let message = format!("{messages}/{{{MESSAGE_ID}}}");
    let recording = format!("{base}/recordings/{{{}}}", callnotification::RECORDING_ID);
    let mut router = Router::new()
        .route(&messages, only(post(play_audio), "POST"))
        .route(
            &message,
            only(get(get_message).delete(delete_message), "GET, DELETE"),
        )
        .route(
            &format!("{message}/statusList"),
            only(get(status_list), "GET"),
        )
        .route(&recording, only(get(callnotification::recording), "GET"));
    for kind in [InteractionKind::Recording, InteractionKind::Collection] {
        let collection = format!("{base}/interactions/{}", convert::segment(kind));
        let one = format!("{collection}/{{{INTERACTION_ID}}}");
        let create = match kind {
            InteractionKind::Collection => post(start_collection),
            _ => post(start_recording),
        };
        router = router.route(&collection, only(create, "POST")).route(
            &one,
            only(
                get(move |s: State<AppState>, c: Caller, ids: PathIds| {
                    get_interaction(s, c, ids, kind)
                })
                .delete(move |s: State<AppState>, c: Caller, ids: PathIds| {
                    delete_interaction(s, c, ids, kind)
                }),
                "GET, DELETE",
            ),
        );
    }
    router
}

/// POST `messages/audio`: 201 + `Location` + `audioMessage`.
async fn play_audio(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<AudioMessageRequest>,
) -> Result<Response, ApiError> {
    let message = validate::audio_message(&app, body.audio_message)?;
    let reply = upstream::call(
        &state,
        &app,
        service,
        PlayAudioRequest {
            message: Some(message),
        },
        |mut c, r| async move { c.play_audio(r).await },
    )
    .await
    .map_err(|status| ApiError::from_body_status(&status, SESSION_FIELD))?;
    let message = reply
        .message
        .ok_or_else(|| ApiError::internal("PlayAudio", "answered without a message"))?;
    let audio_message = convert::audio_message(&state.api_root, message);
    created(
        &audio_message.resource_url.clone(),
        &AudioMessageResponse { audio_message },
    )
}

async fn fetch_message(
    state: &AppState,
    app: &App,
    ids: &PathIds,
) -> Result<pb::AudioMessage, ApiError> {
    let message = MediaRef {
        id: ids.get(MESSAGE_ID)?,
        kind: InteractionKind::Unspecified as i32,
    };
    upstream::call(state, app, service, message, |mut c, r| async move {
        c.get_audio_message(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, MESSAGE_ID))
}

/// GET `messages/audio/{messageId}`.
async fn get_message(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = fetch_message(&state, &app, &ids).await?;
    Ok(ok(&AudioMessageResponse {
        audio_message: convert::audio_message(&state.api_root, message),
    }))
}

/// GET `messages/audio/{messageId}/statusList`: one entry per participant.
async fn status_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = fetch_message(&state, &app, &ids).await?;
    Ok(ok(&MessageStatusListResponse {
        message_status_list: convert::status_list(&state.api_root, message),
    }))
}

/// DELETE `messages/audio/{messageId}`: stops the playing; 204.
async fn delete_message(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = MediaRef {
        id: ids.get(MESSAGE_ID)?,
        kind: InteractionKind::Unspecified as i32,
    };
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_audio_message(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, MESSAGE_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Starts `interaction`; its representation, for `Location` and the body.
async fn start(
    state: &AppState,
    app: &App,
    interaction: pb::Interaction,
) -> Result<pb::Interaction, ApiError> {
    let message = StartInteractionRequest {
        interaction: Some(interaction),
    };
    let reply = upstream::call(state, app, service, message, |mut c, r| async move {
        c.start_interaction(r).await
    })
    .await
    .map_err(|status| ApiError::from_body_status(&status, SESSION_FIELD))?;
    reply
        .interaction
        .ok_or_else(|| ApiError::internal("StartInteraction", "answered without an interaction"))
}

/// POST `interactions/recording`: 201 + `Location` + `playAndRecordInteraction`.
async fn start_recording(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<PlayAndRecordInteractionRequest>,
) -> Result<Response, ApiError> {
    let interaction = validate::recording(
        &app,
        body.play_and_record_interaction,
        state.max_recording_secs,
    )?;
    let interaction = start(&state, &app, interaction).await?;
    let play_and_record_interaction = convert::recording(&state.api_root, interaction, false);
    created(
        &play_and_record_interaction.resource_url.clone(),
        &PlayAndRecordInteractionResponse {
            play_and_record_interaction,
        },
    )
}

/// POST `interactions/collection`: 201 + `Location` + `playAndCollectInteraction`.
async fn start_collection(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<PlayAndCollectInteractionRequest>,
) -> Result<Response, ApiError> {
    let interaction = validate::collection(&app, body.play_and_collect_interaction)?;
    let interaction = start(&state, &app, interaction).await?;
    let play_and_collect_interaction = convert::collection(&state.api_root, interaction, false);
    created(
        &play_and_collect_interaction.resource_url.clone(),
        &PlayAndCollectInteractionResponse {
            play_and_collect_interaction,
        },
    )
}

fn interaction_ref(ids: &PathIds, kind: InteractionKind) -> Result<MediaRef, ApiError> {
    Ok(MediaRef {
        id: ids.get(INTERACTION_ID)?,
        kind: kind as i32,
    })
}

/// GET `interactions/{kind}/{interactionId}`, with `interactionStatus`.
async fn get_interaction(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    kind: InteractionKind,
) -> Result<Response, ApiError> {
    let message = interaction_ref(&ids, kind)?;
    let interaction = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_interaction(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, INTERACTION_ID))?;
    let root = &state.api_root;
    Ok(match kind {
        InteractionKind::Collection => ok(&PlayAndCollectInteractionResponse {
            play_and_collect_interaction: convert::collection(root, interaction, true),
        }),
        _ => ok(&PlayAndRecordInteractionResponse {
            play_and_record_interaction: convert::recording(root, interaction, true),
        }),
    })
}

/// DELETE `interactions/{kind}/{interactionId}`: aborts it; 204.
async fn delete_interaction(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    kind: InteractionKind,
) -> Result<Response, ApiError> {
    let message = interaction_ref(&ids, kind)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_interaction(r).await
    })
    .await
    .map_err(|status| ApiError::from_status(&status, INTERACTION_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
