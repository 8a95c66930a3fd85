//! Multimedia Messaging through the router to a fake messaging service: outbound requests
//! in their three encodings (and what the service receives), reading them back, and the
//! service's refusals. Inbound messages and subscriptions are in `inbound`; bad input is
//! covered by the unit tests of `routes::messaging` and end to end by
//! `tests/it/messaging/malformed.rs`.

use axum::http::{Method, StatusCode, header};
use base64::Engine;
use parlay_proto::messaging::v1::{OutboundMessage, Priority, RequestRoot, outbound_message};
use serde_json::{Value, json};

use crate::{
    fake_messaging::{ALICE, BOB, FakeMessaging},
    helpers::{self, Harness, ROOT, harness_with},
};

mod inbound;

/// `POST` here sends from Alice.
pub const REQUESTS: &str = "/1/messaging/outbound/tel%3A%2B15551230001/requests";
/// Alice's requests' URLs.
pub const REQUESTS_URL: &str =
    "http://api.example.com/exampleAPI/1/messaging/outbound/tel%3A%2B15551230001/requests";
/// Most recipients in these tests.
pub const MAX_ADDRESSES: usize = 3;
/// Largest total of attachments in these tests.
pub const MAX_ATTACHMENT_BYTES: usize = 8 * 1024;

/// The test configuration (1 KiB JSON bodies) with small messaging limits.
pub fn config() -> parlay_kit::Config {
    let mut config = helpers::config();
    config.messaging.max_addresses = MAX_ADDRESSES;
    config.messaging.max_attachment_bytes = MAX_ATTACHMENT_BYTES;
    config
}

/// A gateway whose application may act for `users` and read `registrations`, in front of a
/// fake messaging service.
pub async fn gateway(users: &[&str], registrations: &[&str]) -> (Harness, FakeMessaging) {
    let (url, fake) = FakeMessaging::spawn().await;
    let h = harness_with(config(), users, registrations, helpers::NOWHERE, &url).await;
    (h, fake)
}

/// A `multipart/form-data` body with boundary `B`: the `root-fields` part, then one part
/// per `(file name, content type, extra headers, bytes)`.
pub fn multipart(root: &str, files: &[(&str, &str, &str, &[u8])]) -> Vec<u8> {
    let mut body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"root-fields\"\r\nContent-Type: application/json\r\n\r\n{root}\r\n"
    )
    .into_bytes();
    for (name, content_type, extra, data) in files {
        body.extend(
            format!(
                "--B\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n{extra}\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(data);
        body.extend(b"\r\n");
    }
    body.extend(b"--B--\r\n");
    body
}

pub const MULTIPART: &str = "multipart/form-data; boundary=B";
pub const FORM: &str = "application/x-www-form-urlencoded";

fn sent(fake: &FakeMessaging) -> Vec<OutboundMessage> {
    fake.sends.lock().unwrap().clone()
}

fn spec_sms(correlator: &str) -> String {
    json!({"outboundMessageRequest": {
        "address": [BOB],
        "senderAddress": ALICE,
        "outboundSMSTextMessage": {"message": "See you at 8"},
        "receiptRequest": {"notifyURL": "https://app.example.org/msg/dlr",
                           "notificationFormat": "JSON", "callbackData": "order-5512"},
        "clientCorrelator": correlator}})
    .to_string()
}

#[tokio::test]
async fn an_sms_is_sent_like_the_spec_example() {
    let (h, fake) = gateway(&[], &[]).await;
    let reply = h
        .call(Method::POST, REQUESTS, Some(&spec_sms("sms-000981")))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{REQUESTS_URL}/rq5c77bd");
    assert_eq!(reply.header(header::LOCATION), url);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(
        reply.body,
        json!({"resourceReference": {"resourceURL": url}})
    );
    let m = &sent(&fake)[0];
    assert_eq!(m.sender_address, ALICE);
    assert_eq!(m.addresses, [BOB]);
    assert_eq!(m.root(), RequestRoot::Message);
    assert_eq!(m.client_correlator.as_deref(), Some("sms-000981"));
    let receipt = m.receipt_request.clone().unwrap();
    assert_eq!(receipt.notify_url, "https://app.example.org/msg/dlr");
    assert_eq!(receipt.callback_data.as_deref(), Some("order-5512"));
    let Some(outbound_message::Content::Sms(text)) = &m.content else {
        panic!("not an SMS: {m:?}")
    };
    assert_eq!(text.message, "See you at 8");
    let calls = fake.calls.lock().unwrap().clone();
    assert!(calls[0].1.starts_with("app"), "{calls:?}");

    // A clientCorrelator retry answers the same way.
    let again = h
        .call(Method::POST, REQUESTS, Some(&spec_sms("again")))
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header(header::LOCATION), url);
    assert_eq!(again.body, reply.body);
}

#[tokio::test]
async fn oneapi_forms_and_sms_bodies_reach_the_service_as_sms() {
    let (h, fake) = gateway(&[], &[]).await;
    let form = "address=tel%3A%2B15557654321&address=tel%3A%2B15557654322\
                &senderAddress=tel%3A%2B15551230001&message=Hello+there&senderName=Shop\
                &clientCorrelator=f1&notifyURL=http%3A%2F%2Fapp.example.org%2Fdlr&callbackData=form-cb";
    let reply = h
        .send(h.request_of(Method::POST, REQUESTS, FORM, form.into()))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.header(header::LOCATION),
        format!("{REQUESTS_URL}/rq5c77bd")
    );
    let m = &sent(&fake)[0];
    assert_eq!(m.root(), RequestRoot::Sms);
    assert_eq!(m.addresses, [BOB, "tel:+15557654322"]);
    assert_eq!(m.sender_name.as_deref(), Some("Shop"));
    assert_eq!(m.client_correlator.as_deref(), Some("f1"));
    assert_eq!(
        m.content,
        Some(outbound_message::Content::Sms(
            parlay_proto::messaging::v1::SmsText {
                message: "Hello there".into()
            }
        ))
    );
    let receipt = m.receipt_request.clone().unwrap();
    assert_eq!(receipt.notify_url, "http://app.example.org/dlr");
    assert_eq!(receipt.callback_data.as_deref(), Some("form-cb"));

    let body = json!({"outboundSMSMessageRequest": {
        "address": BOB, "senderAddress": ALICE,
        "outboundSMSTextMessage": {"message": "OneAPI"}, "senderName": "Shop"}});
    let reply = h
        .call(Method::POST, REQUESTS, Some(&body.to_string()))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let m = &sent(&fake)[1];
    assert_eq!(m.root(), RequestRoot::Sms);
    assert_eq!(m.addresses, [BOB]);
}

#[tokio::test]
async fn an_mms_reaches_the_service_with_its_files_decoded() {
    let (h, fake) = gateway(&[], &[]).await;
    let root = json!({"outboundMessageRequest": {
        "address": [BOB], "senderAddress": ALICE,
        "outboundMMSMessage": {"subject": "Holiday", "priority": "Normal"},
        "clientCorrelator": "mms-77"}})
    .to_string();
    let jpeg: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    // Mail-style: lines of 76 characters.
    let wrapped: Vec<u8> = encoded
        .as_bytes()
        .chunks(76)
        .flat_map(|line| line.iter().copied().chain(*b"\r\n"))
        .collect();
    let body = multipart(
        &root,
        &[
            (
                "beach.jpg",
                "image/jpeg",
                "Content-Transfer-Encoding: base64\r\n",
                &wrapped,
            ),
            ("text.txt", "text/plain", "", b"Greetings from the beach"),
        ],
    );
    assert!(body.len() > 1024, "larger than a JSON body may be");
    let reply = h
        .send(h.request_of(Method::POST, REQUESTS, MULTIPART, body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.header(header::LOCATION),
        format!("{REQUESTS_URL}/rq5c77bd")
    );
    let m = &sent(&fake)[0];
    assert_eq!(m.root(), RequestRoot::Message);
    assert_eq!(m.client_correlator.as_deref(), Some("mms-77"));
    let Some(outbound_message::Content::Mms(mms)) = &m.content else {
        panic!("not an MMS: {m:?}")
    };
    assert_eq!(mms.subject.as_deref(), Some("Holiday"));
    assert_eq!(mms.priority(), Priority::Normal);
    let files: Vec<(&str, &str, &[u8])> = mms
        .attachments
        .iter()
        .map(|a| (a.name.as_str(), a.content_type.as_str(), a.data.as_slice()))
        .collect();
    assert_eq!(
        files,
        [
            ("beach.jpg", "image/jpeg", jpeg.as_slice()),
            ("text.txt", "text/plain", &b"Greetings from the beach"[..]),
        ]
    );

    // An MMS without files, as JSON, is fine too.
    let reply = h.call(Method::POST, REQUESTS, Some(&root)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let Some(outbound_message::Content::Mms(mms)) = &sent(&fake)[1].content else {
        panic!("not an MMS")
    };
    assert!(mms.attachments.is_empty());
}

#[tokio::test]
async fn the_services_refusals_keep_their_exception() {
    let (h, _) = gateway(&[], &[]).await;
    let reply = h
        .call(Method::POST, REQUESTS, Some(&spec_sms("reused")))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.exception(),
        ("SVC0005".into(), json!(["reused", "clientCorrelator"]))
    );
    let long = json!({"outboundMessageRequest": {"address": [BOB], "senderAddress": ALICE,
        "outboundSMSTextMessage": {"message": "too long"}}});
    let reply = h
        .call(Method::POST, REQUESTS, Some(&long.to_string()))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.exception(), ("SVC0280".into(), json!(["1530"])));
}

#[tokio::test]
async fn a_request_reads_back_in_its_root_with_its_delivery_status() {
    let (h, _) = gateway(&[], &[]).await;
    let url = format!("{REQUESTS_URL}/rq5c77bd");
    let reply = h
        .call(Method::GET, &format!("{REQUESTS}/rq5c77bd"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let delivery_infos = json!({
        "deliveryInfo": [{"address": BOB, "deliveryStatus": "DeliveredToTerminal"}],
        "resourceURL": format!("{url}/deliveryInfos")});
    assert_eq!(
        reply.body,
        json!({"outboundMessageRequest": {
            "address": [BOB], "senderAddress": ALICE,
            "receiptRequest": {"notifyURL": "https://app.example.org/msg/dlr",
                               "callbackData": "order-5512"},
            "outboundSMSTextMessage": {"message": "See you at 8"},
            "clientCorrelator": "sms-000981",
            "resourceURL": url,
            "deliveryInfoList": delivery_infos}})
    );
    let reply = h
        .call(
            Method::GET,
            &format!("{REQUESTS}/rq5c77bd/deliveryInfos"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({ "deliveryInfoList": delivery_infos }));

    // A OneAPI request reads back as one; an MMS with its subject and priority.
    let reply = h
        .call(Method::GET, &format!("{REQUESTS}/rqsms0001"), None)
        .await;
    let request: &Value = &reply.body["outboundSMSMessageRequest"];
    assert_eq!(request["senderName"], "Shop", "{}", reply.body);
    assert_eq!(request["resourceURL"], format!("{REQUESTS_URL}/rqsms0001"));
    let reply = h
        .call(Method::GET, &format!("{REQUESTS}/rqmms0001"), None)
        .await;
    assert_eq!(
        reply.body["outboundMessageRequest"]["outboundMMSMessage"],
        json!({"subject": "Holiday", "priority": "Normal"})
    );

    // Unknown, or under another sender: 404.
    for path in [
        format!("{REQUESTS}/rqnosuch0000"),
        "/1/messaging/outbound/tel%3A%2B15550000000/requests/rq5c77bd".into(),
        format!("{REQUESTS}/rqnosuch0000/deliveryInfos"),
    ] {
        let reply = h.call(Method::GET, &path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.exception(), ("SVC0002".into(), json!(["requestId"])));
    }
}

#[tokio::test]
async fn acr_authorization_in_a_path_is_the_bound_user() {
    let (h, fake) = gateway(&[ALICE], &[]).await;
    let reply = h
        .call(
            Method::GET,
            "/1/messaging/outbound/acr%3AAuthorization/requests/rq5c77bd",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["outboundMessageRequest"]["resourceURL"],
        format!("{REQUESTS_URL}/rq5c77bd")
    );
    let body = json!({"outboundMessageRequest": {"address": [BOB],
        "senderAddress": "acr:Authorization", "outboundSMSTextMessage": {"message": "hi"}}});
    let reply = h
        .call(
            Method::POST,
            "/1/messaging/outbound/acr%3AAuthorization/requests",
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.header(header::LOCATION),
        format!("{REQUESTS_URL}/rq5c77bd")
    );
    assert_eq!(sent(&fake)[0].sender_address, ALICE);
}

#[tokio::test]
async fn a_registration_may_be_the_sender() {
    let (h, fake) = gateway(&["tel:+4930*"], &["3456"]).await;
    let body = json!({"outboundMessageRequest": {"address": [BOB],
        "senderAddress": "3456", "outboundSMSTextMessage": {"message": "PIZZA today"}}});
    let reply = h
        .call(
            Method::POST,
            "/1/messaging/outbound/3456/requests",
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.header(header::LOCATION),
        format!("{ROOT}/messaging/outbound/3456/requests/rq5c77bd")
    );
    assert_eq!(sent(&fake)[0].sender_address, "3456");
    // Not one of its users nor registrations.
    let reply = h.call(Method::POST, REQUESTS, Some(&spec_sms("x"))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.exception(), ("POL0002".into(), json!([ALICE])));
    assert_eq!(sent(&fake).len(), 1);
}
