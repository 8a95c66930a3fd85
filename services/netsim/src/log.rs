//! What netsim was told to do, in arrival order: the command log the control API shows
//! (call commands, hangups and network calls; messages submitted, one entry per
//! destination, and messages injected), and the set of command ids already handled (so a
//! redelivery acts and logs once). Both are bounded so a long-running sandbox does not
//! grow without limit.

use std::collections::{HashSet, VecDeque};

use chrono::{SecondsFormat, Utc};
use parlay_proto::net::v1::{CallCommand, call_command::Kind};
use serde::Serialize;

use crate::network::DecisionView;

/// Most log entries kept; the oldest are dropped first.
const MAX_ENTRIES: usize = 10_000;
/// Most command ids remembered for de-duplication; far beyond any redelivery window.
const MAX_SEEN: usize = 100_000;

/// What a log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum LogKind {
    Connect,
    Release,
    Hangup,
    /// A network-originated call the control API started.
    Attempt,
    Play,
    Record,
    Collect,
    Stop,
    /// An SMS submitted to one destination.
    Sms,
    /// An MMS submitted to one destination.
    Mms,
    /// A message the control API injected (SMS or MMS).
    Inbound,
    /// A delivery receipt netsim sent for one destination of a submit.
    Receipt,
}

/// One entry of `GET /netsim/v1/log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogEntry {
    pub(crate) kind: LogKind,
    /// Empty (and left out) for attempts, which have no session yet.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) call_session_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) participant_id: String,
    /// The participant's address; for attempts, the called party; for messages, the
    /// destination.
    pub(crate) address: String,
    /// The network call the entry is about (attempts, and commands naming one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) call_id: Option<String>,
    /// The call-direction decision a command carried out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) decision: Option<DecisionView>,
    /// Media commands: the play, recording or collection concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) media_id: Option<String>,
    /// The audio played, or the prompt of a recording or collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) calling_address: Option<String>,
    /// The bus command's id; absent for hangups, attempts and injected messages, which
    /// come from the control API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command_id: Option<String>,
    /// Messages: who sent what.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<Box<MessageDetails>>,
    /// RFC 3339, UTC, milliseconds.
    pub(crate) at: String,
    /// Set when the command was logged but had no effect: a connect for a leg already
    /// known (for example one released before its connect arrived), media already in
    /// progress under the same media id, a stop with nothing to stop.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) ignored: bool,
}

impl LogEntry {
    /// An entry for a bus command of `kind`.
    pub(crate) fn command(kind: LogKind, command: &CallCommand) -> Self {
        let (media_id, url) = match &command.kind {
            Some(Kind::Play(play)) => (Some(&play.media_id), Some(&play.url)),
            Some(Kind::Record(record)) => (Some(&record.media_id), record.prompt_url.as_ref()),
            Some(Kind::Collect(collect)) => (Some(&collect.media_id), collect.prompt_url.as_ref()),
            Some(Kind::StopMedia(stop)) => (Some(&stop.media_id), None),
            Some(Kind::Connect(_) | Kind::Release(_)) | None => (None, None),
        };
        Self {
            kind,
            call_session_id: command.call_session_id.clone(),
            participant_id: command.participant_id.clone(),
            address: command.address.clone(),
            call_id: command.network_call.as_ref().map(|n| n.call_id.clone()),
            decision: command
                .decision
                .as_ref()
                .and_then(|d| DecisionView::try_from(d).ok()),
            media_id: media_id.cloned(),
            url: url.cloned(),
            name: command.name.clone(),
            calling_address: None,
            command_id: Some(command.command_id.clone()).filter(|id| !id.is_empty()),
            message: None,
            at: now(),
            ignored: false,
        }
    }

    /// An entry for a hangup the control API asked for.
    pub(crate) fn hangup(call_session_id: &str, participant_id: &str, address: &str) -> Self {
        Self {
            kind: LogKind::Hangup,
            call_session_id: call_session_id.to_string(),
            participant_id: participant_id.to_string(),
            address: address.to_string(),
            call_id: None,
            decision: None,
            media_id: None,
            url: None,
            name: None,
            calling_address: None,
            command_id: None,
            message: None,
            at: now(),
            ignored: false,
        }
    }

    /// An entry for a network call the control API started.
    pub(crate) fn attempt(
        call_id: &str,
        calling: &str,
        called: &str,
        calling_name: Option<&str>,
    ) -> Self {
        Self {
            kind: LogKind::Attempt,
            call_session_id: String::new(),
            participant_id: String::new(),
            address: called.to_string(),
            call_id: Some(call_id.to_string()),
            decision: None,
            media_id: None,
            url: None,
            name: calling_name.map(str::to_string),
            calling_address: Some(calling.to_string()),
            command_id: None,
            message: None,
            at: now(),
            ignored: false,
        }
    }
}

impl LogEntry {
    /// An entry for a message to (or, injected, for) `address`.
    pub(crate) fn message(
        kind: LogKind,
        address: &str,
        command_id: Option<&str>,
        details: MessageDetails,
    ) -> Self {
        Self {
            kind,
            call_session_id: String::new(),
            participant_id: String::new(),
            address: address.to_string(),
            call_id: None,
            decision: None,
            media_id: None,
            url: None,
            name: None,
            calling_address: None,
            command_id: command_id.filter(|id| !id.is_empty()).map(str::to_string),
            message: Some(Box::new(details)),
            at: now(),
            ignored: false,
        }
    }
}

/// What a message entry shows of the message; empty fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageDetails {
    /// Submits: the suite's request the message belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<String>,
    /// Injected messages: the id of the event published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) event_id: Option<String>,
    /// Receipts: the delivery status reported, and the network's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) sender_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sender_name: Option<String>,
    /// The text: an SMS's, re-assembled from its segments, or an MMS's text part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    /// Submitted SMS: how many segments the text took, and their encoding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) segments: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<String>,
    /// MMS only (possibly empty): the attachments, without their data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attachments: Option<Vec<AttachmentView>>,
}

/// An attachment as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttachmentView {
    pub(crate) name: String,
    pub(crate) content_type: String,
    /// In bytes.
    pub(crate) size: usize,
}

/// Which log entries to show; every given field must match.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogFilter<'a> {
    pub(crate) call_session_id: Option<&'a str>,
    pub(crate) call_id: Option<&'a str>,
    /// The entry's `address` (a participant, a called party, a message's destination).
    pub(crate) address: Option<&'a str>,
    pub(crate) request_id: Option<&'a str>,
}

impl LogFilter<'_> {
    fn matches(&self, entry: &LogEntry) -> bool {
        self.call_session_id
            .is_none_or(|id| entry.call_session_id == id)
            && self
                .call_id
                .is_none_or(|id| entry.call_id.as_deref() == Some(id))
            && self.address.is_none_or(|a| entry.address == a)
            && self.request_id.is_none_or(|id| {
                entry.message.as_ref().and_then(|m| m.request_id.as_deref()) == Some(id)
            })
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The bounded command log, oldest first.
#[derive(Debug, Default)]
pub(crate) struct CommandLog {
    entries: VecDeque<LogEntry>,
}

impl CommandLog {
    pub(crate) fn push(&mut self, entry: LogEntry) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The entries `filter` lets through, oldest first.
    pub(crate) fn entries(&self, filter: LogFilter<'_>) -> Vec<LogEntry> {
        self.entries
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect()
    }
}

/// The command ids already handled, forgetting the oldest beyond [`MAX_SEEN`].
#[derive(Debug, Default)]
pub(crate) struct SeenCommands {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl SeenCommands {
    /// Records `id`; false when it was seen before.
    pub(crate) fn first_time(&mut self, id: &str) -> bool {
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.order.push_back(id.to_string());
        if self.order.len() > MAX_SEEN
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_commands_recognise_repeats_and_forget_the_oldest() {
        let mut seen = SeenCommands::default();
        assert!(seen.first_time("a"));
        assert!(!seen.first_time("a"));
        for i in 0..MAX_SEEN {
            assert!(seen.first_time(&format!("id{i}")));
        }
        assert!(seen.first_time("a"), "the oldest id was forgotten");
        assert!(!seen.first_time(&format!("id{}", MAX_SEEN - 1)));
    }

    #[test]
    fn log_is_bounded_and_filters_by_session() {
        let mut log = CommandLog::default();
        for i in 0..MAX_ENTRIES + 5 {
            log.push(LogEntry::hangup(&format!("cs{}", i % 2), "p", "tel:+1"));
        }
        assert_eq!(log.entries(LogFilter::default()).len(), MAX_ENTRIES);
        let cs1 = LogFilter {
            call_session_id: Some("cs1"),
            ..LogFilter::default()
        };
        assert!(log.entries(cs1).iter().all(|e| e.call_session_id == "cs1"));
        let nope = LogFilter {
            call_session_id: Some("nope"),
            ..LogFilter::default()
        };
        assert!(log.entries(nope).is_empty());
    }

    #[test]
    fn attempts_filter_by_call_id_and_omit_the_session() {
        let mut log = CommandLog::default();
        log.push(LogEntry::attempt("nc1", "tel:+1", "tel:+2", Some("Ann")));
        log.push(LogEntry::hangup("cs1", "p1", "tel:+1"));
        let by_call = LogFilter {
            call_id: Some("nc1"),
            ..LogFilter::default()
        };
        let entries = log.entries(by_call);
        assert_eq!(entries.len(), 1);
        let value = serde_json::to_value(&entries[0]).unwrap();
        assert_eq!(value["kind"], "attempt");
        assert_eq!(value["callId"], "nc1");
        assert_eq!(value["address"], "tel:+2");
        assert_eq!(value["callingAddress"], "tel:+1");
        assert_eq!(value["name"], "Ann");
        assert!(value.get("callSessionId").is_none() && value.get("participantId").is_none());
    }

    #[test]
    fn entries_serialise_with_camel_case_and_omit_empty_fields() {
        let value = serde_json::to_value(LogEntry::hangup("cs1", "p1", "tel:+1555")).unwrap();
        assert_eq!(value["kind"], "hangup");
        assert_eq!(value["callSessionId"], "cs1");
        assert_eq!(value["participantId"], "p1");
        assert!(value.get("name").is_none() && value.get("ignored").is_none());
        assert!(chrono::DateTime::parse_from_rfc3339(value["at"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn message_entries_flatten_their_details_and_filter_by_address_and_request() {
        let mut log = CommandLog::default();
        let details = |request: &str| MessageDetails {
            request_id: Some(request.into()),
            sender_address: "tel:+1000".into(),
            text: Some("hi".into()),
            segments: Some(1),
            encoding: Some("gsm7"),
            ..MessageDetails::default()
        };
        log.push(LogEntry::message(
            LogKind::Sms,
            "tel:+2",
            Some("cmd1"),
            details("rq1"),
        ));
        log.push(LogEntry::message(
            LogKind::Sms,
            "tel:+3",
            Some("cmd1"),
            details("rq1"),
        ));
        log.push(LogEntry::message(
            LogKind::Sms,
            "tel:+2",
            Some(""),
            details("rq2"),
        ));
        log.push(LogEntry::hangup("cs1", "p1", "tel:+2"));
        let to_2 = LogFilter {
            address: Some("tel:+2"),
            ..LogFilter::default()
        };
        assert_eq!(log.entries(to_2).len(), 3);
        let rq1 = LogFilter {
            request_id: Some("rq1"),
            ..LogFilter::default()
        };
        assert_eq!(log.entries(rq1).len(), 2);
        let both = LogFilter {
            address: Some("tel:+2"),
            request_id: Some("rq2"),
            ..LogFilter::default()
        };
        let entries = log.entries(both);
        assert_eq!(entries.len(), 1);
        assert_eq!(
            serde_json::to_value(&entries[0]).unwrap(),
            serde_json::json!({
                "kind": "sms", "address": "tel:+2", "requestId": "rq2",
                "senderAddress": "tel:+1000", "text": "hi", "segments": 1, "encoding": "gsm7",
                "at": entries[0].at,
            })
        );
    }
}
