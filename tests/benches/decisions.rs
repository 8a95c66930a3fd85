//! Benchmark of the call-direction decision round trip, in embedded mode: a network call
//! attempt (netsim) → the call service asks the application (notify POSTs the
//! callDirection notification) → the application answers `EndCall` → the action is applied
//! at the network. Latency is netsim's own clock: from the attempt it reported to the
//! command carrying the decision out.
//!
//! Open loop: attempts start at a fixed rate whatever the suite's progress, so queueing
//! shows up in the figures instead of slowing the load down.
//!
//! Run: `cargo bench -p parlay-e2e --bench decisions` (release build). Settings by
//! environment: `BENCH_RATES` (attempts per second, comma-separated; default "100,500"),
//! `BENCH_SECS` (seconds per rate; default 10).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Json, Router, routing::post};
use chrono::{DateTime, Utc};
use parlay_kit::Config;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const CALLED: &str = "tel:+15550100001";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rates: Vec<u64> = std::env::var("BENCH_RATES")
        .unwrap_or_else(|_| "100,500".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let secs: u64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);

    let data_dir = std::env::temp_dir().join(format!("parlay-bench-{}", std::process::id()));
    let config = Config {
        http_addr: ([127, 0, 0, 1], 0).into(),
        admin_addr: ([127, 0, 0, 1], 0).into(),
        grpc_addr: ([127, 0, 0, 1], 0).into(),
        data_dir: data_dir.clone(),
        log: "warn".into(),
        ..Config::default()
    };
    let shutdown = CancellationToken::new();
    let served = parlay::up(config.clone(), shutdown.clone()).await?;
    let api = format!("http://{}/1", served.http.expect("gateway listens"));
    let admin = format!("http://{}", served.admin);

    let gateway_db = parlay_kit::db::connect_and_migrate::<parlay_gateway::Migrator>(
        &parlay_kit::db::url_for(&config, "gateway"),
    )
    .await?;
    let (_, key) = parlay_gateway::apps::create(&gateway_db, "bench", Vec::new()).await?;

    let asked = Asked::default();
    let app_url = application(asked.clone()).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let created = http
        .post(format!(
            "{api}/callnotification/subscriptions/callDirection"
        ))
        .bearer_auth(&key)
        .json(&json!({"callDirectionSubscription": {
            "callbackReference": {"notifyURL": app_url},
            "filter": {"address": [CALLED], "criteria": ["CalledNumber"]}}}))
        .send()
        .await?;
    anyhow::ensure!(
        created.status() == 201,
        "subscription refused: {}",
        created.text().await?
    );

    println!(
        "decision round trip (embedded): attempt -> application answers EndCall -> applied at the network"
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>13} {:>13}",
        "rate/s",
        "attempts",
        "decided",
        "by app",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "ask p50/p99",
        "back p50/p99"
    );
    for rate in rates {
        let run = run(&http, &admin, &asked, rate, secs).await?;
        let (ask, back) = (&run.ask_ms, &run.back_ms);
        println!(
            "{:>6} {:>9} {:>9} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>6.1}/{:<6.1} {:>6.1}/{:<6.1}",
            rate,
            run.attempts,
            run.latencies_ms.len(),
            run.by_application,
            percentile(&run.latencies_ms, 0.50),
            percentile(&run.latencies_ms, 0.90),
            percentile(&run.latencies_ms, 0.99),
            percentile(&run.latencies_ms, 1.0),
            percentile(ask, 0.50),
            percentile(ask, 0.99),
            percentile(back, 0.50),
            percentile(back, 0.99),
        );
    }
    println!(
        "ask: attempt -> notification at the application; back: application -> applied at the network"
    );
    shutdown.cancel();
    served.join().await?;
    // BENCH_KEEP=1 keeps the SQLite files, to study where the time went.
    if std::env::var_os("BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&data_dir);
    } else {
        println!("data kept in {}", data_dir.display());
    }
    Ok(())
}

/// When the application was asked about each call session.
#[derive(Clone, Default)]
struct Asked(Arc<Mutex<HashMap<String, DateTime<Utc>>>>);

/// The application: answers every call-direction notification with EndCall at once.
async fn application(asked: Asked) -> anyhow::Result<String> {
    let router = Router::new().route(
        "/direct",
        post(move |Json(body): Json<Value>| {
            let asked = asked.clone();
            async move {
                if let Some(id) = body["callEventNotification"]["callSessionIdentifier"].as_str()
                    && let Ok(mut map) = asked.0.lock()
                {
                    map.insert(id.to_string(), Utc::now());
                }
                Json(json!({"action": {"actionToPerform": "EndCall"}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{addr}/direct"))
}

struct Run {
    attempts: usize,
    latencies_ms: Vec<f64>,
    by_application: usize,
    /// Attempt → the application is asked.
    ask_ms: Vec<f64>,
    /// The application is asked → the action is applied at the network (includes the
    /// application's own, immediate, answer).
    back_ms: Vec<f64>,
}

async fn run(
    http: &reqwest::Client,
    admin: &str,
    asked: &Asked,
    rate: u64,
    secs: u64,
) -> anyhow::Result<Run> {
    let total = (rate * secs) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut started = tokio::task::JoinSet::new();
    for i in 0..total {
        ticker.tick().await;
        let http = http.clone();
        let url = format!("{admin}/netsim/v1/calls");
        started.spawn(async move {
            let reply = http
                .post(url)
                .json(
                    &json!({"callingParticipant": format!("tel:+1556{rate:03}{i:05}"),
                              "calledParticipant": CALLED}),
                )
                .send()
                .await
                .ok()?;
            let body: Value = reply.json().await.ok()?;
            body["callId"].as_str().map(str::to_string)
        });
    }
    let mut ids = Vec::with_capacity(total);
    while let Some(done) = started.join_next().await {
        if let Ok(Some(id)) = done {
            ids.push(id);
        }
    }
    // Every attempt is decided within the response timeout (5 s) by the application or
    // by the default; give the tail a bounded while to drain.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut latencies_ms = Vec::with_capacity(ids.len());
    let mut ask_ms = Vec::new();
    let mut back_ms = Vec::new();
    let mut by_application = 0;
    for id in &ids {
        loop {
            let call: Value = http
                .get(format!("{admin}/netsim/v1/calls/{id}"))
                .send()
                .await?
                .json()
                .await?;
            if let Some(ms) = decided_after_ms(&call) {
                latencies_ms.push(ms);
                let asked_at = call["callSessionId"]
                    .as_str()
                    .and_then(|id| asked.0.lock().ok()?.get(id).copied());
                if let (Some(asked_at), Some(attempted), Some(decided)) = (
                    asked_at,
                    time(&call["attemptedAt"]),
                    time(&call["decidedAt"]),
                ) {
                    ask_ms.push(millis(asked_at - attempted));
                    back_ms.push(millis(decided - asked_at));
                }
                if call["decision"]["source"] == "application" {
                    by_application += 1;
                }
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "call {id} never decided: {call}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for v in [&mut latencies_ms, &mut ask_ms, &mut back_ms] {
        v.sort_by(f64::total_cmp);
    }
    Ok(Run {
        attempts: total,
        latencies_ms,
        by_application,
        ask_ms,
        back_ms,
    })
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn millis(d: chrono::TimeDelta) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

/// Milliseconds from the attempt to the decision's application, from netsim's record.
fn decided_after_ms(call: &Value) -> Option<f64> {
    Some(millis(
        time(&call["decidedAt"])? - time(&call["attemptedAt"])?,
    ))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
