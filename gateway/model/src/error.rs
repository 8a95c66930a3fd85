//! The `requestError` body (common.md §6): a service or policy exception id plus its variables.
//!
//! A [`RequestError`] carries only the id and the variables; the text template is looked up
//! with [`text_for`] when the body is written, so every response uses the same wording.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

mod texts;

pub use texts::text_for;

/// Which of the two exception elements the error is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExceptionKind {
    /// `serviceException`, ids `SVCnnnn`; usually HTTP 400.
    Service,
    /// `policyException`, ids `POLnnnn`; usually HTTP 403.
    Policy,
}

impl ExceptionKind {
    /// The kind an id belongs to: `POL…` is a policy exception, anything else a service one.
    pub fn of_id(message_id: &str) -> ExceptionKind {
        let is_policy = message_id
            .get(..3)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("POL"));
        if is_policy {
            ExceptionKind::Policy
        } else {
            ExceptionKind::Service
        }
    }
}

/// A ParlayREST exception: id (`SVC0002`, `POL0001`, …) and the values for its `%n` placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    /// Service or policy exception.
    pub kind: ExceptionKind,
    /// `SVC` or `POL` followed by four digits.
    pub message_id: String,
    /// Values for `%1`, `%2`… in the text, in order.
    pub variables: Vec<String>,
}

impl RequestError {
    /// A `serviceException` with the given id and variables.
    pub fn service(id: &str, vars: impl IntoIterator<Item = impl Into<String>>) -> RequestError {
        Self::with_kind(ExceptionKind::Service, id, vars)
    }

    /// A `policyException` with the given id and variables.
    pub fn policy(id: &str, vars: impl IntoIterator<Item = impl Into<String>>) -> RequestError {
        Self::with_kind(ExceptionKind::Policy, id, vars)
    }

    /// An exception whose kind follows the id's `SVC`/`POL` prefix.
    pub fn from_id(id: &str, vars: impl IntoIterator<Item = impl Into<String>>) -> RequestError {
        Self::with_kind(ExceptionKind::of_id(id), id, vars)
    }

    /// An exception without variables, kind from the id's prefix.
    pub fn bare(id: &str) -> RequestError {
        Self::from_id(id, None::<String>)
    }

    fn with_kind(
        kind: ExceptionKind,
        id: &str,
        vars: impl IntoIterator<Item = impl Into<String>>,
    ) -> RequestError {
        RequestError {
            kind,
            message_id: id.to_owned(),
            variables: vars.into_iter().map(Into::into).collect(),
        }
    }

    /// The text template for this id, as sent in the `text` field.
    pub fn text(&self) -> &'static str {
        text_for(&self.message_id)
    }

    /// The text with `%n` replaced by the n-th variable (for logs and `Display`).
    pub fn message(&self) -> String {
        fill(self.text(), &self.variables)
    }
}

/// SVC0002 "Invalid input value for message part %1" naming `field`.
pub fn invalid(field: &str) -> RequestError {
    RequestError::service("SVC0002", [field])
}

/// Replaces each `%n` with `variables[n - 1]`; placeholders without a value stay as they are.
fn fill(template: &str, variables: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let value = after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| variables.get(i));
        match value {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.message_id, self.message())
    }
}

impl std::error::Error for RequestError {}

/// `{"requestError": {...}}`
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    #[serde(rename = "requestError")]
    request_error: T,
}

/// The choice between the two exception elements.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Choice<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    service_exception: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_exception: Option<T>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExceptionOut<'a> {
    message_id: &'a str,
    text: &'a str,
    variables: &'a [String],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExceptionIn {
    message_id: String,
    // `text` is ignored: the template is implied by the id.
    #[serde(default, deserialize_with = "crate::tolerant::string_or_many")]
    variables: Vec<String>,
}

impl Serialize for RequestError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let exception = Some(ExceptionOut {
            message_id: &self.message_id,
            text: self.text(),
            variables: &self.variables,
        });
        let choice = match self.kind {
            ExceptionKind::Service => Choice {
                service_exception: exception,
                policy_exception: None,
            },
            ExceptionKind::Policy => Choice {
                service_exception: None,
                policy_exception: exception,
            },
        };
        Envelope {
            request_error: choice,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RequestError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let envelope = Envelope::<Choice<ExceptionIn>>::deserialize(deserializer)?;
        let choice = envelope.request_error;
        let (kind, exception) = match (choice.service_exception, choice.policy_exception) {
            (Some(exception), None) => (ExceptionKind::Service, exception),
            (None, Some(exception)) => (ExceptionKind::Policy, exception),
            _ => {
                return Err(de::Error::custom(
                    "requestError needs exactly one of serviceException and policyException",
                ));
            }
        };
        Ok(RequestError {
            kind,
            message_id: exception.message_id,
            variables: exception.variables,
        })
    }
}

#[cfg(test)]
mod tests;
