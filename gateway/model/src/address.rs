//! User addresses as they appear in ParlayREST bodies and paths: `tel:`, `sip:`/`sips:` and `acr:` URIs.
//!
//! An [`Address`] can only be built through [`Address::parse`], so a value that exists has been
//! checked once at the edge. It keeps the original spelling (scheme case, URI parameters) so
//! what the client sent is what it gets back in representations and notifications.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(test)]
mod tests;

/// Longest address accepted, in characters.
pub const MAX_LEN: usize = 256;

/// Fewest and most digits of an E.164 number (country code included).
const E164_DIGITS: std::ops::RangeInclusive<usize> = 2..=15;

/// A validated `tel:`, `sip:`/`sips:` or `acr:` URI; each variant holds the full original string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// `tel:+<E.164>` with optional `;name=value` parameters.
    Tel(String),
    /// `sip:user@host` or `sips:user@host`, with optional `:port` and `;params`.
    Sip(String),
    /// `acr:<opaque>`, including the reserved `acr:Authorization`.
    Acr(String),
}

/// Why a string is not an acceptable [`Address`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing was given.
    #[error("address is empty")]
    Empty,
    /// More than [`MAX_LEN`] characters.
    #[error("address is longer than {MAX_LEN} characters")]
    TooLong,
    /// Whitespace or a control character somewhere in the URI.
    #[error("address contains whitespace or control characters")]
    BadCharacter,
    /// The scheme is missing or is not `tel`, `sip`, `sips` or `acr`.
    #[error("address scheme must be tel:, sip:, sips: or acr:")]
    UnsupportedScheme,
    /// A `tel:` URI that is not `tel:+` followed by an E.164 number and valid parameters.
    #[error("invalid tel: URI: {0}")]
    InvalidTel(&'static str),
    /// A `sip:`/`sips:` URI that is not `user@host[:port][;params]`.
    #[error("invalid sip: URI: {0}")]
    InvalidSip(&'static str),
    /// An `acr:` URI with nothing after the scheme.
    #[error("invalid acr: URI: the reference is empty")]
    EmptyAcr,
}

impl Address {
    /// Checks `s` against the rules for its scheme and keeps it unchanged.
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.chars().count() > MAX_LEN {
            return Err(AddressError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(AddressError::BadCharacter);
        }
        let (scheme, rest) = s.split_once(':').ok_or(AddressError::UnsupportedScheme)?;
        if scheme.eq_ignore_ascii_case("tel") {
            check_tel(rest)?;
            Ok(Address::Tel(s.to_owned()))
        } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            check_sip(rest)?;
            Ok(Address::Sip(s.to_owned()))
        } else if scheme.eq_ignore_ascii_case("acr") {
            if rest.is_empty() {
                return Err(AddressError::EmptyAcr);
            }
            Ok(Address::Acr(s.to_owned()))
        } else {
            Err(AddressError::UnsupportedScheme)
        }
    }

    /// The URI exactly as it was parsed.
    pub fn as_str(&self) -> &str {
        match self {
            Address::Tel(s) | Address::Sip(s) | Address::Acr(s) => s,
        }
    }

    /// True for the reserved `acr:Authorization` ("the user who authorised the token"), any case.
    pub fn is_acr_authorization(&self) -> bool {
        match self {
            Address::Acr(s) => s.eq_ignore_ascii_case("acr:Authorization"),
            _ => false,
        }
    }
}

/// True when `a` and `b` are the same text without regard to case, as
/// `a.to_lowercase() == b.to_lowercase()` is, without making either (addresses are compared
/// so on every request, mostly ASCII).
pub fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// `tel:` part after the scheme: `+`, E.164 digits, then `;name=value` parameters.
fn check_tel(rest: &str) -> Result<(), AddressError> {
    let number = rest
        .strip_prefix('+')
        .ok_or(AddressError::InvalidTel("the number must start with +"))?;
    let (digits, params) = match number.split_once(';') {
        Some((digits, params)) => (digits, Some(params)),
        None => (number, None),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::InvalidTel("the number must be digits only"));
    }
    if !E164_DIGITS.contains(&digits.len()) {
        return Err(AddressError::InvalidTel(
            "the number must have 2 to 15 digits",
        ));
    }
    if digits.starts_with('0') {
        return Err(AddressError::InvalidTel(
            "the country code cannot start with 0",
        ));
    }
    match params {
        Some(params) => params.split(';').try_for_each(check_tel_param),
        None => Ok(()),
    }
}

/// One `name=value` URI parameter of a `tel:` URI.
fn check_tel_param(param: &str) -> Result<(), AddressError> {
    let (name, value) = param
        .split_once('=')
        .ok_or(AddressError::InvalidTel("a parameter must be name=value"))?;
    if !is_token(name) {
        return Err(AddressError::InvalidTel(
            "a parameter name must be letters, digits or -",
        ));
    }
    if value.is_empty() {
        return Err(AddressError::InvalidTel(
            "a parameter value cannot be empty",
        ));
    }
    Ok(())
}

/// `sip:` part after the scheme: `user@host[:port][;params]`.
fn check_sip(rest: &str) -> Result<(), AddressError> {
    let (user, after) = rest
        .split_once('@')
        .ok_or(AddressError::InvalidSip("expected user@host"))?;
    if user.is_empty() {
        return Err(AddressError::InvalidSip("the user part is empty"));
    }
    let (host_port, params) = match after.split_once(';') {
        Some((host_port, params)) => (host_port, Some(params)),
        None => (after, None),
    };
    let (host, port) = match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !host_ok {
        return Err(AddressError::InvalidSip(
            "the host must be letters, digits, . or -",
        ));
    }
    if let Some(port) = port {
        let port_ok = (1..=5).contains(&port.len())
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= u32::from(u16::MAX));
        if !port_ok {
            return Err(AddressError::InvalidSip(
                "the port must be a number up to 65535",
            ));
        }
    }
    if params.is_some_and(|p| p.split(';').any(str::is_empty)) {
        return Err(AddressError::InvalidSip("a parameter cannot be empty"));
    }
    Ok(())
}

/// `[A-Za-z0-9-]+`
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl TryFrom<String> for Address {
    type Error = AddressError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Address::parse(&s)
    }
}

impl AsRef<str> for Address {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Address::parse(&s).map_err(serde::de::Error::custom)
    }
}
