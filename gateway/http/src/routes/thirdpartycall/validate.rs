//! Third Party Call requests checked and turned into gRPC messages, before any call.
//!
//! Creating a session, in this order (the first failure answers):
//! 1. `participant` empty → 400 SVC0004 ["participant"];
//! 2. for each participant in order: the address (see [`crate::validate::user_address`]),
//!    then `participantName` of at most 256 characters without control characters (400
//!    SVC0002 ["participantName"]);
//!    a `clientCorrelator` inside a participant of a new session has no meaning and is
//!    ignored;
//! 3. the same address twice (after `acr:Authorization` is resolved) → 403 POL0013
//!    ["participantAddress"];
//! 4. **user restriction**: an application restricted to users (its key lists user
//!    patterns) may only start calls that involve one of them, so at least one participant
//!    must match one of its patterns, else 403 POL0002 [first participant's address]. An
//!    unrestricted application may call anyone;
//! 5. `clientCorrelator` 1–256 characters without control characters (400 SVC0002
//!    ["clientCorrelator"]);
//! 6. `charging` present → 403 POL0008 ["charging"];
//! 7. `callbackReference` (see [`crate::validate::callback`]): `notifyURL`,
//!    `notificationFormat`, then `callbackData` (at most 1,024 characters, no control
//!    characters).
//!
//! Control characters ([`char::is_control`], NUL included) are refused in every text that
//! reaches a service: the services store them, and PostgreSQL refuses NUL in text.
//!
//! Adding a participant applies the same address, name and correlator rules to the one
//! participant, but not the user restriction: the session was already authorised when it
//! was created (and belongs to the application), and the added party is typically
//! someone the user calls in. Duplicates within the session are the service's to find.

use parlay_model::thirdpartycall::{CallParticipantIn, CallSessionInformationIn};
use parlay_proto::call::v1::{AddParticipantRequest, CreateCallSessionRequest, ParticipantSpec};

use crate::{
    apps::App,
    error::ApiError,
    validate::{callback, client_correlator, no_charging, same_address, short_text, user_address},
};

const ADDRESS: &str = "participantAddress";
const NAME: &str = "participantName";

/// The `CreateCallSession` message for a valid `callSessionInformation`.
pub(super) fn create_session(
    app: &App,
    body: CallSessionInformationIn,
) -> Result<CreateCallSessionRequest, ApiError> {
    if body.participant.is_empty() {
        return Err(ApiError::of("SVC0004", ["participant"]));
    }
    let mut participants: Vec<ParticipantSpec> = Vec::with_capacity(body.participant.len());
    for p in body.participant {
        participants.push(spec(app, p)?);
    }
    for (i, p) in participants.iter().enumerate() {
        if participants[..i]
            .iter()
            .any(|q| same_address(&q.address, &p.address))
        {
            return Err(ApiError::of("POL0013", [ADDRESS]));
        }
    }
    if !app.users.is_empty() && !participants.iter().any(|p| app.may_act_for(&p.address)) {
        let first = participants
            .first()
            .map(|p| p.address.clone())
            .unwrap_or_default();
        return Err(ApiError::of("POL0002", [first]));
    }
    let client_correlator = client_correlator(body.client_correlator)?;
    no_charging(body.charging.as_ref())?;
    let callback = callback(body.callback_reference)?;
    Ok(CreateCallSessionRequest {
        participants,
        client_correlator,
        callback,
    })
}

/// The `AddParticipant` message for a valid `callParticipantInformation`.
pub(super) fn add_participant(
    app: &App,
    call_session_id: String,
    body: CallParticipantIn,
) -> Result<AddParticipantRequest, ApiError> {
    let correlator = body.client_correlator.clone();
    let participant = spec(app, body)?;
    Ok(AddParticipantRequest {
        call_session_id,
        participant: Some(participant),
        client_correlator: client_correlator(correlator)?,
    })
}

/// One participant's address and name.
fn spec(app: &App, p: CallParticipantIn) -> Result<ParticipantSpec, ApiError> {
    let address = user_address(app, &p.participant_address, ADDRESS)?;
    let name = short_text(p.participant_name, NAME)?;
    Ok(ParticipantSpec { address, name })
}
