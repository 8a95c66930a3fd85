//! Resource and event ids: a short type prefix, then 22 lowercase base-32 characters, safe in
//! URL paths without encoding: 9 of the creation time (milliseconds since the Unix epoch)
//! and 13 random ones (65 bits).
//!
//! The time comes first, in an alphabet that sorts as ASCII, so ids made later sort after
//! (to the millisecond). The indexes keyed by ids (the inbox's event ids, notify's jobs and
//! their attempts, …) then take each batch of new rows on their last few pages. With ids
//! all random, each new row landed on a page of its own, and once an index outgrew the
//! page cache, every commit wrote a page a row to it (docs/benchmarks.md, fifteenth pass).

use rand::Rng;

/// The characters of an id, in ASCII order (no `0`, `1`, `l` or `o`, easily misread).
const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyz";

/// Characters of the creation time: 32⁹ milliseconds is over a thousand years.
const TIME_CHARS: usize = 9;

/// Random characters: 65 bits, for the ids made in the same millisecond.
const RANDOM_CHARS: usize = 13;

/// A new id such as `csmz0k3q8h7…` for prefix `cs`.
pub fn new_id(prefix: &str) -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    id_at(prefix, millis, &mut rand::rng())
}

/// The id for `prefix` made at `millis`, its random part drawn from `rng`.
fn id_at(prefix: &str, millis: u64, rng: &mut impl Rng) -> String {
    let mut id = String::with_capacity(prefix.len() + TIME_CHARS + RANDOM_CHARS);
    id.push_str(prefix);
    // Base 32, most significant digit first, fixed width.
    for digit in (0..TIME_CHARS).rev() {
        let value = (millis >> (5 * digit)) & 31;
        id.push(ALPHABET[value as usize] as char);
    }
    for _ in 0..RANDOM_CHARS {
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
    use super::*;

    #[test]
    fn ids_are_distinct_and_prefixed() {
        let a = new_id("cs");
        let b = new_id("cs");
        assert!(a.starts_with("cs") && a.len() == 2 + 22 && a != b);
        assert!(plausible(&a));
        assert!(!plausible("a/b"));
    }

    #[test]
    fn ids_made_later_sort_after() {
        let mut rng = rand::rng();
        // Across a carry of every digit, the year 2026, and the last time the width holds.
        let times = [
            0,
            31,
            32,
            1_023,
            1_024,
            1_796_000_000_000,
            1_796_000_000_001,
            (1 << 45) - 1,
        ];
        let ids: Vec<String> = times.iter().map(|&t| id_at("ev", t, &mut rng)).collect();
        for pair in ids.windows(2) {
            assert!(
                pair[0] < pair[1],
                "{} does not sort before {}",
                pair[0],
                pair[1]
            );
        }
        assert!(ids.iter().all(|id| id.len() == 2 + 22));
    }
}
