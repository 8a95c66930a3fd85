//! A recording webhook receiver on 127.0.0.1:0: keeps every request (method, path, headers,
//! body) and answers from a script of replies, then with a default status.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Answer with this status.
    Status(u16),
    /// Answer with this status and this JSON body.
    Json(u16, &'static str),
    /// Answer with this status after this delay.
    Slow(Duration, u16),
    /// Never answer.
    Hang,
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The notification id header.
    pub fn notification_id(&self) -> &str {
        self.header(parlay_notify::NOTIFICATION_ID_HEADER)
    }
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    default: u16,
    received: Vec<Recorded>,
}

type Shared = Arc<Mutex<Script>>;

/// A running receiver; it stops with the test's runtime.
pub struct Receiver {
    base: String,
    state: Shared,
}

impl Receiver {
    /// Answers `script` in order, then 200.
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        Self::with_default(script, 200).await
    }

    /// Answers `script` in order, then `default`.
    pub async fn with_default(script: impl IntoIterator<Item = Reply>, default: u16) -> Self {
        let state: Shared = Arc::new(Mutex::new(Script {
            replies: script.into_iter().collect(),
            default,
            received: Vec::new(),
        }));
        let router = Router::new().fallback(record).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { base, state }
    }

    /// The absolute URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().received.clone()
    }

    /// The requests carrying notification id `id`.
    pub fn for_id(&self, id: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.notification_id() == id)
            .collect()
    }
}

async fn record(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut script = state.lock().unwrap();
        script.received.push(Recorded {
            method,
            path: uri.path().to_string(),
            headers,
            body,
        });
        let default = Reply::Status(script.default);
        script.replies.pop_front().unwrap_or(default)
    };
    let status = |code| StatusCode::from_u16(code).unwrap();
    match reply {
        Reply::Status(code) => status(code).into_response(),
        Reply::Json(code, body) => (
            status(code),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Reply::Slow(delay, code) => {
            tokio::time::sleep(delay).await;
            status(code).into_response()
        }
        Reply::Hang => std::future::pending().await,
    }
}
