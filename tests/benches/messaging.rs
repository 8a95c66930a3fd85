//! Benchmarks of messaging in embedded mode (release build):
//!
//! 1. **Accepted SMS per second** through the gateway: `BENCH_CONCURRENCY` clients (default
//!    32) POST `outboundMessageRequest`s with a `receiptRequest` for `BENCH_SECS` seconds
//!    (default 10), each waiting for its answer before the next. A request counts only when
//!    answered 201, which the gateway sends after the messaging service committed the
//!    request, its delivery rows and its outbox row.
//! 2. **Network receipt → delivered notification**: SMS sent open-loop at each rate of
//!    `BENCH_RATES` (default "100,300") for `BENCH_SECS`; netsim reports DeliveredToNetwork
//!    and DeliveredToTerminal for each; the latency of each notification is from the time
//!    netsim logged sending the receipt to the time the local receiver got the
//!    `deliveryInfoNotification` (one clock: the same machine). netsim's log keeps the last
//!    10,000 entries: keep rate × seconds × 3 below that.
//!
//! Run: `cargo bench -p parlay-e2e --bench messaging`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, routing::post};
use chrono::{DateTime, Utc};
use parlay_kit::Config;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const SENDER: &str = "tel:+15551230001";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let secs: u64 = env("BENCH_SECS", "10").parse()?;
    let concurrency: usize = env("BENCH_CONCURRENCY", "32").parse()?;
    let rates: Vec<u64> = env("BENCH_RATES", "100,300")
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();

    let data_dir = std::env::temp_dir().join(format!("parlay-bench-msg-{}", std::process::id()));
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
    let received = Received::default();
    let hook = receiver(received.clone()).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let requests = format!("{api}/messaging/outbound/tel%3A%2B15551230001/requests");
    let body = move |to: String, text: &str| {
        json!({"outboundMessageRequest": {
            "address": [to], "senderAddress": SENDER,
            "outboundSMSTextMessage": {"message": text},
            "receiptRequest": {"notifyURL": hook, "callbackData": "bench"}}})
    };

    // Warm-up: connections, caches, the first SQLite pages.
    for i in 0..200 {
        let r = http
            .post(&requests)
            .bearer_auth(&key)
            .json(&body(format!("tel:+1559000{i:04}"), "warm-up"))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "warm-up refused: {}", r.text().await?);
    }

    // 1. Accepted per second, closed loop.
    let until = Instant::now() + Duration::from_secs(secs);
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..concurrency {
        let (http, requests, key) = (http.clone(), requests.clone(), key.clone());
        let body = body.clone();
        clients.spawn(async move {
            let mut latencies = Vec::new();
            let mut refused = 0u64;
            let mut i = 0u64;
            while Instant::now() < until {
                i += 1;
                let started = Instant::now();
                let r = http
                    .post(&requests)
                    .bearer_auth(&key)
                    .json(&body(
                        format!("tel:+1558{c:03}{i:06}"),
                        "Your code is 123456",
                    ))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 201 => {
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0)
                    }
                    _ => refused += 1,
                }
            }
            (latencies, refused)
        });
    }
    let mut accepted = Vec::new();
    let mut refused = 0;
    while let Some(done) = clients.join_next().await {
        let (l, r) = done?;
        accepted.extend(l);
        refused += r;
    }
    accepted.sort_by(f64::total_cmp);
    println!("## SMS accepted through the gateway (embedded, {concurrency} clients, {secs} s)\n");
    println!("| accepted | per second | refused | p50 ms | p99 ms | p99.9 ms |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {:.0} | {refused} | {:.1} | {:.1} | {:.1} |\n",
        accepted.len(),
        accepted.len() as f64 / secs as f64,
        percentile(&accepted, 0.5),
        percentile(&accepted, 0.99),
        percentile(&accepted, 0.999),
    );

    // Let the receipts of part 1 drain before measuring part 2.
    drain(&received, Duration::from_secs(120)).await;

    // 2. Receipt → notification at fixed rates.
    println!("## Network receipt → deliveryInfoNotification received (embedded)\n");
    println!("| rate /s | sent | notified | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for rate in rates {
        received.0.lock().unwrap().clear();
        let total = (rate * secs) as usize;
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut sent = tokio::task::JoinSet::new();
        for i in 0..total {
            ticker.tick().await;
            let (http, requests, key) = (http.clone(), requests.clone(), key.clone());
            let b = body(format!("tel:+1557{rate:04}{i:05}"), "receipt please");
            sent.spawn(async move {
                let r = http
                    .post(requests)
                    .bearer_auth(key)
                    .json(&b)
                    .send()
                    .await
                    .ok()?;
                (r.status() == 201).then_some(())
            });
        }
        let mut ok = 0;
        while let Some(done) = sent.join_next().await {
            ok += usize::from(matches!(done, Ok(Some(()))));
        }
        // Two notifications per message (DeliveredToNetwork, DeliveredToTerminal).
        let deadline = Instant::now() + Duration::from_secs(120);
        while received.0.lock().unwrap().len() < ok * 2 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log: Value = http
            .get(format!("{admin}/netsim/v1/log"))
            .send()
            .await?
            .json()
            .await?;
        let mut receipts: HashMap<StatusKey, DateTime<Utc>> = HashMap::new();
        for e in log["commands"].as_array().into_iter().flatten() {
            if e["kind"] == "receipt"
                && let (Some(r), Some(a), Some(s), Some(at)) = (
                    e["requestId"].as_str(),
                    e["address"].as_str(),
                    e["status"].as_str(),
                    e["at"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
                )
            {
                receipts.insert((r.into(), a.into(), s.into()), at.with_timezone(&Utc));
            }
        }
        let mut latencies: Vec<f64> = received
            .0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(key, at)| {
                let sent = receipts.get(key)?;
                Some((*at - *sent).num_microseconds()? as f64 / 1000.0)
            })
            .collect();
        latencies.sort_by(f64::total_cmp);
        println!(
            "| {rate} | {ok} | {} | {:.1} | {:.1} | {:.1} |",
            latencies.len(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(f64::NAN),
        );
    }

    shutdown.cancel();
    let _ = served.join().await;
    if std::env::var_os("BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    Ok(())
}

/// One status of one recipient: (request id, address, status).
type StatusKey = (String, String, String);

/// Notifications received: which status → when.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<HashMap<StatusKey, DateTime<Utc>>>>);

async fn receiver(received: Received) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/dlr", listener.local_addr()?);
    let app = Router::new().route(
        "/dlr",
        post(move |body: Bytes| {
            let received = received.clone();
            async move {
                let at = Utc::now();
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    let n = &v["deliveryInfoNotification"];
                    let request = n["link"][0]["href"]
                        .as_str()
                        .and_then(|h| h.rsplit('/').next())
                        .unwrap_or_default();
                    let info = &n["deliveryInfo"];
                    let key = (
                        request.to_string(),
                        info["address"].as_str().unwrap_or_default().to_string(),
                        info["deliveryStatus"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    );
                    received.0.lock().unwrap().insert(key, at);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// Waits until no notification arrived for a second (or `limit` passed).
async fn drain(received: &Received, limit: Duration) {
    let until = Instant::now() + limit;
    let mut last = usize::MAX;
    while Instant::now() < until {
        let now = received.0.lock().unwrap().len();
        if now == last {
            return;
        }
        last = now;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
