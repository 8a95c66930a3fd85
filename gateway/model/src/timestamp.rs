//! `dateTime` fields: written as RFC 3339 in UTC with whole seconds (`2012-07-24T10:15:02Z`).
//!
//! Reading is tolerant: any RFC 3339 offset or precision, or a JSON number of milliseconds
//! since the Unix epoch (Nokia sends `timestamp` that way, callnotif.md §2.5). Use on an
//! `Option<DateTime<Utc>>` field with
//! `#[serde(default, with = "crate::timestamp", skip_serializing_if = "Option::is_none")]`.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{
    Deserializer, Serializer,
    de::{self, Visitor},
};

/// The wire form of an instant: RFC 3339, UTC, seconds precision, `Z`.
pub fn format(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Serializes `Some` as [`format`] and `None` as `null`.
pub fn serialize<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(instant) => serializer.serialize_str(&format(instant)),
        None => serializer.serialize_none(),
    }
}

/// Reads an RFC 3339 string, epoch milliseconds, or `null`.
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_any(Instant)
}

/// The same, for a field that is always present: `#[serde(with = "crate::timestamp::required")]`.
pub mod required {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(
        value: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        super::deserialize(deserializer)?.ok_or_else(|| D::Error::custom("a date-time is required"))
    }
}

struct Instant;

impl Instant {
    fn from_millis<E: de::Error>(millis: i64) -> Result<Option<DateTime<Utc>>, E> {
        DateTime::from_timestamp_millis(millis)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(millis), &Instant))
    }
}

impl<'de> Visitor<'de> for Instant {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time or epoch milliseconds")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::from_millis(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let millis =
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))?;
        Self::from_millis(millis)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Holder {
        #[serde(
            default,
            with = "crate::timestamp",
            skip_serializing_if = "Option::is_none"
        )]
        at: Option<DateTime<Utc>>,
    }

    fn read(json: &str) -> Result<Option<DateTime<Utc>>, serde_json::Error> {
        serde_json::from_str::<Holder>(json).map(|h| h.at)
    }

    #[test]
    fn writes_seconds_precision_utc() {
        let at = Utc.with_ymd_and_hms(2012, 7, 24, 10, 15, 2).unwrap()
            + chrono::Duration::milliseconds(789);
        let json = serde_json::to_string(&Holder { at: Some(at) }).unwrap();
        assert_eq!(json, r#"{"at":"2012-07-24T10:15:02Z"}"#);
        assert_eq!(serde_json::to_string(&Holder { at: None }).unwrap(), "{}");
    }

    #[test]
    fn reads_strings_numbers_and_null() {
        let expected = Utc.with_ymd_and_hms(2012, 7, 24, 10, 20, 31).unwrap();
        assert_eq!(
            read(r#"{"at":"2012-07-24T10:20:31Z"}"#).unwrap(),
            Some(expected)
        );
        assert_eq!(
            read(r#"{"at":"2012-07-24T12:20:31+02:00"}"#).unwrap(),
            Some(expected)
        );
        assert_eq!(read(r#"{"at":1343125231000}"#).unwrap(), Some(expected));
        assert_eq!(read(r#"{"at":null}"#).unwrap(), None);
        assert_eq!(read("{}").unwrap(), None);
        assert!(read(r#"{"at":"yesterday"}"#).is_err());
        assert!(read(r#"{"at":true}"#).is_err());
    }
}
