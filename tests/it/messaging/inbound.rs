//! Inbound messages: injected into netsim, read through a registration in batches and one
//! by one, deleted with their attachments, and notified to subscriptions (keyword
//! criteria, callbackData); only the provisioned application reads a registration.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::enc;
use crate::{
    harness::{App, Mode, Suite, both_modes, eventually, unique_tel},
    receiver::Receiver,
};

both_modes!(
    inbound_messages_are_read_in_batches_one_by_one_and_deleted,
    an_inbound_mms_has_attachments_to_fetch_and_delete,
    inbound_subscriptions_notify_with_callback_data_and_keywords,
    only_the_provisioned_application_reads_a_registration,
);

fn messages_path(registration: &str) -> String {
    format!(
        "/messaging/inbound/registrations/{}/messages",
        enc(registration)
    )
}

/// Injects an inbound message at netsim; asserts it was accepted.
async fn inject(suite: &Suite, message: Value) {
    let r = suite
        .http
        .post(format!("{}/netsim/v1/messages", suite.admin))
        .json(&message)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "inject: {}",
        r.text().await.unwrap()
    );
}

async fn inject_sms(suite: &Suite, from: &str, to: &str, text: &str) {
    inject(
        suite,
        json!({"senderAddress": from, "destinationAddress": to, "message": text}),
    )
    .await;
}

/// A batch of at most `max` messages: (the list, the texts).
async fn batch(app: &App, registration: &str, max: Option<u32>) -> (Value, Vec<String>) {
    let query = max
        .map(|n| format!("?maxBatchSize={n}"))
        .unwrap_or_default();
    let r = app
        .send(
            Method::GET,
            &format!("{}{query}", messages_path(registration)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let list = r.body["inboundMessageList"].clone();
    let texts = list["inboundMessage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["inboundSMSTextMessage"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    (list, texts)
}

async fn until_pending(app: &App, registration: &str, n: u64) -> Value {
    eventually(&format!("{n} messages pending"), 15, || async {
        let (list, _) = batch(app, registration, Some(1)).await;
        (list["totalNumberOfPendingMessages"] == json!(n)).then_some(list)
    })
    .await
}

async fn inbound_messages_are_read_in_batches_one_by_one_and_deleted(mode: Mode) {
    let suite = Suite::start(mode).await;
    let registration = unique_tel();
    let app = suite.app_with("reader", &[], &[&registration]).await;
    let from = unique_tel();
    for i in 1..=5 {
        inject_sms(&suite, &from, &registration, &format!("message {i}")).await;
        // Oldest first needs distinct arrival order: wait for each.
        until_pending(&app, &registration, i).await;
    }
    let (list, texts) = batch(&app, &registration, Some(2)).await;
    assert_eq!(texts, ["message 1", "message 2"]);
    assert_eq!(list["numberOfMessagesInThisBatch"], json!(2));
    assert_eq!(list["totalNumberOfPendingMessages"], json!(5));
    assert_eq!(
        list["resourceURL"],
        json!(format!("{}{}", app.api, messages_path(&registration)))
    );
    let first = &list["inboundMessage"][0];
    assert_eq!(first["senderAddress"], json!(from));
    assert_eq!(first["destinationAddress"], json!(registration));
    assert!(first["dateTime"].as_str().is_some_and(|t| t.ends_with('Z')));
    let url = first["resourceURL"].as_str().unwrap().to_string();
    assert!(url.ends_with(first["messageId"].as_str().unwrap()));

    // Without maxBatchSize, the server's default (10) covers all five.
    let (_, texts) = batch(&app, &registration, None).await;
    assert_eq!(texts.len(), 5);

    // One by one, then deleted: it is gone, and the count goes down.
    let r = app.get_url(&url).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["inboundMessage"]["inboundSMSTextMessage"]["message"],
        json!("message 1")
    );
    let r = app.delete_url(&url).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(app.get_url(&url).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete_url(&url).await.status, StatusCode::NOT_FOUND);
    let (list, texts) = batch(&app, &registration, Some(10)).await;
    assert_eq!(texts, ["message 2", "message 3", "message 4", "message 5"]);
    assert_eq!(list["totalNumberOfPendingMessages"], json!(4));

    // Retrieve and delete (NetAPI): a batch that is removed as it is read.
    let r = app
        .send(
            Method::POST,
            &format!("{}/retrieveAndDeleteMessages", messages_path(&registration)),
            Some(json!({"inboundMessageRetrieveAndDeleteRequest": {
                "retrievalOrder": "OldestFirst", "maxBatchSize": 3}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["inboundMessageList"]["numberOfMessagesInThisBatch"],
        json!(3)
    );
    let (_, texts) = batch(&app, &registration, None).await;
    assert_eq!(texts, ["message 5"]);
}

async fn an_inbound_mms_has_attachments_to_fetch_and_delete(mode: Mode) {
    use base64::Engine;
    let suite = Suite::start(mode).await;
    let registration = "3456";
    let app = suite.app_with("reader", &[], &[registration]).await;
    let receiver = Receiver::start().await;
    let r = app
        .send(
            Method::POST,
            "/messaging/inbound/subscriptions",
            Some(json!({"subscription": {
                "callbackReference": {"notifyURL": receiver.url, "callbackData": "mms-inbox"},
                "destinationAddress": [registration]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let photo: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    inject(
        &suite,
        json!({"senderAddress": "tel:+15557654321", "destinationAddress": registration,
               "subject": "Photo", "message": "look",
               "attachments": [
                 {"name": "IMG_0042.jpg", "contentType": "image/jpeg", "data": b64(&photo)},
                 {"name": "note.vcf", "contentType": "text/vcard", "data": b64(b"BEGIN:VCARD")}]}),
    )
    .await;
    let n = receiver
        .until("the MMS notification", 15, |r| {
            r.body["inboundMessageNotification"].is_object()
        })
        .await;
    let message = &n.body["inboundMessageNotification"]["inboundMessage"];
    assert_eq!(
        n.body["inboundMessageNotification"]["callbackData"],
        json!("mms-inbox")
    );
    let mms = &message["inboundMMSMessage"];
    assert_eq!(mms["subject"], json!("Photo"));
    let attachments = mms["attachment"].as_array().unwrap().clone();
    assert_eq!(attachments.len(), 2, "{mms:?}");
    assert_eq!(attachments[0]["contentType"], json!("image/jpeg"));
    assert_eq!(attachments[0]["link"]["rel"], json!("attachment"));
    let photo_url = attachments[0]["link"]["href"].as_str().unwrap().to_string();
    let card_url = attachments[1]["link"]["href"].as_str().unwrap().to_string();
    let message_url = message["resourceURL"].as_str().unwrap().to_string();
    assert!(photo_url.starts_with(&format!("{message_url}/attachments/")));

    // The bytes come back with their content type.
    let (status, headers, bytes) = app.get_bytes(&photo_url).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{photo_url}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(bytes, photo);

    // Deleting one attachment leaves the other.
    assert_eq!(
        app.delete_url(&photo_url).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get_bytes(&photo_url).await.0, StatusCode::NOT_FOUND);
    let r = app.get_url(&message_url).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let left = r.body["inboundMessage"]["inboundMMSMessage"]["attachment"]
        .as_array()
        .map(Vec::len);
    assert_eq!(left, Some(1), "{:?}", r.body);
    let (status, headers, bytes) = app.get_bytes(&card_url).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (StatusCode::OK, &b"BEGIN:VCARD"[..])
    );
    assert_eq!(headers["content-type"], "text/vcard");

    // Deleting the message takes its attachments with it.
    assert_eq!(
        app.delete_url(&message_url).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get_bytes(&card_url).await.0, StatusCode::NOT_FOUND);
}

async fn inbound_subscriptions_notify_with_callback_data_and_keywords(mode: Mode) {
    let suite = Suite::start(mode).await;
    let registration = unique_tel();
    let app = suite.app_with("pizza", &[], &[&registration]).await;
    let pizza = Receiver::start().await;
    let everything = Receiver::start().await;
    let subscribe = |criteria: Option<&str>, url: &str, data: &str, correlator: &str| {
        let mut sub = json!({
            "callbackReference": {"notifyURL": url, "callbackData": data, "notificationFormat": "JSON"},
            "destinationAddress": [registration],
            "clientCorrelator": correlator});
        if let Some(c) = criteria {
            sub["criteria"] = json!(c);
        }
        app.send(
            Method::POST,
            "/messaging/inbound/subscriptions",
            Some(json!({ "subscription": sub })),
        )
    };
    let r = subscribe(Some("PIZZA"), &pizza.url, "alice-inbox", "in-sub-3").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let sub_url = r.body["subscription"]["resourceURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(r.header("location"), sub_url);
    assert_eq!(r.body["subscription"]["criteria"], json!("PIZZA"));
    // A retry with the same correlator answers the same subscription.
    let again = subscribe(Some("PIZZA"), &pizza.url, "alice-inbox", "in-sub-3").await;
    assert_eq!(again.header("location"), sub_url);
    // The same keyword again is an overlap.
    let overlap = subscribe(Some("pizza"), &pizza.url, "x", "in-sub-4").await;
    assert_eq!(
        overlap.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        overlap.body
    );
    assert_eq!(overlap.exception().0, "SVC0008");
    let r = subscribe(Some("HELP"), &everything.url, "help-inbox", "in-sub-5").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    let from = unique_tel();
    inject_sms(&suite, &from, &registration, "pizza margherita x2").await;
    inject_sms(&suite, &from, &registration, "help me").await;
    let n = pizza
        .until("the PIZZA notification", 15, |r| {
            r.body["inboundMessageNotification"].is_object()
        })
        .await;
    let body = &n.body["inboundMessageNotification"];
    assert_eq!(body["callbackData"], json!("alice-inbox"));
    assert_eq!(body["link"][0]["rel"], json!("Subscription"));
    assert_eq!(body["link"][0]["href"], json!(sub_url));
    assert_eq!(
        body["inboundMessage"]["inboundSMSTextMessage"]["message"],
        json!("pizza margherita x2")
    );
    assert_eq!(body["inboundMessage"]["senderAddress"], json!(from));
    // The message the notification names is readable.
    let url = body["inboundMessage"]["resourceURL"].as_str().unwrap();
    assert_eq!(app.get_url(url).await.status, StatusCode::OK);
    everything
        .until("the HELP notification", 15, |r| {
            r.body["inboundMessageNotification"]["callbackData"] == json!("help-inbox")
        })
        .await;

    // Deleted, the subscription notifies no more (the HELP one still does: a marker).
    assert_eq!(
        app.delete_url(&sub_url).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get_url(&sub_url).await.status, StatusCode::NOT_FOUND);
    inject_sms(&suite, &from, &registration, "PIZZA again").await;
    inject_sms(&suite, &from, &registration, "HELP again").await;
    everything
        .until("the second HELP notification", 15, |r| {
            r.body["inboundMessageNotification"]["inboundMessage"]["inboundSMSTextMessage"]
                ["message"]
                == json!("HELP again")
        })
        .await;
    assert_eq!(pizza.received().len(), 1, "nothing after the DELETE");
    assert_eq!(everything.received().len(), 2);
}

async fn only_the_provisioned_application_reads_a_registration(mode: Mode) {
    let suite = Suite::start(mode).await;
    let registration = unique_tel();
    let owner = suite.app_with("owner", &[], &[&registration]).await;
    let other = suite.app_with("other", &[], &[&unique_tel()]).await;
    let receiver = Receiver::start().await;
    inject_sms(&suite, &unique_tel(), &registration, "for the owner").await;
    let list = until_pending(&owner, &registration, 1).await;
    let url = list["inboundMessage"][0]["resourceURL"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {list}"))
        .to_string();
    for r in [
        other
            .send(Method::GET, &messages_path(&registration), None)
            .await,
        other.get_url(&url).await,
        other.delete_url(&url).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    assert_eq!(owner.get_url(&url).await.status, StatusCode::OK);
    // Nor can it subscribe to the registration.
    let r = other
        .send(
            Method::POST,
            "/messaging/inbound/subscriptions",
            Some(json!({"subscription": {
                "callbackReference": {"notifyURL": receiver.url},
                "destinationAddress": [registration]}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    // Nor read the owner's subscription.
    let r = owner
        .send(
            Method::POST,
            "/messaging/inbound/subscriptions",
            Some(json!({"subscription": {
                "callbackReference": {"notifyURL": receiver.url},
                "destinationAddress": registration}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let sub = r.header("location").to_string();
    assert_eq!(other.get_url(&sub).await.status, StatusCode::NOT_FOUND);
    assert_eq!(other.delete_url(&sub).await.status, StatusCode::NOT_FOUND);
    let r = other
        .send(Method::GET, "/messaging/inbound/subscriptions", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(!r.body.to_string().contains(&sub), "{:?}", r.body);
    assert_eq!(owner.get_url(&sub).await.status, StatusCode::OK);
}
