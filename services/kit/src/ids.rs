//! Resource and event ids: a short type prefix and 16 random lowercase base-32 characters
//! (80 bits), safe in URL paths without encoding.

use rand::Rng;

const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new random id such as `cs7f31kq2m…` for prefix `cs`.
pub fn new_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(prefix.len() + 16);
    id.push_str(prefix);
    for _ in 0..16 {
        id.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    id
}

/// Is `s` shaped like an id this module makes (any prefix)? Cheap filter for path params.
pub fn plausible(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_prefixed() {
        let a = super::new_id("cs");
        let b = super::new_id("cs");
        assert!(a.starts_with("cs") && a.len() == 18 && a != b);
        assert!(super::plausible(&a));
        assert!(!super::plausible("a/b"));
    }
}
