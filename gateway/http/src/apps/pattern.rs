//! User patterns: a `tel:`, `sip:` or `acr:` address where `*` stands for any run of
//! characters (also none) and `?` for exactly one, e.g. `tel:+1555*` or `sip:*@ims.example.com`.
//!
//! The scheme compares without regard to case (`TEL:` is `tel:`); the rest compares exactly,
//! URI parameters included, so `tel:+15551230001` does not match `tel:+15551230001;ext=7`
//! unless the pattern says so (`tel:+15551230001*`).

use parlay_model::Address;

/// Does the pattern contain a glob?
pub fn has_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Is `pattern` an address once its globs are filled in? A `*` may stand for nothing, so
/// a few fillings are tried (`tel:+*` needs digits, `tel:+1555*` is fine with none).
pub fn is_valid(pattern: &str) -> bool {
    if !has_glob(pattern) {
        return Address::parse(pattern).is_ok();
    }
    ["", "1", "12"].iter().any(|fill| {
        let filled = pattern.replace('*', fill).replace('?', "1");
        Address::parse(&filled).is_ok()
    })
}

/// Does `address` match `pattern`?
pub fn matches(pattern: &str, address: &str) -> bool {
    let pattern: Vec<char> = normalized(pattern).chars().collect();
    let address: Vec<char> = normalized(address).chars().collect();
    glob(&pattern, &address)
}

/// The string with its scheme lower-cased.
fn normalized(s: &str) -> String {
    match s.split_once(':') {
        Some((scheme, rest)) => format!("{}:{rest}", scheme.to_ascii_lowercase()),
        None => s.to_owned(),
    }
}

/// Iterative glob matching with one backtrack point: linear in practice, never exponential.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it is currently stretched to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') => {
                p += 1;
                t += 1;
            }
            Some(c) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_match_exactly_with_scheme_case_ignored() {
        assert!(matches("tel:+15551230001", "tel:+15551230001"));
        assert!(matches("TEL:+15551230001", "tel:+15551230001"));
        assert!(matches("tel:+15551230001", "Tel:+15551230001"));
        assert!(!matches("tel:+15551230001", "tel:+15551230002"));
        assert!(!matches("tel:+15551230001", "tel:+15551230001;ext=7"));
        assert!(!matches("tel:+1555123000", "tel:+15551230001"));
    }

    #[test]
    fn globs_match_runs_and_single_characters() {
        assert!(matches("tel:+1555*", "tel:+15551230001"));
        assert!(matches("tel:+1555*", "tel:+1555"));
        assert!(!matches("tel:+1555*", "tel:+1666123"));
        assert!(matches("tel:+155512300??", "tel:+15551230042"));
        assert!(!matches("tel:+155512300??", "tel:+155512300421"));
        assert!(matches(
            "sip:*@ims.example.com",
            "sip:alice@ims.example.com"
        ));
        assert!(!matches(
            "sip:*@ims.example.com",
            "sip:alice@ims.example.org"
        ));
        assert!(matches("sip:*a*b*c", "sip:xaybzc"));
        assert!(!matches("sip:*a*b*c", "sip:xaybz"));
        assert!(matches("*", "acr:anything"));
    }

    #[test]
    fn patterns_must_be_addresses() {
        for good in [
            "tel:+15551230001",
            "tel:+1555*",
            "tel:+*",
            "tel:+155512300??",
            "sip:*@ims.example.com",
            "sip:alice@*",
            "acr:user-1",
            "acr:*",
        ] {
            assert!(is_valid(good), "{good}");
        }
        for bad in [
            "",
            "*",
            "tel:1555*",
            "mailto:a@b",
            "tel:+1555 *",
            "sip:*",
            "http://x",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn globs_are_detected() {
        assert!(has_glob("tel:+1*"));
        assert!(has_glob("tel:+1?"));
        assert!(!has_glob("tel:+1555"));
    }
}
