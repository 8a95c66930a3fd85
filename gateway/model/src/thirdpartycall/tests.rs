//! Third Party Call bodies against the examples of 3pc.md §5.

use chrono::TimeZone;
use serde_json::{Value, json};

use super::*;

const SESSION: &str = "http://api.example.com/exampleAPI/1/thirdpartycall/callSessions/cs7f31";

fn participant(n: u8, address: &str, name: &str) -> CallParticipantInformation {
    CallParticipantInformation {
        participant_address: address.into(),
        participant_name: Some(name.into()),
        participant_status: ParticipantStatus::CallParticipantInitial,
        resource_url: format!("{SESSION}/participants/p{n}"),
        ..Default::default()
    }
}

#[test]
fn created_session_renders_like_the_spec() {
    let response = CallSessionInformationResponse {
        call_session_information: CallSessionInformation {
            client_correlator: Some("c2c-000117".into()),
            participant: vec![
                participant(1, "tel:+15551230001", "Alice"),
                participant(2, "tel:+15551230002", "Bob"),
            ],
            resource_url: SESSION.into(),
        },
    };
    let expected = json!({"callSessionInformation": {
      "clientCorrelator": "c2c-000117",
      "participant": [
        {"participantAddress": "tel:+15551230001", "participantName": "Alice",
         "participantStatus": "CallParticipantInitial",
         "resourceURL": format!("{SESSION}/participants/p1")},
        {"participantAddress": "tel:+15551230002", "participantName": "Bob",
         "participantStatus": "CallParticipantInitial",
         "resourceURL": format!("{SESSION}/participants/p2")}
      ],
      "resourceURL": SESSION
    }});
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(value, expected);
    let back: CallSessionInformationResponse = serde_json::from_value(value).unwrap();
    assert_eq!(back, response);
}

#[test]
fn connected_participant_has_time_and_duration() {
    let mut alice = participant(1, "tel:+15551230001", "Alice");
    alice.participant_status = ParticipantStatus::CallParticipantConnected;
    alice.start_time = Some(Utc.with_ymd_and_hms(2012, 7, 24, 10, 15, 2).unwrap());
    alice.duration = Some(48);
    let value = serde_json::to_value(CallParticipantInformationResponse {
        call_participant_information: alice.clone(),
    })
    .unwrap();
    let inner = &value["callParticipantInformation"];
    assert_eq!(inner["startTime"], "2012-07-24T10:15:02Z");
    assert_eq!(inner["duration"], 48);
    assert_eq!(inner["participantStatus"], "CallParticipantConnected");
    assert!(inner.get("terminationCause").is_none());
    let back: CallParticipantInformationResponse = serde_json::from_value(value).unwrap();
    assert_eq!(back.call_participant_information, alice);
}

#[test]
fn participant_list_matches_the_spec_example() {
    let body = json!({"callParticipantList": {
      "participant": [
        {"participantAddress": "tel:+15551230001", "participantStatus": "CallParticipantConnected",
         "resourceURL": format!("{SESSION}/participants/p1")},
        {"participantAddress": "tel:+15551230002", "participantStatus": "CallParticipantTerminated",
         "terminationCause": "CallParticipantHangUp",
         "resourceURL": format!("{SESSION}/participants/p2")}
      ],
      "resourceURL": format!("{SESSION}/participants")
    }});
    let list: CallParticipantListResponse = serde_json::from_value(body.clone()).unwrap();
    let participants = &list.call_participant_list.participant;
    assert_eq!(participants.len(), 2);
    assert_eq!(
        participants[1].termination_cause,
        Some(TerminationCause::CallParticipantHangUp)
    );
    assert_eq!(serde_json::to_value(&list).unwrap(), body);
}

#[test]
fn empty_list_still_writes_an_array() {
    let list = CallParticipantListResponse {
        call_participant_list: CallParticipantList {
            participant: Vec::new(),
            resource_url: format!("{SESSION}/participants"),
        },
    };
    let value = serde_json::to_value(&list).unwrap();
    assert_eq!(value["callParticipantList"]["participant"], json!([]));
}

#[test]
fn output_reading_is_lenient() {
    let body = json!({"callSessionInformation": {
        "participant": {"participantAddress": "tel:+15551230001",
                        "participantStatus": "Connected", "duration": "12",
                        "startTime": 1343124902000_i64, "mediaInfo": [],
                        "resourceURL": format!("{SESSION}/participants/p1")},
        "resourceURL": SESSION, "link": []}});
    let session: CallSessionInformationResponse = serde_json::from_value(body).unwrap();
    let only = &session.call_session_information.participant[0];
    assert_eq!(
        only.participant_status,
        ParticipantStatus::CallParticipantConnected
    );
    assert_eq!(only.duration, Some(12));
    assert_eq!(
        only.start_time,
        Utc.with_ymd_and_hms(2012, 7, 24, 10, 15, 2).single()
    );
}

#[test]
fn statuses_accept_both_spellings() {
    let cases = [
        (
            "CallParticipantInitial",
            ParticipantStatus::CallParticipantInitial,
        ),
        ("Initial", ParticipantStatus::CallParticipantInitial),
        (
            "CallParticipantConnected",
            ParticipantStatus::CallParticipantConnected,
        ),
        ("Connected", ParticipantStatus::CallParticipantConnected),
        (
            "CallParticipantTerminated",
            ParticipantStatus::CallParticipantTerminated,
        ),
        ("Terminated", ParticipantStatus::CallParticipantTerminated),
    ];
    for (text, status) in cases {
        let read: ParticipantStatus = serde_json::from_value(Value::from(text)).unwrap();
        assert_eq!(read, status);
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        assert_eq!(status.to_string(), status.as_str());
    }
    assert!(serde_json::from_value::<ParticipantStatus>(json!("Ringing")).is_err());
}

#[test]
fn termination_causes_use_spec_names() {
    let all = [
        TerminationCause::CallParticipantNoAnswer,
        TerminationCause::CallParticipantBusy,
        TerminationCause::CallParticipantNotReachable,
        TerminationCause::CallParticipantHangUp,
        TerminationCause::CallParticipantAborted,
    ];
    for cause in all {
        let value = serde_json::to_value(cause).unwrap();
        assert_eq!(value, cause.as_str());
        assert_eq!(
            serde_json::from_value::<TerminationCause>(value).unwrap(),
            cause
        );
        let short = cause.as_str().trim_start_matches("CallParticipant");
        assert_eq!(
            serde_json::from_value::<TerminationCause>(json!(short)).unwrap(),
            cause
        );
    }
}
