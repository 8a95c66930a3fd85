//! Request bodies to typed values, with every failure turned into SVC0002 naming the culprit.
//!
//! The variable is what a client needs to fix its request: `body` when the JSON itself is
//! broken, otherwise the name of the unknown, missing or ill-typed field as spelt in JSON.

use serde::de::DeserializeOwned;
use serde_json::error::Category;
use serde_path_to_error::{Path, Segment};

use crate::error::{RequestError, invalid};

#[cfg(test)]
mod tests;

/// Variable used when the body as a whole is unusable.
const BODY: &str = "body";

/// Longest field name echoed back, in characters; longer client keys are cut.
const MAX_FIELD_CHARS: usize = 64;

/// Parses a JSON request body into `T`, or explains the first problem as SVC0002.
///
/// * syntax errors, truncated input and trailing data → variable `body`;
/// * an unknown field → that field's name;
/// * a missing or duplicated field → that field's name;
/// * a value of the wrong type or out of range → the nearest enclosing field name (for an
///   array element, the array's field); `body` if the root itself has the wrong shape.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = field_of(error.inner(), error.path());
        invalid(&shorten(&field))
    })?;
    deserializer.end().map_err(|_| invalid(BODY))?;
    Ok(value)
}

/// Which field an error is about.
fn field_of(error: &serde_json::Error, path: &Path) -> String {
    if error.classify() != Category::Data {
        return BODY.to_owned();
    }
    let message = error.to_string();
    named_in_message(&message)
        .or_else(|| last_field(path))
        .unwrap_or(BODY)
        .to_owned()
}

/// serde names missing and duplicated fields only in its message (the path stops at their
/// parent): "missing field `participant` at line 1 column 30".
fn named_in_message(message: &str) -> Option<&str> {
    ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
}

/// The last object key on the path, skipping array indices.
fn last_field(path: &Path) -> Option<&str> {
    path.iter().rev().find_map(|segment| match segment {
        Segment::Map { key } => Some(key.as_str()),
        _ => None,
    })
}

/// Cuts a client-chosen name to [`MAX_FIELD_CHARS`] characters.
fn shorten(field: &str) -> String {
    field.chars().take(MAX_FIELD_CHARS).collect()
}
