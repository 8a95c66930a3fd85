//! Examples and property tests for address parsing.

use proptest::prelude::*;

use super::*;

#[test]
fn accepts_valid_addresses() {
    let valid = [
        "tel:+15551230001",
        "tel:+12",
        "tel:+123456789012345",
        "TEL:+358000000000",
        "tel:+15551230001;ext=123",
        "tel:+15551230001;phone-context=example.com;isub=7",
        "sip:+15552226806@foundry.att.com",
        "sip:alice@example.com:5060",
        "sips:bob@ims.example.com;transport=tcp",
        "SIP:carol@10.0.0.1;lr",
        "acr:Authorization",
        "acr:authorization",
        "acr:pseudo-8f3a2c",
        "ACR:x",
    ];
    for s in valid {
        let address = Address::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(address.as_str(), s);
        assert_eq!(address.to_string(), s);
    }
}

#[test]
fn variants_follow_the_scheme() {
    assert!(matches!(Address::parse("tel:+4912"), Ok(Address::Tel(_))));
    assert!(matches!(Address::parse("sips:a@b"), Ok(Address::Sip(_))));
    assert!(matches!(Address::parse("acr:x"), Ok(Address::Acr(_))));
}

#[test]
fn rejects_invalid_addresses() {
    let cases = [
        ("", AddressError::Empty),
        ("15551230001", AddressError::UnsupportedScheme),
        ("mailto:a@b.c", AddressError::UnsupportedScheme),
        ("tel+15551230001", AddressError::UnsupportedScheme),
        ("tel:+1555 1230001", AddressError::BadCharacter),
        (" tel:+15551230001", AddressError::BadCharacter),
        ("tel:+15551230001\n", AddressError::BadCharacter),
        ("acr:\u{7}x", AddressError::BadCharacter),
        ("acr:", AddressError::EmptyAcr),
    ];
    for (s, expected) in cases {
        assert_eq!(Address::parse(s), Err(expected), "{s:?}");
    }
}

#[test]
fn rejects_bad_tel_uris() {
    let bad = [
        "tel:15551230001",
        "tel:+",
        "tel:+1",
        "tel:+0155512300",
        "tel:+1234567890123456",
        "tel:+1-555-123-0001",
        "tel:+1(555)1230001",
        "tel:+1.555.123",
        "tel:+15551230001;",
        "tel:+15551230001;ext",
        "tel:+15551230001;ext=",
        "tel:+15551230001;=1",
        "tel:+15551230001;e_x=1",
        "tel:+15551230001;;ext=1",
    ];
    for s in bad {
        assert!(
            matches!(Address::parse(s), Err(AddressError::InvalidTel(_))),
            "{s:?} should be an invalid tel: URI"
        );
    }
}

#[test]
fn rejects_bad_sip_uris() {
    let bad = [
        "sip:",
        "sip:example.com",
        "sip:@example.com",
        "sip:alice@",
        "sip:alice@exa_mple.com",
        "sip:alice@example.com:",
        "sip:alice@example.com:65536",
        "sip:alice@example.com:12a",
        "sip:alice@example.com;",
        "sip:alice@[::1]",
    ];
    for s in bad {
        assert!(
            matches!(Address::parse(s), Err(AddressError::InvalidSip(_))),
            "{s:?} should be an invalid sip: URI"
        );
    }
}

#[test]
fn enforces_the_length_limit() {
    let at_limit = format!("acr:{}", "a".repeat(MAX_LEN - 4));
    assert!(Address::parse(&at_limit).is_ok());
    let over = format!("acr:{}", "a".repeat(MAX_LEN - 3));
    assert_eq!(Address::parse(&over), Err(AddressError::TooLong));
}

#[test]
fn recognises_acr_authorization() {
    for s in [
        "acr:Authorization",
        "acr:authorization",
        "ACR:AUTHORIZATION",
    ] {
        assert!(Address::parse(s).unwrap().is_acr_authorization(), "{s}");
    }
    for s in ["acr:Authorization2", "acr:someone", "tel:+15551230001"] {
        assert!(!Address::parse(s).unwrap().is_acr_authorization(), "{s}");
    }
}

#[test]
fn serde_uses_the_plain_string() {
    let address: Address = "sip:a@b.c".parse().unwrap();
    let json = serde_json::to_string(&address).unwrap();
    assert_eq!(json, r#""sip:a@b.c""#);
    assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), address);
    assert!(serde_json::from_str::<Address>(r#""tel:123""#).is_err());
}

#[test]
fn same_ignoring_case_compares_lowercased() {
    assert!(same_ignoring_case(
        "SIP:Alice@Example.com",
        "sip:alice@example.COM"
    ));
    assert!(same_ignoring_case("sip:ÅSA@x.se", "sip:åsa@x.se"));
    assert!(!same_ignoring_case("tel:+15551230001", "tel:+15551230002"));
    assert!(!same_ignoring_case("sip:a@x", "sip:a@x "));
}

proptest! {
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = Address::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_uri_like_input(s in "(?i)(tel|sips?|acr):[ -~\\t\u{e9}\u{2028}]{0,40}") {
        let _ = Address::parse(&s);
    }

    #[test]
    fn accepted_strings_round_trip(s in "(?i)(tel|sips?|acr|x):[+0-9a-z@.:;=_-]{0,30}") {
        if let Ok(address) = Address::parse(&s) {
            prop_assert_eq!(address.as_str(), s.as_str());
            prop_assert_eq!(Address::parse(address.as_str()), Ok(address.clone()));
            prop_assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        }
    }

    #[test]
    fn valid_e164_tel_uris_are_accepted(
        number in "[1-9][0-9]{1,14}",
        params in proptest::collection::vec(("[A-Za-z0-9-]{1,8}", "[!-:<-~]{1,8}"), 0..3),
    ) {
        let mut uri = format!("tel:+{number}");
        for (name, value) in &params {
            uri.push_str(&format!(";{name}={value}"));
        }
        let address = Address::parse(&uri);
        prop_assert_eq!(address, Ok(Address::Tel(uri)));
    }

    #[test]
    fn same_ignoring_case_is_lowercased_equality(a in "[a-zA-Z:+0-9ΣσςİiÅå]{0,6}", b in "[a-zA-Z:+0-9ΣσςİiÅå]{0,6}") {
        prop_assert_eq!(same_ignoring_case(&a, &b), a.to_lowercase() == b.to_lowercase());
    }

    #[test]
    fn too_many_digits_are_rejected(number in "[1-9][0-9]{15,20}") {
        let uri = format!("tel:+{number}");
        prop_assert!(Address::parse(&uri).is_err());
    }
}
