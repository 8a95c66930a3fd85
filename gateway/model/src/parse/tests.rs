//! `from_json` on the spec's request examples and on each kind of bad input.

use crate::{
    error::ExceptionKind,
    thirdpartycall::{CallParticipantRequest, CallSessionInformationRequest},
};

use super::*;

/// 3pc.md §5.1
const CREATE_SESSION: &str = r#"{"callSessionInformation": {
  "clientCorrelator": "c2c-000117",
  "participant": [
    {"participantAddress": "tel:+15551230001", "participantName": "Alice"},
    {"participantAddress": "tel:+15551230002", "participantName": "Bob"}
  ]
}}"#;

/// 3pc.md §5.5
const ADD_PARTICIPANT: &str = r#"{"callParticipantInformation": {
  "clientCorrelator": "c2c-000118",
  "participantAddress": "sip:+15551230003@ims.example.com",
  "participantName": "Carol"}}"#;

fn session(body: &str) -> Result<CallSessionInformationRequest, RequestError> {
    from_json(body.as_bytes())
}

fn participant(body: &str) -> Result<CallParticipantRequest, RequestError> {
    from_json(body.as_bytes())
}

/// Asserts SVC0002 naming `field`.
#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, RequestError>, field: &str) {
    let error = result.expect_err("the body should be rejected");
    assert_eq!(error.kind, ExceptionKind::Service);
    assert_eq!(error.message_id, "SVC0002");
    assert_eq!(error.variables, [field]);
}

#[test]
fn spec_create_session_parses() {
    let request = session(CREATE_SESSION).unwrap();
    let info = request.call_session_information;
    assert_eq!(info.client_correlator.as_deref(), Some("c2c-000117"));
    assert_eq!(info.participant.len(), 2);
    assert_eq!(info.participant[0].participant_address, "tel:+15551230001");
    assert_eq!(info.participant[1].participant_name.as_deref(), Some("Bob"));
    assert!(info.charging.is_none() && info.callback_reference.is_none());
}

#[test]
fn spec_add_participant_parses() {
    let request = participant(ADD_PARTICIPANT).unwrap();
    let info = request.call_participant_information;
    assert_eq!(info.participant_address, "sip:+15551230003@ims.example.com");
    assert_eq!(info.participant_name.as_deref(), Some("Carol"));
    assert_eq!(info.client_correlator.as_deref(), Some("c2c-000118"));
}

#[test]
fn optional_parts_parse() {
    let body = r#"{"callSessionInformation": {
        "participant": {"participantAddress": "acr:Authorization"},
        "charging": {"description": "Click to call", "amount": "0.10", "currency": "EUR"},
        "callbackReference": {"notifyURL": "http://app.example.org/cb", "callbackData": "x"}}}"#;
    let info = session(body).unwrap().call_session_information;
    assert_eq!(
        info.participant.len(),
        1,
        "a single object is one participant"
    );
    assert_eq!(info.charging.unwrap().description, ["Click to call"]);
    assert_eq!(
        info.callback_reference.unwrap().notify_url,
        "http://app.example.org/cb"
    );
}

#[test]
fn empty_participant_array_is_left_to_the_caller() {
    let body = r#"{"callSessionInformation": {"participant": []}}"#;
    assert!(
        session(body)
            .unwrap()
            .call_session_information
            .participant
            .is_empty()
    );
}

#[test]
fn read_only_fields_are_rejected_by_name() {
    let in_session = CREATE_SESSION.replace(
        r#""clientCorrelator""#,
        r#""resourceURL": "http://evil/cs1", "clientCorrelator""#,
    );
    assert_invalid(session(&in_session), "resourceURL");

    let in_participant = CREATE_SESSION.replace(
        r#""participantName": "Bob""#,
        r#""participantName": "Bob", "participantStatus": "CallParticipantConnected""#,
    );
    assert_invalid(session(&in_participant), "participantStatus");

    let added = ADD_PARTICIPANT.replace(
        r#""participantName""#,
        r#""resourceURL": "http://evil/p1", "participantName""#,
    );
    assert_invalid(participant(&added), "resourceURL");

    for field in ["startTime", "duration", "terminationCause", "link"] {
        let body = format!(
            r#"{{"callParticipantInformation": {{"participantAddress": "tel:+12", "{field}": 1}}}}"#
        );
        assert_invalid(participant(&body), field);
    }
}

#[test]
fn unknown_root_and_nested_fields_are_named() {
    assert_invalid(
        participant(r#"{"callParticipantInfo": {}}"#),
        "callParticipantInfo",
    );
    let body = r#"{"callSessionInformation": {"participant": [],
        "callbackReference": {"notifyURL": "http://a", "extra": true}}}"#;
    assert_invalid(session(body), "extra");
}

#[test]
fn missing_fields_are_named() {
    assert_invalid(session("{}"), "callSessionInformation");
    assert_invalid(session(r#"{"callSessionInformation": {}}"#), "participant");
    let no_address = r#"{"callSessionInformation": {"participant": [{"participantName": "A"}]}}"#;
    assert_invalid(session(no_address), "participantAddress");
    let no_url = r#"{"callSessionInformation": {"participant": [],
        "callbackReference": {"callbackData": "x"}}}"#;
    assert_invalid(session(no_url), "notifyURL");
}

#[test]
fn duplicate_fields_are_named() {
    let body = r#"{"callParticipantInformation": {"participantAddress": "tel:+12",
        "participantAddress": "tel:+13"}}"#;
    assert_invalid(participant(body), "participantAddress");
}

#[test]
fn wrong_types_name_the_field() {
    let number = r#"{"callParticipantInformation": {"participantAddress": 15551230001}}"#;
    assert_invalid(participant(number), "participantAddress");
    let in_array = r#"{"callSessionInformation": {"participant": [
        {"participantAddress": "tel:+12"}, {"participantAddress": ["tel:+13"]}]}}"#;
    assert_invalid(session(in_array), "participantAddress");
    let element =
        r#"{"callSessionInformation": {"participant": [{"participantAddress": "tel:+12"}, 7]}}"#;
    assert_invalid(session(element), "participant");
    let scalar = r#"{"callSessionInformation": {"participant": "tel:+12"}}"#;
    assert_invalid(session(scalar), "participant");
    let null = r#"{"callSessionInformation": {"participant": null}}"#;
    assert_invalid(session(null), "participant");
    let amount = r#"{"callSessionInformation": {"participant": [],
        "charging": {"description": "x", "amount": "lots"}}}"#;
    assert_invalid(session(amount), "amount");
    assert_invalid(
        session(r#"{"callSessionInformation": 3}"#),
        "callSessionInformation",
    );
}

#[test]
fn wrong_root_shapes_blame_the_body() {
    for body in ["null", "\"x\"", "[]", "42"] {
        assert_invalid(session(body), BODY);
    }
}

#[test]
fn broken_json_blames_the_body() {
    for body in [
        "",
        "   ",
        "{",
        r#"{"callSessionInformation": {"participant": [}}"#,
        r#"{"callSessionInformation": {"participant": []}} trailing"#,
        r#"{"callSessionInformation": {"participant": []}}{}"#,
        "\u{feff}{}",
        r#"{'callSessionInformation': {}}"#,
    ] {
        assert_invalid(session(body), BODY);
    }
    assert_invalid(from_json::<CallSessionInformationRequest>(b"{\xff}"), BODY);
    let deep = "[".repeat(10_000);
    assert_invalid(session(&deep), BODY);
}

#[test]
fn long_client_keys_are_cut() {
    let key = "k".repeat(1000);
    let body = format!(r#"{{"callParticipantInformation": {{"{key}": 1}}}}"#);
    let error = participant(&body).unwrap_err();
    assert_eq!(error.variables[0].chars().count(), MAX_FIELD_CHARS);
}
