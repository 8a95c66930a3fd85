//! Scripted rules: what the network does with an address. The first rule whose `address`
//! glob matches decides; with none, the participant answers after the default delay.
//!
//! A rule is one JSON object with `deny_unknown_fields`: a later behaviour (message
//! delivery, recordings) is one more `Option` field with `#[serde(default)]`, so older
//! scripts keep working and typos are still refused.

use std::time::Duration;

use parlay_proto::net::v1::LegOutcome;
use serde::{Deserialize, Serialize};

use crate::glob;

/// Most rules one `PUT` may store.
pub(crate) const MAX_RULES: usize = 1_000;
/// Longest address pattern accepted, in characters.
const MAX_PATTERN_LEN: usize = 512;
/// Longest delay accepted: an hour is already far beyond any test.
const MAX_DELAY_MS: u64 = 3_600_000;

/// One scripted rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Rule {
    /// Glob over the participant address (`*`, `?`).
    pub(crate) address: String,
    /// What happens to a call leg towards a matching address.
    pub(crate) call: CallBehaviour,
    /// Milliseconds before the call outcome; the configured default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) call_delay_ms: Option<u64>,
}

/// The outcome a rule scripts for a call leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum CallBehaviour {
    Answer,
    Busy,
    NoAnswer,
    NotReachable,
}

impl CallBehaviour {
    /// The leg event the behaviour produces.
    pub(crate) fn outcome(self) -> LegOutcome {
        match self {
            CallBehaviour::Answer => LegOutcome::Answered,
            CallBehaviour::Busy => LegOutcome::Busy,
            CallBehaviour::NoAnswer => LegOutcome::NoAnswer,
            CallBehaviour::NotReachable => LegOutcome::NotReachable,
        }
    }
}

/// The body of `PUT`/`GET /netsim/v1/rules`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSet {
    pub(crate) rules: Vec<Rule>,
}

impl RuleSet {
    /// Checks limits serde cannot express; the message names the offending rule.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.rules.len() > MAX_RULES {
            return Err(format!("at most {MAX_RULES} rules are accepted"));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.address.is_empty() {
                return Err(format!("rules[{i}].address is empty"));
            }
            if rule.address.chars().count() > MAX_PATTERN_LEN {
                return Err(format!(
                    "rules[{i}].address is longer than {MAX_PATTERN_LEN} characters"
                ));
            }
            if rule.call_delay_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
                return Err(format!(
                    "rules[{i}].callDelayMs is larger than {MAX_DELAY_MS}"
                ));
            }
        }
        Ok(())
    }
}

/// What will happen to one dialled leg, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallPlan {
    pub(crate) behaviour: CallBehaviour,
    pub(crate) delay: Duration,
}

/// The plan for a leg towards `address`: the first matching rule, else answer.
pub(crate) fn plan(rules: &[Rule], address: &str, default_delay: Duration) -> CallPlan {
    match rules.iter().find(|r| glob::matches(&r.address, address)) {
        Some(rule) => CallPlan {
            behaviour: rule.call,
            delay: rule
                .call_delay_ms
                .map_or(default_delay, Duration::from_millis),
        },
        None => CallPlan {
            behaviour: CallBehaviour::Answer,
            delay: default_delay,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Duration = Duration::from_millis(50);

    fn rules(json: &str) -> Result<RuleSet, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn first_matching_rule_wins_and_default_is_answer() {
        let set = rules(
            r#"{"rules": [
                {"address": "tel:+1555*", "call": "busy", "callDelayMs": 10},
                {"address": "tel:+1*", "call": "notReachable"}
            ]}"#,
        )
        .unwrap();
        let busy = plan(&set.rules, "tel:+15551234", DEFAULT);
        assert_eq!(busy.behaviour, CallBehaviour::Busy);
        assert_eq!(busy.delay, Duration::from_millis(10));
        let unreachable = plan(&set.rules, "tel:+16661234", DEFAULT);
        assert_eq!(unreachable.behaviour, CallBehaviour::NotReachable);
        assert_eq!(unreachable.delay, DEFAULT);
        let answer = plan(&set.rules, "tel:+46701234", DEFAULT);
        assert_eq!(answer.behaviour, CallBehaviour::Answer);
        assert_eq!(answer.delay, DEFAULT);
    }

    #[test]
    fn unknown_fields_and_behaviours_are_refused() {
        assert!(rules(r#"{"rules": [{"address": "*", "call": "answer", "x": 1}]}"#).is_err());
        assert!(rules(r#"{"rules": [{"address": "*", "call": "explode"}]}"#).is_err());
        assert!(rules(r#"{"rules": [], "extra": true}"#).is_err());
        assert!(
            rules(r#"{"rules": [{"address": "*", "call": "answer", "callDelayMs": -1}]}"#).is_err()
        );
    }

    #[test]
    fn limits_are_checked() {
        let ok = rules(r#"{"rules": [{"address": "*", "call": "noAnswer"}]}"#).unwrap();
        assert!(ok.validate().is_ok());
        let empty = rules(r#"{"rules": [{"address": "", "call": "answer"}]}"#).unwrap();
        assert!(empty.validate().is_err());
        let slow =
            rules(r#"{"rules": [{"address": "*", "call": "answer", "callDelayMs": 99999999}]}"#)
                .unwrap();
        assert!(slow.validate().is_err());
    }

    #[test]
    fn stored_rules_serialise_as_they_were_given() {
        let json = r#"{"rules":[{"address":"tel:+1555*","call":"noAnswer","callDelayMs":5},{"address":"*","call":"answer"}]}"#;
        let set = rules(json).unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), json);
    }
}
