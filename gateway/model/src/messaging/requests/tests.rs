//! Parsing of the messaging request bodies: both roots, the tolerant shapes, and the
//! refusals of read-only and unknown fields (with the field named, as the gateway reports).

use serde_json::json;

use super::*;
use crate::{error::RequestError, from_json};

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, RequestError> {
    from_json(value.to_string().as_bytes())
}

fn refused_field<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    value: serde_json::Value,
) -> String {
    let error = parse::<T>(value).unwrap_err();
    assert_eq!(error.message_id, "SVC0002");
    error.variables[0].clone()
}

#[test]
fn the_spec_sms_example_parses() {
    let body = json!({"outboundMessageRequest": {
        "address": ["tel:+15557654321"],
        "senderAddress": "tel:+15551230001",
        "outboundSMSTextMessage": {"message": "See you at 8"},
        "receiptRequest": {"notifyURL": "https://app.example.org/msg/dlr",
                           "notificationFormat": "JSON", "callbackData": "order-5512"},
        "clientCorrelator": "sms-000981"}});
    let OutboundRequestBody::Message(m) = parse(body).unwrap() else {
        panic!("wrong root")
    };
    assert_eq!(m.address, ["tel:+15557654321"]);
    assert_eq!(m.sender_address, "tel:+15551230001");
    assert_eq!(m.outbound_sms_text_message.unwrap().message, "See you at 8");
    let receipt = m.receipt_request.unwrap();
    assert_eq!(receipt.callback_data.as_deref(), Some("order-5512"));
    assert_eq!(m.client_correlator.as_deref(), Some("sms-000981"));
    assert!(m.outbound_mms_message.is_none());
}

#[test]
fn the_mms_example_and_a_single_address_string_parse() {
    let body = json!({"outboundMessageRequest": {
        "address": "tel:+15557654321",
        "senderAddress": "tel:+15551230001",
        "outboundMMSMessage": {"subject": "Holiday", "priority": "Normal"}}});
    let OutboundRequestBody::Message(m) = parse(body).unwrap() else {
        panic!("wrong root")
    };
    assert_eq!(m.address, ["tel:+15557654321"]);
    let mms = m.outbound_mms_message.unwrap();
    assert_eq!(mms.subject.as_deref(), Some("Holiday"));
    assert_eq!(
        mms.priority.as_deref().map(str::parse),
        Some(Ok(Priority::Normal))
    );
}

#[test]
fn the_oneapi_root_becomes_the_same_request() {
    let body = json!({"outboundSMSMessageRequest": {
        "address": ["tel:+15557654321"], "senderAddress": "tel:+15551230001",
        "senderName": "Shop", "outboundSMSTextMessage": {"message": "OneAPI"},
        "receiptRequest": {"notifyURL": "http://a.example/dlr", "callbackData": "x"}}});
    let OutboundRequestBody::Sms(sms) = parse(body).unwrap() else {
        panic!("wrong root")
    };
    let m = OutboundMessageRequestIn::from(sms);
    assert_eq!(m.sender_name.as_deref(), Some("Shop"));
    assert_eq!(m.outbound_sms_text_message.unwrap().message, "OneAPI");
    // No MMS in the SMS-only root.
    let mms = json!({"outboundSMSMessageRequest": {
        "address": [], "senderAddress": "tel:+1", "outboundMMSMessage": {}}});
    assert_eq!(
        refused_field::<OutboundRequestBody>(mms),
        "outboundMMSMessage"
    );
}

#[test]
fn absent_addresses_read_as_none() {
    let body = json!({"outboundMessageRequest": {"senderAddress": "tel:+1"}});
    let OutboundRequestBody::Message(m) = parse(body).unwrap() else {
        panic!("wrong root")
    };
    assert!(m.address.is_empty());
}

#[test]
fn read_only_and_unknown_fields_are_named() {
    let base = || json!({"address": ["tel:+15557654321"], "senderAddress": "tel:+1"});
    for field in ["resourceURL", "deliveryInfoList", "link", "priority"] {
        let mut inner = base();
        inner[field] = json!("x");
        let body = json!({ "outboundMessageRequest": inner });
        assert_eq!(refused_field::<OutboundRequestBody>(body), field);
    }
    let mut inner = base();
    inner["outboundMMSMessage"] = json!({"subject": "s", "attachment": []});
    assert_eq!(
        refused_field::<OutboundRequestBody>(json!({ "outboundMessageRequest": inner })),
        "attachment"
    );
    let mut inner = base();
    inner["receiptRequest"] = json!({"notifyURL": "http://a/b", "notifyUrl": "x"});
    assert_eq!(
        refused_field::<OutboundRequestBody>(json!({ "outboundMessageRequest": inner })),
        "notifyUrl"
    );
}

#[test]
fn missing_and_ill_typed_fields_are_named() {
    assert_eq!(
        refused_field::<OutboundRequestBody>(json!({"outboundMessageRequest": {"address": []}})),
        "senderAddress"
    );
    assert_eq!(
        refused_field::<OutboundRequestBody>(json!({"outboundMessageRequest": {
            "senderAddress": "tel:+1", "outboundSMSTextMessage": {"message": 42}}})),
        "message"
    );
    assert_eq!(
        refused_field::<OutboundRequestBody>(json!({"outboundMessageRequest": {
            "senderAddress": "tel:+1", "address": [15557654321u64]}})),
        "address"
    );
}

#[test]
fn a_body_must_have_exactly_one_known_root() {
    for body in [
        json!({}),
        json!({"outboundMessage": {}}),
        json!([]),
        json!({"outboundMessageRequest": {"senderAddress": "tel:+1"},
               "outboundSMSMessageRequest": {"senderAddress": "tel:+1"}}),
    ] {
        assert!(
            parse::<OutboundRequestBody>(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn priorities_have_the_spec_spelling() {
    for (s, p) in [
        ("Default", Priority::Default),
        ("Low", Priority::Low),
        ("Normal", Priority::Normal),
        ("High", Priority::High),
    ] {
        assert_eq!(s.parse::<Priority>(), Ok(p));
    }
    assert!("high".parse::<Priority>().is_err());
    assert!("Urgent".parse::<Priority>().is_err());
}

#[test]
fn a_request_reads_back_in_its_root() {
    let request = OutboundMessageRequest {
        address: vec!["tel:+15557654321".into()],
        sender_address: "tel:+15551230001".into(),
        outbound_sms_text_message: Some(TextMessage {
            message: "hi".into(),
        }),
        resource_url: "http://h/1/messaging/outbound/tel%3A%2B15551230001/requests/r1".into(),
        ..Default::default()
    };
    let message = serde_json::to_value(OutboundRequestResponse::Message(request.clone())).unwrap();
    assert_eq!(
        message,
        json!({"outboundMessageRequest": {
            "address": ["tel:+15557654321"], "senderAddress": "tel:+15551230001",
            "outboundSMSTextMessage": {"message": "hi"},
            "resourceURL": "http://h/1/messaging/outbound/tel%3A%2B15551230001/requests/r1"}})
    );
    let sms = serde_json::to_value(OutboundRequestResponse::Sms(request.clone())).unwrap();
    assert_eq!(
        sms["outboundSMSMessageRequest"],
        message["outboundMessageRequest"]
    );
    let back: OutboundRequestResponse = serde_json::from_value(sms).unwrap();
    assert_eq!(back, OutboundRequestResponse::Sms(request));
}

#[test]
fn inbound_subscriptions_accept_both_shapes_and_formats() {
    let body = json!({"subscription": {
        "callbackReference": {"notifyURL": "https://app.example.org/msg/mo",
                              "callbackData": "alice-inbox", "notificationFormat": "JSON"},
        "destinationAddress": "tel:+15551230001",
        "criteria": "PIZZA", "notificationFormat": "JSON",
        "clientCorrelator": "in-sub-3", "duration": "3600"}});
    let s: InboundSubscriptionRequest = parse(body).unwrap();
    let s = s.subscription;
    assert_eq!(s.destination_address, ["tel:+15551230001"]);
    assert_eq!(s.criteria.as_deref(), Some("PIZZA"));
    assert_eq!(s.notification_format.as_deref(), Some("JSON"));
    assert_eq!(s.duration, Some(3600));

    let no_destination =
        json!({"subscription": {"callbackReference": {"notifyURL": "http://a/b"}}});
    let s: InboundSubscriptionRequest = parse(no_destination).unwrap();
    assert!(s.subscription.destination_address.is_empty());
    assert_eq!(
        refused_field::<InboundSubscriptionRequest>(
            json!({"subscription": {"destinationAddress": ["3456"]}})
        ),
        "callbackReference"
    );
    assert_eq!(
        refused_field::<InboundSubscriptionRequest>(json!({"subscription": {
            "callbackReference": {"notifyURL": "http://a/b"}, "resourceURL": "x"}})),
        "resourceURL"
    );
}

#[test]
fn an_inbound_subscription_is_written_with_arrays_and_its_url() {
    let s = InboundSubscription {
        callback_reference: CallbackReference {
            notify_url: "https://app.example.org/msg/mo".into(),
            callback_data: Some("alice-inbox".into()),
            notification_format: None,
        },
        destination_address: vec!["tel:+15551230001".into()],
        criteria: Some("PIZZA".into()),
        client_correlator: Some("in-sub-3".into()),
        duration: Some(3600),
        resource_url: "http://h/1/messaging/inbound/subscriptions/is-88".into(),
    };
    let value = serde_json::to_value(InboundSubscriptionResponse {
        subscription: s.clone(),
    })
    .unwrap();
    assert_eq!(
        value,
        json!({"subscription": {
            "callbackReference": {"notifyURL": "https://app.example.org/msg/mo",
                                  "callbackData": "alice-inbox"},
            "destinationAddress": ["tel:+15551230001"],
            "criteria": "PIZZA", "clientCorrelator": "in-sub-3", "duration": 3600,
            "resourceURL": "http://h/1/messaging/inbound/subscriptions/is-88"}})
    );
    let empty = serde_json::to_value(InboundSubscriptionListResponse::default()).unwrap();
    assert_eq!(empty, json!({"subscriptionList": {"subscription": []}}));
}

#[test]
fn retrieve_and_delete_requests_are_tolerant() {
    let body = json!({"inboundMessageRetrieveAndDeleteRequest": {
        "retrievalOrder": "NewestFirst", "useAttachmentURLs": "true", "maxBatchSize": "10"}});
    let r: InboundMessageRetrieveAndDeleteBody = parse(body).unwrap();
    let r = r.inbound_message_retrieve_and_delete_request;
    assert_eq!(r.retrieval_order, Some(RetrievalOrder::NewestFirst));
    assert_eq!(r.use_attachment_urls, Some(true));
    assert_eq!(r.max_batch_size, Some(10));
    assert_eq!(
        refused_field::<InboundMessageRetrieveAndDeleteBody>(
            json!({"inboundMessageRetrieveAndDeleteRequest": {"retrievalOrder": "Sideways"}})
        ),
        "retrievalOrder"
    );
    let empty: InboundMessageRetrieveAndDeleteBody =
        parse(json!({"inboundMessageRetrieveAndDeleteRequest": {}})).unwrap();
    assert_eq!(empty, InboundMessageRetrieveAndDeleteBody::default());
}
