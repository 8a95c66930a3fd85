//! Bad input: each malformed request gets the right 4xx and `requestError`, and nothing
//! changes (netsim saw no call; a correlator used by a refused request is still free).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Mode, Suite, both_modes};

both_modes!(malformed_requests_get_the_right_error_and_change_nothing);

const SESSIONS: &str = "/thirdpartycall/callSessions";
const JSON: &str = "application/json";

fn call(participants: Value) -> Value {
    json!({"callSessionInformation": {"participant": participants}})
}

fn with(extra: Value) -> Value {
    let mut body = call(
        json!([{"participantAddress": "tel:+15551230001"}, {"participantAddress": "tel:+15551230002"}]),
    );
    if let (Some(info), Some(extra)) = (
        body["callSessionInformation"].as_object_mut(),
        extra.as_object(),
    ) {
        for (k, v) in extra {
            info.insert(k.clone(), v.clone());
        }
    }
    body
}

fn addr(a: Value) -> Value {
    call(json!([{"participantAddress": a}, {"participantAddress": "tel:+15551230002"}]))
}

struct Case {
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    status: u16,
    id: &'static str,
    variable: Option<&'static str>,
}

fn case(body: Value, status: u16, id: &'static str, variable: Option<&'static str>) -> Case {
    raw(body.to_string().into_bytes(), status, id, variable)
}

fn raw(body: Vec<u8>, status: u16, id: &'static str, variable: Option<&'static str>) -> Case {
    Case {
        method: Method::POST,
        path: SESSIONS.into(),
        content_type: JSON,
        body,
        status,
        id,
        variable,
    }
}

fn cases() -> Vec<Case> {
    let many: Vec<Value> = (0..11)
        .map(|i| json!({"participantAddress": format!("tel:+155512300{i:02}")}))
        .collect();
    let unknown = format!("{SESSIONS}/csnosuchsession00000");
    let mut v = vec![
        raw(b"{".to_vec(), 400, "SVC0002", Some("body")),
        raw(Vec::new(), 400, "SVC0002", Some("body")),
        raw(b"[]".to_vec(), 400, "SVC0002", Some("body")),
        raw(
            b"{\"callSessionInformation\": {\"participant\": []}} trailing".to_vec(),
            400,
            "SVC0002",
            Some("body"),
        ),
        raw(vec![0xff, 0xfe, b'{'], 400, "SVC0002", Some("body")),
        raw("[".repeat(5000).into_bytes(), 400, "SVC0002", Some("body")),
        case(json!({}), 400, "SVC0002", Some("callSessionInformation")),
        case(
            json!({"callSessionInformation": {}}),
            400,
            "SVC0002",
            Some("participant"),
        ),
        case(call(json!([])), 400, "SVC0004", Some("participant")),
        case(
            json!({"callSession": {"participant": []}}),
            400,
            "SVC0002",
            Some("callSession"),
        ),
        case(with(json!({"foo": 1})), 400, "SVC0002", Some("foo")),
        case(
            with(json!({"resourceURL": "http://x/y"})),
            400,
            "SVC0002",
            Some("resourceURL"),
        ),
        case(
            call(
                json!([{"participantAddress": "tel:+15551230001", "participantStatus": "CallParticipantConnected"}]),
            ),
            400,
            "SVC0002",
            Some("participantStatus"),
        ),
        case(
            call(json!([{"participantName": "Alice"}])),
            400,
            "SVC0002",
            Some("participantAddress"),
        ),
        case(
            addr(json!(15551230001u64)),
            400,
            "SVC0002",
            Some("participantAddress"),
        ),
        case(
            json!({"callSessionInformation": {"participant": "tel:+15551230001"}}),
            400,
            "SVC0002",
            Some("participant"),
        ),
        case(
            addr(json!("tel:15551230001")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(
            addr(json!("tel:+0123")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(
            addr(json!("tel:+1555abc")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(
            addr(json!("tel:+1234567890123456")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(
            addr(json!("mailto:alice@example.com")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(
            addr(json!("sip:@example.com")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(addr(json!("")), 400, "SVC0004", Some("participantAddress")),
        case(
            addr(json!("acr:somebody")),
            400,
            "SVC0004",
            Some("participantAddress"),
        ),
        case(
            addr(json!("acr:Authorization")),
            403,
            "POL0002",
            Some("acr:Authorization"),
        ),
        case(
            call(
                json!([{"participantAddress": "tel:+15551230001"}, {"participantAddress": "tel:+15551230001"}]),
            ),
            403,
            "POL0013",
            Some("participantAddress"),
        ),
        case(
            call(Value::Array(many)),
            403,
            "POL0003",
            Some("participant"),
        ),
        case(
            call(
                json!([{"participantAddress": "tel:+15551230001", "participantName": "x".repeat(300)}]),
            ),
            400,
            "SVC0002",
            Some("participantName"),
        ),
        case(
            call(json!([{"participantAddress": "tel:+15551230001", "participantName": 7}])),
            400,
            "SVC0002",
            Some("participantName"),
        ),
        case(
            with(json!({"clientCorrelator": ""})),
            400,
            "SVC0002",
            Some("clientCorrelator"),
        ),
        case(
            with(json!({"clientCorrelator": {"id": 1}})),
            400,
            "SVC0002",
            Some("clientCorrelator"),
        ),
        case(
            with(
                json!({"charging": {"description": ["call"], "amount": 1}, "clientCorrelator": "refused-1"}),
            ),
            403,
            "POL0008",
            Some("charging"),
        ),
        case(
            with(
                json!({"callbackReference": {"notifyURL": "not a url"}, "clientCorrelator": "refused-1"}),
            ),
            400,
            "SVC0002",
            Some("notifyURL"),
        ),
        case(
            with(json!({"callbackReference": {"callbackData": "x"}})),
            400,
            "SVC0002",
            Some("notifyURL"),
        ),
        case(
            with(json!({"callbackReference": {"notifyURL": "ftp://example.com/x"}})),
            400,
            "SVC0002",
            Some("notifyURL"),
        ),
        case(
            with(
                json!({"callbackReference": {"notifyURL": "http://example.com/x", "notificationFormat": "XML"}}),
            ),
            400,
            "SVC0002",
            Some("notificationFormat"),
        ),
        case(
            with(json!({"callbackReference": {"notifyURL": "http://example.com/x", "secret": 1}})),
            400,
            "SVC0002",
            Some("secret"),
        ),
    ];
    let valid = with(json!({})).to_string().into_bytes();
    v.push(Case {
        content_type: "text/plain",
        ..raw(valid.clone(), 415, "SVC0001", None)
    });
    v.push(Case {
        content_type: "application/x-www-form-urlencoded",
        ..raw(b"participant=tel".to_vec(), 415, "SVC0001", None)
    });
    v.push(Case {
        method: Method::PUT,
        ..raw(valid.clone(), 405, "SVC0001", None)
    });
    v.push(Case {
        method: Method::PATCH,
        path: unknown.clone(),
        ..raw(valid, 405, "SVC0001", None)
    });
    let participant =
        json!({"callParticipantInformation": {"participantAddress": "tel:+15551230003"}});
    v.push(Case {
        path: format!("{unknown}/participants"),
        ..case(participant, 404, "", None)
    });
    v
}

async fn malformed_requests_get_the_right_error_and_change_nothing(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("app", &[]).await;
    let cases = cases();
    // With the oversized body below: 41 malformed requests.
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (i, c) in cases.into_iter().enumerate() {
        let r = app
            .raw(c.method.clone(), &c.path, c.content_type, c.body)
            .await;
        let what = format!("case {i} ({} {}): {:?}", c.method, c.path, r.body);
        assert_eq!(r.status, StatusCode::from_u16(c.status).unwrap(), "{what}");
        if !c.id.is_empty() {
            let (id, vars) = r.exception();
            assert_eq!(id, c.id, "{what}");
            if let Some(v) = c.variable {
                assert_eq!(vars.first().map(String::as_str), Some(v), "{what}");
            }
            assert!(r.header("content-type").starts_with(JSON), "{what}");
        }
        if c.status == 405 {
            assert!(!r.header("allow").is_empty(), "{what}");
        }
    }
    let big = app
        .raw_socket("POST", SESSIONS, JSON, &vec![b' '; 256 * 1024])
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", big.body);
    assert_eq!(big.exception().0, "SVC0001");
    let marker = suite.marker(&app).await;
    let log = suite.whole_network_log().await;
    assert!(
        log.iter().all(|c| c["callSessionId"] == marker.as_str()),
        "a refused request reached the network"
    );
    // The refused requests stored nothing: their correlator is still free.
    let ok = app
        .create_call(
            &["tel:+15551230001", "tel:+15551230002"],
            None,
            Some("refused-1"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
}
