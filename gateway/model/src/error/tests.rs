//! Body shape, kinds and text templates of `requestError`.

use serde_json::{Value, json};

use super::*;

#[test]
fn service_exception_body_matches_the_spec() {
    let error = RequestError::service("SVC0004", ["participant"]);
    let body = serde_json::to_value(&error).unwrap();
    assert_eq!(
        body,
        json!({"requestError": {"serviceException": {
            "messageId": "SVC0004",
            "text": "No valid addresses provided in message part %1",
            "variables": ["participant"]}}})
    );
}

#[test]
fn policy_exception_body_matches_the_spec() {
    let error = RequestError::policy("POL0002", vec!["tel:+15550000000".to_owned()]);
    let body = serde_json::to_value(&error).unwrap();
    assert_eq!(
        body,
        json!({"requestError": {"policyException": {
            "messageId": "POL0002",
            "text": "Privacy verification failed for address %1, request is refused",
            "variables": ["tel:+15550000000"]}}})
    );
}

#[test]
fn variables_are_always_an_array() {
    let body = serde_json::to_value(RequestError::bare("SVC0007")).unwrap();
    assert_eq!(
        body["requestError"]["serviceException"]["variables"],
        json!([])
    );
}

#[test]
fn kind_follows_the_prefix() {
    assert_eq!(
        RequestError::from_id("POL0003", ["x"]).kind,
        ExceptionKind::Policy
    );
    assert_eq!(
        RequestError::from_id("SVC0261", ["x"]).kind,
        ExceptionKind::Service
    );
    assert_eq!(RequestError::bare("POL0008").kind, ExceptionKind::Policy);
    assert_eq!(RequestError::bare("X").kind, ExceptionKind::Service);
    assert_eq!(ExceptionKind::of_id("pol0001"), ExceptionKind::Policy);
}

#[test]
fn invalid_names_the_field() {
    let error = invalid("participantAddress");
    assert_eq!(error.kind, ExceptionKind::Service);
    assert_eq!(error.message_id, "SVC0002");
    assert_eq!(error.variables, ["participantAddress"]);
    assert_eq!(
        error.to_string(),
        "SVC0002: Invalid input value for message part participantAddress"
    );
}

#[test]
fn every_listed_id_has_its_own_template() {
    let generic = (1..=8)
        .map(|n| format!("SVC{n:04}"))
        .chain((1..=13).map(|n| format!("POL{n:04}")));
    let specific = [
        "SVC0261", "SVC0290", "SVC0291", "SVC0280", "SVC0281", "SVC0283", "SVC0220", "SVC0221",
        "SVC0222", "SVC0240", "POL0260", "POL0214", "POL0210", "POL0211", "POL0212", "POL0213",
        "POL1019", "POL1020",
    ];
    for id in generic.chain(specific.map(String::from)) {
        let text = text_for(&id);
        assert!(!text.is_empty(), "{id}");
        if id != "SVC0001" && id != "POL0001" {
            assert_ne!(text, text_for("SVC0001"), "{id}");
            assert_ne!(text, text_for("POL0001"), "{id}");
        }
    }
    assert_eq!(text_for("SVC0261"), "Call session %1 already terminated");
    assert_eq!(
        text_for("SVC0002"),
        "Invalid input value for message part %1"
    );
}

#[test]
fn unknown_ids_fall_back_to_the_generic_template() {
    assert_eq!(
        text_for("SVC9999"),
        "A service error occurred. Error code is %1"
    );
    assert_eq!(
        text_for("POL3003"),
        "A policy error occurred. Error code is %1"
    );
    assert_eq!(text_for(""), "A service error occurred. Error code is %1");
}

#[test]
fn message_fills_placeholders() {
    let error = RequestError::service("SVC0005", ["c2c-1", "clientCorrelator"]);
    assert_eq!(
        error.message(),
        "Correlator c2c-1 specified in message part clientCorrelator is a duplicate"
    );
    let missing = RequestError::service("SVC0003", ["status"]);
    assert_eq!(
        missing.message(),
        "Invalid input value for message part status, valid values are %2"
    );
    let percent = RequestError::service("SVC0001", ["100%"]);
    assert_eq!(
        percent.message(),
        "A service error occurred. Error code is 100%"
    );
    assert_eq!(fill("%0 %x %", &[]), "%0 %x %");
}

#[test]
fn round_trips_through_json() {
    for error in [
        RequestError::service("SVC0261", ["cs7f31"]),
        RequestError::policy("POL0001", ["no"]),
        RequestError::bare("SVC0007"),
    ] {
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(serde_json::from_str::<RequestError>(&json).unwrap(), error);
    }
}

#[test]
fn reads_bodies_from_other_servers() {
    let body = r#"{"requestError": {"policyException": {"messageId": "POL3003",
        "text": "Maximum Transactions per Interval Exceeded"}}}"#;
    let error: RequestError = serde_json::from_str(body).unwrap();
    assert_eq!(error, RequestError::policy("POL3003", None::<String>));

    let single = r#"{"requestError": {"serviceException": {"messageId": "SVC0002",
        "text": "t", "variables": "address"}}}"#;
    let error: RequestError = serde_json::from_str(single).unwrap();
    assert_eq!(error.variables, ["address"]);
}

#[test]
fn rejects_bodies_without_exactly_one_exception() {
    let exception = json!({"messageId": "SVC0001", "text": "t"});
    let neither = json!({"requestError": {}});
    let both = json!({"requestError": {
        "serviceException": exception.clone(), "policyException": exception}});
    for body in [neither, both, Value::Null] {
        assert!(serde_json::from_value::<RequestError>(body).is_err());
    }
}
