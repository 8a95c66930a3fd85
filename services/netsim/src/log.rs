//! What netsim was told to do, in arrival order: the command log the control API shows,
//! and the set of command ids already handled (so a redelivery acts and logs once).
//! Both are bounded so a long-running sandbox does not grow without limit.

use std::collections::{HashSet, VecDeque};

use chrono::{SecondsFormat, Utc};
use parlay_proto::net::v1::CallCommand;
use serde::Serialize;

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
}

/// One entry of `GET /netsim/v1/log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogEntry {
    pub(crate) kind: LogKind,
    pub(crate) call_session_id: String,
    pub(crate) participant_id: String,
    pub(crate) address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) calling_address: Option<String>,
    /// The bus command's id; absent for hangups, which come from the control API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) command_id: Option<String>,
    /// RFC 3339, UTC, milliseconds.
    pub(crate) at: String,
    /// Set when the command was logged but had no effect (a connect for a leg already
    /// known, for example one released before its connect arrived).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) ignored: bool,
}

impl LogEntry {
    /// An entry for a bus command of `kind`.
    pub(crate) fn command(kind: LogKind, command: &CallCommand) -> Self {
        Self {
            kind,
            call_session_id: command.call_session_id.clone(),
            participant_id: command.participant_id.clone(),
            address: command.address.clone(),
            name: command.name.clone(),
            calling_address: None,
            command_id: Some(command.command_id.clone()).filter(|id| !id.is_empty()),
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
            name: None,
            calling_address: None,
            command_id: None,
            at: now(),
            ignored: false,
        }
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

    /// The entries, oldest first, only those of `call_session_id` when given.
    pub(crate) fn entries(&self, call_session_id: Option<&str>) -> Vec<LogEntry> {
        self.entries
            .iter()
            .filter(|e| call_session_id.is_none_or(|id| e.call_session_id == id))
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
        assert_eq!(log.entries(None).len(), MAX_ENTRIES);
        assert!(
            log.entries(Some("cs1"))
                .iter()
                .all(|e| e.call_session_id == "cs1")
        );
        assert!(log.entries(Some("nope")).is_empty());
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
}
