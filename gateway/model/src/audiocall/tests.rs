//! Audio Call bodies against the examples of audiocall.md §3 and the vendor spellings.

use serde_json::json;

use super::*;
use crate::{error::RequestError, from_json};

const AM19: &str = "http://api.example.com/exampleAPI/1/audiocall/messages/audio/am19";

/// audiocall.md §3.1 (request)
const PLAY: &str = r#"{"audioMessage": {
  "callSessionIdentifier": "cs7f31",
  "callParticipant": ["tel:+15551230002"],
  "audioUrl": "https://app.example.org/prompts/welcome.wav",
  "mediaType": "audio/wav",
  "interruptMedia": true,
  "clientCorrelator": "am-4410"}}"#;

/// audiocall.md §3.4 (request)
const RECORD: &str = r#"{"playAndRecordInteraction": {
  "callSessionIdentifier": "cs7f31",
  "callParticipant": "tel:+15557654321",
  "playingConfiguration": {"playFileLocation": "https://app.example.org/prompts/leave-message.wav",
                           "mediaType": "audio/wav", "interruptMedia": false},
  "maxDuration": 60,
  "clientCorrelator": "rec-req-9"}}"#;

/// audiocall.md §3.5 (Nokia shape), with the session the suite needs.
const COLLECT_NOKIA: &str = r##"{"digitCapture": {
  "callSessionIdentifier": "cs7f31",
  "digitConfiguration": {"minDigits": 1, "maxDigits": 4, "endChar": "#"},
  "playingConfiguration": {"playFileLocation": "https://app.example.org/prompts/menu.wav",
                           "messageFormat": "Audio", "mediaType": "audio/wav",
                           "interruptMedia": true},
  "callParticipant": ["tel:+15557654321"]}}"##;

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, RequestError>, field: &str) {
    let error = result.expect_err("the body should be rejected");
    assert_eq!(error.message_id, "SVC0002");
    assert_eq!(error.variables, [field]);
}

#[test]
fn spec_audio_message_parses() {
    let m = from_json::<AudioMessageRequest>(PLAY.as_bytes())
        .unwrap()
        .audio_message;
    assert_eq!(m.call_session_identifier, "cs7f31");
    assert_eq!(m.call_participant, ["tel:+15551230002"]);
    assert_eq!(m.audio_url, "https://app.example.org/prompts/welcome.wav");
    assert_eq!(m.media_type.as_deref(), Some("audio/wav"));
    assert_eq!(m.interrupt_media, Some(true));
    assert_eq!(m.client_correlator.as_deref(), Some("am-4410"));
    assert_eq!(m.message_format, None);
}

#[test]
fn audio_message_accepts_vendor_spellings() {
    let alu = r#"{"audioMessage": {"callSessionId": "cs7f31", "address": "tel:+15551230002",
      "mediaURL": "http://a.example/x.wav", "interruptMedia": "true"}}"#;
    let m = from_json::<AudioMessageRequest>(alu.as_bytes())
        .unwrap()
        .audio_message;
    assert_eq!(m.call_session_identifier, "cs7f31");
    assert_eq!(m.call_participant, ["tel:+15551230002"]);
    assert_eq!(m.audio_url, "http://a.example/x.wav");
    assert_eq!(m.interrupt_media, Some(true));

    let nokia = r#"{"audioMessage": {"callSessionIdentifier": "cs7f31",
      "callParticipant": ["tel:+1", "tel:+2"], "playFileLocation": "http://a.example/x.wav",
      "messageFormat": "Audio", "interruptMedia": "false"}}"#;
    let m = from_json::<AudioMessageRequest>(nokia.as_bytes())
        .unwrap()
        .audio_message;
    assert_eq!(m.call_participant.len(), 2);
    assert_eq!(m.message_format.as_deref(), Some("Audio"));
    assert_eq!(m.interrupt_media, Some(false));
}

#[test]
fn bad_audio_messages_name_the_field() {
    let parse =
        |body: serde_json::Value| from_json::<AudioMessageRequest>(body.to_string().as_bytes());
    assert_invalid(
        parse(
            json!({"audioMessage": {"callSessionIdentifier": "cs", "callParticipant": "tel:+1"}}),
        ),
        "audioUrl",
    );
    assert_invalid(
        parse(
            json!({"audioMessage": {"callSessionIdentifier": "cs", "callParticipant": "tel:+1",
            "audioUrl": "http://a", "interruptMedia": "maybe"}}),
        ),
        "interruptMedia",
    );
    assert_invalid(
        parse(
            json!({"audioMessage": {"callSessionIdentifier": "cs", "callParticipant": "tel:+1",
            "audioUrl": "http://a", "resourceURL": "http://x"}}),
        ),
        "resourceURL",
    );
    assert_invalid(
        parse(json!({"audioMessage": {"callParticipant": "tel:+1", "audioUrl": "http://a"}})),
        "callSessionIdentifier",
    );
}

#[test]
fn audio_message_renders_like_the_spec() {
    let response = AudioMessageResponse {
        audio_message: AudioMessage {
            call_session_identifier: "cs7f31".into(),
            call_participant: vec!["tel:+15551230002".into()],
            audio_url: "https://app.example.org/prompts/welcome.wav".into(),
            media_type: Some("audio/wav".into()),
            interrupt_media: Some(true),
            client_correlator: Some("am-4410".into()),
            resource_url: AM19.into(),
        },
    };
    let expected = json!({"audioMessage": {
      "callSessionIdentifier": "cs7f31",
      "callParticipant": ["tel:+15551230002"],
      "audioUrl": "https://app.example.org/prompts/welcome.wav",
      "mediaType": "audio/wav",
      "interruptMedia": true,
      "clientCorrelator": "am-4410",
      "resourceURL": AM19}});
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(value, expected);
    assert_eq!(
        serde_json::from_value::<AudioMessageResponse>(value).unwrap(),
        response
    );
}

#[test]
fn status_list_renders_like_the_spec() {
    let list = MessageStatusListResponse {
        message_status_list: MessageStatusList {
            message_status: vec![ParticipantMessageStatus {
                call_participant: "tel:+15551230002".into(),
                status: MessageStatus::Played,
            }],
            resource_url: format!("{AM19}/statusList"),
        },
    };
    let expected = json!({"messageStatusList": {
      "messageStatus": [{"callParticipant": "tel:+15551230002", "status": "Played"}],
      "resourceURL": format!("{AM19}/statusList")}});
    let value = serde_json::to_value(&list).unwrap();
    assert_eq!(value, expected);
    assert_eq!(
        serde_json::from_value::<MessageStatusListResponse>(value).unwrap(),
        list
    );
    for status in [
        MessageStatus::Pending,
        MessageStatus::Playing,
        MessageStatus::Played,
        MessageStatus::Error,
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), status.to_string());
    }
}

#[test]
fn spec_recording_interaction_parses_and_renders() {
    let i = from_json::<PlayAndRecordInteractionRequest>(RECORD.as_bytes())
        .unwrap()
        .play_and_record_interaction;
    assert_eq!(i.call_participant, ["tel:+15557654321"]);
    assert_eq!(i.max_duration, Some(60));
    let prompt = i.playing_configuration.clone().unwrap();
    assert_eq!(prompt.interrupt_media, Some(false));

    let url = "http://api.example.com/exampleAPI/1/audiocall/interactions/recording/ir-204";
    let response = PlayAndRecordInteractionResponse {
        play_and_record_interaction: PlayAndRecordInteraction {
            call_session_identifier: i.call_session_identifier,
            call_participant: i.call_participant[0].clone(),
            playing_configuration: Some(prompt),
            max_duration: i.max_duration,
            client_correlator: i.client_correlator,
            interaction_status: vec![],
            resource_url: url.into(),
        },
    };
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"playAndRecordInteraction": {
          "callSessionIdentifier": "cs7f31",
          "callParticipant": "tel:+15557654321",
          "playingConfiguration": {"playFileLocation": "https://app.example.org/prompts/leave-message.wav",
                                   "mediaType": "audio/wav", "interruptMedia": false},
          "maxDuration": 60,
          "clientCorrelator": "rec-req-9",
          "resourceURL": url}})
    );
}

#[test]
fn collection_accepts_both_roots() {
    let nokia = from_json::<PlayAndCollectInteractionRequest>(COLLECT_NOKIA.as_bytes())
        .unwrap()
        .play_and_collect_interaction;
    let digits = nokia.digit_configuration.clone().unwrap();
    assert_eq!((digits.min_digits, digits.max_digits), (Some(1), Some(4)));
    assert_eq!(digits.end_char.as_deref(), Some("#"));
    let prompt = nokia.playing_configuration.clone().unwrap();
    assert_eq!(prompt.message_format.as_deref(), Some("Audio"));

    let oma = COLLECT_NOKIA.replace("digitCapture", "playAndCollectInteraction");
    let same = from_json::<PlayAndCollectInteractionRequest>(oma.as_bytes())
        .unwrap()
        .play_and_collect_interaction;
    assert_eq!(same, nokia);

    let strings = r#"{"playAndCollectInteraction": {"callSessionId": "cs7f31",
      "callParticipant": "tel:+1", "digitConfiguration": {"maxDigits": "2"}}}"#;
    let i = from_json::<PlayAndCollectInteractionRequest>(strings.as_bytes())
        .unwrap()
        .play_and_collect_interaction;
    assert_eq!(i.digit_configuration.unwrap().max_digits, Some(2));
    assert_eq!(i.playing_configuration, None);

    let unknown = r#"{"playAndCollectInteraction": {"callSessionId": "cs7f31",
      "callParticipant": "tel:+1", "digitConfiguration": {"digits": 2}}}"#;
    assert_invalid(
        from_json::<PlayAndCollectInteractionRequest>(unknown.as_bytes()),
        "digits",
    );
}

#[test]
fn collection_renders_with_status() {
    let response = PlayAndCollectInteractionResponse {
        play_and_collect_interaction: PlayAndCollectInteraction {
            call_session_identifier: "cs7f31".into(),
            call_participant: vec!["tel:+1".into()],
            playing_configuration: None,
            digit_configuration: Some(DigitConfiguration {
                min_digits: Some(1),
                max_digits: Some(4),
                end_char: Some("#".into()),
            }),
            client_correlator: None,
            interaction_status: vec![ParticipantMessageStatus {
                call_participant: "tel:+1".into(),
                status: MessageStatus::Played,
            }],
            resource_url: "http://x/ic-77".into(),
        },
    };
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(
        value,
        json!({"playAndCollectInteraction": {
            "callSessionIdentifier": "cs7f31",
            "callParticipant": ["tel:+1"],
            "digitConfiguration": {"minDigits": 1, "maxDigits": 4, "endChar": "#"},
            "interactionStatus": [{"callParticipant": "tel:+1", "status": "Played"}],
            "resourceURL": "http://x/ic-77"}})
    );
    assert_eq!(
        serde_json::from_value::<PlayAndCollectInteractionResponse>(value).unwrap(),
        response
    );
}
