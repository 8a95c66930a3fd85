//! Messaging validation (every rule), the form and multipart readers, `Accept`
//! negotiation and the representations built from replies.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
};
use parlay_model::{
    common::{CallbackReference, ChargingInformation},
    messaging::{
        InboundMessageRetrieveAndDeleteBody, InboundMessageRetrieveAndDeleteRequest,
        InboundSubscriptionIn, OutboundMessageRequestIn, OutboundMmsMessageIn,
        OutboundRequestResponse, RetrievalOrder, TextMessage,
    },
};
use parlay_proto::messaging::v1 as pb;
use serde_json::json;

use super::{content::Submitted, convert, form, multipart, validate};
use crate::{
    apps::App,
    error::ApiError,
    validate::tests::{app, refusal},
};

const ALICE: &str = "tel:+15551230001";
const BOB: &str = "tel:+15557654321";
const CAROL: &str = "tel:+15557654322";

fn with_registrations(users: &[&str], registrations: &[&str]) -> App {
    App {
        registrations: registrations.iter().map(|s| s.to_string()).collect(),
        ..app(users)
    }
}

fn sms(sender: &str, to: &[&str], text: &str) -> OutboundMessageRequestIn {
    OutboundMessageRequestIn {
        address: to.iter().map(|s| s.to_string()).collect(),
        sender_address: sender.into(),
        outbound_sms_text_message: Some(TextMessage {
            message: text.into(),
        }),
        ..Default::default()
    }
}

fn submitted(request: OutboundMessageRequestIn) -> Submitted {
    Submitted {
        root: pb::RequestRoot::Message,
        request,
        attachments: Vec::new(),
    }
}

fn send(
    app: &App,
    path: &str,
    request: OutboundMessageRequestIn,
) -> Result<pb::OutboundMessage, ApiError> {
    validate::outbound(app, path, submitted(request), 3)
}

fn refused(app: &App, path: &str, request: OutboundMessageRequestIn) -> (u16, String, Vec<String>) {
    refusal(send(app, path, request).unwrap_err())
}

fn svc(id: &str, vars: &[&str]) -> (u16, String, Vec<String>) {
    (400, id.into(), vars.iter().map(|s| s.to_string()).collect())
}

fn pol(id: &str, vars: &[&str]) -> (u16, String, Vec<String>) {
    (403, id.into(), vars.iter().map(|s| s.to_string()).collect())
}

#[test]
fn a_valid_sms_becomes_the_grpc_message() {
    let mut request = sms(ALICE, &[BOB, CAROL], "See you at 8\nBye");
    request.sender_name = Some("Shop".into());
    request.client_correlator = Some("sms-000981".into());
    request.receipt_request = Some(CallbackReference {
        notify_url: "https://app.example.org/msg/dlr".into(),
        callback_data: Some("order-5512".into()),
        notification_format: Some("json".into()),
    });
    let m = send(&app(&[]), ALICE, request).unwrap();
    assert_eq!(m.sender_address, ALICE);
    assert_eq!(m.addresses, [BOB, CAROL]);
    assert_eq!(m.sender_name.as_deref(), Some("Shop"));
    assert_eq!(m.client_correlator.as_deref(), Some("sms-000981"));
    assert_eq!(m.root(), pb::RequestRoot::Message);
    let receipt = m.receipt_request.unwrap();
    assert_eq!(receipt.notify_url, "https://app.example.org/msg/dlr");
    assert_eq!(receipt.callback_data.as_deref(), Some("order-5512"));
    assert_eq!(
        m.content,
        Some(pb::outbound_message::Content::Sms(pb::SmsText {
            message: "See you at 8\nBye".into()
        }))
    );
}

#[test]
fn a_valid_mms_carries_its_priority_and_files() {
    let request = OutboundMessageRequestIn {
        address: vec![BOB.into()],
        sender_address: ALICE.into(),
        outbound_mms_message: Some(OutboundMmsMessageIn {
            subject: Some("Holiday".into()),
            priority: Some("High".into()),
            message: None,
        }),
        ..Default::default()
    };
    let file = pb::Attachment {
        name: "beach.jpg".into(),
        content_type: "image/jpeg".into(),
        data: vec![1, 2, 3],
    };
    let m = validate::outbound(
        &app(&[]),
        ALICE,
        Submitted {
            root: pb::RequestRoot::Message,
            request,
            attachments: vec![file.clone()],
        },
        3,
    )
    .unwrap();
    let Some(pb::outbound_message::Content::Mms(mms)) = m.content else {
        panic!("not an MMS")
    };
    assert_eq!(mms.subject.as_deref(), Some("Holiday"));
    assert_eq!(mms.priority(), pb::Priority::High);
    assert_eq!(mms.attachments, [file]);
}

#[test]
fn the_sender_must_be_the_paths_and_one_the_app_may_use() {
    // Body and path disagree.
    assert_eq!(
        refused(&app(&[]), "tel:+15550000000", sms(ALICE, &[BOB], "hi")),
        svc("SVC0002", &["senderAddress"])
    );
    // The scheme's case does not matter.
    assert!(send(&app(&[]), "TEL:+15551230001", sms(ALICE, &[BOB], "hi")).is_ok());
    // acr:Authorization on either side is the bound user.
    let bound = app(&[ALICE]);
    let m = send(&bound, "acr:Authorization", sms(ALICE, &[BOB], "hi")).unwrap();
    assert_eq!(m.sender_address, ALICE);
    let m = send(&bound, ALICE, sms("acr:Authorization", &[BOB], "hi")).unwrap();
    assert_eq!(m.sender_address, ALICE);
    assert_eq!(
        refused(
            &app(&[]),
            "acr:Authorization",
            sms("acr:Authorization", &[BOB], "hi")
        ),
        pol("POL0002", &["acr:Authorization"])
    );
    // A restricted application sends only as its users or registrations.
    let restricted = with_registrations(&["tel:+1555123*"], &["3456", "tel:+4930123"]);
    assert!(send(&restricted, ALICE, sms(ALICE, &[BOB], "hi")).is_ok());
    let m = send(&restricted, "3456", sms("3456", &[BOB], "hi")).unwrap();
    assert_eq!(m.sender_address, "3456");
    let m = send(
        &restricted,
        "TEL:+4930123",
        sms("TEL:+4930123", &[BOB], "hi"),
    )
    .unwrap();
    assert_eq!(m.sender_address, "tel:+4930123");
    assert_eq!(
        refused(&restricted, BOB, sms(BOB, &[ALICE], "hi")),
        pol("POL0002", &[BOB])
    );
    // A short code not provisioned, another acr:, garbage.
    for bad in ["7777", "acr:opaque", "not an address"] {
        assert_eq!(
            refused(&restricted, bad, sms(bad, &[BOB], "hi")),
            svc("SVC0002", &["senderAddress"]),
            "{bad}"
        );
    }
}

#[test]
fn addresses_are_counted_checked_and_unique() {
    let open = app(&[]);
    assert_eq!(
        refused(&open, ALICE, sms(ALICE, &[], "hi")),
        svc("SVC0004", &["address"])
    );
    for bad in ["tel:123", "acr:opaque", "3456", "mailto:a@b", ""] {
        assert_eq!(
            refused(&open, ALICE, sms(ALICE, &[BOB, bad], "hi")),
            svc("SVC0004", &["address"]),
            "{bad}"
        );
    }
    assert_eq!(
        refused(&open, ALICE, sms(ALICE, &[BOB, "TEL:+15557654321"], "hi")),
        pol("POL0013", &["address"])
    );
    // The limit is 3 in these tests; it is checked before the addresses themselves.
    assert_eq!(
        refused(&open, ALICE, sms(ALICE, &[BOB, BOB, "x", "y"], "hi")),
        pol("POL0003", &["address"])
    );
    // acr:Authorization as a recipient is the bound user.
    let m = send(
        &app(&[ALICE]),
        ALICE,
        sms(ALICE, &["acr:Authorization"], "hi"),
    )
    .unwrap();
    assert_eq!(m.addresses, [ALICE]);
}

#[test]
fn exactly_one_message_kind() {
    let mut neither = sms(ALICE, &[BOB], "hi");
    neither.outbound_sms_text_message = None;
    assert_eq!(
        refused(&app(&[]), ALICE, neither),
        svc("SVC0002", &["outboundSMSTextMessage"])
    );
    let mut both = sms(ALICE, &[BOB], "hi");
    both.outbound_mms_message = Some(OutboundMmsMessageIn::default());
    assert_eq!(
        refused(&app(&[]), ALICE, both),
        svc("SVC0002", &["outboundMMSMessage"])
    );
    // Files go with an MMS only.
    let with_files = Submitted {
        attachments: vec![pb::Attachment::default()],
        ..submitted(sms(ALICE, &[BOB], "hi"))
    };
    assert_eq!(
        refusal(validate::outbound(&app(&[]), ALICE, with_files, 3).unwrap_err()),
        svc("SVC0002", &["attachments"])
    );
    // An MMS without files (JSON) is fine.
    let mut mms = sms(ALICE, &[BOB], "");
    mms.outbound_sms_text_message = None;
    mms.outbound_mms_message = Some(OutboundMmsMessageIn::default());
    assert!(send(&app(&[]), ALICE, mms).is_ok());
}

#[test]
fn texts_subjects_and_priorities_are_checked() {
    for bad in ["", "a\u{0}b", "bell\u{7}", "esc\u{1b}[0m"] {
        assert_eq!(
            refused(&app(&[]), ALICE, sms(ALICE, &[BOB], bad)),
            svc("SVC0002", &["message"]),
            "{bad:?}"
        );
    }
    assert!(send(&app(&[]), ALICE, sms(ALICE, &[BOB], "tab\there\r\n")).is_ok());
    let mms = |m: OutboundMmsMessageIn| OutboundMessageRequestIn {
        outbound_sms_text_message: None,
        outbound_mms_message: Some(m),
        ..sms(ALICE, &[BOB], "")
    };
    for (m, expected) in [
        (
            OutboundMmsMessageIn {
                subject: Some("s".repeat(257)),
                ..Default::default()
            },
            svc("SVC0002", &["subject"]),
        ),
        (
            OutboundMmsMessageIn {
                subject: Some("a\nb".into()),
                ..Default::default()
            },
            svc("SVC0002", &["subject"]),
        ),
        (
            OutboundMmsMessageIn {
                priority: Some("Urgent".into()),
                ..Default::default()
            },
            svc("SVC0003", &["priority", "Default, Low, Normal, High"]),
        ),
        (
            OutboundMmsMessageIn {
                message: Some("\u{0}".into()),
                ..Default::default()
            },
            svc("SVC0002", &["message"]),
        ),
    ] {
        assert_eq!(refused(&app(&[]), ALICE, mms(m)), expected);
    }
}

#[test]
fn names_charging_receipts_and_correlators_are_checked() {
    let open = app(&[]);
    let mut r = sms(ALICE, &[BOB], "hi");
    r.sender_name = Some("a\u{0}".into());
    assert_eq!(refused(&open, ALICE, r), svc("SVC0002", &["senderName"]));
    let mut r = sms(ALICE, &[BOB], "hi");
    r.charging = Some(ChargingInformation {
        description: vec!["sms".into()],
        ..Default::default()
    });
    assert_eq!(refused(&open, ALICE, r), pol("POL0008", &["charging"]));
    for (reference, field) in [
        (("not a url", None, None), "notifyURL"),
        (("ftp://x.org/a", None, None), "notifyURL"),
        (("http://x.org/a", None, Some("XML")), "notificationFormat"),
        (("http://x.org/a", Some("a\u{7}b"), None), "callbackData"),
    ] {
        let mut r = sms(ALICE, &[BOB], "hi");
        r.receipt_request = Some(CallbackReference {
            notify_url: reference.0.into(),
            callback_data: reference.1.map(Into::into),
            notification_format: reference.2.map(Into::into),
        });
        assert_eq!(refused(&open, ALICE, r), svc("SVC0002", &[field]));
    }
    for bad in ["", "c\u{1}", &"c".repeat(257)] {
        let mut r = sms(ALICE, &[BOB], "hi");
        r.client_correlator = Some(bad.to_string());
        assert_eq!(
            refused(&open, ALICE, r),
            svc("SVC0002", &["clientCorrelator"])
        );
    }
}

#[test]
fn path_senders_resolve_acr_authorization() {
    assert_eq!(
        validate::path_sender(&app(&[ALICE]), "acr:Authorization".into()).unwrap(),
        ALICE
    );
    assert_eq!(
        validate::path_sender(&app(&[]), "3456".into()).unwrap(),
        "3456"
    );
    assert_eq!(
        refusal(validate::path_sender(&app(&[]), "acr:authorization".into()).unwrap_err()),
        pol("POL0002", &["acr:Authorization"])
    );
}

#[test]
fn max_batch_size_is_a_positive_integer() {
    assert_eq!(validate::max_batch_size(None).unwrap(), 0);
    assert_eq!(validate::max_batch_size(Some("resFormat=JSON")).unwrap(), 0);
    assert_eq!(validate::max_batch_size(Some("maxBatchSize=2")).unwrap(), 2);
    assert_eq!(
        validate::max_batch_size(Some("resFormat=JSON&maxBatchSize=007")).unwrap(),
        7
    );
    assert_eq!(
        validate::max_batch_size(Some("maxBatchSize=99999999999999999999999")).unwrap(),
        u32::MAX
    );
    for bad in [
        "maxBatchSize=0",
        "maxBatchSize=-1",
        "maxBatchSize=x",
        "maxBatchSize=",
        "maxBatchSize",
        "maxBatchSize=1.5",
        "maxBatchSize=%2B3",
        "maxBatchSize=1&maxBatchSize=2",
    ] {
        assert_eq!(
            refusal(validate::max_batch_size(Some(bad)).unwrap_err()),
            svc("SVC0002", &["maxBatchSize"]),
            "{bad}"
        );
    }
}

#[test]
fn retrieve_and_delete_defaults_and_limits() {
    assert_eq!(validate::retrieve_and_delete(None).unwrap(), (0, false));
    let body = |order, max| InboundMessageRetrieveAndDeleteBody {
        inbound_message_retrieve_and_delete_request: InboundMessageRetrieveAndDeleteRequest {
            retrieval_order: order,
            use_attachment_urls: Some(false),
            max_batch_size: max,
        },
    };
    assert_eq!(
        validate::retrieve_and_delete(Some(body(Some(RetrievalOrder::NewestFirst), Some(10))))
            .unwrap(),
        (10, true)
    );
    for bad in [0, -1] {
        assert_eq!(
            refusal(validate::retrieve_and_delete(Some(body(None, Some(bad)))).unwrap_err()),
            svc("SVC0002", &["maxBatchSize"])
        );
    }
}

fn subscription(destinations: &[&str]) -> InboundSubscriptionIn {
    InboundSubscriptionIn {
        callback_reference: CallbackReference {
            notify_url: "https://app.example.org/msg/mo".into(),
            callback_data: Some("alice-inbox".into()),
            notification_format: Some("JSON".into()),
        },
        destination_address: destinations.iter().map(|s| s.to_string()).collect(),
        criteria: Some("PIZZA".into()),
        notification_format: None,
        client_correlator: Some("in-sub-3".into()),
        duration: Some(3600),
    }
}

#[test]
fn inbound_subscriptions_watch_the_callers_registrations_only() {
    let reader = with_registrations(&[], &[ALICE, "3456"]);
    let s = validate::subscription(&reader, subscription(&["TEL:+15551230001", "3456"])).unwrap();
    assert_eq!(s.destination_addresses, [ALICE, "3456"]);
    assert_eq!(s.criteria.as_deref(), Some("PIZZA"));
    assert_eq!(s.client_correlator.as_deref(), Some("in-sub-3"));
    assert_eq!(s.duration_secs, Some(3600));
    assert_eq!(
        s.callback.unwrap().callback_data.as_deref(),
        Some("alice-inbox")
    );

    let refused = |s| refusal(validate::subscription(&reader, s).unwrap_err());
    assert_eq!(
        refused(subscription(&[])),
        svc("SVC0002", &["destinationAddress"])
    );
    assert_eq!(
        refused(subscription(&["a\u{0}"])),
        svc("SVC0002", &["destinationAddress"])
    );
    assert_eq!(
        refused(subscription(&[ALICE, BOB])),
        pol("POL0001", &["destinationAddress"])
    );
    assert_eq!(
        refused(subscription(&[ALICE, "tel:+15551230001"])),
        pol("POL0013", &["destinationAddress"])
    );
    let mut s = subscription(&[ALICE]);
    s.notification_format = Some("XML".into());
    assert_eq!(refused(s), svc("SVC0002", &["notificationFormat"]));
    for bad in ["", "two words", "a\u{0}b"] {
        let mut s = subscription(&[ALICE]);
        s.criteria = Some(bad.into());
        assert_eq!(refused(s), svc("SVC0002", &["criteria"]), "{bad:?}");
    }
    let mut s = subscription(&[ALICE]);
    s.callback_reference.notification_format = Some("XML".into());
    assert_eq!(refused(s), svc("SVC0002", &["notificationFormat"]));
    let mut s = subscription(&[ALICE]);
    s.duration = Some(-1);
    assert_eq!(refused(s), svc("SVC0002", &["duration"]));
}

#[test]
fn forms_become_sms_requests() {
    let r = form::parse(
        b"address=tel%3A%2B15557654321&address=tel%3A%2B15557654322&senderAddress=tel%3A%2B15551230001\
          &message=Hello+there%21&senderName=&clientCorrelator=f1&notifyURL=http%3A%2F%2Fa.example%2Fdlr\
          &callbackData=cb",
    )
    .unwrap();
    assert_eq!(r.address, [BOB, CAROL]);
    assert_eq!(r.sender_address, ALICE);
    assert_eq!(r.outbound_sms_text_message.unwrap().message, "Hello there!");
    assert_eq!(r.sender_name, None);
    assert_eq!(r.client_correlator.as_deref(), Some("f1"));
    let receipt = r.receipt_request.unwrap();
    assert_eq!(receipt.notify_url, "http://a.example/dlr");
    assert_eq!(receipt.callback_data.as_deref(), Some("cb"));

    let refused = |body: &[u8]| refusal(form::parse(body).unwrap_err());
    assert_eq!(
        refused(b"address=tel%3A%2B1&message=hi"),
        svc("SVC0002", &["senderAddress"])
    );
    assert_eq!(
        refused(b"address=tel%3A%2B1&senderAddress=x"),
        svc("SVC0002", &["message"])
    );
    assert_eq!(
        refused(b"senderAddress=x&message=a&message=b"),
        svc("SVC0002", &["message"])
    );
    assert_eq!(
        refused(b"senderAddress=x&message=a&priority=High"),
        svc("SVC0002", &["priority"])
    );
    assert_eq!(
        refused(b"senderAddress=x&message=a&callbackData=cb"),
        svc("SVC0002", &["notifyURL"])
    );
    assert_eq!(
        refused(b"senderAddress=x&message=%FF"),
        svc("SVC0002", &["body"])
    );
    // No address at all is left for validation to call SVC0004.
    assert!(
        form::parse(b"senderAddress=x&message=a")
            .unwrap()
            .address
            .is_empty()
    );
}

fn multipart_request(body: &str) -> Request {
    Request::builder()
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
        .body(Body::from(body.replace('\n', "\r\n")))
        .unwrap()
}

const ROOT_PART: &str = "--B
Content-Disposition: form-data; name=\"root-fields\"
Content-Type: application/json

{\"outboundMessageRequest\": {\"address\": [\"tel:+15557654321\"], \"senderAddress\": \"tel:+15551230001\", \"outboundMMSMessage\": {\"subject\": \"Holiday\"}}}
";

#[tokio::test]
async fn multipart_requests_carry_their_files_decoded() {
    let body = format!(
        "{ROOT_PART}--B
Content-Disposition: form-data; name=\"attachments\"; filename=\"C:\\\\photos\\\\beach.jpg\"
Content-Type: image/jpeg
Content-Transfer-Encoding: base64

/9j/4AAQ
SkZJRg==
--B
Content-Disposition: form-data; name=\"attachments\"; filename=\"text.txt\"
Content-Type: text/plain

Greetings from the beach
--B
Content-Disposition: form-data; name=\"note\"

untyped
--B--
"
    );
    let s = multipart::read(multipart_request(&body), 1 << 20, 1 << 20)
        .await
        .unwrap();
    assert_eq!(s.root, pb::RequestRoot::Message);
    assert_eq!(s.request.sender_address, ALICE);
    let names: Vec<&str> = s.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["beach.jpg", "text.txt", "note"]);
    assert_eq!(s.attachments[0].content_type, "image/jpeg");
    assert_eq!(
        s.attachments[0].data,
        [0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F']
    );
    assert_eq!(s.attachments[1].data, b"Greetings from the beach");
    assert_eq!(s.attachments[2].content_type, "text/plain");
    assert_eq!(s.attachments[2].data, b"untyped");
}

#[tokio::test]
async fn broken_multipart_requests_are_refused() {
    let file = |headers: &str, data: &str| {
        format!(
            "{ROOT_PART}--B
Content-Disposition: form-data; name=\"attachments\"; filename=\"f.bin\"
{headers}
{data}
--B--
"
        )
    };
    let cases = [
        ("--B\nContent-Disposition: form-data; name=\"attachments\"; filename=\"a\"\nContent-Type: text/plain\n\nhi\n--B--\n".to_string(),
         svc("SVC0002", &["root-fields"])),
        (format!("{ROOT_PART}{ROOT_PART}--B--\n"), svc("SVC0002", &["root-fields"])),
        ("--B\nContent-Disposition: form-data; name=\"root-fields\"\nContent-Type: text/plain\n\n{}\n--B--\n".to_string(),
         svc("SVC0002", &["root-fields"])),
        ("--B\nContent-Disposition: form-data; name=\"root-fields\"\n\n{not json\n--B--\n".to_string(),
         svc("SVC0002", &["body"])),
        (file("Content-Type: image/png\nContent-Transfer-Encoding: base64\n", "!!!"), svc("SVC0002", &["attachments"])),
        (file("Content-Type: image/png\nContent-Transfer-Encoding: quoted-printable\n", "x"), svc("SVC0002", &["attachments"])),
        (file("Content-Type: nonsense\n", "x"), svc("SVC0002", &["attachments"])),
        ("not multipart at all".to_string(), svc("SVC0002", &["body"])),
    ];
    for (body, expected) in cases {
        let error = multipart::read(multipart_request(&body), 1 << 20, 1 << 20)
            .await
            .unwrap_err();
        assert_eq!(refusal(error), expected, "{body}");
    }
}

#[tokio::test]
async fn multipart_requests_are_limited_in_size() {
    let big = "x".repeat(4000);
    let body = format!(
        "{ROOT_PART}--B
Content-Disposition: form-data; name=\"attachments\"; filename=\"big.txt\"
Content-Type: text/plain

{big}
--B--
"
    );
    // The whole body over its limit.
    let error = multipart::read(multipart_request(&body), 2000, 1 << 20)
        .await
        .unwrap_err();
    assert_eq!(error.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    // The files over theirs.
    let error = multipart::read(multipart_request(&body), 1 << 20, 3999)
        .await
        .unwrap_err();
    assert_eq!(error.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        multipart::read(multipart_request(&body), 1 << 20, 4000)
            .await
            .is_ok()
    );
    // Content-Length alone is enough to refuse.
    let mut request = multipart_request(&body);
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("999999"));
    let error = multipart::read(request, 2000, 1 << 20).await.unwrap_err();
    assert_eq!(error.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
}

fn accept(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
    headers
}

#[test]
fn multipart_answers_only_when_preferred() {
    for yes in [
        "multipart/mixed",
        "multipart/*",
        "multipart/mixed, */*",
        "multipart/mixed, application/json",
        "application/json;q=0.5, multipart/mixed",
        "Multipart/Mixed; q=0.9, text/html",
    ] {
        assert!(multipart::prefers_mixed(&accept(yes)), "{yes}");
    }
    for no in [
        "application/json",
        "*/*",
        "application/json, multipart/mixed",
        "multipart/mixed;q=0.4, application/json;q=0.5",
        "multipart/mixed;q=0",
        "text/html",
    ] {
        assert!(!multipart::prefers_mixed(&accept(no)), "{no}");
    }
    assert!(!multipart::prefers_mixed(&HeaderMap::new()));
}

#[test]
fn multipart_mixed_bodies_have_a_fresh_boundary() {
    let parts = [
        multipart::Part {
            name: "root-fields".into(),
            file_name: None,
            content_type: "application/json".into(),
            data: b"{}".to_vec(),
        },
        multipart::Part {
            name: "a1".into(),
            file_name: Some("IMG \"0042\".jpg".into()),
            content_type: "image/jpeg".into(),
            data: vec![0, 1, 2],
        },
    ];
    let (boundary, body) = multipart::mixed(&parts);
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with(&format!(
        "--{boundary}\r\nContent-Type: application/json\r\n"
    )));
    assert!(text.contains("Content-Disposition: form-data; name=\"root-fields\"\r\n"));
    assert!(text.contains("name=\"a1\"; filename=\"IMG \\\"0042\\\".jpg\""));
    assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
}

#[test]
fn requests_read_back_in_their_root_with_urls() {
    let m = pb::OutboundMessage {
        request_id: "rq1".into(),
        sender_address: ALICE.into(),
        addresses: vec![BOB.into()],
        content: Some(pb::outbound_message::Content::Sms(pb::SmsText {
            message: "hi".into(),
        })),
        root: pb::RequestRoot::Sms as i32,
        delivery_infos: vec![pb::DeliveryInfo {
            address: BOB.into(),
            status: pb::DeliveryStatus::DeliveryImpossible as i32,
            description: Some("absent".into()),
        }],
        ..Default::default()
    };
    let OutboundRequestResponse::Sms(r) = convert::outbound("http://h/1", m) else {
        panic!("wrong root")
    };
    let url = "http://h/1/messaging/outbound/tel%3A%2B15551230001/requests/rq1";
    assert_eq!(r.resource_url, url);
    assert_eq!(
        serde_json::to_value(r.delivery_info_list.unwrap()).unwrap(),
        json!({"deliveryInfo": [{"address": BOB, "deliveryStatus": "DeliveryImpossible",
                                  "description": "absent"}],
               "resourceURL": format!("{url}/deliveryInfos")})
    );
}
