//! A recording webhook receiver: stores every request (headers, JSON body) and answers
//! from a programmable plan (a status, a JSON body such as a call-direction `action`, an
//! answer held back for a while, or hanging to simulate a dead application).

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
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum Answer {
    Status(u16),
    /// This status with this JSON body (`Content-Type: application/json`).
    Json(u16, Value),
    /// The inner answer, after this many milliseconds.
    Delay(u64, Box<Answer>),
    /// Never answers (the request is held until the client gives up).
    Hang,
}

impl Answer {
    /// A call-direction decision: 200 with `{"action": {"actionToPerform": action}}`.
    pub fn action(action: &str) -> Answer {
        Answer::Json(
            200,
            serde_json::json!({"action": {"actionToPerform": action}}),
        )
    }

    async fn respond(self) -> Response {
        let mut answer = self;
        loop {
            match answer {
                Answer::Status(s) => return StatusCode::from_u16(s).unwrap().into_response(),
                Answer::Json(s, body) => {
                    return (StatusCode::from_u16(s).unwrap(), axum::Json(body)).into_response();
                }
                Answer::Delay(ms, inner) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    answer = *inner;
                }
                Answer::Hang => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return StatusCode::NO_CONTENT.into_response();
                }
            }
        }
    }
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

    /// `callEventNotification.notificationType` (`CallEvent` or `CallDirection`).
    pub fn notification_type(&self) -> &str {
        self.body["callEventNotification"]["notificationType"]
            .as_str()
            .unwrap_or_default()
    }

    /// `callEventNotification.callSessionIdentifier`.
    pub fn call_session(&self) -> &str {
        self.body["callEventNotification"]["callSessionIdentifier"]
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
            .extend(answers.iter().cloned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits at most `secs` for a received request that `matches`; returns the first.
    pub async fn until(
        &self,
        what: &str,
        secs: u64,
        matches: impl Fn(&Received) -> bool,
    ) -> Received {
        let matches = &matches;
        crate::harness::eventually(what, secs, || async move {
            self.received().into_iter().find(|r| matches(r))
        })
        .await
    }
}

async fn hook(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received {
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        inner.plan.pop_front().unwrap_or(Answer::Status(204))
    };
    answer.respond().await
}
