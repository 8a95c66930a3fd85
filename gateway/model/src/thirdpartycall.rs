//! Third Party Call bodies (3pc.md §2–§3): call sessions and their participants.
//!
//! Input types (`…Request`, `…In`) reject unknown fields, so a client cannot set the read-only
//! `resourceURL`, `participantStatus`, `startTime`, `duration`, `terminationCause` or `link`.
//! Output types (`…Response` and what they wrap) are what the server writes; they also
//! deserialize, leniently, for tests and clients.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    common::{CallbackReference, ChargingInformation},
    tolerant,
};

#[cfg(test)]
mod tests;

/// Body of `POST /callSessions`: root `callSessionInformation`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallSessionInformationRequest {
    /// The session to create.
    pub call_session_information: CallSessionInformationIn,
}

/// The fields a client may send when creating a call session.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallSessionInformationIn {
    /// Participants in calling order; a single object is accepted. May be empty here:
    /// the caller decides how to report that.
    #[serde(deserialize_with = "tolerant::one_or_many")]
    pub participant: Vec<CallParticipantIn>,
    /// Idempotency key (common.md §7).
    #[serde(default)]
    pub client_correlator: Option<String>,
    /// What to charge for the call.
    #[serde(default)]
    pub charging: Option<ChargingInformation>,
    /// Where to send call events for this session, if the server supports it.
    #[serde(default)]
    pub callback_reference: Option<CallbackReference>,
}

/// Body of `POST /callSessions/{id}/participants`: root `callParticipantInformation`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallParticipantRequest {
    /// The participant to add.
    pub call_participant_information: CallParticipantIn,
}

/// The fields a client may send for one participant.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallParticipantIn {
    /// `tel:`, `sip:` or `acr:` URI, still unchecked (see [`crate::Address::parse`]).
    pub participant_address: String,
    /// Display name.
    #[serde(default)]
    pub participant_name: Option<String>,
    /// Idempotency key, when the participant is posted on its own.
    #[serde(default)]
    pub client_correlator: Option<String>,
}

/// Response body with root `callSessionInformation`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallSessionInformationResponse {
    /// The session.
    pub call_session_information: CallSessionInformation,
}

/// A call session as the server reports it (3pc.md §2.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallSessionInformation {
    /// Echo of the creating request's correlator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Every participant, in calling order.
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub participant: Vec<CallParticipantInformation>,
    /// `…/callSessions/{callSessionId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Response body with root `callParticipantInformation`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallParticipantInformationResponse {
    /// The participant.
    pub call_participant_information: CallParticipantInformation,
}

/// One participant as the server reports it (3pc.md §2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallParticipantInformation {
    /// The participant's URI as the client gave it.
    pub participant_address: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_name: Option<String>,
    /// Echo of the correlator the participant was added with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// Where the participant's leg is.
    pub participant_status: ParticipantStatus,
    /// When the leg was connected.
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<DateTime<Utc>>,
    /// Connected time in seconds.
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// Why the leg ended, once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_cause: Option<TerminationCause>,
    /// `…/callSessions/{callSessionId}/participants/{participantId}`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// Response body with root `callParticipantList`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallParticipantListResponse {
    /// The list.
    pub call_participant_list: CallParticipantList,
}

/// The participants of one session (3pc.md §2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallParticipantList {
    /// Every participant, in calling order.
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub participant: Vec<CallParticipantInformation>,
    /// `…/callSessions/{callSessionId}/participants`.
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

/// `participantStatus` (3pc.md §3); the short OMA spellings are accepted on input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParticipantStatus {
    /// Being set up: dialling or alerting.
    #[default]
    #[serde(alias = "Initial")]
    CallParticipantInitial,
    /// Answered and in the call.
    #[serde(alias = "Connected")]
    CallParticipantConnected,
    /// The leg has ended; see `terminationCause`.
    #[serde(alias = "Terminated")]
    CallParticipantTerminated,
}

impl ParticipantStatus {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantStatus::CallParticipantInitial => "CallParticipantInitial",
            ParticipantStatus::CallParticipantConnected => "CallParticipantConnected",
            ParticipantStatus::CallParticipantTerminated => "CallParticipantTerminated",
        }
    }
}

impl fmt::Display for ParticipantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `terminationCause` (3pc.md §3); short spellings without `CallParticipant` are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TerminationCause {
    /// Nobody answered in time.
    #[serde(alias = "NoAnswer")]
    CallParticipantNoAnswer,
    /// The participant was busy.
    #[serde(alias = "Busy")]
    CallParticipantBusy,
    /// The participant could not be reached.
    #[serde(alias = "NotReachable")]
    CallParticipantNotReachable,
    /// The participant hung up, or the session was ended.
    #[serde(alias = "HangUp")]
    CallParticipantHangUp,
    /// The leg failed for another reason.
    #[serde(alias = "Aborted")]
    CallParticipantAborted,
}

impl TerminationCause {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationCause::CallParticipantNoAnswer => "CallParticipantNoAnswer",
            TerminationCause::CallParticipantBusy => "CallParticipantBusy",
            TerminationCause::CallParticipantNotReachable => "CallParticipantNotReachable",
            TerminationCause::CallParticipantHangUp => "CallParticipantHangUp",
            TerminationCause::CallParticipantAborted => "CallParticipantAborted",
        }
    }
}

impl fmt::Display for TerminationCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
