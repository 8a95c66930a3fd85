//! Third Party Call (3pc.md rows 1–7) under `/{apiVersion}/thirdpartycall`, served by the
//! call service's `ThirdPartyCall` gRPC API.
//!
//! A clientCorrelator retry (`created == false`) answers `201 Created` with the same
//! `Location` and body as the first answer: common.md §7 allows 200 or 201, and answering
//! the same status lets a client treat a retry exactly like a first try.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use parlay_kit::grpc::Transport;
use parlay_model::thirdpartycall::{
    CallParticipantInformationResponse, CallParticipantListResponse, CallParticipantRequest,
    CallSessionInformationRequest, CallSessionInformationResponse,
};
use parlay_proto::call::v1::{
    CallSessionRef, ParticipantRef, third_party_call_client::ThirdPartyCallClient,
};
use tonic::Status;

use super::{PathIds, created, ok, only};
use crate::{apps::App, auth::Caller, body::JsonBody, error::ApiError, state::AppState, upstream};

mod convert;
#[cfg(test)]
mod tests;
mod validate;

type Client = ThirdPartyCallClient<Transport>;

const SESSION_ID: &str = "callSessionId";
const PARTICIPANT_ID: &str = "participantId";

/// The routes, under `base` (`/{apiVersion}/thirdpartycall`).
pub(crate) fn routes(base: &str) -> Router<AppState> {
    let sessions = format!("{base}/callSessions");
    let session = format!("{sessions}/{{{SESSION_ID}}}");
    let participants = format!("{session}/participants");
    let participant = format!("{participants}/{{{PARTICIPANT_ID}}}");
    Router::new()
        .route(&sessions, only(post(create_session), "POST"))
        .route(
            &session,
            only(get(get_session).delete(delete_session), "GET, DELETE"),
        )
        .route(
            &participants,
            only(get(list_participants).post(add_participant), "GET, POST"),
        )
        .route(
            &participant,
            only(
                get(get_participant).delete(delete_participant),
                "GET, DELETE",
            ),
        )
}

/// One call to the call service for `app`, errors mapped by the status table.
async fn call<M, T, F>(
    state: &AppState,
    app: &App,
    message: M,
    rpc: impl FnOnce(Client, tonic::Request<M>) -> F,
) -> Result<T, ApiError>
where
    F: Future<Output = Result<tonic::Response<T>, Status>>,
{
    upstream::call(state, app, |u| &u.call, message, rpc)
        .await
        .map_err(|status| ApiError::from_status(&status, SESSION_ID))
}

/// POST `/callSessions`: 201 + `Location` + `callSessionInformation`.
async fn create_session(
    State(state): State<AppState>,
    Caller(app): Caller,
    JsonBody(body): JsonBody<CallSessionInformationRequest>,
) -> Result<Response, ApiError> {
    let message = validate::create_session(&app, body.call_session_information)?;
    let reply = call(&state, &app, message, |mut c, r| async move {
        c.create_call_session(r).await
    })
    .await?;
    let session = reply
        .session
        .ok_or_else(|| ApiError::internal("CreateCallSession", "answered without a session"))?;
    let info = convert::session(&state.api_root, session);
    created(
        &info.resource_url.clone(),
        &CallSessionInformationResponse {
            call_session_information: info,
        },
    )
}

/// GET `/callSessions/{callSessionId}`.
async fn get_session(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = CallSessionRef {
        call_session_id: ids.get(SESSION_ID)?,
    };
    let session = call(&state, &app, message, |mut c, r| async move {
        c.get_call_session(r).await
    })
    .await?;
    Ok(ok(&CallSessionInformationResponse {
        call_session_information: convert::session(&state.api_root, session),
    }))
}

/// DELETE `/callSessions/{callSessionId}`: 204.
async fn delete_session(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = CallSessionRef {
        call_session_id: ids.get(SESSION_ID)?,
    };
    call(&state, &app, message, |mut c, r| async move {
        c.delete_call_session(r).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET `/callSessions/{callSessionId}/participants`: `callParticipantList`.
async fn list_participants(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let session_id = ids.get(SESSION_ID)?;
    let message = CallSessionRef {
        call_session_id: session_id.clone(),
    };
    let list = call(&state, &app, message, |mut c, r| async move {
        c.list_participants(r).await
    })
    .await?;
    Ok(ok(&CallParticipantListResponse {
        call_participant_list: convert::participant_list(&state.api_root, &session_id, list),
    }))
}

/// POST `/callSessions/{callSessionId}/participants`: 201 + `Location` +
/// `callParticipantInformation`.
async fn add_participant(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<CallParticipantRequest>,
) -> Result<Response, ApiError> {
    let session_id = ids.get(SESSION_ID)?;
    let message =
        validate::add_participant(&app, session_id.clone(), body.call_participant_information)?;
    let reply = call(&state, &app, message, |mut c, r| async move {
        c.add_participant(r).await
    })
    .await?;
    let participant = reply
        .participant
        .ok_or_else(|| ApiError::internal("AddParticipant", "answered without a participant"))?;
    let info = convert::participant(&state.api_root, &session_id, participant);
    created(
        &info.resource_url.clone(),
        &CallParticipantInformationResponse {
            call_participant_information: info,
        },
    )
}

/// GET `/callSessions/{callSessionId}/participants/{participantId}`.
async fn get_participant(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = participant_ref(&ids)?;
    let session_id = message.call_session_id.clone();
    let participant = call(&state, &app, message, |mut c, r| async move {
        c.get_participant(r).await
    })
    .await?;
    Ok(ok(&CallParticipantInformationResponse {
        call_participant_information: convert::participant(
            &state.api_root,
            &session_id,
            participant,
        ),
    }))
}

/// DELETE `/callSessions/{callSessionId}/participants/{participantId}`: 204.
async fn delete_participant(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let message = participant_ref(&ids)?;
    call(&state, &app, message, |mut c, r| async move {
        c.delete_participant(r).await
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn participant_ref(ids: &PathIds) -> Result<ParticipantRef, ApiError> {
    Ok(ParticipantRef {
        call_session_id: ids.get(SESSION_ID)?,
        participant_id: ids.get(PARTICIPANT_ID)?,
    })
}
