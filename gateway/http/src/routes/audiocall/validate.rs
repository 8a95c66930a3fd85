//! Audio Call requests checked and turned into gRPC messages, before any call.
//!
//! Playing audio, in this order (the first failure answers):
//! 1. `callSessionIdentifier` shaped like an id, else 400 SVC0002 ["callSessionIdentifier"]
//!    (whether the application may use the session is the service's to say, with the same
//!    error, or SVC0261 when it has ended);
//! 2. `callParticipant` as [`crate::validate::user_addresses`] (empty or bad → 400 SVC0004
//!    ["callParticipant"], the same address twice → 403 POL0013). No user restriction: the
//!    session was authorised when it was made or notified, and the service refuses
//!    addresses that are not live participants of it (400 SVC0004 [address]);
//! 3. `audioUrl` an absolute http(s) URL, else 400 SVC0002 ["audioUrl"];
//! 4. `messageFormat` other than `Audio` → 403 POL0011 [the format]; `mediaType` a short
//!    text (400 SVC0002 ["mediaType"]); whether it is played is the service's (POL0011);
//! 5. `charging` → 403 POL0008; 6. `clientCorrelator`.
//!
//! Interactions: the session and participants as above (a recording records exactly one
//! participant: several → 400 SVC0002 ["callParticipant"]); the prompt as the audio
//! (`playFileLocation` → SVC0002 ["playFileLocation"]); `maxDuration` at least 1 (400
//! SVC0002 ["maxDuration"]), shortened to `call.max_recording_secs`; `minDigits` and `maxDigits`
//! from 1 to [`MAX_DIGITS`] with `minDigits` ≤ `maxDigits` (400 SVC0002 naming the field);
//! `endChar` one of `0-9*#` (400 SVC0002 ["endChar"]).

use parlay_model::audiocall::{
    AudioMessageIn, DigitConfiguration, PlayAndCollectInteractionIn, PlayAndRecordInteractionIn,
    PlayingConfiguration,
};
use parlay_proto::call::v1::{self as pb, InteractionKind};

use crate::{
    apps::App,
    error::ApiError,
    validate::{body_id, client_correlator, media_url, no_charging, short_text, user_addresses},
};

/// Most digits one collection may ask for.
pub(super) const MAX_DIGITS: i64 = 32;

const SESSION: &str = "callSessionIdentifier";
const PARTICIPANT: &str = "callParticipant";

/// The `AudioMessage` message for a valid `audioMessage`.
pub(super) fn audio_message(app: &App, body: AudioMessageIn) -> Result<pb::AudioMessage, ApiError> {
    let call_session_id = body_id(body.call_session_identifier, SESSION)?;
    let participants = user_addresses(app, body.call_participant, PARTICIPANT)?;
    let audio_url = media_url(body.audio_url, "audioUrl")?;
    audio_only(body.message_format)?;
    let media_type = media_type(body.media_type)?;
    no_charging(body.charging.as_ref())?;
    Ok(pb::AudioMessage {
        call_session_id,
        participants,
        audio_url,
        media_type,
        interrupt_media: body.interrupt_media,
        client_correlator: client_correlator(body.client_correlator)?,
        ..Default::default()
    })
}

/// The `Interaction` message for a valid `playAndRecordInteraction`; a `maxDuration` above
/// `max_secs` is shortened to it (the granted value is echoed), as a subscription's
/// `duration` is.
pub(super) fn recording(
    app: &App,
    body: PlayAndRecordInteractionIn,
    max_secs: u32,
) -> Result<pb::Interaction, ApiError> {
    let call_session_id = body_id(body.call_session_identifier, SESSION)?;
    let participants = user_addresses(app, body.call_participant, PARTICIPANT)?;
    if participants.len() > 1 {
        return Err(ApiError::of("SVC0002", [PARTICIPANT]));
    }
    let mut interaction = prompt(body.playing_configuration)?;
    interaction.max_duration_secs = body
        .max_duration
        .map(|d| {
            u32::try_from(d)
                .ok()
                .filter(|d| *d >= 1)
                .map(|d| d.min(max_secs))
                .ok_or_else(|| ApiError::of("SVC0002", ["maxDuration"]))
        })
        .transpose()?;
    interaction.call_session_id = call_session_id;
    interaction.participants = participants;
    interaction.client_correlator = client_correlator(body.client_correlator)?;
    interaction.set_kind(InteractionKind::Recording);
    Ok(interaction)
}

/// The `Interaction` message for a valid `playAndCollectInteraction` (or `digitCapture`).
pub(super) fn collection(
    app: &App,
    body: PlayAndCollectInteractionIn,
) -> Result<pb::Interaction, ApiError> {
    let call_session_id = body_id(body.call_session_identifier, SESSION)?;
    let participants = user_addresses(app, body.call_participant, PARTICIPANT)?;
    let mut interaction = prompt(body.playing_configuration)?;
    digits(
        &mut interaction,
        body.digit_configuration.unwrap_or_default(),
    )?;
    interaction.call_session_id = call_session_id;
    interaction.participants = participants;
    interaction.client_correlator = client_correlator(body.client_correlator)?;
    interaction.set_kind(InteractionKind::Collection);
    Ok(interaction)
}

/// An interaction with the prompt's fields set, if there is one.
fn prompt(config: Option<PlayingConfiguration>) -> Result<pb::Interaction, ApiError> {
    let Some(config) = config else {
        return Ok(pb::Interaction::default());
    };
    let prompt_url = media_url(config.play_file_location, "playFileLocation")?;
    audio_only(config.message_format)?;
    Ok(pb::Interaction {
        prompt_url: Some(prompt_url),
        media_type: media_type(config.media_type)?,
        interrupt_media: config.interrupt_media,
        ..Default::default()
    })
}

/// Sets the digit rules of a collection.
fn digits(interaction: &mut pb::Interaction, config: DigitConfiguration) -> Result<(), ApiError> {
    let count = |value: Option<i64>, field: &str| {
        value
            .map(|n| {
                u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_DIGITS).contains(&i64::from(*n)))
                    .ok_or_else(|| ApiError::of("SVC0002", [field]))
            })
            .transpose()
    };
    let min = count(config.min_digits, "minDigits")?;
    let max = count(config.max_digits, "maxDigits")?;
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(ApiError::of("SVC0002", ["minDigits"]));
    }
    let end_char = config
        .end_char
        .map(|c| {
            let mut chars = c.chars();
            match (chars.next(), chars.next()) {
                (Some(k), None) if k.is_ascii_digit() || k == '*' || k == '#' => Ok(c),
                _ => Err(ApiError::of("SVC0002", ["endChar"])),
            }
        })
        .transpose()?;
    interaction.min_digits = min;
    interaction.max_digits = max;
    interaction.end_char = end_char;
    Ok(())
}

/// `messageFormat`, when given, must be `Audio` (any case): the suite plays nothing else,
/// so another format is an unsupported media type, 403 POL0011 [the format].
fn audio_only(format: Option<String>) -> Result<(), ApiError> {
    match short_text(format, "messageFormat")? {
        Some(f) if !f.eq_ignore_ascii_case("Audio") => Err(ApiError::of("POL0011", [f])),
        _ => Ok(()),
    }
}

/// `mediaType`, when given: a non-empty short text, else 400 SVC0002 ["mediaType"].
fn media_type(value: Option<String>) -> Result<Option<String>, ApiError> {
    match short_text(value, "mediaType")? {
        Some(t) if t.trim().is_empty() => Err(ApiError::of("SVC0002", ["mediaType"])),
        other => Ok(other),
    }
}
