//! The shared field rules.

use super::*;

/// The exception id and variables of a refusal, with its HTTP status.
pub(crate) fn refusal(error: ApiError) -> (u16, String, Vec<String>) {
    match error {
        ApiError::Exception(status, e) => (status.as_u16(), e.message_id, e.variables),
        other => panic!("not an exception: {other:?}"),
    }
}

pub(crate) fn app(users: &[&str]) -> App {
    App {
        id: "app1".into(),
        name: "test".into(),
        users: users.iter().map(|s| s.to_string()).collect(),
        registrations: Vec::new(),
    }
}

#[test]
fn addresses_are_checked_and_acr_authorization_resolved() {
    let bound = app(&["tel:+15551230001"]);
    let open = app(&[]);
    assert_eq!(
        user_address(
            &open,
            "sip:+15551230003@ims.example.com",
            "participantAddress"
        )
        .unwrap(),
        "sip:+15551230003@ims.example.com"
    );
    assert_eq!(
        user_address(&bound, "acr:Authorization", "participantAddress").unwrap(),
        "tel:+15551230001"
    );
    assert_eq!(
        user_address(&bound, "ACR:authorization", "participantAddress").unwrap(),
        "tel:+15551230001"
    );
    assert_eq!(
        refusal(user_address(&open, "acr:Authorization", "participantAddress").unwrap_err()),
        (403, "POL0002".into(), vec!["acr:Authorization".into()])
    );
    assert_eq!(
        refusal(user_address(&app(&["tel:+1555*"]), "acr:Authorization", "x").unwrap_err()),
        (403, "POL0002".into(), vec!["acr:Authorization".into()])
    );
    for bad in [
        "acr:opaque-42",
        "tel:5551230001",
        "mailto:a@b",
        "",
        "sip:nohost",
    ] {
        assert_eq!(
            refusal(user_address(&bound, bad, "participantAddress").unwrap_err()),
            (400, "SVC0004".into(), vec!["participantAddress".into()]),
            "{bad}"
        );
    }
}

#[test]
fn same_address_ignores_scheme_case_only() {
    assert!(same_address("tel:+15551230001", "TEL:+15551230001"));
    assert!(!same_address("tel:+15551230001", "tel:+15551230002"));
    assert!(!same_address("sip:Bob@x.org", "sip:bob@x.org"));
}

#[test]
fn texts_and_correlators_have_bounds() {
    let max = "é".repeat(MAX_TEXT_CHARS);
    assert_eq!(
        short_text(Some(max.clone()), "participantName").unwrap(),
        Some(max.clone())
    );
    assert_eq!(short_text(None, "participantName").unwrap(), None);
    let long = "x".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(
        refusal(short_text(Some(long.clone()), "participantName").unwrap_err()),
        (400, "SVC0002".into(), vec!["participantName".into()])
    );
    assert_eq!(client_correlator(Some(max.clone())).unwrap(), Some(max));
    assert_eq!(client_correlator(None).unwrap(), None);
    for bad in [String::new(), long] {
        assert_eq!(
            refusal(client_correlator(Some(bad)).unwrap_err()),
            (400, "SVC0002".into(), vec!["clientCorrelator".into()])
        );
    }
}

/// Texts with a control character somewhere: NUL (which PostgreSQL refuses in text), other
/// C0 controls, DEL and a C1 control.
const CONTROLLED: [&str; 7] = [
    "a\u{0}b",
    "\u{0}",
    "line\nbreak",
    "tab\there",
    "cr\r",
    "del\u{7f}",
    "c1\u{85}",
];

#[test]
fn texts_and_correlators_refuse_control_characters() {
    for bad in CONTROLLED {
        assert_eq!(
            refusal(short_text(Some(bad.into()), "participantName").unwrap_err()),
            (400, "SVC0002".into(), vec!["participantName".into()]),
            "{bad:?}"
        );
        assert_eq!(
            refusal(client_correlator(Some(bad.into())).unwrap_err()),
            (400, "SVC0002".into(), vec!["clientCorrelator".into()]),
            "{bad:?}"
        );
    }
    // Printable text of any script is fine, spaces included.
    let fine = "Zoë 李 — +1 (555) ☎".to_string();
    assert_eq!(
        short_text(Some(fine.clone()), "participantName").unwrap(),
        Some(fine.clone())
    );
    assert_eq!(client_correlator(Some(fine.clone())).unwrap(), Some(fine));
}

#[test]
fn charging_is_refused() {
    assert!(no_charging(None).is_ok());
    let charging = ChargingInformation {
        description: vec!["call".into()],
        ..Default::default()
    };
    assert_eq!(
        refusal(no_charging(Some(&charging)).unwrap_err()),
        (403, "POL0008".into(), vec!["charging".into()])
    );
}

fn reference(url: &str, format: Option<&str>) -> Option<CallbackReference> {
    Some(CallbackReference {
        notify_url: url.into(),
        callback_data: Some("data".into()),
        notification_format: format.map(str::to_owned),
    })
}

#[test]
fn callbacks_need_a_web_url_and_json() {
    assert_eq!(callback(None).unwrap(), None);
    let ok = callback(reference(
        "https://app.example.org:8443/events?x=1",
        Some("json"),
    ))
    .unwrap()
    .unwrap();
    assert_eq!(ok.notify_url, "https://app.example.org:8443/events?x=1");
    assert_eq!(ok.callback_data.as_deref(), Some("data"));
    assert!(callback(reference("HTTP://10.0.0.1/x", Some("JSON"))).is_ok());
    assert!(callback(reference("http://localhost", None)).is_ok());
    for bad in [
        "",
        "/relative",
        "ftp://x.org/a",
        "http://",
        "not a url",
        "mailto:a@b.org",
        "app.example.org/x",
    ] {
        assert_eq!(
            refusal(callback(reference(bad, None)).unwrap_err()),
            (400, "SVC0002".into(), vec!["notifyURL".into()]),
            "{bad}"
        );
    }
    assert_eq!(
        refusal(callback(reference("http://x.org", Some("XML"))).unwrap_err()),
        (400, "SVC0002".into(), vec!["notificationFormat".into()])
    );
}

#[test]
fn notify_urls_refuse_control_characters() {
    // `http::Uri` alone lets the fragment and non-ASCII query bytes through: the last
    // two would pass without the explicit check.
    for bad in [
        "http://x.org/a\u{0}b",
        "http://x.org/\u{0}",
        "http://x\u{0}.org/",
        "http://x.org/a?b=\u{0}",
        "http://x.org/a\nb",
        "http://x.org/a\u{7f}",
        "\u{0}http://x.org/",
        "http://x.org/\t",
        "http://x.org/a#\u{0}",
        "http://x.org/a?b=\u{85}",
    ] {
        assert_eq!(
            refusal(callback(reference(bad, Some("JSON"))).unwrap_err()),
            (400, "SVC0002".into(), vec!["notifyURL".into()]),
            "{bad:?}"
        );
    }
}

fn with_data(data: &str) -> Option<CallbackReference> {
    Some(CallbackReference {
        notify_url: "https://app.example.org/events".into(),
        callback_data: Some(data.into()),
        notification_format: None,
    })
}

#[test]
fn callback_data_is_bounded_and_free_of_control_characters() {
    let max = "é".repeat(MAX_CALLBACK_DATA_CHARS);
    let ok = callback(with_data(&max)).unwrap().unwrap();
    assert_eq!(ok.callback_data, Some(max));
    let empty = callback(with_data("")).unwrap().unwrap();
    assert_eq!(empty.callback_data.as_deref(), Some(""));
    let long = "x".repeat(MAX_CALLBACK_DATA_CHARS + 1);
    let bad = CONTROLLED.iter().map(|s| s.to_string()).chain([long]);
    for bad in bad {
        assert_eq!(
            refusal(callback(with_data(&bad)).unwrap_err()),
            (400, "SVC0002".into(), vec!["callbackData".into()]),
            "{bad:?}"
        );
    }
    // notifyURL is checked first.
    let mut both = with_data("a\u{0}b");
    if let Some(r) = both.as_mut() {
        r.notify_url = "ftp://x.org/".into();
    }
    assert_eq!(
        refusal(callback(both).unwrap_err()),
        (400, "SVC0002".into(), vec!["notifyURL".into()])
    );
}
