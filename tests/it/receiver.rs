//! A recording webhook receiver: stores every request (headers, JSON body) and answers
//! from a programmable plan (a status, or hanging to simulate a slow application).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Never answers (the request is held until the client gives up).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Value,
}

impl Received {
    pub fn notification_id(&self) -> String {
        self.headers
            .get("x-parlay-notification-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// `callEventNotification.eventDescription.callEvent`.
    pub fn call_event(&self) -> &str {
        self.body["callEventNotification"]["eventDescription"]["callEvent"]
            .as_str()
            .unwrap_or_default()
    }

    pub fn called(&self) -> &str {
        self.body["callEventNotification"]["calledParticipant"]
            .as_str()
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    plan: VecDeque<Answer>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    /// The next requests are answered like this, in order; then 204.
    pub fn plan(&self, answers: &[Answer]) {
        self.inner
            .lock()
            .unwrap()
            .plan
            .extend(answers.iter().copied());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }
}

async fn hook(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received {
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        inner.plan.pop_front().unwrap_or(Answer::Status(204))
    };
    match answer {
        Answer::Status(s) => StatusCode::from_u16(s).unwrap(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::NO_CONTENT
        }
    }
}
