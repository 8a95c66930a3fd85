//! Scripted rules: what the network does with an address. The first rule whose `address`
//! glob matches decides everything about it (its call outcome; for media, how long a
//! play lasts, what the participant says into a recording and which digits they press; for
//! messages, the delivery receipts it reports); with none, or for a field the rule leaves
//! out, the configured defaults apply (a call is answered, a message delivered to the
//! terminal).
//!
//! ```json
//! {"rules": [
//!   {"address": "tel:+1555*", "call": "busy", "callDelayMs": 20,
//!    "playMs": 500, "recording": {"durationMs": 2000, "contentType": "audio/wav"},
//!    "digits": "12#"},
//!   {"address": "tel:+1666*", "delivery": "DeliveryImpossible", "deliveryDelayMs": 30,
//!    "deliveryDescription": "subscriber unknown"},
//!   {"address": "tel:+1777*", "deliverySteps": [
//!     {"status": "MessageWaiting", "delayMs": 10},
//!     {"status": "DeliveredToTerminal", "delayMs": 5, "description": "early"}]}
//! ]}
//! ```
//!
//! A rule is one JSON object with `deny_unknown_fields`: a later behaviour is one more
//! `Option` field with `#[serde(default)]`, so older scripts keep working and typos are
//! still refused. Every behaviour is optional, `call` included: a rule without `call`
//! lets calls be answered as with no rule.

use std::time::Duration;

use parlay_model::messaging::DeliveryStatus;
use parlay_proto::net::v1::LegOutcome;
use serde::{Deserialize, Serialize};

use crate::glob;

/// Most rules one `PUT` may store.
pub(crate) const MAX_RULES: usize = 1_000;
/// Longest address pattern accepted, in characters.
const MAX_PATTERN_LEN: usize = 512;
/// Longest delay accepted: an hour is already far beyond any test.
const MAX_DELAY_MS: u64 = 3_600_000;
/// Most digits a rule may script.
const MAX_SCRIPTED_DIGITS: usize = 128;
/// Longest recording content type accepted.
const MAX_CONTENT_TYPE_LEN: usize = 127;
/// What a recording is labelled when the rule names no content type.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "audio/wav";
/// Most delivery steps one rule may script.
const MAX_DELIVERY_STEPS: usize = 32;
/// Longest delivery description accepted, in characters.
const MAX_DESCRIPTION_LEN: usize = 1_024;

/// One scripted rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Rule {
    /// Glob over the participant address (`*`, `?`).
    pub(crate) address: String,
    /// What happens to a call leg towards a matching address; answered when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) call: Option<CallBehaviour>,
    /// Milliseconds before the call outcome; the configured default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) call_delay_ms: Option<u64>,
    /// Milliseconds a play (or a prompt) to a matching participant lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) play_ms: Option<u64>,
    /// What a matching participant says into a recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) recording: Option<RecordingRule>,
    /// The DTMF digits (`0-9`, `*`, `#`) a matching participant presses when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) digits: Option<String>,
    /// The final delivery status of a message to a matching destination, reported after
    /// `DeliveredToNetwork`; `DeliveredToTerminal` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delivery: Option<DeliveryStatus>,
    /// Milliseconds from the submit to the final status; the configured default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delivery_delay_ms: Option<u64>,
    /// Free text on the final status's receipt (an error reason, for example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delivery_description: Option<String>,
    /// Every receipt of a message to a matching destination, instead of `delivery`: each
    /// `delayMs` after the submit, so a later step with a smaller delay arrives first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delivery_steps: Option<Vec<DeliveryStep>>,
}

/// One scripted delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DeliveryStep {
    pub(crate) status: DeliveryStatus,
    /// Milliseconds after the submit (not after the previous step).
    pub(crate) delay_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

/// A rule's scripted recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct RecordingRule {
    /// Milliseconds the participant speaks; the configured default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration_ms: Option<u64>,
    /// The recording's media type; `audio/wav` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content_type: Option<String>,
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
            if rule.play_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
                return Err(format!("rules[{i}].playMs is larger than {MAX_DELAY_MS}"));
            }
            if let Some(recording) = &rule.recording {
                recording
                    .validate()
                    .map_err(|e| format!("rules[{i}].{e}"))?;
            }
            if let Some(digits) = &rule.digits {
                check_digits(digits).map_err(|e| format!("rules[{i}].digits {e}"))?;
            }
            rule.validate_delivery()
                .map_err(|e| format!("rules[{i}].{e}"))?;
        }
        Ok(())
    }
}

impl Rule {
    /// `delivery`, `deliveryDelayMs` and `deliveryDescription` script the final receipt;
    /// `deliverySteps` scripts every receipt: one or the other.
    fn validate_delivery(&self) -> Result<(), String> {
        if self.delivery_delay_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
            return Err(format!("deliveryDelayMs is larger than {MAX_DELAY_MS}"));
        }
        if let Some(description) = &self.delivery_description {
            check_description(description).map_err(|e| format!("deliveryDescription {e}"))?;
        }
        let Some(steps) = &self.delivery_steps else {
            return Ok(());
        };
        for (field, given) in [
            ("delivery", self.delivery.is_some()),
            ("deliveryDelayMs", self.delivery_delay_ms.is_some()),
            ("deliveryDescription", self.delivery_description.is_some()),
        ] {
            if given {
                return Err(format!("{field} and deliverySteps cannot be combined"));
            }
        }
        if steps.len() > MAX_DELIVERY_STEPS {
            return Err(format!(
                "deliverySteps has more than {MAX_DELIVERY_STEPS} steps"
            ));
        }
        for (j, step) in steps.iter().enumerate() {
            if step.delay_ms > MAX_DELAY_MS {
                return Err(format!(
                    "deliverySteps[{j}].delayMs is larger than {MAX_DELAY_MS}"
                ));
            }
            if let Some(description) = &step.description {
                check_description(description)
                    .map_err(|e| format!("deliverySteps[{j}].description {e}"))?;
            }
        }
        Ok(())
    }
}

fn check_description(description: &str) -> Result<(), String> {
    if description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(format!("is longer than {MAX_DESCRIPTION_LEN} characters"));
    }
    Ok(())
}

impl RecordingRule {
    fn validate(&self) -> Result<(), String> {
        if self.duration_ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
            return Err(format!(
                "recording.durationMs is larger than {MAX_DELAY_MS}"
            ));
        }
        if let Some(content_type) = &self.content_type {
            let well_formed = content_type
                .split_once('/')
                .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty())
                && content_type.len() <= MAX_CONTENT_TYPE_LEN
                && content_type.chars().all(|c| c.is_ascii_graphic());
            if !well_formed {
                return Err(format!(
                    "recording.contentType must be a media type such as {DEFAULT_CONTENT_TYPE}"
                ));
            }
        }
        Ok(())
    }
}

fn check_digits(digits: &str) -> Result<(), String> {
    if digits.len() > MAX_SCRIPTED_DIGITS {
        return Err(format!("is longer than {MAX_SCRIPTED_DIGITS} characters"));
    }
    if !digits
        .chars()
        .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        return Err("may only hold 0-9, * and #".to_string());
    }
    Ok(())
}

/// What will happen to one dialled leg, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallPlan {
    pub(crate) behaviour: CallBehaviour,
    pub(crate) delay: Duration,
}

/// The plan for a leg towards `address`: the first matching rule's `call` and
/// `callDelayMs`, else answer after the default delay.
pub(crate) fn plan(rules: &[Rule], address: &str, default_delay: Duration) -> CallPlan {
    let rule = rules.iter().find(|r| glob::matches(&r.address, address));
    CallPlan {
        behaviour: rule.and_then(|r| r.call).unwrap_or(CallBehaviour::Answer),
        delay: rule
            .and_then(|r| r.call_delay_ms)
            .map_or(default_delay, Duration::from_millis),
    }
}

/// One delivery receipt to report, `delay` after the submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedReceipt {
    pub(crate) status: DeliveryStatus,
    pub(crate) delay: Duration,
    pub(crate) description: Option<String>,
}

/// The receipts of a message to `destination`, in the order they are due (steps with the
/// same delay in the order listed). The first matching rule's `deliverySteps` when it has
/// them; otherwise `DeliveredToNetwork` at once, then its `delivery` (`DeliveredToTerminal`
/// when absent) after `deliveryDelayMs` (`default_delay` when absent), unless that is
/// `DeliveredToNetwork` itself.
pub(crate) fn delivery_plan(
    rules: &[Rule],
    destination: &str,
    default_delay: Duration,
) -> Vec<PlannedReceipt> {
    let rule = rules
        .iter()
        .find(|r| glob::matches(&r.address, destination));
    if let Some(steps) = rule.and_then(|r| r.delivery_steps.as_ref()) {
        let mut planned: Vec<PlannedReceipt> = steps
            .iter()
            .map(|step| PlannedReceipt {
                status: step.status,
                delay: Duration::from_millis(step.delay_ms),
                description: step.description.clone(),
            })
            .collect();
        // Stable: equal delays keep the order listed.
        planned.sort_by_key(|r| r.delay);
        return planned;
    }
    let status = rule
        .and_then(|r| r.delivery)
        .unwrap_or(DeliveryStatus::DeliveredToTerminal);
    let description = rule.and_then(|r| r.delivery_description.clone());
    if status == DeliveryStatus::DeliveredToNetwork {
        return vec![PlannedReceipt {
            status,
            delay: Duration::ZERO,
            description,
        }];
    }
    vec![
        PlannedReceipt {
            status: DeliveryStatus::DeliveredToNetwork,
            delay: Duration::ZERO,
            description: None,
        },
        PlannedReceipt {
            status,
            delay: rule
                .and_then(|r| r.delivery_delay_ms)
                .map_or(default_delay, Duration::from_millis),
            description,
        },
    ]
}

/// How media behaves towards one participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaPlan {
    /// How long a play or a prompt lasts.
    pub(crate) play: Duration,
    /// How long the participant speaks into a recording (before any cap).
    pub(crate) recording: Duration,
    pub(crate) content_type: String,
    /// The digits the participant presses; `None`: they press nothing.
    pub(crate) digits: Option<String>,
}

/// The defaults a [`MediaPlan`] falls back to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MediaDefaults {
    pub(crate) play: Duration,
    pub(crate) recording: Duration,
}

/// The media plan for a participant at `address`: the first matching rule's fields, the
/// defaults for the fields it leaves out (or when no rule matches).
pub(crate) fn media_plan(rules: &[Rule], address: &str, defaults: MediaDefaults) -> MediaPlan {
    let rule = rules.iter().find(|r| glob::matches(&r.address, address));
    let recording = rule.and_then(|r| r.recording.as_ref());
    MediaPlan {
        play: rule
            .and_then(|r| r.play_ms)
            .map_or(defaults.play, Duration::from_millis),
        recording: recording
            .and_then(|r| r.duration_ms)
            .map_or(defaults.recording, Duration::from_millis),
        content_type: recording
            .and_then(|r| r.content_type.clone())
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string()),
        digits: rule.and_then(|r| r.digits.clone()),
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
    fn media_plans_take_the_first_matching_rule_and_fill_in_defaults() {
        let defaults = MediaDefaults {
            play: Duration::from_millis(200),
            recording: Duration::from_millis(1_000),
        };
        let set = rules(
            r#"{"rules": [
                {"address": "tel:+1555*", "call": "answer", "playMs": 7,
                 "recording": {"durationMs": 30, "contentType": "audio/amr"}, "digits": "12#"},
                {"address": "tel:+1666*", "call": "answer", "recording": {}},
                {"address": "*", "call": "answer", "digits": "9"}
            ]}"#,
        )
        .unwrap();
        assert!(set.validate().is_ok());
        let scripted = media_plan(&set.rules, "tel:+15551234", defaults);
        assert_eq!(scripted.play, Duration::from_millis(7));
        assert_eq!(scripted.recording, Duration::from_millis(30));
        assert_eq!(scripted.content_type, "audio/amr");
        assert_eq!(scripted.digits.as_deref(), Some("12#"));
        let partial = media_plan(&set.rules, "tel:+16661234", defaults);
        assert_eq!(partial.play, defaults.play);
        assert_eq!(partial.recording, defaults.recording);
        assert_eq!(partial.content_type, DEFAULT_CONTENT_TYPE);
        assert_eq!(partial.digits, None, "the first matching rule decides");
        assert_eq!(media_plan(&[], "tel:+1", defaults).digits, None);
    }

    #[test]
    fn bad_media_fields_are_refused() {
        for bad in [
            r#"{"address": "*", "call": "answer", "digits": "12a"}"#,
            r#"{"address": "*", "call": "answer", "playMs": 99999999}"#,
            r#"{"address": "*", "call": "answer", "recording": {"durationMs": 99999999}}"#,
            r#"{"address": "*", "call": "answer", "recording": {"contentType": "wav"}}"#,
            r#"{"address": "*", "call": "answer", "recording": {"contentType": "audio/ wav"}}"#,
        ] {
            let set = rules(&format!(r#"{{"rules": [{bad}]}}"#)).unwrap();
            assert!(set.validate().is_err(), "{bad}");
        }
        assert!(
            rules(r#"{"rules": [{"address": "*", "call": "answer", "recording": {"ms": 1}}]}"#)
                .is_err()
        );
        assert!(
            rules(r#"{"rules": [{"address": "*", "call": "answer", "playMs": "5"}]}"#).is_err()
        );
    }

    #[test]
    fn stored_rules_serialise_as_they_were_given() {
        let json = r#"{"rules":[{"address":"tel:+1555*","call":"noAnswer","callDelayMs":5,"playMs":9,"recording":{"durationMs":50,"contentType":"audio/amr"},"digits":"1*#"},{"address":"*","call":"answer"}]}"#;
        let set = rules(json).unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), json);
    }

    #[test]
    fn a_rule_without_call_answers_after_its_delay_or_the_default() {
        let set = rules(
            r#"{"rules": [
                {"address": "tel:+1555*", "delivery": "DeliveryImpossible"},
                {"address": "tel:+1666*", "callDelayMs": 7},
                {"address": "*", "call": "busy"}
            ]}"#,
        )
        .unwrap();
        assert!(set.validate().is_ok());
        let messaging_only = plan(&set.rules, "tel:+15551234", DEFAULT);
        assert_eq!(messaging_only.behaviour, CallBehaviour::Answer);
        assert_eq!(messaging_only.delay, DEFAULT);
        let delayed = plan(&set.rules, "tel:+16661234", DEFAULT);
        assert_eq!(delayed.behaviour, CallBehaviour::Answer);
        assert_eq!(delayed.delay, Duration::from_millis(7));
        assert_eq!(
            plan(&set.rules, "tel:+4670", DEFAULT).behaviour,
            CallBehaviour::Busy
        );
    }

    fn receipt(status: DeliveryStatus, ms: u64, description: Option<&str>) -> PlannedReceipt {
        PlannedReceipt {
            status,
            delay: Duration::from_millis(ms),
            description: description.map(str::to_string),
        }
    }

    #[test]
    fn delivery_plans_follow_the_first_matching_rule() {
        use DeliveryStatus::*;
        let set = rules(
            r#"{"rules": [
                {"address": "tel:+1555*", "delivery": "DeliveryImpossible",
                 "deliveryDelayMs": 30, "deliveryDescription": "unknown subscriber"},
                {"address": "tel:+1666*", "delivery": "DeliveredToNetwork",
                 "deliveryDescription": "no more"},
                {"address": "tel:+1777*", "deliverySteps": [
                    {"status": "MessageWaiting", "delayMs": 20},
                    {"status": "DeliveryUncertain", "delayMs": 5, "description": "first"},
                    {"status": "DeliveredToTerminal", "delayMs": 20}
                ]},
                {"address": "tel:+1888*", "deliverySteps": []},
                {"address": "tel:+1999*", "call": "busy"}
            ]}"#,
        )
        .unwrap();
        assert!(set.validate().is_ok());
        assert_eq!(
            delivery_plan(&set.rules, "tel:+15551234", DEFAULT),
            [
                receipt(DeliveredToNetwork, 0, None),
                receipt(DeliveryImpossible, 30, Some("unknown subscriber"))
            ]
        );
        assert_eq!(
            delivery_plan(&set.rules, "tel:+16661234", DEFAULT),
            [receipt(DeliveredToNetwork, 0, Some("no more"))]
        );
        assert_eq!(
            delivery_plan(&set.rules, "tel:+17771234", DEFAULT),
            [
                receipt(DeliveryUncertain, 5, Some("first")),
                receipt(MessageWaiting, 20, None),
                receipt(DeliveredToTerminal, 20, None)
            ],
            "by delay, ties in the order listed"
        );
        assert!(delivery_plan(&set.rules, "tel:+18881234", DEFAULT).is_empty());
        let defaults = [
            receipt(DeliveredToNetwork, 0, None),
            receipt(DeliveredToTerminal, 50, None),
        ];
        assert_eq!(
            delivery_plan(&set.rules, "tel:+19991234", DEFAULT),
            defaults
        );
        assert_eq!(delivery_plan(&[], "tel:+4670", DEFAULT), defaults);
    }

    #[test]
    fn bad_delivery_fields_are_refused() {
        for bad in [
            r#"{"address": "*", "delivery": "DeliveredToNetwork", "deliverySteps": []}"#,
            r#"{"address": "*", "deliveryDelayMs": 5,
                "deliverySteps": [{"status": "MessageWaiting", "delayMs": 1}]}"#,
            r#"{"address": "*", "deliveryDescription": "x", "deliverySteps": []}"#,
            r#"{"address": "*", "deliveryDelayMs": 99999999}"#,
            r#"{"address": "*", "deliverySteps": [{"status": "MessageWaiting", "delayMs": 99999999}]}"#,
        ] {
            let set = rules(&format!(r#"{{"rules": [{bad}]}}"#)).unwrap();
            assert!(set.validate().is_err(), "{bad}");
        }
        let long = format!(
            r#"{{"rules": [{{"address": "*", "deliveryDescription": "{}"}}]}}"#,
            "x".repeat(MAX_DESCRIPTION_LEN + 1)
        );
        assert!(rules(&long).unwrap().validate().is_err());
        for bad in [
            r#"{"address": "*", "delivery": "Delivered"}"#,
            r#"{"address": "*", "delivery": "deliveredToTerminal"}"#,
            r#"{"address": "*", "deliverySteps": [{"status": "MessageWaiting"}]}"#,
            r#"{"address": "*", "deliverySteps": [{"status": "MessageWaiting", "delayMs": 1, "x": 1}]}"#,
            r#"{"address": "*", "deliverySteps": {"status": "MessageWaiting", "delayMs": 1}}"#,
        ] {
            assert!(rules(&format!(r#"{{"rules": [{bad}]}}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn delivery_fields_serialise_as_they_were_given() {
        let json = r#"{"rules":[{"address":"tel:+1555*","delivery":"DeliveryImpossible","deliveryDelayMs":30,"deliveryDescription":"gone"},{"address":"*","call":"answer","deliverySteps":[{"status":"MessageWaiting","delayMs":5,"description":"queued"},{"status":"DeliveredToTerminal","delayMs":1}]}]}"#;
        let set = rules(json).unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), json);
    }
}
