//! The call service's Audio Call replies as ParlayREST representations, with absolute
//! `resourceURL`s: `{api_root}/audiocall/messages/audio/{id}[/statusList]` and
//! `{api_root}/audiocall/interactions/{recording|collection}/{id}`.

use parlay_model::audiocall::{
    AudioMessage, DigitConfiguration, MessageStatus, MessageStatusList, ParticipantMessageStatus,
    PlayAndCollectInteraction, PlayAndRecordInteraction, PlayingConfiguration,
};
use parlay_proto::call::v1::{self as pb, InteractionKind};

use crate::urls;

/// The path segment of an interaction kind under `interactions/`.
pub(super) fn segment(kind: InteractionKind) -> &'static str {
    match kind {
        InteractionKind::Collection => "collection",
        InteractionKind::Recording | InteractionKind::Unspecified => "recording",
    }
}

/// `…/messages/audio/{id}`.
fn message_url(root: &str, id: &str) -> String {
    urls::join(root, &["audiocall", "messages", "audio", id])
}

/// `…/interactions/{kind}/{id}`.
fn interaction_url(root: &str, kind: InteractionKind, id: &str) -> String {
    urls::join(root, &["audiocall", "interactions", segment(kind), id])
}

/// An audio message.
pub(super) fn audio_message(root: &str, m: pb::AudioMessage) -> AudioMessage {
    AudioMessage {
        resource_url: message_url(root, &m.id),
        call_session_identifier: m.call_session_id,
        call_participant: m.participants,
        audio_url: m.audio_url,
        media_type: m.media_type,
        interrupt_media: m.interrupt_media,
        client_correlator: m.client_correlator,
    }
}

/// The per-participant status of an audio message, in the service's (request) order.
pub(super) fn status_list(root: &str, m: pb::AudioMessage) -> MessageStatusList {
    MessageStatusList {
        resource_url: format!("{}/statusList", message_url(root, &m.id)),
        message_status: statuses(m.statuses),
    }
}

fn statuses(statuses: Vec<pb::ParticipantMediaStatus>) -> Vec<ParticipantMessageStatus> {
    statuses
        .into_iter()
        .map(|s| ParticipantMessageStatus {
            status: status(s.status()),
            call_participant: s.address,
        })
        .collect()
}

/// An unspecified status is reported as the first state, `Pending`.
fn status(status: pb::MediaStatus) -> MessageStatus {
    match status {
        pb::MediaStatus::Unspecified | pb::MediaStatus::Pending => MessageStatus::Pending,
        pb::MediaStatus::Playing => MessageStatus::Playing,
        pb::MediaStatus::Played => MessageStatus::Played,
        pb::MediaStatus::Error => MessageStatus::Error,
    }
}

/// The prompt, when the interaction has one.
fn prompt(i: &pb::Interaction) -> Option<PlayingConfiguration> {
    i.prompt_url.clone().map(|url| PlayingConfiguration {
        play_file_location: url,
        message_format: None,
        media_type: i.media_type.clone(),
        interrupt_media: i.interrupt_media,
    })
}

/// A recording interaction; `with_status` adds `interactionStatus` (reads only).
pub(super) fn recording(
    root: &str,
    i: pb::Interaction,
    with_status: bool,
) -> PlayAndRecordInteraction {
    let playing_configuration = prompt(&i);
    PlayAndRecordInteraction {
        resource_url: interaction_url(root, InteractionKind::Recording, &i.id),
        call_session_identifier: i.call_session_id,
        call_participant: i.participants.into_iter().next().unwrap_or_default(),
        playing_configuration,
        max_duration: i.max_duration_secs.map(i64::from),
        client_correlator: i.client_correlator,
        interaction_status: if with_status {
            statuses(i.statuses)
        } else {
            Vec::new()
        },
    }
}

/// A collection interaction; `with_status` adds `interactionStatus` (reads only).
pub(super) fn collection(
    root: &str,
    i: pb::Interaction,
    with_status: bool,
) -> PlayAndCollectInteraction {
    let playing_configuration = prompt(&i);
    let digits = DigitConfiguration {
        min_digits: i.min_digits.map(i64::from),
        max_digits: i.max_digits.map(i64::from),
        end_char: i.end_char,
    };
    PlayAndCollectInteraction {
        resource_url: interaction_url(root, InteractionKind::Collection, &i.id),
        call_session_identifier: i.call_session_id,
        call_participant: i.participants,
        playing_configuration,
        digit_configuration: (digits != DigitConfiguration::default()).then_some(digits),
        client_correlator: i.client_correlator,
        interaction_status: if with_status {
            statuses(i.statuses)
        } else {
            Vec::new()
        },
    }
}
