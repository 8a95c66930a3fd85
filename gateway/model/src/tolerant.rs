//! Lenient input helpers for the two JSON mappings OMA allows (common.md §3).
//!
//! In the "instance-based" XML→JSON mode a repeatable element that occurs once may arrive as
//! a single object, and numbers may arrive as strings. These `deserialize_with` functions
//! accept both shapes. They are written as visitors rather than untagged enums so errors keep
//! their JSON path (an unknown field inside `participant` is still reported by name).

use std::{fmt, marker::PhantomData, str::FromStr};

use serde::{
    Deserialize, Deserializer,
    de::{self, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer},
};

/// Deserializes an array of `T`, or a single `T` object as a one-element vector.
pub fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_any(OneOrMany(PhantomData))
}

struct OneOrMany<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Cap the pre-allocation: the hint comes from the client.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(|item| vec![item])
    }
}

/// Deserializes a single `T` object, or an array holding exactly one (Telia sends a
/// `deliveryInfo` that way).
pub fn one_or_first<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let mut items = one_or_many::<D, T>(deserializer)?;
    match items.len() {
        1 => Ok(items.remove(0)),
        n => Err(de::Error::invalid_length(n, &"exactly one element")),
    }
}

/// Deserializes an array of strings, or a single string as a one-element vector.
pub fn string_or_many<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_any(StringOrMany)
}

struct StringOrMany;

impl<'de> Visitor<'de> for StringOrMany {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(vec![v.to_owned()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        OneOrMany::<String>(PhantomData).visit_seq(seq)
    }
}

/// Deserializes an array of `T`, or a single `T` written as a bare string or object (a
/// one-element vector). For enumerations such as `criteria`: `"Busy"` or `["Busy"]`.
pub fn value_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_any(ValueOrMany(PhantomData))
}

struct ValueOrMany<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ValueOrMany<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or an array of values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::deserialize(de::value::StrDeserializer::<E>::new(v)).map(|item| vec![item])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        OneOrMany::<T>(PhantomData).visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        OneOrMany::<T>(PhantomData).visit_map(map)
    }
}

/// An optional boolean given as a JSON boolean or as the string `"true"`/`"false"` (any
/// case; ALU and Nokia send `interruptMedia` as a string); `null` gives `None`.
/// Use with `#[serde(default, deserialize_with = "...")]`.
pub fn option_bool<'de, D>(deserializer: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_option(OptionOf(Bool))
}

struct Bool;

impl<'de> Visitor<'de> for Bool {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean or a string holding one")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v.trim() {
            t if t.eq_ignore_ascii_case("true") => Ok(true),
            t if t.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// Deserializes an integer given as a JSON number or as a decimal string (`48` or `"48"`).
pub fn string_or_number<'de, D, N>(deserializer: D) -> Result<N, D::Error>
where
    D: Deserializer<'de>,
    N: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    deserializer.deserialize_any(StringOrNumber(PhantomData))
}

/// Like [`string_or_number`] for an optional field; `null` gives `None`.
/// Use with `#[serde(default, deserialize_with = "...")]`.
pub fn option_string_or_number<'de, D, N>(deserializer: D) -> Result<Option<N>, D::Error>
where
    D: Deserializer<'de>,
    N: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    deserializer.deserialize_option(OptionOf(StringOrNumber(PhantomData)))
}

struct StringOrNumber<N>(PhantomData<N>);

impl<N> StringOrNumber<N>
where
    N: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    fn out_of_range<E: de::Error>(unexpected: de::Unexpected<'_>) -> E {
        E::invalid_value(unexpected, &"an integer in range")
    }
}

impl<'de, N> Visitor<'de> for StringOrNumber<N>
where
    N: TryFrom<i64> + TryFrom<u64> + FromStr,
{
    type Value = N;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string holding an integer")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<N, E> {
        N::try_from(v).map_err(|_| Self::out_of_range(de::Unexpected::Signed(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<N, E> {
        N::try_from(v).map_err(|_| Self::out_of_range(de::Unexpected::Unsigned(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<N, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Decimal amount given as a JSON number or a string (`1.5` or `"1.5"`); must be finite.
/// Use with `#[serde(default, deserialize_with = "...")]`.
pub fn option_decimal<'de, D>(deserializer: D) -> Result<Option<f64>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_option(OptionOf(Decimal))
}

struct Decimal;

impl<'de> Visitor<'de> for Decimal {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a string holding a number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Turns a visitor for `T` into one for `Option<T>` (`null` or absent → `None`).
struct OptionOf<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for OptionOf<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self.0).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        a: u8,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Holder {
        #[serde(deserialize_with = "one_or_many")]
        items: Vec<Item>,
        #[serde(default, deserialize_with = "string_or_many")]
        words: Vec<String>,
        #[serde(default, deserialize_with = "option_string_or_number")]
        count: Option<u32>,
        #[serde(default, deserialize_with = "option_decimal")]
        amount: Option<f64>,
        #[serde(default, deserialize_with = "value_or_many")]
        kinds: Vec<Kind>,
        #[serde(default, deserialize_with = "option_bool")]
        flag: Option<bool>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Kind {
        Busy,
        Answer,
    }

    fn holder(json: &str) -> Result<Holder, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn one_or_many_accepts_both_shapes() {
        assert_eq!(
            holder(r#"{"items": {"a": 1}}"#).unwrap().items,
            [Item { a: 1 }]
        );
        let many = holder(r#"{"items": [{"a": 1}, {"a": 2}]}"#).unwrap();
        assert_eq!(many.items, [Item { a: 1 }, Item { a: 2 }]);
        assert!(holder(r#"{"items": []}"#).unwrap().items.is_empty());
        assert!(holder(r#"{"items": 3}"#).is_err());
        assert!(holder(r#"{"items": null}"#).is_err());
        assert!(holder("{}").is_err());
    }

    #[test]
    fn string_or_many_accepts_both_shapes() {
        let one = holder(r#"{"items": [], "words": "x"}"#).unwrap();
        assert_eq!(one.words, ["x"]);
        let many = holder(r#"{"items": [], "words": ["x", "y"]}"#).unwrap();
        assert_eq!(many.words, ["x", "y"]);
        assert!(holder(r#"{"items": [], "words": [1]}"#).is_err());
    }

    #[test]
    fn numbers_may_be_strings() {
        assert_eq!(
            holder(r#"{"items": [], "count": 7}"#).unwrap().count,
            Some(7)
        );
        assert_eq!(
            holder(r#"{"items": [], "count": " 7"}"#).unwrap().count,
            Some(7)
        );
        assert_eq!(
            holder(r#"{"items": [], "count": null}"#).unwrap().count,
            None
        );
        assert_eq!(holder(r#"{"items": []}"#).unwrap().count, None);
        assert!(holder(r#"{"items": [], "count": -1}"#).is_err());
        assert!(holder(r#"{"items": [], "count": "x"}"#).is_err());
        assert!(holder(r#"{"items": [], "count": 1.5}"#).is_err());
    }

    #[test]
    fn decimals_may_be_strings() {
        assert_eq!(
            holder(r#"{"items": [], "amount": 1.5}"#).unwrap().amount,
            Some(1.5)
        );
        assert_eq!(
            holder(r#"{"items": [], "amount": "2.25"}"#).unwrap().amount,
            Some(2.25)
        );
        assert_eq!(
            holder(r#"{"items": [], "amount": 3}"#).unwrap().amount,
            Some(3.0)
        );
        assert!(holder(r#"{"items": [], "amount": "NaN"}"#).is_err());
        assert!(holder(r#"{"items": [], "amount": true}"#).is_err());
    }

    #[test]
    fn value_or_many_accepts_a_bare_value() {
        assert_eq!(
            holder(r#"{"items": [], "kinds": "Busy"}"#).unwrap().kinds,
            [Kind::Busy]
        );
        assert_eq!(
            holder(r#"{"items": [], "kinds": ["Answer", "Busy"]}"#)
                .unwrap()
                .kinds,
            [Kind::Answer, Kind::Busy]
        );
        assert!(holder(r#"{"items": [], "kinds": "Hold"}"#).is_err());
        assert!(holder(r#"{"items": [], "kinds": ["Busy", "Hold"]}"#).is_err());
        assert!(holder(r#"{"items": [], "kinds": 1}"#).is_err());
    }

    #[test]
    fn booleans_may_be_strings() {
        let flag = |json: &str| holder(json).map(|h| h.flag);
        assert_eq!(flag(r#"{"items": [], "flag": true}"#).unwrap(), Some(true));
        assert_eq!(
            flag(r#"{"items": [], "flag": "TRUE"}"#).unwrap(),
            Some(true)
        );
        assert_eq!(
            flag(r#"{"items": [], "flag": "false"}"#).unwrap(),
            Some(false)
        );
        assert_eq!(flag(r#"{"items": [], "flag": null}"#).unwrap(), None);
        assert_eq!(flag(r#"{"items": []}"#).unwrap(), None);
        assert!(flag(r#"{"items": [], "flag": "yes"}"#).is_err());
        assert!(flag(r#"{"items": [], "flag": 1}"#).is_err());
    }
}
