//! Audio Call bodies (audiocall.md §2, docs/call-notification.md "Audio Call"): audio
//! messages, their status list, and the play-and-record / play-and-collect interactions.
//!
//! The element names are partly inferred by the spec notes, so input types accept the vendor
//! spellings listed there as synonyms (`callSessionId`, `address`, `mediaURL`,
//! `playFileLocation`, the Nokia root `digitCapture`). Input types reject unknown fields;
//! output types always write the names used here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{common::ChargingInformation, tolerant};

#[cfg(test)]
mod tests;

/// Body of `POST messages/audio`: root `audioMessage`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AudioMessageRequest {
    /// The message to play.
    pub audio_message: AudioMessageIn,
}

/// The fields a client may send to play audio (audiocall.md §2.1).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AudioMessageIn {
    /// The call session; ALU's `callSessionId` is accepted too.
    #[serde(alias = "callSessionId")]
    pub call_session_identifier: String,
    /// Who hears it: one address or a list; ALU's `address` is accepted too.
    #[serde(alias = "address", deserialize_with = "tolerant::string_or_many")]
    pub call_participant: Vec<String>,
    /// The audio to fetch and play; `mediaURL` (ALU) and `playFileLocation` (Nokia) too.
    #[serde(alias = "mediaURL", alias = "playFileLocation")]
    pub audio_url: String,
    /// MIME type of the audio.
    #[serde(default)]
    pub media_type: Option<String>,
    /// `Audio` is the only format the suite plays.
    #[serde(default)]
    pub message_format: Option<String>,
    /// Whether a key press stops the playing; `"true"`/`"false"` accepted.
    #[serde(default, deserialize_with = "tolerant::option_bool")]
    pub interrupt_media: Option<bool>,
    /// What to charge.
    #[serde(default)]
    pub charging: Option<ChargingInformation>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
}

/// Response body with root `audioMessage`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioMessageResponse {
    /// The message.
    pub audio_message: AudioMessage,
}

/// An audio message as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioMessage {
    /// The call session.
    pub call_session_identifier: String,
    /// Who hears it, always an array.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub call_participant: Vec<String>,
    /// The audio played.
    pub audio_url: String,
    /// MIME type of the audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Whether a key press stops the playing.
    #[serde(
        default,
        deserialize_with = "tolerant::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub interrupt_media: Option<bool>,
    /// Echo of the creating request's correlator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// `…/audiocall/messages/audio/{messageId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Response body with root `messageStatusList` (audiocall.md §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStatusListResponse {
    /// The list.
    pub message_status_list: MessageStatusList,
}

/// Where the playing of one message is, per participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStatusList {
    /// One entry per participant, in request order.
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub message_status: Vec<ParticipantMessageStatus>,
    /// `…/audiocall/messages/audio/{messageId}/statusList`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// One participant's status, in `messageStatus` and `interactionStatus`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantMessageStatus {
    /// The participant's address.
    pub call_participant: String,
    /// Where the playing is for them.
    pub status: MessageStatus,
}

/// `MessageStatus` (audiocall.md §2.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageStatus {
    /// Not started yet.
    #[default]
    Pending,
    /// Being played.
    Playing,
    /// Done (for an interaction: the result went to the subscriptions).
    Played,
    /// Could not be played to this participant.
    Error,
}

impl MessageStatus {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "Pending",
            MessageStatus::Playing => "Playing",
            MessageStatus::Played => "Played",
            MessageStatus::Error => "Error",
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The prompt played before recording or collecting (audiocall.md §2.3); in and out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayingConfiguration {
    /// The prompt's URL.
    pub play_file_location: String,
    /// `Audio` only; accepted on input, not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_format: Option<String>,
    /// MIME type of the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Whether a key press stops the prompt; `"true"`/`"false"` accepted.
    #[serde(
        default,
        deserialize_with = "tolerant::option_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub interrupt_media: Option<bool>,
}

/// How digits are collected (audiocall.md §2.3); in and out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DigitConfiguration {
    /// Fewest digits.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_digits: Option<i64>,
    /// Most digits.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_digits: Option<i64>,
    /// The key that ends the input, one of `0-9*#`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_char: Option<String>,
}

/// Body of `POST interactions/recording`: root `playAndRecordInteraction`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayAndRecordInteractionRequest {
    /// The interaction to start.
    pub play_and_record_interaction: PlayAndRecordInteractionIn,
}

/// The fields a client may send to record a participant (audiocall.md §2.4).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayAndRecordInteractionIn {
    /// The call session; `callSessionId` is accepted too.
    #[serde(alias = "callSessionId")]
    pub call_session_identifier: String,
    /// Who is recorded: exactly one address (a one-element array is accepted).
    #[serde(alias = "address", deserialize_with = "tolerant::string_or_many")]
    pub call_participant: Vec<String>,
    /// The prompt, if any.
    #[serde(default)]
    pub playing_configuration: Option<PlayingConfiguration>,
    /// Longest recording in seconds.
    #[serde(default, deserialize_with = "tolerant::option_string_or_number")]
    pub max_duration: Option<i64>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
}

/// Body of `POST interactions/collection`: root `playAndCollectInteraction`, or Nokia's
/// `digitCapture`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayAndCollectInteractionRequest {
    /// The interaction to start.
    #[serde(alias = "digitCapture")]
    pub play_and_collect_interaction: PlayAndCollectInteractionIn,
}

/// The fields a client may send to collect digits (audiocall.md §2.3).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayAndCollectInteractionIn {
    /// The call session; `callSessionId` is accepted too.
    #[serde(alias = "callSessionId")]
    pub call_session_identifier: String,
    /// Whose digits: one address or a list.
    #[serde(alias = "address", deserialize_with = "tolerant::string_or_many")]
    pub call_participant: Vec<String>,
    /// The prompt, if any.
    #[serde(default)]
    pub playing_configuration: Option<PlayingConfiguration>,
    /// How many digits, and the end key.
    #[serde(default)]
    pub digit_configuration: Option<DigitConfiguration>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
}

/// Response body with root `playAndRecordInteraction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayAndRecordInteractionResponse {
    /// The interaction.
    pub play_and_record_interaction: PlayAndRecordInteraction,
}

/// A recording interaction as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayAndRecordInteraction {
    /// The call session.
    pub call_session_identifier: String,
    /// Who is recorded.
    pub call_participant: String,
    /// The prompt, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playing_configuration: Option<PlayingConfiguration>,
    /// Longest recording in seconds.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_duration: Option<i64>,
    /// Echo of the creating request's correlator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Reads only: where the interaction is, per participant.
    #[serde(
        default,
        deserialize_with = "tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub interaction_status: Vec<ParticipantMessageStatus>,
    /// `…/audiocall/interactions/recording/{interactionId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Response body with root `playAndCollectInteraction`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayAndCollectInteractionResponse {
    /// The interaction.
    pub play_and_collect_interaction: PlayAndCollectInteraction,
}

/// A collection interaction as the server reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayAndCollectInteraction {
    /// The call session.
    pub call_session_identifier: String,
    /// Whose digits, always an array.
    #[serde(deserialize_with = "tolerant::string_or_many")]
    pub call_participant: Vec<String>,
    /// The prompt, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playing_configuration: Option<PlayingConfiguration>,
    /// How many digits, and the end key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit_configuration: Option<DigitConfiguration>,
    /// Echo of the creating request's correlator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Reads only: where the interaction is, per participant.
    #[serde(
        default,
        deserialize_with = "tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub interaction_status: Vec<ParticipantMessageStatus>,
    /// `…/audiocall/interactions/collection/{interactionId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}
