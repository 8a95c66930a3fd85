//! SMS segmentation (3GPP TS 23.038 / 23.040). A text goes as GSM 7-bit when every character
//! is in the GSM 03.38 default alphabet or its extension table, otherwise as UCS-2.
//!
//! | encoding | one segment | per segment when concatenated | unit |
//! |---|---|---|---|
//! | GSM 7-bit | 160 | 153 | septet (extension characters take 2: escape + code) |
//! | UCS-2 | 70 | 67 | UTF-16 code unit (a character beyond the BMP takes 2) |
//!
//! A segment never ends between an escape and its character, nor inside a surrogate pair:
//! such a character starts the next segment instead. An empty text is one empty segment.
//! Pure: no I/O, so every boundary is unit-tested below.

/// How a text is encoded on the air interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38 default alphabet and extension table, 7 bits a character.
    Gsm7,
    /// UCS-2 (UTF-16 code units), for any text with a character outside the GSM alphabet.
    Ucs2,
}

impl Encoding {
    /// Units (septets or UTF-16 code units) of a text that fits in one segment.
    pub fn single(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units per segment once a text needs more than one (the rest carries the
    /// concatenation header).
    pub fn concatenated(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// The longest text, in characters of this encoding's unit, that fits in `max_segments`
    /// segments: what SVC0280 ("Maximum length is %1 characters") reports.
    pub fn max_chars(self, max_segments: u32) -> usize {
        match max_segments {
            0 => 0,
            1 => self.single(),
            n => n as usize * self.concatenated(),
        }
    }
}

/// A text cut into segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segmented {
    /// The encoding every segment uses.
    pub encoding: Encoding,
    /// At least one; each a slice of the original text, in order.
    pub parts: Vec<String>,
}

impl Segmented {
    /// How many segments each recipient gets.
    pub fn count(&self) -> usize {
        self.parts.len()
    }
}

/// The GSM 03.38 default alphabet (one septet each), in code order.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table reachable through the escape (two septets each).
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in the GSM 7-bit default alphabet, or None when it is not in it.
pub fn gsm_septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Which encoding `text` needs.
pub fn encoding_of(text: &str) -> Encoding {
    if text.chars().all(|c| gsm_septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Units `c` takes in `encoding`.
fn units(encoding: Encoding, c: char) -> usize {
    match encoding {
        Encoding::Gsm7 => gsm_septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

/// Cuts `text` into segments (see the module documentation).
pub fn split(text: &str) -> Segmented {
    let encoding = encoding_of(text);
    let total: usize = text.chars().map(|c| units(encoding, c)).sum();
    if total <= encoding.single() {
        return Segmented {
            encoding,
            parts: vec![text.to_string()],
        };
    }
    let limit = encoding.concatenated();
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for c in text.chars() {
        let n = units(encoding, c);
        // An escape pair or a surrogate pair that would straddle the boundary moves whole.
        if used + n > limit {
            parts.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push(c);
        used += n;
    }
    parts.push(current);
    Segmented { encoding, parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn septets(s: &str) -> usize {
        s.chars().map(|c| gsm_septets(c).unwrap()).sum()
    }

    fn utf16(s: &str) -> usize {
        s.encode_utf16().count()
    }

    #[test]
    fn the_default_alphabet_has_128_characters_with_the_escape_left_out() {
        // 128 codes, one of them (0x1B) the escape itself.
        assert_eq!(BASIC.chars().count(), 127);
        assert_eq!(EXTENSION.chars().count(), 10);
        for c in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r".chars()
        {
            assert_eq!(gsm_septets(c), Some(1), "{c:?}");
        }
        for c in "^{}\\[~]|€\u{c}".chars() {
            assert_eq!(gsm_septets(c), Some(2), "{c:?}");
        }
        for c in "çÀ`\t😀ж".chars() {
            assert_eq!(gsm_septets(c), None, "{c:?}");
        }
    }

    #[test]
    fn an_empty_text_is_one_empty_segment() {
        let s = split("");
        assert_eq!(s.encoding, Encoding::Gsm7);
        assert_eq!(s.parts, vec![String::new()]);
    }

    #[test]
    fn gsm_texts_fit_160_alone_then_153_per_segment() {
        for (len, count) in [
            (1, 1),
            (160, 1),
            (161, 2),
            (306, 2),
            (307, 3),
            (459, 3),
            (460, 4),
        ] {
            let text = "a".repeat(len);
            let s = split(&text);
            assert_eq!(s.encoding, Encoding::Gsm7);
            assert_eq!(s.count(), count, "{len} characters");
            assert_eq!(s.parts.concat(), text);
            if count > 1 {
                assert!(s.parts.iter().all(|p| septets(p) <= 153));
                assert_eq!(septets(&s.parts[0]), 153);
            }
        }
    }

    #[test]
    fn extension_characters_count_two_septets() {
        // 80 euro signs are 160 septets: one segment; one more character makes two.
        assert_eq!(split(&"€".repeat(80)).count(), 1);
        assert_eq!(split(&("€".repeat(80) + "a")).count(), 2);
        let s = split(&("a".repeat(158) + "{"));
        assert_eq!((s.encoding, s.count()), (Encoding::Gsm7, 1));
        assert_eq!(split(&("a".repeat(159) + "{")).count(), 2);
    }

    #[test]
    fn an_escape_pair_is_never_split_across_segments() {
        // 152 septets, then a 2-septet character that would end at 154: it starts segment 2.
        let text = "a".repeat(152) + "€" + &"b".repeat(10);
        let s = split(&text);
        assert_eq!(s.count(), 2);
        assert_eq!(s.parts[0], "a".repeat(152));
        assert_eq!(s.parts[1], "€".to_string() + &"b".repeat(10));
        // Exactly at the boundary it stays.
        let text = "a".repeat(151) + "|" + &"b".repeat(10);
        let s = split(&text);
        assert_eq!(septets(&s.parts[0]), 153);
        assert!(s.parts[0].ends_with('|'));
        // A form feed is an extension character too.
        let text = "a".repeat(152) + "\u{c}" + &"b".repeat(10);
        assert_eq!(split(&text).parts[0], "a".repeat(152));
    }

    #[test]
    fn ucs2_texts_fit_70_alone_then_67_per_segment() {
        for (len, count) in [
            (1, 1),
            (70, 1),
            (71, 2),
            (134, 2),
            (135, 3),
            (201, 3),
            (202, 4),
        ] {
            let text = "ж".repeat(len);
            let s = split(&text);
            assert_eq!(s.encoding, Encoding::Ucs2);
            assert_eq!(s.count(), count, "{len} characters");
            assert_eq!(s.parts.concat(), text);
            if count > 1 {
                assert_eq!(utf16(&s.parts[0]), 67);
            }
        }
    }

    #[test]
    fn one_character_outside_the_alphabet_makes_the_whole_text_ucs2() {
        let text = "a".repeat(69) + "ç";
        let s = split(&text);
        assert_eq!((s.encoding, s.count()), (Encoding::Ucs2, 1));
        let s = split(&("a".repeat(70) + "ç"));
        assert_eq!((s.encoding, s.count()), (Encoding::Ucs2, 2));
        // GSM extension characters are single UTF-16 units in UCS-2.
        assert_eq!(split(&("€".repeat(69) + "ж")).count(), 1);
    }

    #[test]
    fn emoji_take_two_units_and_a_surrogate_pair_is_never_split() {
        // 35 emoji are 70 units: one segment; 36 are 72: two of at most 67.
        assert_eq!(split(&"😀".repeat(35)).count(), 1);
        let s = split(&"😀".repeat(36));
        assert_eq!(s.count(), 2);
        assert_eq!(utf16(&s.parts[0]), 66);
        assert_eq!(s.parts[0].chars().count(), 33);
        // 66 units then an emoji that would end at 68: the emoji starts segment 2.
        let text = "ж".repeat(66) + "😀" + &"ж".repeat(3);
        let s = split(&text);
        assert_eq!(s.count(), 2);
        assert_eq!(s.parts[0], "ж".repeat(66));
        assert!(s.parts[1].starts_with('😀'));
        // 65 units then an emoji ending exactly at 67 stays in segment 1.
        let text = "ж".repeat(65) + "😀" + &"ж".repeat(5);
        let s = split(&text);
        assert_eq!(utf16(&s.parts[0]), 67);
        assert!(s.parts[0].ends_with('😀'));
        for p in &s.parts {
            assert!(String::from_utf16(&p.encode_utf16().collect::<Vec<_>>()).is_ok());
        }
    }

    #[test]
    fn the_suites_mixed_example_is_two_ucs2_segments() {
        // é (1) € (1) 😀 (2), 25 times, and ж: 101 UTF-16 units.
        let text = "é€😀".repeat(25) + "ж";
        let s = split(&text);
        assert_eq!((s.encoding, s.count()), (Encoding::Ucs2, 2));
    }

    #[test]
    fn max_chars_follows_the_segment_sizes() {
        assert_eq!(Encoding::Gsm7.max_chars(10), 1530);
        assert_eq!(Encoding::Ucs2.max_chars(10), 670);
        assert_eq!(Encoding::Gsm7.max_chars(1), 160);
        assert_eq!(Encoding::Ucs2.max_chars(1), 70);
        assert_eq!(split(&"b".repeat(1530)).count(), 10);
        assert_eq!(split(&"b".repeat(1531)).count(), 11);
    }
}
