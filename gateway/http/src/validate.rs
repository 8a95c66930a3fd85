//! Field rules shared by the API families. Everything here runs before any gRPC call, so a
//! request refused here has changed nothing.
//!
//! Addresses: `acr:Authorization` stands for the user the key is bound to (see
//! [`App::bound_user`]); a key bound to no single user cannot use it (403 POL0002). Other
//! `acr:` references are refused as unusable addresses (400 SVC0004): the suite has no
//! resolver for operator-issued anonymous references.

use http::Uri;
use parlay_model::{
    Address,
    common::{CallbackReference, ChargingInformation},
};
use parlay_proto::common::v1::Callback;

use crate::{apps::App, error::ApiError};

#[cfg(test)]
pub(crate) mod tests;

/// Longest free text (names, correlators) accepted, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 256;

/// Longest media URL accepted, in characters.
pub(crate) const MAX_URL_CHARS: usize = 2048;

/// Longest `callbackData` accepted, in characters.
pub(crate) const MAX_CALLBACK_DATA_CHARS: usize = 1024;

/// `raw` as the services should see it: syntax checked, `acr:Authorization` resolved.
///
/// * not a valid `tel:`/`sip:`/`acr:` URI → 400 SVC0004 [`field`];
/// * `acr:Authorization` without a bound user → 403 POL0002 ["acr:Authorization"];
/// * any other `acr:` → 400 SVC0004 [`field`].
pub(crate) fn user_address(app: &App, raw: &str, field: &str) -> Result<String, ApiError> {
    let address = Address::parse(raw).map_err(|_| ApiError::of("SVC0004", [field]))?;
    if address.is_acr_authorization() {
        return app
            .bound_user()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::of("POL0002", ["acr:Authorization"]));
    }
    match address {
        Address::Acr(_) => Err(ApiError::of("SVC0004", [field])),
        Address::Tel(s) | Address::Sip(s) => Ok(s),
    }
}

/// `address` with its scheme in lower case: how the presence and address-list services
/// store users and members (`TEL:+1555…` and `tel:+1555…` are one user).
pub(crate) fn canonical(address: &str) -> String {
    match address.split_once(':') {
        Some((scheme, rest)) => format!("{}:{rest}", scheme.to_ascii_lowercase()),
        None => address.to_owned(),
    }
}

/// The `{userId}` of a presence or address-list URL as the services take it:
/// `acr:Authorization` is the key's bound user; a `tel:`/`sip:` URI must be one the key
/// may act for. Anything else → 403 POL0002 [the value].
pub(crate) fn path_user(app: &App, raw: &str) -> Result<String, ApiError> {
    let refused = || ApiError::of("POL0002", [raw]);
    match Address::parse(raw) {
        Ok(a) if a.is_acr_authorization() => app
            .bound_user()
            .map(canonical)
            .ok_or_else(|| ApiError::of("POL0002", ["acr:Authorization"])),
        Ok(Address::Tel(s) | Address::Sip(s)) if app.may_act_for(&s) => Ok(canonical(&s)),
        _ => Err(refused()),
    }
}

/// Do two addresses name the same user? The scheme compares without regard to case.
pub(crate) fn same_address(a: &str, b: &str) -> bool {
    match (a.split_once(':'), b.split_once(':')) {
        (Some((sa, ra)), Some((sb, rb))) => sa.eq_ignore_ascii_case(sb) && ra == rb,
        _ => a == b,
    }
}

/// An optional free text of at most `max` characters and without control characters
/// ([`char::is_control`]: NUL, line breaks, tabs, …), else 400 SVC0002 [`field`]. The
/// services store these texts, and PostgreSQL refuses NUL in a text column.
fn text(value: Option<String>, max: usize, field: &str) -> Result<Option<String>, ApiError> {
    match value {
        Some(text) if text.chars().count() > max || text.chars().any(char::is_control) => {
            Err(ApiError::of("SVC0002", [field]))
        }
        other => Ok(other),
    }
}

/// An optional free text of at most [`MAX_TEXT_CHARS`] characters and without control
/// characters, else 400 SVC0002 [`field`].
pub(crate) fn short_text(value: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    text(value, MAX_TEXT_CHARS, field)
}

/// An optional `clientCorrelator`: when present, 1 to [`MAX_TEXT_CHARS`] characters, no
/// control characters.
pub(crate) fn client_correlator(value: Option<String>) -> Result<Option<String>, ApiError> {
    const FIELD: &str = "clientCorrelator";
    match short_text(value, FIELD)? {
        Some(c) if c.is_empty() => Err(ApiError::of("SVC0002", [FIELD])),
        other => Ok(other),
    }
}

/// A non-empty list of user addresses (see [`user_address`]), each at most once.
///
/// * empty → 400 SVC0004 [`field`];
/// * an address as [`user_address`] refuses it;
/// * the same address twice (after `acr:Authorization` is resolved) → 403 POL0013 [`field`].
pub(crate) fn user_addresses(
    app: &App,
    raw: Vec<String>,
    field: &str,
) -> Result<Vec<String>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::of("SVC0004", [field]));
    }
    let mut addresses: Vec<String> = Vec::with_capacity(raw.len());
    for r in raw {
        let address = user_address(app, &r, field)?;
        if addresses.iter().any(|a| same_address(a, &address)) {
            return Err(ApiError::of("POL0013", [field]));
        }
        addresses.push(address);
    }
    Ok(addresses)
}

/// A resource id given in a body (`callSessionIdentifier`): shaped like an id the services
/// make, else 400 SVC0002 [`field`], as an id that matches nothing would be.
pub(crate) fn body_id(value: String, field: &str) -> Result<String, ApiError> {
    if parlay_kit::ids::plausible(&value) {
        Ok(value)
    } else {
        Err(ApiError::of("SVC0002", [field]))
    }
}

/// A requested subscription lifetime in seconds: negative → 400 SVC0002 ["duration"];
/// beyond `u32` it is cut to `u32::MAX` (the service shortens it to its maximum anyway).
pub(crate) fn duration(value: Option<i64>) -> Result<Option<u32>, ApiError> {
    match value {
        Some(d) if d < 0 => Err(ApiError::of("SVC0002", ["duration"])),
        Some(d) => Ok(Some(u32::try_from(d).unwrap_or(u32::MAX))),
        None => Ok(None),
    }
}

/// A URL the service fetches media from: absolute `http`/`https` with a host, else 400
/// SVC0002 [`field`].
pub(crate) fn media_url(value: String, field: &str) -> Result<String, ApiError> {
    if value.chars().count() <= MAX_URL_CHARS && is_web_url(&value) {
        Ok(value)
    } else {
        Err(ApiError::of("SVC0002", [field]))
    }
}

/// The suite charges nothing: `charging` present → 403 POL0008 ["charging"].
pub(crate) fn no_charging(charging: Option<&ChargingInformation>) -> Result<(), ApiError> {
    match charging {
        Some(_) => Err(ApiError::of("POL0008", ["charging"])),
        None => Ok(()),
    }
}

/// An optional `callbackReference` as the services take it.
///
/// * `notifyURL` must be an absolute `http`/`https` URL with a host and no control
///   characters, else 400 SVC0002 ["notifyURL"];
/// * `notificationFormat`, when present, must be `JSON` (any case), else 400 SVC0002
///   ["notificationFormat"]: the suite sends no XML;
/// * `callbackData`, when present, at most [`MAX_CALLBACK_DATA_CHARS`] characters and no
///   control characters, else 400 SVC0002 ["callbackData"].
pub(crate) fn callback(reference: Option<CallbackReference>) -> Result<Option<Callback>, ApiError> {
    let Some(reference) = reference else {
        return Ok(None);
    };
    if !is_web_url(&reference.notify_url) {
        return Err(ApiError::of("SVC0002", ["notifyURL"]));
    }
    if let Some(format) = &reference.notification_format
        && !format.eq_ignore_ascii_case("JSON")
    {
        return Err(ApiError::of("SVC0002", ["notificationFormat"]));
    }
    let callback_data = text(
        reference.callback_data,
        MAX_CALLBACK_DATA_CHARS,
        "callbackData",
    )?;
    Ok(Some(Callback {
        notify_url: reference.notify_url,
        callback_data,
    }))
}

/// An absolute `http`/`https` URL with a non-empty host and no control characters.
pub(crate) fn is_web_url(url: &str) -> bool {
    // `Uri` refuses most, but not a NUL in the fragment or a C1 control in the query.
    if url.chars().any(char::is_control) {
        return false;
    }
    let Ok(uri) = url.parse::<Uri>() else {
        return false;
    };
    let web = uri
        .scheme_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"));
    web && uri.host().is_some_and(|h| !h.is_empty())
}
