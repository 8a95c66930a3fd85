//! Inbound messages and subscriptions through the router to the fake messaging service:
//! batches, one message as JSON or `multipart/mixed`, attachments as bytes, deletes, and
//! subscriptions; a registration that is not the caller's never reaches the service.

use axum::http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};

use super::gateway;
use crate::{
    fake_messaging::{ALICE, BOB, JPEG},
    helpers::ROOT,
};

const MESSAGES: &str = "/1/messaging/inbound/registrations/3456/messages";
const MESSAGES_URL: &str =
    "http://api.example.com/exampleAPI/1/messaging/inbound/registrations/3456/messages";

#[tokio::test]
async fn a_batch_reads_like_the_spec_example() {
    let (h, fake) = gateway(&[], &["3456"]).await;
    let reply = h
        .call(Method::GET, &format!("{MESSAGES}?maxBatchSize=2"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(fake.lists.lock().unwrap()[0].max_batch_size, 2);
    let list = &reply.body["inboundMessageList"];
    assert_eq!(list["numberOfMessagesInThisBatch"], json!(2));
    assert_eq!(list["totalNumberOfPendingMessages"], json!(5));
    assert_eq!(list["resourceURL"], json!(MESSAGES_URL));
    let sms = &list["inboundMessage"][0];
    assert_eq!(sms["messageId"], json!("m101"));
    assert_eq!(sms["senderAddress"], json!(BOB));
    assert_eq!(sms["destinationAddress"], json!("3456"));
    assert_eq!(sms["dateTime"], json!("2012-07-24T11:02:10Z"));
    assert_eq!(sms["resourceURL"], json!(format!("{MESSAGES_URL}/m101")));
    assert_eq!(
        sms["inboundSMSTextMessage"]["message"],
        json!("OK, 8 it is")
    );
    let mms = &list["inboundMessage"][1]["inboundMMSMessage"];
    assert_eq!(mms["subject"], json!("Photo"));
    assert_eq!(mms["priority"], json!("High"));
    assert_eq!(mms["message"], json!("look"));
    assert_eq!(
        mms["attachment"][0],
        json!({"contentType": "image/jpeg", "size": JPEG.len(),
               "link": {"rel": "attachment", "href": format!("{MESSAGES_URL}/m102/attachments/a1")}})
    );

    // Without maxBatchSize the service's default (0) is asked for; a bad one never leaves.
    h.call(Method::GET, MESSAGES, None).await;
    assert_eq!(fake.lists.lock().unwrap()[1].max_batch_size, 0);
    for bad in ["0", "-1", "ten"] {
        let reply = h
            .call(Method::GET, &format!("{MESSAGES}?maxBatchSize={bad}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            reply.exception(),
            ("SVC0002".into(), json!(["maxBatchSize"]))
        );
    }
    assert_eq!(fake.lists.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_registration_not_the_callers_reaches_no_service() {
    let (h, fake) = gateway(&[], &[ALICE]).await;
    for (method, path) in [
        (Method::GET, MESSAGES.to_string()),
        (Method::GET, format!("{MESSAGES}/m101")),
        (Method::DELETE, format!("{MESSAGES}/m101")),
        (Method::GET, format!("{MESSAGES}/m102/attachments/a1")),
        (Method::DELETE, format!("{MESSAGES}/m102/attachments/a1")),
        (
            Method::POST,
            format!("{MESSAGES}/retrieveAndDeleteMessages"),
        ),
    ] {
        let reply = h.call(method.clone(), &path, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            reply.exception(),
            ("SVC0002".into(), json!(["registrationId"]))
        );
    }
    // Nor may it subscribe to it.
    let body = json!({"subscription": {"callbackReference": {"notifyURL": "http://app/mo"},
        "destinationAddress": ["3456"]}});
    let reply = h
        .call(
            Method::POST,
            "/1/messaging/inbound/subscriptions",
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.exception(),
        ("POL0001".into(), json!(["destinationAddress"]))
    );
    assert!(fake.called().is_empty(), "{:?}", fake.called());

    // Its own registration, percent-encoded in the path, does.
    let reply = h
        .call(
            Method::GET,
            "/1/messaging/inbound/registrations/tel%3A%2B15551230001/messages",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(fake.called(), ["ListInboundMessages"]);
}

#[tokio::test]
async fn a_message_reads_as_json_or_multipart_and_deletes() {
    let (h, _) = gateway(&[], &["3456"]).await;
    let reply = h.call(Method::GET, &format!("{MESSAGES}/m102"), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["inboundMessage"]["messageId"], json!("m102"));

    let mut request = h.request(
        Method::GET,
        &format!("{MESSAGES}/m102?resFormat=JSON"),
        None,
    );
    request
        .headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("multipart/mixed"));
    let (status, headers, bytes) = h.send_raw(request).await;
    assert_eq!(status, StatusCode::OK);
    let content_type = headers[header::CONTENT_TYPE].to_str().unwrap().to_string();
    let boundary = content_type
        .strip_prefix("multipart/mixed; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(
        text.matches(&format!("--{boundary}\r\n")).count(),
        3,
        "{text}"
    );
    assert!(text.contains("name=\"root-fields\""), "{text}");
    assert!(text.contains("filename=\"IMG_0042.jpg\""), "{text}");
    assert!(text.ends_with(&format!("--{boundary}--\r\n")), "{text}");
    let root_start = text.find("{\"inboundMessage\"").unwrap();
    let root_end = root_start + text[root_start..].find("\r\n").unwrap();
    let root: Value = serde_json::from_str(&text[root_start..root_end]).unwrap();
    assert_eq!(
        root["inboundMessage"]["inboundMMSMessage"]["subject"],
        json!("Photo")
    );

    let reply = h
        .call(Method::DELETE, &format!("{MESSAGES}/m101"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = h.call(Method::GET, &format!("{MESSAGES}/m999"), None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.exception(), ("SVC0002".into(), json!(["messageId"])));
}

#[tokio::test]
async fn attachments_come_as_their_bytes_and_delete() {
    let (h, fake) = gateway(&[], &["3456"]).await;
    let (status, headers, bytes) = h
        .send_raw(h.request(
            Method::GET,
            &format!("{MESSAGES}/m102/attachments/a1"),
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(
        headers[header::CONTENT_LENGTH],
        JPEG.len().to_string().as_str()
    );
    assert_eq!(bytes, JPEG);
    // A stored type that cannot be a header is answered as octet-stream.
    let (status, headers, bytes) = h
        .send_raw(h.request(
            Method::GET,
            &format!("{MESSAGES}/m102/attachments/a2"),
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(bytes, [7, 7]);

    let reply = h
        .call(
            Method::DELETE,
            &format!("{MESSAGES}/m102/attachments/a1"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = h
        .call(
            Method::GET,
            &format!("{MESSAGES}/m102/attachments/a9"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.exception(),
        ("SVC0002".into(), json!(["attachmentId"]))
    );
    // An id no service could have made is refused at the edge.
    let before = fake.called().len();
    let reply = h
        .call(
            Method::GET,
            &format!("{MESSAGES}/m102/attachments/a%2F1"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(fake.called().len(), before);
}

#[tokio::test]
async fn subscriptions_echo_their_url_and_granted_duration() {
    let (h, fake) = gateway(&[], &[ALICE]).await;
    let body = json!({"subscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/msg/mo",
                              "callbackData": "alice-inbox", "notificationFormat": "JSON"},
        "destinationAddress": [ALICE], "criteria": "PIZZA", "clientCorrelator": "in-sub-3",
        "duration": 999999}});
    let reply = h
        .call(
            Method::POST,
            "/1/messaging/inbound/subscriptions",
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/messaging/inbound/subscriptions/is88");
    assert_eq!(reply.header(header::LOCATION), url);
    let sub = &reply.body["subscription"];
    assert_eq!(sub["resourceURL"], json!(url));
    assert_eq!(sub["criteria"], json!("PIZZA"));
    assert_eq!(sub["destinationAddress"], json!([ALICE]));
    assert_eq!(
        sub["callbackReference"]["callbackData"],
        json!("alice-inbox")
    );
    assert_eq!(sub["duration"], json!(crate::fake_messaging::MAX_DURATION));
    assert_eq!(
        fake.subscriptions.lock().unwrap()[0].criteria.as_deref(),
        Some("PIZZA")
    );

    // The service's overlap refusal keeps its exception.
    let overlap = json!({"subscription": {"callbackReference": {"notifyURL": "http://app/mo"},
        "destinationAddress": ALICE, "clientCorrelator": "overlap"}});
    let reply = h
        .call(
            Method::POST,
            "/1/messaging/inbound/subscriptions",
            Some(&overlap.to_string()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.exception().0, "SVC0008");

    let reply = h
        .call(Method::GET, "/1/messaging/inbound/subscriptions", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["subscriptionList"]["subscription"][0]["resourceURL"],
        json!(url)
    );
    let path = "/1/messaging/inbound/subscriptions/is88";
    assert_eq!(h.call(Method::GET, path, None).await.status, StatusCode::OK);
    assert_eq!(
        h.call(Method::DELETE, path, None).await.status,
        StatusCode::NO_CONTENT
    );
    let reply = h
        .call(
            Method::DELETE,
            "/1/messaging/inbound/subscriptions/is99",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.exception(),
        ("SVC0002".into(), json!(["subscriptionId"]))
    );
}
