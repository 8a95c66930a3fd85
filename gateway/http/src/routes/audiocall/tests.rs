//! Audio Call validation (every rule) and the representations built from replies.

use parlay_model::{
    audiocall::{
        AudioMessageIn, DigitConfiguration, MessageStatus, PlayAndCollectInteractionIn,
        PlayAndRecordInteractionIn, PlayingConfiguration,
    },
    common::ChargingInformation,
};
use parlay_proto::call::v1::{self as pb, InteractionKind};

use super::{convert, validate};
use crate::validate::tests::{app, refusal};

const ALICE: &str = "tel:+15551230001";
const BOB: &str = "tel:+15551230002";
const ROOT: &str = "http://api.example.com/exampleAPI/1";
const WAV: &str = "https://app.example.org/prompts/welcome.wav";

type Refusal = (u16, String, Vec<String>);

fn svc(id: &str, field: &str) -> Refusal {
    (400, id.into(), vec![field.into()])
}

fn message(participants: &[&str]) -> AudioMessageIn {
    AudioMessageIn {
        call_session_identifier: "cs7f31".into(),
        call_participant: participants.iter().map(|p| p.to_string()).collect(),
        audio_url: WAV.into(),
        media_type: Some("audio/wav".into()),
        message_format: None,
        interrupt_media: Some(true),
        charging: None,
        client_correlator: Some("am-4410".into()),
    }
}

fn refused_message(body: AudioMessageIn) -> Refusal {
    refusal(validate::audio_message(&app(&[ALICE]), body).unwrap_err())
}

fn prompt() -> PlayingConfiguration {
    PlayingConfiguration {
        play_file_location: WAV.into(),
        message_format: Some("Audio".into()),
        media_type: Some("audio/wav".into()),
        interrupt_media: Some(false),
    }
}

fn recording(participants: &[&str]) -> PlayAndRecordInteractionIn {
    PlayAndRecordInteractionIn {
        call_session_identifier: "cs7f31".into(),
        call_participant: participants.iter().map(|p| p.to_string()).collect(),
        playing_configuration: Some(prompt()),
        max_duration: Some(60),
        client_correlator: Some("rec-req-9".into()),
    }
}

fn refused_recording(body: PlayAndRecordInteractionIn) -> Refusal {
    refusal(validate::recording(&app(&[]), body, 300).unwrap_err())
}

fn collection(digits: DigitConfiguration) -> PlayAndCollectInteractionIn {
    PlayAndCollectInteractionIn {
        call_session_identifier: "cs7f31".into(),
        call_participant: vec![ALICE.into(), BOB.into()],
        playing_configuration: None,
        digit_configuration: Some(digits),
        client_correlator: None,
    }
}

fn refused_collection(digits: DigitConfiguration) -> Refusal {
    refusal(validate::collection(&app(&[]), collection(digits)).unwrap_err())
}

#[test]
fn a_valid_audio_message_becomes_the_grpc_message() {
    let m = validate::audio_message(&app(&[ALICE]), message(&["acr:Authorization", BOB])).unwrap();
    assert_eq!(m.call_session_id, "cs7f31");
    assert_eq!(m.participants, [ALICE, BOB]);
    assert_eq!(m.audio_url, WAV);
    assert_eq!(m.media_type.as_deref(), Some("audio/wav"));
    assert_eq!(m.interrupt_media, Some(true));
    assert_eq!(m.client_correlator.as_deref(), Some("am-4410"));
    let mut audio = message(&[BOB]);
    audio.message_format = Some("audio".into());
    assert!(validate::audio_message(&app(&[]), audio).is_ok());
}

#[test]
fn audio_message_rules() {
    let mut body = message(&[BOB]);
    body.call_session_identifier = "cs 7".into();
    assert_eq!(
        refused_message(body),
        svc("SVC0002", "callSessionIdentifier")
    );
    assert_eq!(
        refused_message(message(&[])),
        svc("SVC0004", "callParticipant")
    );
    assert_eq!(
        refused_message(message(&["tel:12"])),
        svc("SVC0004", "callParticipant")
    );
    assert_eq!(
        refused_message(message(&[BOB, BOB])),
        (403, "POL0013".into(), vec!["callParticipant".into()])
    );
    for bad in ["ftp://a.example/x.wav", "welcome.wav", "http://", ""] {
        let mut body = message(&[BOB]);
        body.audio_url = bad.into();
        assert_eq!(refused_message(body), svc("SVC0002", "audioUrl"), "{bad}");
    }
    let mut body = message(&[BOB]);
    body.message_format = Some("Video".into());
    assert_eq!(
        refused_message(body),
        (403, "POL0011".into(), vec!["Video".into()])
    );
    let mut body = message(&[BOB]);
    body.media_type = Some(" ".into());
    assert_eq!(refused_message(body), svc("SVC0002", "mediaType"));
    let mut body = message(&[BOB]);
    body.charging = Some(ChargingInformation {
        description: vec!["x".into()],
        ..Default::default()
    });
    assert_eq!(
        refused_message(body),
        (403, "POL0008".into(), vec!["charging".into()])
    );
}

#[test]
fn a_valid_recording_becomes_the_grpc_message() {
    let i = validate::recording(&app(&[]), recording(&[ALICE]), 300).unwrap();
    assert_eq!(i.kind(), InteractionKind::Recording);
    assert_eq!(i.call_session_id, "cs7f31");
    assert_eq!(i.participants, [ALICE]);
    assert_eq!(i.prompt_url.as_deref(), Some(WAV));
    assert_eq!(i.media_type.as_deref(), Some("audio/wav"));
    assert_eq!(i.interrupt_media, Some(false));
    assert_eq!(i.max_duration_secs, Some(60));
    assert_eq!(i.client_correlator.as_deref(), Some("rec-req-9"));
    let mut bare = recording(&[ALICE]);
    bare.playing_configuration = None;
    bare.max_duration = None;
    let i = validate::recording(&app(&[]), bare, 300).unwrap();
    assert_eq!((i.prompt_url, i.max_duration_secs), (None, None));
}

#[test]
fn recording_rules() {
    assert_eq!(
        refused_recording(recording(&[ALICE, BOB])),
        svc("SVC0002", "callParticipant")
    );
    assert_eq!(
        refused_recording(recording(&[])),
        svc("SVC0004", "callParticipant")
    );
    let mut long = recording(&[ALICE]);
    long.max_duration = Some(301);
    let granted = validate::recording(&app(&[]), long, 300).unwrap();
    assert_eq!(
        granted.max_duration_secs,
        Some(300),
        "shortened, not refused"
    );
    for bad in [0, -5] {
        let mut body = recording(&[ALICE]);
        body.max_duration = Some(bad);
        assert_eq!(
            refused_recording(body),
            svc("SVC0002", "maxDuration"),
            "{bad}"
        );
    }
    let mut body = recording(&[ALICE]);
    body.playing_configuration = Some(PlayingConfiguration {
        play_file_location: "file:///etc/passwd".into(),
        ..prompt()
    });
    assert_eq!(refused_recording(body), svc("SVC0002", "playFileLocation"));
    let mut body = recording(&[ALICE]);
    body.playing_configuration = Some(PlayingConfiguration {
        message_format: Some("VoiceXML".into()),
        ..prompt()
    });
    assert_eq!(
        refused_recording(body),
        (403, "POL0011".into(), vec!["VoiceXML".into()])
    );
}

#[test]
fn collection_rules() {
    let digits = |min: Option<i64>, max: Option<i64>, end: Option<&str>| DigitConfiguration {
        min_digits: min,
        max_digits: max,
        end_char: end.map(str::to_owned),
    };
    let i =
        validate::collection(&app(&[]), collection(digits(Some(1), Some(4), Some("#")))).unwrap();
    assert_eq!(i.kind(), InteractionKind::Collection);
    assert_eq!(i.participants, [ALICE, BOB]);
    assert_eq!((i.min_digits, i.max_digits), (Some(1), Some(4)));
    assert_eq!(i.end_char.as_deref(), Some("#"));
    assert_eq!(i.prompt_url, None);
    assert!(validate::collection(&app(&[]), collection(digits(None, None, Some("7")))).is_ok());

    assert_eq!(
        refused_collection(digits(Some(5), Some(4), None)),
        svc("SVC0002", "minDigits")
    );
    assert_eq!(
        refused_collection(digits(Some(0), None, None)),
        svc("SVC0002", "minDigits")
    );
    assert_eq!(
        refused_collection(digits(None, Some(validate::MAX_DIGITS + 1), None)),
        svc("SVC0002", "maxDigits")
    );
    for bad in ["##", "A", "", "é"] {
        assert_eq!(
            refused_collection(digits(None, None, Some(bad))),
            svc("SVC0002", "endChar"),
            "{bad}"
        );
    }
}

#[test]
fn replies_render_with_absolute_urls() {
    let m = pb::AudioMessage {
        id: "am19".into(),
        call_session_id: "cs7f31".into(),
        participants: vec![BOB.into(), ALICE.into()],
        audio_url: WAV.into(),
        statuses: vec![
            pb::ParticipantMediaStatus {
                address: BOB.into(),
                status: pb::MediaStatus::Played as i32,
            },
            pb::ParticipantMediaStatus {
                address: ALICE.into(),
                status: pb::MediaStatus::Error as i32,
            },
        ],
        ..Default::default()
    };
    let message = convert::audio_message(ROOT, m.clone());
    let url = format!("{ROOT}/audiocall/messages/audio/am19");
    assert_eq!(message.resource_url, url);
    assert_eq!(message.call_participant, [BOB, ALICE]);
    let list = convert::status_list(ROOT, m);
    assert_eq!(list.resource_url, format!("{url}/statusList"));
    let statuses: Vec<_> = list.message_status.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [MessageStatus::Played, MessageStatus::Error]);

    let mut i = pb::Interaction {
        id: "ir204".into(),
        call_session_id: "cs7f31".into(),
        participants: vec![ALICE.into()],
        prompt_url: Some(WAV.into()),
        max_duration_secs: Some(60),
        statuses: vec![pb::ParticipantMediaStatus {
            address: ALICE.into(),
            status: pb::MediaStatus::Playing as i32,
        }],
        ..Default::default()
    };
    i.set_kind(InteractionKind::Recording);
    let created = convert::recording(ROOT, i.clone(), false);
    assert_eq!(
        created.resource_url,
        format!("{ROOT}/audiocall/interactions/recording/ir204")
    );
    assert_eq!(created.call_participant, ALICE);
    assert!(created.interaction_status.is_empty());
    assert_eq!(
        created.playing_configuration.unwrap().play_file_location,
        WAV
    );
    let read = convert::recording(ROOT, i.clone(), true);
    assert_eq!(read.interaction_status[0].status, MessageStatus::Playing);

    i.prompt_url = None;
    let collected = convert::collection(ROOT, i, true);
    assert_eq!(
        collected.resource_url,
        format!("{ROOT}/audiocall/interactions/collection/ir204")
    );
    assert_eq!(collected.playing_configuration, None);
    assert_eq!(collected.digit_configuration, None);
}
