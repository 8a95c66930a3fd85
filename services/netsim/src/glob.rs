//! Address patterns of rules: `*` matches any run of characters (none included), `?` exactly
//! one character, anything else itself. The whole address must match; case counts.

/// Does `pattern` match the whole of `text`?
///
/// Greedy with backtracking to the last `*` only, which is enough for globs and keeps the
/// cost at O(pattern × text) whatever the input.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Position after the last `*` seen, and the text position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and retry from there.
                Some((after_star, swallowed)) => {
                    star = Some((after_star, swallowed + 1));
                    p = after_star;
                    t = swallowed + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(matches("tel:+15551234", "tel:+15551234"));
        assert!(!matches("tel:+15551234", "tel:+155512345"));
        assert!(!matches("tel:+15551234", "tel:+1555123"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(matches("tel:+1555*", "tel:+1555"));
        assert!(matches("tel:+1555*", "tel:+15551234"));
        assert!(matches("*", ""));
        assert!(matches("*", "sip:alice@example.com"));
        assert!(matches("sip:*@example.com", "sip:alice@example.com"));
        assert!(!matches("sip:*@example.com", "sip:alice@example.org"));
        assert!(matches("*a*b*c*", "xxaybzzc"));
        assert!(!matches("*a*b*c*", "xxaybzz"));
        assert!(matches("**", "abc"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(matches("tel:+1555123?", "tel:+15551234"));
        assert!(!matches("tel:+1555123?", "tel:+1555123"));
        assert!(!matches("tel:+1555123?", "tel:+155512345"));
        assert!(matches("?*", "é"));
        assert!(!matches("?*", ""));
    }

    #[test]
    fn matching_is_case_sensitive_and_whole_string() {
        assert!(!matches("sip:Alice@*", "sip:alice@example.com"));
        assert!(!matches("tel:+1555", "xtel:+1555"));
        assert!(!matches("1555*", "tel:+1555"));
    }

    #[test]
    fn backtracking_stays_cheap_on_hostile_input() {
        let text = "a".repeat(2_000);
        let pattern = format!("{}b", "*a".repeat(100));
        assert!(!matches(&pattern, &text));
    }
}
