//! Domain ↔ protobuf conversions and the error → gRPC status mapping.

use chrono::Utc;
use parlay_kit::{grpc, wire};
use parlay_proto::{call::v1 as pb, common::v1::Callback};
use tonic::Status;

use crate::{
    core::CoreError,
    domain::{Cause, DomainError, Participant, Status as PStatus},
    store::Stored,
};

pub fn participant(p: &Participant) -> pb::Participant {
    let now = Utc::now();
    let (status, cause) = match p.status {
        PStatus::Initial => (
            pb::ParticipantStatus::Initial,
            pb::TerminationCause::Unspecified,
        ),
        PStatus::Connected => (
            pb::ParticipantStatus::Connected,
            pb::TerminationCause::Unspecified,
        ),
        PStatus::Terminated(c) => (
            pb::ParticipantStatus::Terminated,
            match c {
                Cause::NoAnswer => pb::TerminationCause::NoAnswer,
                Cause::Busy => pb::TerminationCause::Busy,
                Cause::NotReachable => pb::TerminationCause::NotReachable,
                Cause::HangUp => pb::TerminationCause::HangUp,
                Cause::Aborted => pb::TerminationCause::Aborted,
            },
        ),
    };
    pb::Participant {
        id: p.id.clone(),
        address: p.address.clone(),
        name: p.name.clone(),
        status: status as i32,
        termination_cause: cause as i32,
        start_time: p.started_at.map(wire::timestamp),
        duration_seconds: p.duration_secs(now),
        client_correlator: p.client_correlator.clone(),
    }
}

pub fn session(stored: &Stored) -> pb::CallSession {
    pb::CallSession {
        id: stored.session.id.clone(),
        client_correlator: stored.row.client_correlator.clone(),
        participants: stored
            .session
            .participants
            .iter()
            .map(participant)
            .collect(),
        terminated: stored.session.terminated,
        callback: stored.row.notify_url.clone().map(|notify_url| Callback {
            notify_url,
            callback_data: stored.row.callback_data.clone(),
        }),
    }
}

/// The status for a core error on session `session_id`.
pub fn status(e: CoreError, session_id: &str) -> Status {
    match e {
        CoreError::Domain(DomainError::NoSuchParticipant) => grpc::not_found("participantId"),
        CoreError::Domain(DomainError::AlreadyTerminated) => {
            grpc::exception("SVC0261", [session_id])
        }
        CoreError::Domain(DomainError::TooManyParticipants) => {
            grpc::exception("POL0003", ["participant"])
        }
        CoreError::Domain(DomainError::DuplicateAddress) => {
            grpc::exception("POL0013", ["participantAddress"])
        }
        CoreError::Domain(DomainError::CorrelatorReused(c)) => {
            grpc::exception("SVC0005", [c, "clientCorrelator".into()])
        }
        // The add handler answers replays itself; reaching here is a bug.
        CoreError::Domain(DomainError::Replay(_)) => Status::internal("unexpected replay"),
        // Only network events are sequenced; no API call reaches here.
        CoreError::Domain(e @ DomainError::EarlyLegEvent { .. }) => {
            Status::unavailable(e.to_string())
        }
        CoreError::Db(e) => grpc::internal("call store failed", &e),
        CoreError::Contended(_) => Status::unavailable("call session busy; retry"),
        CoreError::Stopped => Status::unavailable("the call service is shutting down"),
    }
}
