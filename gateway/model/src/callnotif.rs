//! Call Notification bodies: notifications sent to applications (callnotif.md §2.5, §3,
//! §5.1), the application's `action` answer, and the subscriptions (see [`subscriptions`],
//! re-exported here).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::common::Link;

pub mod subscriptions;

pub use subscriptions::*;

/// Notification body with root `callEventNotification`, POSTed to the app's `notifyURL`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEventNotificationRequest {
    /// The notification.
    pub call_event_notification: CallEventNotification,
}

/// A call event (or call direction request) for a monitored address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEventNotification {
    /// A-party URI.
    pub calling_participant: String,
    /// B-party URI, the dialled address.
    pub called_participant: String,
    /// Caller's display name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_participant_name: Option<String>,
    /// `CallEvent` for event subscriptions, `CallDirection` for direction ones.
    pub notification_type: NotificationType,
    /// What happened.
    pub event_description: EventDescription,
    /// Id usable with Third Party Call / Audio Call to act on the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_session_identifier: Option<String>,
    /// When it happened.
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<DateTime<Utc>>,
    /// Echo of the subscription's `callbackData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// Usually one link to the subscription.
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// The `eventDescription` element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDescription {
    /// The event.
    pub call_event: CallEvent,
}

/// `notificationType` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationType {
    /// A call-event subscription fired.
    CallEvent,
    /// A call-direction subscription asks the app what to do.
    CallDirection,
    /// Digits were collected.
    PlayAndCollect,
    /// A recording is ready.
    PlayAndRecord,
}

impl NotificationType {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::CallEvent => "CallEvent",
            NotificationType::CallDirection => "CallDirection",
            NotificationType::PlayAndCollect => "PlayAndCollect",
            NotificationType::PlayAndRecord => "PlayAndRecord",
        }
    }
}

impl fmt::Display for NotificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `CallEvents` values, used in `eventDescription.callEvent` and in subscription criteria.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallEvent {
    /// A call to the monitored number is being set up.
    CalledNumber,
    /// The called party answered.
    Answer,
    /// The called party was busy.
    Busy,
    /// The called party could not be reached.
    NotReachable,
    /// The called party did not answer in time.
    NoAnswer,
    /// The call ended.
    Disconnected,
}

impl CallEvent {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CallEvent::CalledNumber => "CalledNumber",
            CallEvent::Answer => "Answer",
            CallEvent::Busy => "Busy",
            CallEvent::NotReachable => "NotReachable",
            CallEvent::NoAnswer => "NoAnswer",
            CallEvent::Disconnected => "Disconnected",
        }
    }
}

impl fmt::Display for CallEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Notification body with root `mediaInteractionNotification` (callnotif.md §2.7): the
/// result of a play-and-record or play-and-collect interaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaInteractionNotificationRequest {
    /// The notification.
    pub media_interaction_notification: MediaInteractionNotification,
}

/// Who was recorded (or pressed keys), and the result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaInteractionNotification {
    /// The participant.
    pub call_participant: String,
    /// The collected digits, or the URL of the recording.
    pub media_interaction_result: String,
    /// `PlayAndCollect` or `PlayAndRecord`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_type: Option<NotificationType>,
    /// The call session of the interaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_session_identifier: Option<String>,
    /// Echo of the subscription's `callbackData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// A link to the interaction.
    #[serde(
        default,
        deserialize_with = "crate::tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub link: Vec<Link>,
}

/// The application's answer to a call-direction notification (callnotif.md §2.6): the body
/// of its 200 response, root `action`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResponse {
    /// The decision.
    pub action: Action,
}

/// What the application decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// Continue, EndCall, Route or Deferred.
    pub action_to_perform: ActionValue,
    /// The new destination; required with `Route`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_address: Option<String>,
    /// Charging for a routed call; accepted in any shape, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging: Option<serde_json::Value>,
}

/// `ActionValues`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ActionValue {
    /// Let the network handle the call normally.
    Continue,
    /// Release the call.
    EndCall,
    /// Redirect to `routingAddress`.
    Route,
    /// The application decides later.
    Deferred,
}

impl ActionValue {
    /// The name written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionValue::Continue => "Continue",
            ActionValue::EndCall => "EndCall",
            ActionValue::Route => "Route",
            ActionValue::Deferred => "Deferred",
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn example() -> CallEventNotificationRequest {
        CallEventNotificationRequest {
            call_event_notification: CallEventNotification {
                calling_participant: "tel:+15557654321".into(),
                called_participant: "tel:+15551230001".into(),
                calling_participant_name: None,
                notification_type: NotificationType::CallEvent,
                event_description: EventDescription {
                    call_event: CallEvent::Answer,
                },
                call_session_identifier: Some("nw-88a1".into()),
                timestamp: Utc.with_ymd_and_hms(2012, 7, 24, 10, 20, 31).single(),
                callback_data: Some("alice-events".into()),
                link: vec![Link {
                    rel: "CallEventSubscription".into(),
                    href: "http://api.example.com/exampleAPI/1/callnotification/subscriptions/callEvent/ce91".into(),
                }],
            },
        }
    }

    #[test]
    fn renders_like_the_spec_example() {
        let expected = json!({"callEventNotification": {
          "callingParticipant": "tel:+15557654321",
          "calledParticipant": "tel:+15551230001",
          "notificationType": "CallEvent",
          "eventDescription": {"callEvent": "Answer"},
          "callSessionIdentifier": "nw-88a1",
          "timestamp": "2012-07-24T10:20:31Z",
          "callbackData": "alice-events",
          "link": [{"rel": "CallEventSubscription",
                    "href": "http://api.example.com/exampleAPI/1/callnotification/subscriptions/callEvent/ce91"}]}});
        let value = serde_json::to_value(example()).unwrap();
        assert_eq!(value, expected);
        assert_eq!(
            serde_json::from_value::<CallEventNotificationRequest>(value).unwrap(),
            example()
        );
    }

    #[test]
    fn optional_parts_are_left_out() {
        let mut bare = example();
        let inner = &mut bare.call_event_notification;
        inner.call_session_identifier = None;
        inner.timestamp = None;
        inner.callback_data = None;
        inner.link.clear();
        inner.calling_participant_name = Some("Eve".into());
        let value = serde_json::to_value(&bare).unwrap();
        let object = value["callEventNotification"].as_object().unwrap();
        let mut keys: Vec<_> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "calledParticipant",
                "callingParticipant",
                "callingParticipantName",
                "eventDescription",
                "notificationType"
            ]
        );
        let back: CallEventNotificationRequest = serde_json::from_value(value).unwrap();
        assert_eq!(back, bare);
    }

    #[test]
    fn enums_use_spec_names() {
        let events = [
            CallEvent::CalledNumber,
            CallEvent::Answer,
            CallEvent::Busy,
            CallEvent::NotReachable,
            CallEvent::NoAnswer,
            CallEvent::Disconnected,
        ];
        for event in events {
            let value = serde_json::to_value(event).unwrap();
            assert_eq!(value, event.as_str());
            assert_eq!(serde_json::from_value::<CallEvent>(value).unwrap(), event);
        }
        let types = [
            NotificationType::CallEvent,
            NotificationType::CallDirection,
            NotificationType::PlayAndCollect,
            NotificationType::PlayAndRecord,
        ];
        for kind in types {
            let value = serde_json::to_value(kind).unwrap();
            assert_eq!(value, kind.to_string());
            assert_eq!(
                serde_json::from_value::<NotificationType>(value).unwrap(),
                kind
            );
        }
    }

    #[test]
    fn actions_parse_from_the_spec_examples() {
        let route: ActionResponse = serde_json::from_value(json!(
            {"action": {"actionToPerform": "Route", "routingAddress": "tel:+15551239999"}}
        ))
        .unwrap();
        assert_eq!(route.action.action_to_perform, ActionValue::Route);
        assert_eq!(
            route.action.routing_address.as_deref(),
            Some("tel:+15551239999")
        );
        for value in ["Continue", "EndCall", "Deferred"] {
            let a: ActionResponse =
                serde_json::from_value(json!({"action": {"actionToPerform": value}})).unwrap();
            assert_eq!(a.action.action_to_perform.as_str(), value);
        }
        assert!(
            serde_json::from_value::<ActionResponse>(
                json!({"action": {"actionToPerform": "Hold"}})
            )
            .is_err()
        );
    }

    #[test]
    fn media_interaction_renders_like_the_spec_example() {
        let n = MediaInteractionNotificationRequest {
            media_interaction_notification: MediaInteractionNotification {
                call_participant: "tel:+15557654321".into(),
                media_interaction_result: "1234".into(),
                notification_type: Some(NotificationType::PlayAndCollect),
                call_session_identifier: Some("cs7f31".into()),
                callback_data: None,
                link: vec![],
            },
        };
        assert_eq!(
            serde_json::to_value(n).unwrap(),
            json!({"mediaInteractionNotification": {
              "callParticipant": "tel:+15557654321",
              "notificationType": "PlayAndCollect",
              "mediaInteractionResult": "1234",
              "callSessionIdentifier": "cs7f31"}})
        );
    }
}
