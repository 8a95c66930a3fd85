//! The call service's replies as ParlayREST representations, with absolute `resourceURL`s:
//! `{api_root}/thirdpartycall/callSessions/{id}[/participants[/{pid}]]`.

use parlay_model::thirdpartycall::{
    CallParticipantInformation, CallParticipantList, CallSessionInformation, ParticipantStatus,
    TerminationCause,
};
use parlay_proto::call::v1 as pb;

use crate::urls;

/// `…/callSessions/{id}`.
pub(super) fn session_url(root: &str, session_id: &str) -> String {
    urls::join(root, &["thirdpartycall", "callSessions", session_id])
}

/// `…/callSessions/{id}/participants`.
pub(super) fn participants_url(root: &str, session_id: &str) -> String {
    urls::join(
        root,
        &["thirdpartycall", "callSessions", session_id, "participants"],
    )
}

/// `…/callSessions/{id}/participants/{pid}`.
pub(super) fn participant_url(root: &str, session_id: &str, participant_id: &str) -> String {
    urls::join(
        root,
        &[
            "thirdpartycall",
            "callSessions",
            session_id,
            "participants",
            participant_id,
        ],
    )
}

/// A session with all its participants.
pub(super) fn session(root: &str, session: pb::CallSession) -> CallSessionInformation {
    let id = session.id;
    CallSessionInformation {
        client_correlator: session.client_correlator,
        participant: session
            .participants
            .into_iter()
            .map(|p| participant(root, &id, p))
            .collect(),
        resource_url: session_url(root, &id),
    }
}

/// The participants of session `session_id`.
pub(super) fn participant_list(
    root: &str,
    session_id: &str,
    list: pb::ParticipantList,
) -> CallParticipantList {
    CallParticipantList {
        participant: list
            .participants
            .into_iter()
            .map(|p| participant(root, session_id, p))
            .collect(),
        resource_url: participants_url(root, session_id),
    }
}

/// One participant of session `session_id`.
pub(super) fn participant(
    root: &str,
    session_id: &str,
    p: pb::Participant,
) -> CallParticipantInformation {
    let participant_status = status(p.status());
    let termination_cause = cause(p.termination_cause());
    CallParticipantInformation {
        resource_url: participant_url(root, session_id, &p.id),
        participant_address: p.address,
        participant_name: p.name,
        client_correlator: p.client_correlator,
        participant_status,
        start_time: p.start_time.as_ref().map(parlay_kit::wire::time),
        duration: p.duration_seconds,
        termination_cause,
    }
}

/// An unspecified status is reported as the first state, `CallParticipantInitial`.
fn status(status: pb::ParticipantStatus) -> ParticipantStatus {
    match status {
        pb::ParticipantStatus::Unspecified | pb::ParticipantStatus::Initial => {
            ParticipantStatus::CallParticipantInitial
        }
        pb::ParticipantStatus::Connected => ParticipantStatus::CallParticipantConnected,
        pb::ParticipantStatus::Terminated => ParticipantStatus::CallParticipantTerminated,
    }
}

fn cause(cause: pb::TerminationCause) -> Option<TerminationCause> {
    match cause {
        pb::TerminationCause::Unspecified => None,
        pb::TerminationCause::NoAnswer => Some(TerminationCause::CallParticipantNoAnswer),
        pb::TerminationCause::Busy => Some(TerminationCause::CallParticipantBusy),
        pb::TerminationCause::NotReachable => Some(TerminationCause::CallParticipantNotReachable),
        pb::TerminationCause::HangUp => Some(TerminationCause::CallParticipantHangUp),
        pb::TerminationCause::Aborted => Some(TerminationCause::CallParticipantAborted),
    }
}
