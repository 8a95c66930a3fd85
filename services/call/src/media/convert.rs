//! Protobuf ↔ Audio Call conversions, and refusals → gRPC status.

use parlay_kit::grpc;
use parlay_proto::call::v1 as pb;
use tonic::Status;

use super::{
    rules::{self, MediaError, MediaKind, MediaStatus},
    store::Media,
};

impl From<MediaError> for Status {
    fn from(e: MediaError) -> Status {
        match e {
            MediaError::Invalid(field) => grpc::exception("SVC0002", [field]),
            MediaError::MediaType(t) => grpc::exception("POL0011", [t]),
            MediaError::NotParticipant(a) => grpc::exception("SVC0004", [a]),
            MediaError::Ended(id) => grpc::exception("SVC0261", [id]),
        }
    }
}

pub fn interaction_kind(kind: i32) -> Result<MediaKind, Status> {
    match pb::InteractionKind::try_from(kind) {
        Ok(pb::InteractionKind::Recording) => Ok(MediaKind::Recording),
        Ok(pb::InteractionKind::Collection) => Ok(MediaKind::Collection),
        _ => Err(Status::invalid_argument("interaction kind missing")),
    }
}

fn statuses(m: &Media) -> Vec<pb::ParticipantMediaStatus> {
    m.targets
        .iter()
        .map(|t| pb::ParticipantMediaStatus {
            address: t.address.clone(),
            status: match MediaStatus::parse(&t.status) {
                MediaStatus::Pending => pb::MediaStatus::Pending,
                MediaStatus::Playing => pb::MediaStatus::Playing,
                MediaStatus::Played => pb::MediaStatus::Played,
                MediaStatus::Error => pb::MediaStatus::Error,
            } as i32,
        })
        .collect()
}

fn uint(n: Option<i32>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

fn participants(m: &Media) -> Vec<String> {
    m.targets.iter().map(|t| t.address.clone()).collect()
}

pub fn message_to_pb(m: &Media) -> pb::AudioMessage {
    pb::AudioMessage {
        id: m.row.id.clone(),
        call_session_id: m.row.session_id.clone(),
        participants: participants(m),
        audio_url: m.row.url.clone().unwrap_or_default(),
        media_type: m.row.media_type.clone(),
        interrupt_media: m.row.interrupt_media,
        client_correlator: m.row.client_correlator.clone(),
        statuses: statuses(m),
    }
}

pub fn interaction_to_pb(m: &Media) -> pb::Interaction {
    pb::Interaction {
        id: m.row.id.clone(),
        kind: match m.kind() {
            MediaKind::Collection => pb::InteractionKind::Collection,
            _ => pb::InteractionKind::Recording,
        } as i32,
        call_session_id: m.row.session_id.clone(),
        participants: participants(m),
        prompt_url: m.row.url.clone(),
        media_type: m.row.media_type.clone(),
        interrupt_media: m.row.interrupt_media,
        max_duration_secs: uint(m.row.max_duration_secs),
        min_digits: uint(m.row.min_digits),
        max_digits: uint(m.row.max_digits),
        end_char: m.row.end_char.clone(),
        client_correlator: m.row.client_correlator.clone(),
        statuses: statuses(m),
    }
}

/// Empty strings from the wire mean "not given".
fn given(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.trim().is_empty())
}

pub fn message_request(m: pb::AudioMessage) -> rules::Request {
    rules::Request {
        kind: Some(MediaKind::Audio),
        session_id: m.call_session_id,
        participants: m.participants,
        url: Some(m.audio_url).filter(|u| !u.is_empty()),
        media_type: given(&m.media_type),
        interrupt_media: m.interrupt_media,
        client_correlator: given(&m.client_correlator),
        ..rules::Request::default()
    }
}

pub fn interaction_request(i: pb::Interaction, kind: MediaKind) -> rules::Request {
    rules::Request {
        kind: Some(kind),
        session_id: i.call_session_id,
        participants: i.participants,
        url: given(&i.prompt_url),
        media_type: given(&i.media_type),
        interrupt_media: i.interrupt_media,
        max_duration_secs: i.max_duration_secs.filter(|_| kind == MediaKind::Recording),
        min_digits: i.min_digits.filter(|_| kind == MediaKind::Collection),
        max_digits: i.max_digits.filter(|_| kind == MediaKind::Collection),
        end_char: given(&i.end_char).filter(|_| kind == MediaKind::Collection),
        client_correlator: given(&i.client_correlator),
    }
}
