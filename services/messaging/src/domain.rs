//! The messaging rules that need no storage: the monotonic delivery-status rule, inbound
//! criteria matching, and when two inbound subscriptions overlap. Pure functions,
//! unit-tested below.

use parlay_model::{address::same_ignoring_case, messaging::DeliveryStatus};

/// How far a delivery has progressed: a status is only ever replaced by a higher rank.
///
/// | rank | statuses |
/// |---|---|
/// | 0 | `MessageWaiting` (the status of a request just sent) |
/// | 1 | `DeliveredToNetwork` |
/// | 2 | `DeliveryUncertain` |
/// | 3 (terminal) | `DeliveredToTerminal`, `DeliveryImpossible`, `DeliveryNotificationNotSupported` |
pub fn rank(status: DeliveryStatus) -> u8 {
    match status {
        DeliveryStatus::MessageWaiting => 0,
        DeliveryStatus::DeliveredToNetwork => 1,
        DeliveryStatus::DeliveryUncertain => 2,
        DeliveryStatus::DeliveredToTerminal
        | DeliveryStatus::DeliveryImpossible
        | DeliveryStatus::DeliveryNotificationNotSupported => 3,
    }
}

/// Is `status` final (nothing replaces it)?
pub fn is_terminal(status: DeliveryStatus) -> bool {
    rank(status) == 3
}

/// Does a receipt reporting `new` change a delivery now at `current`? Only when it moves
/// it strictly forward: receipts arrive in any order and more than once, so an older, an
/// equal, or any receipt after a terminal status changes nothing (and notifies nobody).
pub fn applies(current: DeliveryStatus, new: DeliveryStatus) -> bool {
    rank(new) > rank(current)
}

/// Every status, in rank order (ties in declaration order).
pub const ALL: [DeliveryStatus; 6] = [
    DeliveryStatus::MessageWaiting,
    DeliveryStatus::DeliveredToNetwork,
    DeliveryStatus::DeliveryUncertain,
    DeliveryStatus::DeliveredToTerminal,
    DeliveryStatus::DeliveryImpossible,
    DeliveryStatus::DeliveryNotificationNotSupported,
];

/// The ParlayREST name of a status (also its stored form).
pub fn status_name(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::MessageWaiting => "MessageWaiting",
        DeliveryStatus::DeliveredToNetwork => "DeliveredToNetwork",
        DeliveryStatus::DeliveryUncertain => "DeliveryUncertain",
        DeliveryStatus::DeliveredToTerminal => "DeliveredToTerminal",
        DeliveryStatus::DeliveryImpossible => "DeliveryImpossible",
        DeliveryStatus::DeliveryNotificationNotSupported => "DeliveryNotificationNotSupported",
    }
}

/// The status a stored name stands for.
pub fn status_from_name(name: &str) -> Option<DeliveryStatus> {
    ALL.into_iter().find(|s| status_name(*s) == name)
}

/// The first whitespace-separated word of a message's text, if it has one.
pub fn first_word(text: &str) -> Option<&str> {
    text.split_whitespace().next()
}

/// Does an inbound message with `text` (an SMS's text; an MMS's text part, or its subject
/// when it has none) match a subscription's `criteria`? No criteria matches everything;
/// otherwise the criteria must equal the text's first word, case-insensitively.
pub fn criteria_matches(criteria: Option<&str>, text: Option<&str>) -> bool {
    match criteria {
        None => true,
        Some(c) => text
            .and_then(first_word)
            .is_some_and(|w| same_ignoring_case(w, c)),
    }
}

/// A subscription's filter: the addresses it watches and its optional keyword.
#[derive(Debug, Clone, Copy)]
pub struct Filter<'a> {
    /// Destination addresses watched.
    pub addresses: &'a [String],
    /// The keyword, if any.
    pub criteria: Option<&'a str>,
}

/// Why a new subscription overlaps an existing one of the same application (SVC0008's
/// variable), or None. They overlap when they watch a common address (case-insensitively)
/// and could match the same message: equal criteria (case-insensitively), or either has none
/// (no criteria matches every message). The variable is the shared criteria when both have
/// one, otherwise the shared address (as the new request spells it).
pub fn overlap(existing: Filter<'_>, new: Filter<'_>) -> Option<String> {
    let shared = new
        .addresses
        .iter()
        .find(|a| existing.addresses.iter().any(|b| same_ignoring_case(a, b)))?;
    match (existing.criteria, new.criteria) {
        (Some(a), Some(b)) if same_ignoring_case(a, b) => Some(b.to_string()),
        (Some(_), Some(_)) => None,
        _ => Some(shared.clone()),
    }
}

#[cfg(test)]
mod tests {
    use DeliveryStatus::*;

    use super::*;

    #[test]
    fn a_receipt_applies_only_when_it_moves_the_status_forward() {
        // Every ordered pair, against the table of ranks.
        let expected_rank = |s: DeliveryStatus| match s {
            MessageWaiting => 0,
            DeliveredToNetwork => 1,
            DeliveryUncertain => 2,
            _ => 3,
        };
        for current in ALL {
            for new in ALL {
                let want = expected_rank(new) > expected_rank(current);
                assert_eq!(applies(current, new), want, "{current:?} -> {new:?}");
            }
        }
    }

    #[test]
    fn terminal_statuses_accept_nothing_more() {
        for t in [
            DeliveredToTerminal,
            DeliveryImpossible,
            DeliveryNotificationNotSupported,
        ] {
            assert!(is_terminal(t));
            assert!(ALL.iter().all(|n| !applies(t, *n)), "{t:?}");
        }
        for s in [MessageWaiting, DeliveredToNetwork, DeliveryUncertain] {
            assert!(!is_terminal(s));
            assert!(!applies(s, s), "equal: {s:?}");
        }
    }

    #[test]
    fn the_expected_sequences() {
        assert!(applies(MessageWaiting, DeliveredToNetwork));
        assert!(applies(DeliveredToNetwork, DeliveryUncertain));
        assert!(applies(DeliveredToNetwork, DeliveredToTerminal));
        assert!(applies(MessageWaiting, DeliveryImpossible));
        // Late, out-of-order receipts.
        assert!(!applies(DeliveredToNetwork, MessageWaiting));
        assert!(!applies(DeliveryUncertain, DeliveredToNetwork));
        assert!(!applies(DeliveredToTerminal, DeliveryImpossible));
    }

    #[test]
    fn names_round_trip() {
        for s in ALL {
            assert_eq!(status_from_name(status_name(s)), Some(s));
            // The model serialises the same names.
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(status_name(s).into())
            );
        }
        assert_eq!(status_from_name("Delivered"), None);
    }

    #[test]
    fn criteria_match_the_first_word_case_insensitively() {
        assert!(criteria_matches(None, Some("anything")));
        assert!(criteria_matches(None, None));
        assert!(criteria_matches(Some("PIZZA"), Some("pizza margherita x2")));
        assert!(criteria_matches(Some("pizza"), Some("  PIZZA\tnow")));
        assert!(criteria_matches(Some("Ünïcode"), Some("üNÏCODE rocks")));
        assert!(!criteria_matches(Some("PIZZA"), Some("PIZZAS please")));
        assert!(!criteria_matches(Some("PIZZA"), Some("I want PIZZA")));
        assert!(!criteria_matches(Some("PIZZA"), Some("")));
        assert!(!criteria_matches(Some("PIZZA"), None));
        assert_eq!(first_word("\n hello world"), Some("hello"));
        assert_eq!(first_word("   "), None);
    }

    fn f<'a>(addresses: &'a [String], criteria: Option<&'a str>) -> Filter<'a> {
        Filter {
            addresses,
            criteria,
        }
    }

    #[test]
    fn subscriptions_overlap_on_a_shared_address_and_compatible_criteria() {
        let a = vec!["tel:+1555000".to_string()];
        let a_upper = vec!["TEL:+1555000".to_string(), "tel:+1".to_string()];
        let b = vec!["tel:+1555999".to_string()];
        // No shared address: never.
        assert_eq!(overlap(f(&a, None), f(&b, None)), None);
        assert_eq!(overlap(f(&a, Some("X")), f(&b, Some("X"))), None);
        // Shared (case-insensitively), both without criteria: the address.
        assert_eq!(
            overlap(f(&a, None), f(&a_upper, None)),
            Some("TEL:+1555000".into())
        );
        // One without criteria covers the other.
        assert_eq!(
            overlap(f(&a, None), f(&a, Some("PIZZA"))),
            Some("tel:+1555000".into())
        );
        assert_eq!(
            overlap(f(&a, Some("PIZZA")), f(&a, None)),
            Some("tel:+1555000".into())
        );
        // Same criteria, any case: the criteria.
        assert_eq!(
            overlap(f(&a, Some("pizza")), f(&a, Some("PIZZA"))),
            Some("PIZZA".into())
        );
        // Different criteria on the same address: no overlap.
        assert_eq!(overlap(f(&a, Some("PIZZA")), f(&a, Some("PASTA"))), None);
    }
}
