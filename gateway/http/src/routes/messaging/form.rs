//! OneAPI v1 form-encoded SMS requests (`application/x-www-form-urlencoded`), read as an
//! `outboundSMSMessageRequest`:
//!
//! | key | becomes | |
//! |---|---|---|
//! | `address` | `address` | repeatable |
//! | `senderAddress` | `senderAddress` | required |
//! | `message` | `outboundSMSTextMessage.message` | required |
//! | `senderName`, `clientCorrelator` | the same fields | |
//! | `notifyURL`, `callbackData` | `receiptRequest` | `callbackData` needs `notifyURL` |
//!
//! Any other key, a key other than `address` given twice, bytes that are not UTF-8 once
//! decoded: 400 SVC0002 [that key] (["body"] for undecodable text). A missing `senderAddress`
//! or `message` is 400 SVC0002 naming it; no `address` at all is 400 SVC0004 ["address"], as
//! in JSON. An optional key with an empty value counts as absent.

use parlay_model::{
    common::CallbackReference,
    messaging::{OutboundMessageRequestIn, TextMessage},
};
use percent_encoding::percent_decode;

use crate::error::ApiError;

/// The keys a form may carry.
const KEYS: [&str; 7] = [
    "address",
    "senderAddress",
    "message",
    "senderName",
    "clientCorrelator",
    "notifyURL",
    "callbackData",
];

/// The request a form body describes.
pub(super) fn parse(body: &[u8]) -> Result<OutboundMessageRequestIn, ApiError> {
    let mut request = OutboundMessageRequestIn::default();
    let mut singles: [Option<String>; 6] = Default::default();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[..0]),
        };
        let key = decode(key)?;
        let value = decode(value)?;
        let index = KEYS
            .iter()
            .position(|k| *k == key)
            .ok_or_else(|| refused(&key))?;
        if index == 0 {
            request.address.push(value);
            continue;
        }
        let slot = &mut singles[index - 1];
        if slot.is_some() {
            return Err(refused(&key));
        }
        *slot = Some(value);
    }
    let [sender, message, name, correlator, notify_url, callback_data] = singles;
    request.sender_address = sender.ok_or_else(|| refused("senderAddress"))?;
    request.outbound_sms_text_message = Some(TextMessage {
        message: message.ok_or_else(|| refused("message"))?,
    });
    let given = |v: Option<String>| v.filter(|v| !v.is_empty());
    request.sender_name = given(name);
    request.client_correlator = given(correlator);
    request.receipt_request = match (given(notify_url), given(callback_data)) {
        (Some(notify_url), callback_data) => Some(CallbackReference {
            notify_url,
            callback_data,
            notification_format: None,
        }),
        (None, Some(_)) => return Err(refused("notifyURL")),
        (None, None) => None,
    };
    Ok(request)
}

/// One form-encoded key or value: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn decode(raw: &[u8]) -> Result<String, ApiError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| refused("body"))
}

fn refused(field: &str) -> ApiError {
    // Client-chosen keys are cut, as `parlay_model::from_json` cuts unknown field names.
    let field: String = field.chars().take(64).collect();
    ApiError::of("SVC0002", [field])
}
