//! Multipart bodies: MMS requests in (`multipart/form-data`, common.md §3, messaging.md
//! §4.2) and received messages out (`multipart/mixed`, §4.5).
//!
//! In: exactly one part named `root-fields` holding the request as JSON (its
//! `Content-Type`, when given, must be JSON), in any position; every other part is an
//! attachment, a `text/plain` one included:
//! * its name is the part's file name without any directory (`C:\photos\a.jpg` → `a.jpg`),
//!   or the part's field name when it has none;
//! * its type is the part's `Content-Type` (`text/plain` when absent, as RFC 7578 says);
//! * `Content-Transfer-Encoding: base64` is decoded (line breaks allowed); `7bit`, `8bit`
//!   and `binary` are taken as they are; any other → 400 SVC0002 ["attachments"];
//! * a name or type over 256 characters or with control characters, or more than
//!   [`MAX_ATTACHMENTS`] attachments → 400 SVC0002 ["attachments"].
//!
//! No `root-fields` part, or two → 400 SVC0002 ["root-fields"]; a body that is not
//! multipart (no boundary, broken framing) → 400 SVC0002 ["body"]. The whole body is
//! limited to `messaging.max_attachment_bytes` + 64 KiB, the decoded attachments together
//! to `messaging.max_attachment_bytes`: 413 beyond either.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::{HeaderMap, header},
};
use base64::{
    Engine,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use parlay_model::messaging::OutboundRequestBody;
use parlay_proto::messaging::v1 as pb;

use super::content::{Submitted, declares_more_than, limited};
use crate::{body::is_json, error::ApiError, validate::MAX_TEXT_CHARS};

/// Most attachments one MMS may carry.
pub(super) const MAX_ATTACHMENTS: usize = 100;

const ROOT: &str = "root-fields";
const ATTACHMENTS: &str = "attachments";

/// Base64 as mail encoders write it: padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads a `multipart/form-data` request of at most `limit` bytes whose decoded
/// attachments total at most `max_attachments_bytes`.
pub(super) async fn read(
    request: Request,
    limit: usize,
    max_attachments_bytes: usize,
) -> Result<Submitted, ApiError> {
    if declares_more_than(request.headers(), limit) {
        return Err(ApiError::too_large());
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, limited(body, limit, exceeded.clone()));
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| ApiError::of("SVC0002", ["body"]))?;
    let broken = |_| {
        if exceeded.load(Ordering::Relaxed) {
            ApiError::too_large()
        } else {
            ApiError::of("SVC0002", ["body"])
        }
    };
    let mut root: Option<OutboundRequestBody> = None;
    let mut attachments: Vec<pb::Attachment> = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let field_name = field.name().unwrap_or_default().to_owned();
        if field_name == ROOT {
            if root.is_some() || !root_type_ok(field.headers()) {
                return Err(ApiError::of("SVC0002", [ROOT]));
            }
            let bytes = field.bytes().await.map_err(broken)?;
            root = Some(parlay_model::from_json(&bytes).map_err(ApiError::request)?);
            continue;
        }
        if attachments.len() == MAX_ATTACHMENTS {
            return Err(ApiError::of("SVC0002", [ATTACHMENTS]));
        }
        let name = file_name(field.file_name(), &field_name);
        // The header as sent: multer drops a type it cannot parse, which would then
        // pass for text/plain.
        let content_type = match field.headers().get(header::CONTENT_TYPE) {
            Some(v) => v.to_str().unwrap_or_default().trim().to_owned(),
            None => "text/plain".to_owned(),
        };
        let encoding = transfer_encoding(field.headers())?;
        let raw = field.bytes().await.map_err(broken)?;
        let data = decode(encoding, &raw)?;
        total = total.saturating_add(data.len());
        if total > max_attachments_bytes {
            return Err(ApiError::too_large());
        }
        attachments.push(attachment(name, content_type, data)?);
    }
    let root = root.ok_or_else(|| ApiError::of("SVC0002", [ROOT]))?;
    Ok(Submitted::from_json(root, attachments))
}

/// The root part's `Content-Type`, when it has one, is JSON.
fn root_type_ok(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::CONTENT_TYPE) || is_json(headers)
}

/// The file name without directories, or the field name when there is none.
fn file_name(file_name: Option<&str>, field_name: &str) -> String {
    let base = file_name
        .and_then(|f| f.rsplit(['/', '\\']).next())
        .filter(|f| !f.is_empty());
    base.unwrap_or(field_name).to_owned()
}

/// How a part's bytes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TransferEncoding {
    Identity,
    Base64,
}

fn transfer_encoding(headers: &HeaderMap) -> Result<TransferEncoding, ApiError> {
    let Some(value) = headers.get("content-transfer-encoding") else {
        return Ok(TransferEncoding::Identity);
    };
    let value = value.to_str().unwrap_or_default().trim();
    if value.eq_ignore_ascii_case("base64") {
        Ok(TransferEncoding::Base64)
    } else if ["7bit", "8bit", "binary"]
        .iter()
        .any(|e| value.eq_ignore_ascii_case(e))
    {
        Ok(TransferEncoding::Identity)
    } else {
        Err(ApiError::of("SVC0002", [ATTACHMENTS]))
    }
}

/// The part's bytes, decoded.
fn decode(encoding: TransferEncoding, raw: &[u8]) -> Result<Vec<u8>, ApiError> {
    match encoding {
        TransferEncoding::Identity => Ok(raw.to_vec()),
        TransferEncoding::Base64 => {
            let compact: Vec<u8> = raw
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            BASE64
                .decode(compact)
                .map_err(|_| ApiError::of("SVC0002", [ATTACHMENTS]))
        }
    }
}

/// One attachment, its name and type checked.
fn attachment(
    name: String,
    content_type: String,
    data: Vec<u8>,
) -> Result<pb::Attachment, ApiError> {
    let plain = |s: &str| {
        s.chars().count() <= MAX_TEXT_CHARS && !s.is_empty() && !s.chars().any(char::is_control)
    };
    let type_ok = plain(&content_type)
        && content_type.is_ascii()
        && content_type
            .split(';')
            .next()
            .and_then(|essence| essence.trim().split_once('/'))
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !s.contains(' '));
    if !plain(&name) || !type_ok {
        return Err(ApiError::of("SVC0002", [ATTACHMENTS]));
    }
    Ok(pb::Attachment {
        name,
        content_type,
        data,
    })
}

/// One part of a `multipart/mixed` answer.
pub(super) struct Part {
    /// The `name` of its `Content-Disposition`.
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A `multipart/mixed` body of `parts`; returns its boundary and bytes. The boundary is
/// random and checked against every part's bytes.
pub(super) fn mixed(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = loop {
        let candidate = format!("parlay-{}", parlay_kit::ids::new_id("b"));
        let clash = parts
            .iter()
            .any(|p| contains(&p.data, candidate.as_bytes()));
        if !clash {
            break candidate;
        }
    };
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Type: {}\r\n", header_text(&part.content_type)).as_bytes(),
        );
        let mut disposition = format!("form-data; name=\"{}\"", quoted(&part.name));
        if let Some(file_name) = &part.file_name {
            disposition.push_str(&format!("; filename=\"{}\"", quoted(file_name)));
        }
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
        body.extend_from_slice(format!("Content-Length: {}\r\n\r\n", part.data.len()).as_bytes());
        body.extend_from_slice(&part.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `s` safe inside a part header: control characters replaced.
fn header_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect()
}

/// `s` safe inside a quoted string: control characters replaced, `"` and `\` escaped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in header_text(s).chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Does the client's `Accept` prefer `multipart/mixed` to JSON? Only when it lists
/// `multipart/mixed` (or `multipart/*`) with a quality above zero, and no explicit
/// `application/json` ranks higher (or equal and earlier). Wildcards (`*/*`) never choose
/// multipart.
pub(super) fn prefers_mixed(headers: &HeaderMap) -> bool {
    let mut mixed: Option<(f32, usize)> = None;
    let mut json: Option<(f32, usize)> = None;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for (position, range) in ranges.enumerate() {
        let mut params = range.split(';');
        let essence = params
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let quality = params
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = match essence.as_str() {
            "multipart/mixed" | "multipart/*" => &mut mixed,
            "application/json" => &mut json,
            _ => continue,
        };
        if slot.is_none_or(|(q, _)| quality > q) {
            *slot = Some((quality, position));
        }
    }
    match (mixed, json) {
        (Some((q, _)), _) if q <= 0.0 => false,
        (Some(_), None) => true,
        (Some((qm, pm)), Some((qj, pj))) => qm > qj || (qm == qj && pm < pj),
        (None, _) => false,
    }
}
