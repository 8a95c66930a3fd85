//! Building absolute URLs and route templates from path segments.
//!
//! Every segment is percent-encoded except the RFC 3986 unreserved characters, as the
//! ParlayREST examples do for addresses in paths (`tel:+358…` → `tel%3A%2B358…`). Ids the
//! services make never need it; addresses and client-chosen names do.

use std::fmt::{Display, Write};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment may carry unencoded: letters, digits and `-._~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded for use as one path segment.
pub(crate) fn segment(s: &str) -> impl Display + '_ {
    utf8_percent_encode(s, SEGMENT)
}

/// `root` followed by each of `segments`, encoded, separated by `/`.
pub(crate) fn join(root: &str, segments: &[&str]) -> String {
    let mut url = root.trim_end_matches('/').to_owned();
    for s in segments {
        // Writing to a String cannot fail.
        let _ = write!(url, "/{}", segment(s));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_joined() {
        assert_eq!(segment("cs7f31").to_string(), "cs7f31");
        assert_eq!(
            segment("tel:+358000000000").to_string(),
            "tel%3A%2B358000000000"
        );
        assert_eq!(segment("a/b c").to_string(), "a%2Fb%20c");
        assert_eq!(segment("{x}").to_string(), "%7Bx%7D");
        assert_eq!(
            join(
                "http://api.example.com/1/",
                &["thirdpartycall", "callSessions", "cs 1"]
            ),
            "http://api.example.com/1/thirdpartycall/callSessions/cs%201"
        );
    }
}
