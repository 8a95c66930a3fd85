//! One delivery attempt: POST a stored body to the application and report what happened.
//! The answer's status and the first [`MAX_ANSWER_BYTES`] of its body are returned, so a
//! caller that needs the application's answer (call-direction decisions) can read it.

use std::{error::Error as _, time::Duration};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use http::{HeaderValue, header};
use parlay_kit::config::NotifyConfig;

use crate::NOTIFICATION_ID_HEADER;

/// How much of an answer body an attempt keeps.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The content type used when a job names none (or an invalid one).
const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// Longest error text kept for an attempt.
const MAX_ERROR_CHARS: usize = 1_000;

/// What to send.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The application's URL.
    pub url: &'a str,
    /// The body, sent as is.
    pub body: Bytes,
    /// The body's content type.
    pub content_type: &'a str,
    /// The job id, sent in the notification id header.
    pub notification_id: &'a str,
    /// The job's W3C trace context, sent when no span of this process is current (the
    /// current one, a child of it, is sent otherwise).
    pub traceparent: Option<&'a str>,
    /// A shorter bound than the attempt timeout for this attempt (connect + answer), if any.
    pub timeout: Option<Duration>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The application answered (any status).
    Answered {
        /// The HTTP status.
        status: u16,
        /// The answer's `Content-Type` ("" when absent or not text).
        content_type: String,
        /// The first [`MAX_ANSWER_BYTES`] of the answer body.
        body: Bytes,
    },
    /// No answer: connect error, timeout, reset, …
    Failed {
        /// What went wrong, with its causes.
        error: String,
        /// True when no retry can help (the request could not even be built).
        permanent: bool,
        /// True when the attempt ran out of time (connecting or waiting for the answer).
        timed_out: bool,
    },
}

/// One attempt and its outcome.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// How long until the answer or the failure.
    pub duration: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

impl Attempt {
    /// Did the application accept the notification (2xx)?
    pub fn delivered(&self) -> bool {
        matches!(self.outcome, Outcome::Answered { status, .. } if (200..300).contains(&status))
    }
}

/// Sends webhook POSTs; cheap to share (one connection pool).
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    send_traceparent: bool,
}

impl Sender {
    /// A sender with the attempt timeout of `config`, following no redirects.
    pub fn new(config: &NotifyConfig) -> Result<Self, reqwest::Error> {
        // reqwest is built without a default crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(config.attempt_timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(config.attempt_timeout_ms.max(1)))
            .user_agent(concat!("parlay-notify/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            send_traceparent: config.send_traceparent,
        })
    }

    /// Makes one attempt. Never fails: every problem is an [`Outcome::Failed`].
    pub async fn send(&self, request: Request<'_>) -> Attempt {
        let started_at = Utc::now();
        let clock = std::time::Instant::now();
        let outcome = self.post(request).await;
        Attempt {
            started_at,
            duration: clock.elapsed(),
            outcome,
        }
    }

    async fn post(&self, request: Request<'_>) -> Outcome {
        let content_type = HeaderValue::from_str(request.content_type)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
        let mut builder = self
            .client
            .post(request.url)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT, "application/json")
            .body(request.body);
        match HeaderValue::from_str(request.notification_id) {
            Ok(id) => builder = builder.header(NOTIFICATION_ID_HEADER, id),
            Err(_) => {
                return Outcome::Failed {
                    error: "the job id is not a valid header value".into(),
                    permanent: true,
                    timed_out: false,
                };
            }
        }
        // The attempt's own span (a child of the job's context) when tracing runs, so the
        // application's span hangs under notify's delivery; else the job's stored context.
        let traceparent =
            parlay_kit::telemetry::current_traceparent().or(request.traceparent.map(str::to_owned));
        if self.send_traceparent
            && let Some(tp) = traceparent.and_then(|t| HeaderValue::from_str(&t).ok())
        {
            builder = builder.header("traceparent", tp);
        }
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        let mut response = match builder.send().await {
            Ok(response) => response,
            Err(e) => {
                return Outcome::Failed {
                    error: describe(&e),
                    permanent: e.is_builder(),
                    timed_out: e.is_timeout(),
                };
            }
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // The status decides; a body cut short (timeout, reset) is kept as far as it came.
        let mut body = BytesMut::new();
        while body.len() < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ANSWER_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
        Outcome::Answered {
            status,
            content_type,
            body: body.freeze(),
        }
    }
}

/// The error with its causes, bounded in length.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        format!("timed out: {e}")
    } else {
        e.to_string()
    };
    let mut source = e.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    if text.chars().count() > MAX_ERROR_CHARS {
        text = text.chars().take(MAX_ERROR_CHARS).collect();
    }
    text
}
