//! Bad messaging input: each malformed request gets the right status and `requestError`,
//! and nothing changes (netsim saw no message, no subscription was made, a correlator used
//! by a refused request is still free).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{enc, multipart, requests_path, sms};
use crate::harness::{App, Mode, Suite, both_modes};

both_modes!(malformed_messaging_requests_get_the_right_error_and_change_nothing);

const SENDER: &str = "tel:+15551230001";
const TO: &str = "tel:+15557654321";
const REGISTRATION: &str = "tel:+15551239999";
const JSON: &str = "application/json";

struct Case {
    what: &'static str,
    method: Method,
    path: String,
    content_type: String,
    body: Vec<u8>,
    status: u16,
    id: &'static str,
    variable: Option<&'static str>,
}

fn post(
    what: &'static str,
    body: Value,
    status: u16,
    id: &'static str,
    variable: Option<&'static str>,
) -> Case {
    Case {
        what,
        method: Method::POST,
        path: requests_path(SENDER),
        content_type: JSON.into(),
        body: body.to_string().into_bytes(),
        status,
        id,
        variable,
    }
}

/// An SMS request with `field` of `outboundMessageRequest` set to `value`.
fn sms_with(field: &str, value: Value) -> Value {
    let mut body = sms(SENDER, &[TO], "hello");
    body["outboundMessageRequest"][field] = value;
    body
}

fn receipt(value: Value) -> Value {
    sms_with("receiptRequest", value)
}

fn subscription(sub: Value) -> Case {
    Case {
        what: "subscription",
        method: Method::POST,
        path: "/messaging/inbound/subscriptions".into(),
        content_type: JSON.into(),
        body: json!({ "subscription": sub }).to_string().into_bytes(),
        status: 400,
        id: "SVC0002",
        variable: None,
    }
}

fn get(
    what: &'static str,
    path: String,
    status: u16,
    id: &'static str,
    variable: Option<&'static str>,
) -> Case {
    Case {
        what,
        method: Method::GET,
        path,
        content_type: JSON.into(),
        body: Vec::new(),
        status,
        id,
        variable,
    }
}

fn cases() -> Vec<Case> {
    let many: Vec<String> = (0..101).map(|i| format!("tel:+1555000{i:04}")).collect();
    let callback = json!({"notifyURL": "http://127.0.0.1:9/hook"});
    let messages = format!(
        "/messaging/inbound/registrations/{}/messages",
        enc(REGISTRATION)
    );
    let root = sms(SENDER, &[TO], "hello");
    let mut v = vec![
        post("truncated JSON", json!(null), 400, "SVC0002", None),
        Case { body: b"{".to_vec(), ..post("a brace", json!(null), 400, "SVC0002", Some("body")) },
        post("empty object", json!({}), 400, "SVC0002", None),
        post("unknown root", json!({"outboundMessage": {}}), 400, "SVC0002", None),
        post("unknown field", sms_with("priority", json!("High")), 400, "SVC0002", Some("priority")),
        post("read-only resourceURL", sms_with("resourceURL", json!("http://x/r/1")), 400, "SVC0002", Some("resourceURL")),
        post("no address", sms_with("address", json!([])), 400, "SVC0004", Some("address")),
        post("bad address", sms_with("address", json!(["not an address"])), 400, "SVC0004", Some("address")),
        post("numeric address", sms_with("address", json!([15557654321u64])), 400, "SVC0002", None),
        post("duplicate address", sms_with("address", json!([TO, TO])), 403, "POL0013", Some("address")),
        post("too many addresses", sms_with("address", json!(many)), 403, "POL0003", Some("address")),
        post("sender mismatch", sms_with("senderAddress", json!("tel:+15550000000")), 400, "SVC0002", Some("senderAddress")),
        post("no message", json!({"outboundMessageRequest": {"address": [TO], "senderAddress": SENDER}}), 400, "SVC0002", None),
        post("both messages", sms_with("outboundMMSMessage", json!({"subject": "x"})), 400, "SVC0002", None),
        post("text not a string", sms_with("outboundSMSTextMessage", json!({"message": 42})), 400, "SVC0002", None),
        post("bad priority", sms_with("outboundMMSMessage", json!({"priority": "Urgent"})), 400, "SVC0002", None),
        post("notifyURL not a URL", receipt(json!({"notifyURL": "not a url"})), 400, "SVC0002", Some("notifyURL")),
        post("XML notifications", receipt(json!({"notifyURL": "http://a/b", "notificationFormat": "XML"})), 400, "SVC0002", None),
        post("control character in callbackData", receipt(json!({"notifyURL": "http://a/b", "callbackData": "a\u{7}b"})), 400, "SVC0002", Some("callbackData")),
        post("control character in clientCorrelator", sms_with("clientCorrelator", json!("c\u{1}")), 400, "SVC0002", Some("clientCorrelator")),
        post("too many segments", sms(SENDER, &[TO], &"x".repeat(1531)), 400, "SVC0280", None),
        Case {
            content_type: "text/plain".into(),
            ..post("text/plain body", root.clone(), 415, "SVC0001", None)
        },
        Case {
            content_type: "multipart/form-data; boundary=B".into(),
            body: b"--B\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n".to_vec(),
            ..post("multipart without root-fields", json!(null), 400, "SVC0002", Some("root-fields"))
        },
        Case {
            content_type: "multipart/form-data; boundary=B".into(),
            body: b"--B\r\nContent-Disposition: form-data; name=\"root-fields\"\r\nContent-Type: application/json\r\n\r\n{not json\r\n--B--\r\n".to_vec(),
            ..post("multipart root-fields not JSON", json!(null), 400, "SVC0002", None)
        },
        Case {
            content_type: "multipart/form-data; boundary=B".into(),
            body: multipart("B", &root, &[("big.bin", "application/octet-stream", &vec![7u8; 900 * 1024])]),
            ..post("oversize MMS", json!(null), 413, "SVC0001", None)
        },
        Case {
            content_type: "application/x-www-form-urlencoded".into(),
            body: format!("senderAddress={}&message=hi", enc(SENDER)).into_bytes(),
            ..post("form without address", json!(null), 400, "SVC0004", Some("address"))
        },
        get("maxBatchSize 0", format!("{messages}?maxBatchSize=0"), 400, "SVC0002", Some("maxBatchSize")),
        get("maxBatchSize -1", format!("{messages}?maxBatchSize=-1"), 400, "SVC0002", Some("maxBatchSize")),
        get("maxBatchSize x", format!("{messages}?maxBatchSize=x"), 400, "SVC0002", Some("maxBatchSize")),
        get("unprovisioned registration", "/messaging/inbound/registrations/tel%3A%2B15550000001/messages".into(), 404, "SVC0002", None),
        get("unknown request", format!("{}/rqnosuchrequest0000", requests_path(SENDER)), 404, "SVC0002", None),
        Case {
            variable: Some("destinationAddress"),
            ..subscription(json!({"callbackReference": callback}))
        },
        Case {
            variable: Some("callbackReference"),
            ..subscription(json!({"destinationAddress": [REGISTRATION]}))
        },
        Case {
            variable: Some("notifyURL"),
            ..subscription(json!({"callbackReference": {"notifyURL": "ftp://x/y"}, "destinationAddress": [REGISTRATION]}))
        },
        Case {
            variable: Some("criteria"),
            ..subscription(json!({"callbackReference": callback, "destinationAddress": [REGISTRATION], "criteria": "a\u{0}b"}))
        },
        Case {
            status: 403,
            id: "POL0001",
            ..subscription(json!({"callbackReference": callback, "destinationAddress": ["tel:+15550000001"]}))
        },
        Case {
            method: Method::POST,
            body: json!({"inboundMessageRetrieveAndDeleteRequest": {"retrievalOrder": "Sideways"}}).to_string().into_bytes(),
            ..get("bad retrievalOrder", format!("{messages}/retrieveAndDeleteMessages"), 400, "SVC0002", None)
        },
    ];
    // Methods a resource does not have.
    v.push(Case {
        method: Method::PUT,
        ..post("PUT on requests", root, 405, "", None)
    });
    v
}

async fn malformed_messaging_requests_get_the_right_error_and_change_nothing(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app_with("careless", &[], &[REGISTRATION]).await;
    let cases = cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for case in &cases {
        let r = if case.body.len() > 64 * 1024 {
            app.raw_socket(
                case.method.as_str(),
                &case.path,
                &case.content_type,
                &case.body,
            )
            .await
        } else if case.body.is_empty() {
            app.send(case.method.clone(), &case.path, None).await
        } else {
            app.raw(
                case.method.clone(),
                &case.path,
                &case.content_type,
                case.body.clone(),
            )
            .await
        };
        assert_eq!(
            r.status.as_u16(),
            case.status,
            "{}: {:?}",
            case.what,
            r.body
        );
        if case.status == 405 {
            assert!(!r.header("allow").is_empty(), "{}", case.what);
            continue;
        }
        let (id, variables) = r.exception();
        assert_eq!(id, case.id, "{}: {:?}", case.what, r.body);
        if let Some(variable) = case.variable {
            assert_eq!(
                variables.first().map(String::as_str),
                Some(variable),
                "{}: {:?}",
                case.what,
                r.body
            );
        }
    }
    nothing_changed(&suite, &app).await;
}

async fn nothing_changed(suite: &Suite, app: &App) {
    let log = suite.whole_network_log().await;
    assert!(
        !log.iter()
            .any(|e| e["kind"] == json!("sms") || e["kind"] == json!("mms")),
        "{log:?}"
    );
    let r = app
        .send(Method::GET, "/messaging/inbound/subscriptions", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(!r.body.to_string().contains("resourceURL"), "{:?}", r.body);
    // The correlator of a refused request is free.
    let mut body = sms(SENDER, &[TO], &"x".repeat(1531));
    body["outboundMessageRequest"]["clientCorrelator"] = json!("refused-1");
    let r = app
        .send(Method::POST, &requests_path(SENDER), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let mut body = sms(SENDER, &[TO], "fine");
    body["outboundMessageRequest"]["clientCorrelator"] = json!("refused-1");
    let r = app
        .send(Method::POST, &requests_path(SENDER), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}
