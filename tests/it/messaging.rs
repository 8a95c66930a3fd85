//! Multimedia Messaging end to end (docs/messaging.md): SMS to several addresses with each
//! delivery status seen by polling and by notification, failed and out-of-order receipts,
//! clientCorrelator retries, long texts in segments, MMS out and in with attachments,
//! inbound messages read in batches, one by one, deleted, and inbound notifications; and
//! no application sees another's requests, messages or subscriptions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod inbound;
mod malformed;

use crate::{
    harness::{Answer, App, Mode, Suite, both_modes, eventually, unique_tel},
    receiver::{Received, Receiver},
};

both_modes!(
    an_sms_to_three_addresses_reports_each_status_by_polling_and_by_notification,
    failed_and_out_of_order_receipts_end_at_the_right_status,
    a_correlator_retry_sends_one_message,
    a_long_text_is_sent_in_segments_and_a_too_long_one_refused,
    oneapi_clients_send_form_encoded_and_sms_only_bodies,
    an_mms_with_two_attachments_reaches_the_network,
    no_application_reads_another_applications_requests,
);

/// `s` percent-encoded as one path segment (as the spec's examples encode addresses).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn requests_path(sender: &str) -> String {
    format!("/messaging/outbound/{}/requests", enc(sender))
}

/// An `outboundMessageRequest` with an SMS text.
pub fn sms(sender: &str, addresses: &[&str], text: &str) -> Value {
    json!({"outboundMessageRequest": {
        "address": addresses,
        "senderAddress": sender,
        "outboundSMSTextMessage": {"message": text},
    }})
}

fn with_receipts(mut body: Value, url: &str, data: &str) -> Value {
    body["outboundMessageRequest"]["receiptRequest"] =
        json!({"notifyURL": url, "callbackData": data, "notificationFormat": "JSON"});
    body
}

/// POSTs `body` from `sender`; asserts 201 with `Location` = `resourceReference.resourceURL`
/// under the sender's requests; returns the request's URL.
pub async fn send(app: &App, sender: &str, body: Value) -> String {
    let r = app
        .send(Method::POST, &requests_path(sender), Some(body))
        .await;
    accepted(app, sender, &r)
}

fn accepted(app: &App, sender: &str, r: &Answer) -> String {
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let url = r.body["resourceReference"]["resourceURL"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(r.header("location"), url);
    let under = format!("{}{}/", app.api, requests_path(sender));
    assert!(url.starts_with(&under), "{url} is not under {under}");
    url
}

/// The delivery statuses of a request by address, polled from `deliveryInfos`.
pub async fn statuses(app: &App, request_url: &str) -> Vec<(String, String)> {
    let r = app.get_url(&format!("{request_url}/deliveryInfos")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let list = &r.body["deliveryInfoList"];
    assert_eq!(
        list["resourceURL"],
        json!(format!("{request_url}/deliveryInfos"))
    );
    list["deliveryInfo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["address"].as_str().unwrap_or_default().to_string(),
                d["deliveryStatus"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Polls until every address of the request has `status`.
async fn until_all(app: &App, request_url: &str, addresses: &[&str], status: &str) {
    let want: Vec<(String, String)> = addresses
        .iter()
        .map(|a| (a.to_string(), status.to_string()))
        .collect();
    let want = &want;
    eventually(&format!("every address {status}"), 15, || async move {
        (statuses(app, request_url).await == *want).then_some(())
    })
    .await;
}

/// The `deliveryInfoNotification`s received for `request_url`, as (address, status).
fn receipts(receiver: &Receiver, request_url: &str) -> Vec<(String, String)> {
    receiver
        .received()
        .iter()
        .filter(|r| link_of(r) == request_url)
        .map(|r| {
            let info = &r.body["deliveryInfoNotification"]["deliveryInfo"];
            (
                info["address"].as_str().unwrap_or_default().to_string(),
                info["deliveryStatus"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn link_of(r: &Received) -> String {
    r.body["deliveryInfoNotification"]["link"][0]["href"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// netsim's log entries of the messages submitted for request `request_id`.
pub async fn submitted(suite: &Suite, request_id: &str) -> Vec<Value> {
    suite
        .whole_network_log()
        .await
        .into_iter()
        .filter(|e| e["requestId"] == json!(request_id) && e["kind"] != json!("receipt"))
        .collect()
}

fn id_of(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().to_string()
}

async fn an_sms_to_three_addresses_reports_each_status_by_polling_and_by_notification(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sender", &[]).await;
    let receiver = Receiver::start().await;
    let sender = unique_tel();
    let to: Vec<String> = (0..3).map(|_| unique_tel()).collect();
    let to: Vec<&str> = to.iter().map(String::as_str).collect();
    suite
        .set_rules(json!([{"address": to[2], "deliveryDelayMs": 300}]))
        .await;

    let url = send(
        &app,
        &sender,
        with_receipts(
            sms(&sender, &to, "See you at 8"),
            &receiver.url,
            "order-5512",
        ),
    )
    .await;
    until_all(&app, &url, &to, "DeliveredToTerminal").await;

    // Each address was submitted once, with the text.
    let log = submitted(&suite, &id_of(&url)).await;
    let mut destinations: Vec<&str> = log.iter().filter_map(|e| e["address"].as_str()).collect();
    destinations.sort();
    let mut expected = to.clone();
    expected.sort();
    assert_eq!(destinations, expected, "{log:?}");
    assert!(
        log.iter()
            .all(|e| e["text"] == json!("See you at 8") && e["segments"] == json!(1)),
        "{log:?}"
    );

    // Notifications: DeliveredToNetwork then DeliveredToTerminal for each address, with
    // the callbackData and the link to the request.
    eventually("six delivery notifications", 15, || async {
        (receipts(&receiver, &url).len() == 6).then_some(())
    })
    .await;
    for address in &to {
        let seen: Vec<String> = receipts(&receiver, &url)
            .into_iter()
            .filter(|(a, _)| a == address)
            .map(|(_, s)| s)
            .collect();
        assert_eq!(
            seen,
            ["DeliveredToNetwork", "DeliveredToTerminal"],
            "{address}"
        );
    }
    for r in receiver.received() {
        let n = &r.body["deliveryInfoNotification"];
        assert_eq!(n["callbackData"], json!("order-5512"));
        assert_eq!(n["link"][0]["rel"], json!("OutboundMessageRequest"));
        assert!(!r.notification_id().is_empty());
    }

    // The request reads back with its delivery infos.
    let r = app.get_url(&url).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let request = &r.body["outboundMessageRequest"];
    assert_eq!(request["resourceURL"], json!(url));
    assert_eq!(request["senderAddress"], json!(sender));
    assert_eq!(request["address"], json!(to));
    assert_eq!(
        request["outboundSMSTextMessage"]["message"],
        json!("See you at 8")
    );
    assert_eq!(
        request["deliveryInfoList"]["deliveryInfo"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
}

async fn failed_and_out_of_order_receipts_end_at_the_right_status(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sender", &[]).await;
    let receiver = Receiver::start().await;
    let sender = unique_tel();
    let (failed, shuffled, uncertain) = (unique_tel(), unique_tel(), unique_tel());
    suite
        .set_rules(json!([
            {"address": failed, "delivery": "DeliveryImpossible",
             "deliveryDescription": "absent subscriber"},
            // The terminal receipt overtakes the earlier ones.
            {"address": shuffled, "deliverySteps": [
                {"status": "DeliveredToNetwork", "delayMs": 300},
                {"status": "MessageWaiting", "delayMs": 400},
                {"status": "DeliveredToTerminal", "delayMs": 0}]},
            {"address": uncertain, "delivery": "DeliveryUncertain"},
        ]))
        .await;
    let to = [failed.as_str(), shuffled.as_str(), uncertain.as_str()];
    let url = send(
        &app,
        &sender,
        with_receipts(sms(&sender, &to, "hello"), &receiver.url, "cb"),
    )
    .await;
    let want = [
        (failed.clone(), "DeliveryImpossible".to_string()),
        (shuffled.clone(), "DeliveredToTerminal".to_string()),
        (uncertain.clone(), "DeliveryUncertain".to_string()),
    ];
    let want = &want;
    eventually("the final statuses", 15, || async {
        (statuses(&app, &url).await == *want).then_some(())
    })
    .await;
    // The failure is notified, with the network's reason.
    let failure = receiver
        .until("the failure notification", 10, |r| {
            r.body["deliveryInfoNotification"]["deliveryInfo"]["deliveryStatus"]
                == json!("DeliveryImpossible")
        })
        .await;
    assert_eq!(
        failure.body["deliveryInfoNotification"]["deliveryInfo"]["description"],
        json!("absent subscriber")
    );
    // The late DeliveredToNetwork and MessageWaiting receipts (netsim sent them after the
    // terminal one) change nothing and notify nobody: the status never goes back.
    let sent_late = || async {
        let log = suite.whole_network_log().await;
        let n = log
            .iter()
            .filter(|e| e["kind"] == json!("receipt") && e["address"] == json!(shuffled))
            .count();
        (n >= 3).then_some(())
    };
    eventually("netsim sent all three receipts", 10, sent_late).await;
    // A marker: a later request to the same address, delivered and notified, is ordered
    // after the late receipts on the same stream.
    let marker = send(
        &app,
        &sender,
        with_receipts(
            sms(&sender, &[uncertain.as_str()], "marker"),
            &receiver.url,
            "m",
        ),
    )
    .await;
    until_all(&app, &marker, &[uncertain.as_str()], "DeliveryUncertain").await;
    receiver
        .until("the marker's notification", 10, |r| link_of(r) == marker)
        .await;
    let shuffled_seen: Vec<String> = receipts(&receiver, &url)
        .into_iter()
        .filter(|(a, _)| *a == shuffled)
        .map(|(_, s)| s)
        .collect();
    assert_eq!(shuffled_seen, ["DeliveredToTerminal"]);
    assert_eq!(statuses(&app, &url).await, *want);
}

async fn a_correlator_retry_sends_one_message(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sender", &[]).await;
    let sender = unique_tel();
    let to = unique_tel();
    let mut body = sms(&sender, &[to.as_str()], "once only");
    body["outboundMessageRequest"]["clientCorrelator"] = json!("sms-000981");
    let first = send(&app, &sender, body.clone()).await;
    let again = send(&app, &sender, body.clone()).await;
    assert_eq!(first, again);
    until_all(&app, &first, &[to.as_str()], "DeliveredToTerminal").await;
    // The same correlator with another text is refused and sends nothing.
    let mut other = body.clone();
    other["outboundMessageRequest"]["outboundSMSTextMessage"]["message"] = json!("twice?");
    let r = app
        .send(Method::POST, &requests_path(&sender), Some(other))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception().0, "SVC0005");
    // Another application may use the same correlator for its own message.
    let other_app = suite.app("other", &[]).await;
    let theirs = send(&other_app, &sender, body).await;
    assert_ne!(theirs, first);
    until_all(&other_app, &theirs, &[to.as_str()], "DeliveredToTerminal").await;
    let log = submitted(&suite, &id_of(&first)).await;
    assert_eq!(log.len(), 1, "one submit for two POSTs: {log:?}");
    let to_address = suite
        .whole_network_log()
        .await
        .into_iter()
        .filter(|e| e["address"] == json!(to) && e["kind"] == json!("sms"))
        .count();
    assert_eq!(to_address, 2, "one per application");
}

async fn a_long_text_is_sent_in_segments_and_a_too_long_one_refused(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sender", &[]).await;
    let sender = unique_tel();
    let to = unique_tel();
    let gsm = "a".repeat(161);
    let ucs2 = "é€😀".repeat(25) + "ж";
    let url = send(&app, &sender, sms(&sender, &[to.as_str()], &gsm)).await;
    let ucs_url = send(&app, &sender, sms(&sender, &[to.as_str()], &ucs2)).await;
    for (url, text, segments) in [(&url, &gsm, 2), (&ucs_url, &ucs2, 2)] {
        let log = eventually("the submit", 10, || async {
            let log = submitted(&suite, &id_of(url)).await;
            (!log.is_empty()).then_some(log)
        })
        .await;
        assert_eq!(log[0]["segments"], json!(segments), "{log:?}");
        assert_eq!(log[0]["text"], json!(text), "{log:?}");
    }
    // Ten segments of 153 characters is the default maximum.
    let r = app
        .send(
            Method::POST,
            &requests_path(&sender),
            Some(sms(&sender, &[to.as_str()], &"b".repeat(1531))),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception().0, "SVC0280");
}

async fn oneapi_clients_send_form_encoded_and_sms_only_bodies(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sender", &[]).await;
    let receiver = Receiver::start().await;
    let sender = unique_tel();
    let (a, b) = (unique_tel(), unique_tel());
    let form = format!(
        "address={}&address={}&senderAddress={}&message=Hello%20there&clientCorrelator=f1&notifyURL={}&callbackData=form-cb",
        enc(&a),
        enc(&b),
        enc(&sender),
        enc(&receiver.url)
    );
    let r = app
        .raw(
            Method::POST,
            &requests_path(&sender),
            "application/x-www-form-urlencoded",
            form.into_bytes(),
        )
        .await;
    let url = accepted(&app, &sender, &r);
    until_all(&app, &url, &[a.as_str(), b.as_str()], "DeliveredToTerminal").await;
    let n = receiver
        .until("a receipt for the form request", 10, |r| link_of(r) == url)
        .await;
    assert_eq!(
        n.body["deliveryInfoNotification"]["callbackData"],
        json!("form-cb")
    );

    let body = json!({"outboundSMSMessageRequest": {
        "address": [a], "senderAddress": sender,
        "outboundSMSTextMessage": {"message": "OneAPI"}, "senderName": "Shop"}});
    let url = send(&app, &sender, body).await;
    until_all(&app, &url, &[a.as_str()], "DeliveredToTerminal").await;
    let r = app.get_url(&url).await;
    assert_eq!(r.status, StatusCode::OK);
    let request = &r.body["outboundSMSMessageRequest"];
    assert_eq!(request["senderName"], json!("Shop"), "{:?}", r.body);
    assert_eq!(request["resourceURL"], json!(url));
}

/// A `multipart/form-data` body with a `root-fields` JSON part and file parts.
pub fn multipart(boundary: &str, root: &Value, files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"root-fields\"\r\nContent-Type: application/json\r\n\r\n{root}\r\n"
    )
    .into_bytes();
    for (name, content_type, data) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(data);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    body
}

async fn an_mms_with_two_attachments_reaches_the_network(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("sender", &[]).await;
    let receiver = Receiver::start().await;
    let sender = unique_tel();
    let to = unique_tel();
    let root = json!({"outboundMessageRequest": {
        "address": [to], "senderAddress": sender,
        "outboundMMSMessage": {"subject": "Holiday", "priority": "Normal"},
        "receiptRequest": {"notifyURL": receiver.url, "callbackData": "mms-cb"},
        "clientCorrelator": "mms-77"}});
    let jpeg: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let body = multipart(
        "MMSBOUND",
        &root,
        &[
            ("beach.jpg", "image/jpeg", &jpeg),
            ("text.txt", "text/plain", b"Greetings from the beach"),
        ],
    );
    let r = app
        .raw(
            Method::POST,
            &requests_path(&sender),
            "multipart/form-data; boundary=MMSBOUND",
            body.clone(),
        )
        .await;
    let url = accepted(&app, &sender, &r);
    // A retry of the same multipart request sends nothing more.
    let again = app
        .raw(
            Method::POST,
            &requests_path(&sender),
            "multipart/form-data; boundary=MMSBOUND",
            body,
        )
        .await;
    assert_eq!(accepted(&app, &sender, &again), url);
    until_all(&app, &url, &[to.as_str()], "DeliveredToTerminal").await;
    receiver
        .until("the MMS delivery notification", 10, |r| {
            link_of(r) == url
                && r.body["deliveryInfoNotification"]["deliveryInfo"]["deliveryStatus"]
                    == json!("DeliveredToTerminal")
        })
        .await;
    let log = submitted(&suite, &id_of(&url)).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], json!("mms"));
    assert_eq!(log[0]["subject"], json!("Holiday"));
    let names: Vec<&str> = log[0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["beach.jpg", "text.txt"]);
    let sizes: Vec<u64> = log[0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["size"].as_u64())
        .collect();
    assert_eq!(sizes, [5000, 24]);
    let r = app.get_url(&url).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["outboundMessageRequest"]["outboundMMSMessage"]["subject"],
        json!("Holiday")
    );
}

async fn no_application_reads_another_applications_requests(mode: Mode) {
    let suite = Suite::start(mode).await;
    let owner = suite.app("owner", &[]).await;
    let other = suite.app("other", &[]).await;
    let sender = unique_tel();
    let to = unique_tel();
    let url = send(&owner, &sender, sms(&sender, &[to.as_str()], "private")).await;
    for path in [url.clone(), format!("{url}/deliveryInfos")] {
        let r = other.get_url(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {:?}", r.body);
        assert_eq!(r.exception().0, "SVC0002");
        assert_eq!(owner.get_url(&path).await.status, StatusCode::OK);
    }
    // Nor under another sender's path.
    let elsewhere = url.replace(&enc(&sender), &enc(&unique_tel()));
    assert_eq!(
        owner.get_url(&elsewhere).await.status,
        StatusCode::NOT_FOUND
    );
}
