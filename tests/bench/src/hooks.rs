//! The applications' webhook receivers: each notification is keyed by an id taken from its
//! body (which request, message or session it is about) and its arrival time recorded, so
//! the harness can reconcile: lost (expected, never came), duplicated (came twice), late.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::Value;
use tokio::time::Instant;

/// Takes the reconciliation key out of a notification body (`None`: not one we count).
pub type KeyOf = fn(&Value) -> Option<String>;

#[derive(Clone)]
pub struct Hooks {
    seen: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
    key_of: KeyOf,
    /// The JSON body to answer with (a call-direction decision); none: 204.
    answer: Option<&'static str>,
}

/// Reconciliation of the notifications against what was expected.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Reconciled {
    pub expected: u64,
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Keys received that nobody expected.
    pub unexpected: u64,
}

impl Hooks {
    pub fn new(key_of: KeyOf) -> Hooks {
        Hooks {
            seen: Arc::default(),
            key_of,
            answer: None,
        }
    }

    /// Receivers that answer every notification with `json` (200, application/json).
    pub fn answering(key_of: KeyOf, json: &'static str) -> Hooks {
        Hooks {
            answer: Some(json),
            ..Hooks::new(key_of)
        }
    }

    /// Starts a receiver on a port of its own; its URL. Many receivers may share one
    /// [`Hooks`] (H3's hundred endpoints).
    pub async fn listen(&self) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(url)
    }

    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }

    /// When `key` first arrived.
    pub fn first(&self, key: &str) -> Option<Instant> {
        self.seen.lock().unwrap().get(key).map(|v| v[0])
    }

    /// Waits until every key of `expected` arrived, or nothing new came for `quiet`, or
    /// `limit` passed.
    pub async fn wait_for(&self, expected: &[String], quiet: Duration, limit: Duration) {
        self.wait_until(
            |seen| expected.iter().all(|k| seen.contains_key(k)),
            quiet,
            limit,
        )
        .await;
    }

    /// Waits until `n` keys that `wanted` picks arrived, or nothing new came for `quiet`,
    /// or `limit` passed.
    pub async fn wait_count(
        &self,
        wanted: impl Fn(&str) -> bool,
        n: usize,
        quiet: Duration,
        limit: Duration,
    ) {
        self.wait_until(
            |seen| seen.keys().filter(|k| wanted(k)).count() >= n,
            quiet,
            limit,
        )
        .await;
    }

    /// Waits until nothing new came for `quiet`.
    pub async fn wait_quiet(&self, quiet: Duration) {
        self.wait_until(|_| false, quiet, quiet * 10).await;
    }

    async fn wait_until(
        &self,
        done: impl Fn(&HashMap<String, Vec<Instant>>) -> bool,
        quiet: Duration,
        limit: Duration,
    ) {
        let until = Instant::now() + limit;
        let mut last = (usize::MAX, Instant::now());
        loop {
            let (all, now) = {
                let seen = self.seen.lock().unwrap();
                (done(&seen), seen.len())
            };
            if all || Instant::now() > until {
                return;
            }
            if now != last.0 {
                last = (now, Instant::now());
            } else if last.1.elapsed() > quiet {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many keys that `wanted` picks arrived, and when the last of them first did.
    pub fn count(&self, wanted: impl Fn(&str) -> bool) -> (usize, Option<Instant>) {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(k, _)| wanted(k))
            .fold((0, None), |(n, last), (_, times)| {
                (n + 1, last.max(Some(times[0])))
            })
    }

    pub fn reconcile(&self, expected: &[String]) -> Reconciled {
        let seen = self.seen.lock().unwrap();
        let wanted: std::collections::HashSet<&str> = expected.iter().map(String::as_str).collect();
        let mut r = Reconciled {
            expected: wanted.len() as u64,
            ..Reconciled::default()
        };
        for (key, times) in seen.iter() {
            if wanted.contains(key.as_str()) {
                r.received += 1;
                r.duplicated += times.len() as u64 - 1;
            } else {
                r.unexpected += 1;
            }
        }
        r.lost = r.expected - r.received;
        r
    }

    /// Latencies (ms, sorted) of the expected keys from the start each was given.
    pub fn latencies(&self, started: &HashMap<String, Instant>) -> Vec<f64> {
        let mut ms: Vec<f64> = self
            .timeline(started)
            .into_iter()
            .map(|(_, ms)| ms)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    }

    /// Each operation of `started` that arrived: its start and its latency in milliseconds,
    /// in the order they started.
    pub fn timeline(&self, started: &HashMap<String, Instant>) -> Vec<(Instant, f64)> {
        let seen = self.seen.lock().unwrap();
        let mut timeline: Vec<(Instant, f64)> = started
            .iter()
            .filter_map(|(k, t)| {
                Some((
                    *t,
                    seen.get(k)?[0].duration_since(*t).as_secs_f64() * 1000.0,
                ))
            })
            .collect();
        timeline.sort_by_key(|(t, _)| *t);
        timeline
    }

    /// The last first-arrival among `keys`.
    pub fn last_of(&self, keys: &[String]) -> Option<Instant> {
        let seen = self.seen.lock().unwrap();
        keys.iter().filter_map(|k| seen.get(k).map(|v| v[0])).max()
    }
}

async fn receive(State(hooks): State<Hooks>, body: Bytes) -> Response {
    let at = Instant::now();
    if let Ok(v) = serde_json::from_slice::<Value>(&body)
        && let Some(key) = (hooks.key_of)(&v)
    {
        hooks.seen.lock().unwrap().entry(key).or_default().push(at);
    }
    match hooks.answer {
        Some(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}
