//! The control API, for tests and sandbox users. JSON in and out; unknown fields are
//! refused; every refusal is a 4xx with `{"error": "<message>"}`.
//!
//! - `PUT`/`GET /netsim/v1/rules`: replace or read the rules (see [`crate::rules`]: call
//!   outcomes, media, message delivery receipts).
//! - `POST /netsim/v1/calls` `{"callingParticipant", "calledParticipant",
//!   "callingParticipantName"?}` → 201 `{"callId"}`: a subscriber dials someone.
//! - `GET /netsim/v1/calls/{callId}`: a network-originated call.
//! - `POST /netsim/v1/calls/{id}/hangup` `{"participantAddress"}` → `{"hungUp": [...]}`.
//! - `POST /netsim/v1/messages` `{"senderAddress", "destinationAddress", "message"?,
//!   "subject"?, "priority"?, "attachments"?: [{"name", "contentType", "data"}]}` → 202
//!   `{"eventId"}`: the network receives an SMS or an MMS (see [`crate::inbound`]); 413
//!   when the attachments exceed `messaging.max_attachment_bytes`.
//! - `GET /netsim/v1/log[?callSessionId=&callId=&address=&requestId=]` →
//!   `{"commands": [...]}`: what netsim was told to do, oldest first.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{
        DefaultBodyLimit, FromRequest, Path, Query, Request, State, rejection::QueryRejection,
    },
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use parlay_model::Address;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    Shared, calls,
    error::Error,
    inbound::InboundRequest,
    log::{LogEntry, LogFilter},
    network::{self, CallView},
    rules::RuleSet,
};

/// Longest `callingParticipantName` accepted, in characters.
const MAX_NAME_LEN: usize = 256;
/// axum's default body limit, kept for every route but message injection.
const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Room for an injected message's text and JSON around its base64 attachments.
const MESSAGE_BODY_SLACK: usize = 256 * 1024;

/// The control routes, with their state bound.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // Base64 takes 4 characters per 3 bytes: room for the largest attachments accepted, so
    // that a message just over the limit gets netsim's 413 rather than a cut-off body.
    let message_limit = shared
        .max_attachment_bytes
        .div_ceil(3)
        .saturating_mul(4)
        .saturating_add(MESSAGE_BODY_SLACK)
        .max(DEFAULT_BODY_LIMIT);
    Router::new()
        .route("/netsim/v1/rules", get(get_rules).put(put_rules))
        .route("/netsim/v1/calls", post(originate))
        .route("/netsim/v1/calls/{id}", get(get_call))
        .route("/netsim/v1/calls/{id}/hangup", post(hangup))
        .route(
            "/netsim/v1/messages",
            post(inject).layer(DefaultBodyLimit::max(message_limit)),
        )
        .route("/netsim/v1/log", get(get_log))
        .with_state(shared)
}

/// A JSON body whose refusals are [`Error`]s (axum's own `Json` answers in plain text).
struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Error::Rejected(e.status(), e.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| Error::BadRequest(format!("invalid body: {e}")))
    }
}

async fn put_rules(
    State(shared): State<Arc<Shared>>,
    Body(set): Body<RuleSet>,
) -> Result<Json<RuleSet>, Error> {
    set.validate().map_err(Error::BadRequest)?;
    shared.lock().rules = set.rules.clone();
    tracing::info!(rules = set.rules.len(), "rules replaced");
    Ok(Json(set))
}

async fn get_rules(State(shared): State<Arc<Shared>>) -> Json<RuleSet> {
    let rules = shared.lock().rules.clone();
    Json(RuleSet { rules })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallRequest {
    calling_participant: String,
    called_participant: String,
    #[serde(default)]
    calling_participant_name: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CallCreated {
    call_id: String,
}

/// `POST /netsim/v1/calls`: a subscriber dials someone.
async fn originate(
    State(shared): State<Arc<Shared>>,
    Body(request): Body<CallRequest>,
) -> Result<impl IntoResponse, Error> {
    let calling = Address::parse(&request.calling_participant)
        .map_err(|e| Error::BadRequest(format!("callingParticipant: {e}")))?;
    let called = Address::parse(&request.called_participant)
        .map_err(|e| Error::BadRequest(format!("calledParticipant: {e}")))?;
    let name = request.calling_participant_name.filter(|n| !n.is_empty());
    if let Some(name) = &name {
        if name.chars().count() > MAX_NAME_LEN {
            return Err(Error::BadRequest(format!(
                "callingParticipantName is longer than {MAX_NAME_LEN} characters"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::BadRequest(
                "callingParticipantName contains control characters".to_string(),
            ));
        }
    }
    let span = tracing::info_span!("netsim.originate");
    let call_id = span.in_scope(|| {
        network::originate(&shared, calling.as_str(), called.as_str(), name.as_deref())
    });
    let location = format!("/netsim/v1/calls/{call_id}");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(CallCreated { call_id }),
    ))
}

/// `GET /netsim/v1/calls/{callId}`.
async fn get_call(
    State(shared): State<Arc<Shared>>,
    Path(call_id): Path<String>,
) -> Result<Json<CallView>, Error> {
    let state = shared.lock();
    network::view(&state, &call_id).map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HangupRequest {
    participant_address: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct HangupResponse {
    hung_up: Vec<String>,
}

/// `POST /netsim/v1/calls/{id}/hangup`: `id` is a network call id or a call session id.
async fn hangup(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Body(request): Body<HangupRequest>,
) -> Result<Json<HangupResponse>, Error> {
    let address = Address::parse(&request.participant_address)
        .map_err(|e| Error::BadRequest(format!("participantAddress: {e}")))?;
    let call_session_id = network::session_of(&shared.lock(), &id)?;
    let span = tracing::info_span!("netsim.hangup", call_session_id = %call_session_id);
    let hung_up = span.in_scope(|| calls::hang_up(&shared, &call_session_id, address.as_str()))?;
    Ok(Json(HangupResponse { hung_up }))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageInjected {
    event_id: String,
}

/// `POST /netsim/v1/messages`: the network receives a message for `destinationAddress`.
/// 202: the event is published in the background.
async fn inject(
    State(shared): State<Arc<Shared>>,
    Body(request): Body<InboundRequest>,
) -> Result<impl IntoResponse, Error> {
    let event = request.into_event(shared.max_attachment_bytes)?;
    let span = tracing::info_span!("netsim.inbound");
    let event_id = span.in_scope(|| crate::inbound::inject(&shared, event));
    Ok((StatusCode::ACCEPTED, Json(MessageInjected { event_id })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LogQuery {
    call_session_id: Option<String>,
    call_id: Option<String>,
    address: Option<String>,
    request_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct LogResponse {
    commands: Vec<LogEntry>,
}

async fn get_log(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<LogResponse>, Error> {
    let Query(query) = query.map_err(|e| Error::BadRequest(e.body_text()))?;
    let filter = LogFilter {
        call_session_id: query.call_session_id.as_deref(),
        call_id: query.call_id.as_deref(),
        address: query.address.as_deref(),
        request_id: query.request_id.as_deref(),
    };
    let commands = shared.lock().log.entries(filter);
    Ok(Json(LogResponse { commands }))
}
