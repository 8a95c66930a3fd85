//! Messaging requests checked and turned into gRPC messages, before any call: a request
//! refused here has sent nothing and changed nothing.
//!
//! An outbound request, in this order (the first failure answers):
//! 1. `senderAddress` of the body must be the `{senderAddress}` of the URL (after
//!    `acr:Authorization` is resolved on both sides), else 400 SVC0002 ["senderAddress"];
//! 2. the sender: one of the application's registrations (short codes included) is used
//!    as provisioned; `acr:Authorization` is the key's bound user (403 POL0002
//!    ["acr:Authorization"] without one); a `tel:`/`sip:` address must be a user the
//!    application may act for (its user patterns; any user when it has none), else 403
//!    POL0002 [the address]; anything else → 400 SVC0002 ["senderAddress"];
//! 3. `address`: more than `messaging.max_addresses` → 403 POL0003 ["address"]; none → 400
//!    SVC0004 ["address"]; one that is not a `tel:`/`sip:` URI (or `acr:Authorization` with
//!    a bound key) → 400 SVC0004 ["address"]; the same one twice → 403 POL0013 ["address"];
//! 4. the message: neither `outboundSMSTextMessage` nor `outboundMMSMessage` → 400 SVC0002
//!    ["outboundSMSTextMessage"]; both → 400 SVC0002 ["outboundMMSMessage"]; a text
//!    (`message`) that is empty or holds control characters other than line breaks and
//!    tabs → 400 SVC0002 ["message"]; `subject` over 256 characters or with control
//!    characters → 400 SVC0002 ["subject"]; a `priority` other than `Default`, `Low`,
//!    `Normal`, `High` → 400 SVC0003 ["priority", "Default, Low, Normal, High"]; files
//!    with an SMS → 400 SVC0002 ["attachments"];
//! 5. `senderName` (at most 256 characters, no control characters) → 400 SVC0002
//!    ["senderName"];
//! 6. `charging` present → 403 POL0008 ["charging"] (the suite charges nothing);
//! 7. `receiptRequest` as every `callbackReference` ([`crate::validate::callback`]);
//! 8. `clientCorrelator` (1 to 256 characters, no control characters).
//!
//! The text's length in segments (SVC0280) and a reused correlator (SVC0005) are the
//! service's to find.
//!
//! An inbound subscription: `callbackReference` ([`crate::validate::callback`]); then
//! `notificationFormat` at the subscription level, when given, `JSON` (400 SVC0002
//! ["notificationFormat"]); `destinationAddress`: none, or one over 256 characters or with
//! control characters → 400 SVC0002 ["destinationAddress"], one that is not a registration
//! of the application → 403 POL0001 ["destinationAddress"], the same twice → 403 POL0013
//! ["destinationAddress"]; `criteria`: a single word of at most 256 characters (no
//! whitespace, no control characters; it matches the first word of a message) → else 400
//! SVC0002 ["criteria"]; `clientCorrelator`; `duration` (negative → 400 SVC0002
//! ["duration"]).

use parlay_model::{
    Address,
    messaging::{
        InboundMessageRetrieveAndDeleteBody, InboundSubscriptionIn, OutboundMessageRequestIn,
        OutboundMmsMessageIn, PRIORITY_VALUES, Priority, RetrievalOrder,
    },
};
use parlay_proto::messaging::v1 as pb;
use percent_encoding::percent_decode_str;

use super::content::Submitted;
use crate::{
    apps::App,
    error::ApiError,
    validate::{
        MAX_TEXT_CHARS, callback, client_correlator, duration, no_charging, same_address,
        short_text, user_addresses,
    },
};

const SENDER: &str = "senderAddress";
const ADDRESS: &str = "address";
const DESTINATION: &str = "destinationAddress";
const BATCH: &str = "maxBatchSize";

/// The `OutboundMessage` to send for a valid request posted under `path_sender`.
pub(super) fn outbound(
    app: &App,
    path_sender: &str,
    submitted: Submitted,
    max_addresses: usize,
) -> Result<pb::OutboundMessage, ApiError> {
    let Submitted {
        root,
        request,
        attachments,
    } = submitted;
    let OutboundMessageRequestIn {
        address,
        sender_address,
        sender_name,
        charging,
        receipt_request,
        outbound_sms_text_message,
        outbound_mms_message,
        client_correlator: correlator,
    } = request;
    if !same_address(&resolved(app, path_sender), &resolved(app, &sender_address)) {
        return Err(ApiError::of("SVC0002", [SENDER]));
    }
    let sender_address = sender(app, &sender_address)?;
    if address.len() > max_addresses {
        return Err(ApiError::of("POL0003", [ADDRESS]));
    }
    let addresses = user_addresses(app, address, ADDRESS)?;
    let content = match (outbound_sms_text_message, outbound_mms_message) {
        (None, None) => return Err(ApiError::of("SVC0002", ["outboundSMSTextMessage"])),
        (Some(_), Some(_)) => return Err(ApiError::of("SVC0002", ["outboundMMSMessage"])),
        (Some(_), None) if !attachments.is_empty() => {
            return Err(ApiError::of("SVC0002", ["attachments"]));
        }
        (Some(sms), None) => pb::outbound_message::Content::Sms(pb::SmsText {
            message: message_text(sms.message)?,
        }),
        (None, Some(mms)) => pb::outbound_message::Content::Mms(mms_of(mms, attachments)?),
    };
    let sender_name = short_text(sender_name, "senderName")?;
    no_charging(charging.as_ref())?;
    let receipt_request = callback(receipt_request)?;
    let client_correlator = client_correlator(correlator)?;
    let mut message = pb::OutboundMessage {
        sender_address,
        sender_name,
        addresses,
        content: Some(content),
        receipt_request,
        client_correlator,
        ..Default::default()
    };
    message.set_root(root);
    Ok(message)
}

/// The `{senderAddress}` of a URL as requests are stored under it: `acr:Authorization`
/// is the key's bound user (403 POL0002 ["acr:Authorization"] without one).
pub(super) fn path_sender(app: &App, raw: String) -> Result<String, ApiError> {
    if is_acr_authorization(&raw) {
        return app
            .bound_user()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::of("POL0002", ["acr:Authorization"]));
    }
    Ok(raw)
}

fn is_acr_authorization(raw: &str) -> bool {
    Address::parse(raw).is_ok_and(|a| a.is_acr_authorization())
}

/// `raw` with `acr:Authorization` replaced by the bound user when there is one.
fn resolved(app: &App, raw: &str) -> String {
    match app.bound_user() {
        Some(user) if is_acr_authorization(raw) => user.to_owned(),
        _ => raw.to_owned(),
    }
}

/// The address the application sends from (rule 2 of the module documentation).
fn sender(app: &App, raw: &str) -> Result<String, ApiError> {
    if let Some(registration) = app.registration(raw) {
        return Ok(registration.to_owned());
    }
    match Address::parse(raw) {
        Ok(a) if a.is_acr_authorization() => path_sender(app, raw.to_owned()),
        Ok(Address::Tel(s) | Address::Sip(s)) if app.may_act_for(&s) => Ok(s),
        Ok(Address::Tel(s) | Address::Sip(s)) => Err(ApiError::of("POL0002", [s])),
        _ => Err(ApiError::of("SVC0002", [SENDER])),
    }
}

/// A message text: not empty; line breaks and tabs are the only control characters allowed.
fn message_text(text: String) -> Result<String, ApiError> {
    let bad = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if text.is_empty() || text.chars().any(bad) {
        return Err(ApiError::of("SVC0002", ["message"]));
    }
    Ok(text)
}

fn mms_of(
    mms: OutboundMmsMessageIn,
    attachments: Vec<pb::Attachment>,
) -> Result<pb::OutboundMms, ApiError> {
    let subject = short_text(mms.subject, "subject")?;
    let priority = match mms.priority.as_deref() {
        None => pb::Priority::Unspecified,
        Some(p) => match p.parse::<Priority>() {
            Ok(p) => super::convert::priority_to_wire(p),
            Err(()) => return Err(ApiError::of("SVC0003", ["priority", PRIORITY_VALUES])),
        },
    };
    let message = mms.message.map(message_text).transpose()?;
    let mut out = pb::OutboundMms {
        subject,
        message,
        attachments,
        ..Default::default()
    };
    out.set_priority(priority);
    Ok(out)
}

/// `maxBatchSize` of a query string: absent → 0 (the server's default); an integer ≥ 1,
/// capped at `u32::MAX` (the service caps it further); anything else, or given twice →
/// 400 SVC0002 ["maxBatchSize"]. Other parameters (`resFormat`) are ignored.
pub(super) fn max_batch_size(query: Option<&str>) -> Result<u32, ApiError> {
    let mut found = None;
    for pair in query.unwrap_or_default().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != BATCH {
            continue;
        }
        if found.is_some() {
            return Err(ApiError::of("SVC0002", [BATCH]));
        }
        found = Some(batch_size_text(
            &percent_decode_str(value).decode_utf8_lossy(),
        )?);
    }
    Ok(found.unwrap_or(0))
}

/// Decimal digits of a positive integer (leading zeros allowed), capped at `u32::MAX`.
fn batch_size_text(value: &str) -> Result<u32, ApiError> {
    let digits = value.trim_start_matches('0');
    if value.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::of("SVC0002", [BATCH]));
    }
    Ok(digits.parse::<u32>().unwrap_or(u32::MAX))
}

/// The batch size and order of a retrieve-and-delete (`maxBatchSize` below 1 → 400 SVC0002
/// ["maxBatchSize"]; absent → the server's default; oldest first unless told otherwise).
pub(super) fn retrieve_and_delete(
    body: Option<InboundMessageRetrieveAndDeleteBody>,
) -> Result<(u32, bool), ApiError> {
    let request = body
        .map(|b| b.inbound_message_retrieve_and_delete_request)
        .unwrap_or_default();
    let max = match request.max_batch_size {
        None => 0,
        Some(n) if n < 1 => return Err(ApiError::of("SVC0002", [BATCH])),
        Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
    };
    let newest_first = request.retrieval_order == Some(RetrievalOrder::NewestFirst);
    Ok((max, newest_first))
}

/// The `InboundSubscription` to create for a valid `subscription`.
pub(super) fn subscription(
    app: &App,
    body: InboundSubscriptionIn,
) -> Result<pb::InboundSubscription, ApiError> {
    let callback = callback(Some(body.callback_reference))?;
    if let Some(format) = &body.notification_format
        && !format.eq_ignore_ascii_case("JSON")
    {
        return Err(ApiError::of("SVC0002", ["notificationFormat"]));
    }
    let destination_addresses = destinations(app, body.destination_address)?;
    let criteria = short_text(body.criteria, "criteria")?;
    if criteria
        .as_deref()
        .is_some_and(|c| c.is_empty() || c.chars().any(char::is_whitespace))
    {
        return Err(ApiError::of("SVC0002", ["criteria"]));
    }
    Ok(pb::InboundSubscription {
        callback,
        destination_addresses,
        criteria,
        client_correlator: client_correlator(body.client_correlator)?,
        duration_secs: duration(body.duration)?,
        ..Default::default()
    })
}

/// The registrations a subscription watches, as provisioned.
fn destinations(app: &App, raw: Vec<String>) -> Result<Vec<String>, ApiError> {
    if raw.is_empty() {
        return Err(ApiError::of("SVC0002", [DESTINATION]));
    }
    let plain = |d: &String| {
        (1..=MAX_TEXT_CHARS).contains(&d.chars().count()) && !d.chars().any(char::is_control)
    };
    if !raw.iter().all(plain) {
        return Err(ApiError::of("SVC0002", [DESTINATION]));
    }
    let mut kept: Vec<String> = Vec::with_capacity(raw.len());
    for d in raw {
        let registration = app
            .registration(&d)
            .ok_or_else(|| ApiError::of("POL0001", [DESTINATION]))?;
        if kept.iter().any(|k| k == registration) {
            return Err(ApiError::of("POL0013", [DESTINATION]));
        }
        kept.push(registration.to_owned());
    }
    Ok(kept)
}
