//! The suite's scenarios H1–H7 (docs/benchmarks.md). Each starts a suite of its own, warms
//! it up, then measures `ctx.runs` runs; every figure of a run goes in its [`Run`].

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::ensure;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{
    Ctx, Run,
    hooks::Hooks,
    load::{self, Samples},
    suite::Suite,
};

const SENDER: &str = "tel:+15551230001";
const CALLED: &str = "tel:+15550100001";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Percent-encodes a user id for a path segment.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Adds the latency quantiles of `ms` (sorted) to `run`, as `p50_ms`, `p99_ms`, `p999_ms`,
/// `max_ms`.
pub fn quantiles(run: &mut Run, ms: &[f64]) {
    for (k, q) in [
        ("p50_ms", 0.5),
        ("p99_ms", 0.99),
        ("p999_ms", 0.999),
        ("max_ms", 1.0),
    ] {
        run.insert(k.into(), load::quantile(ms, q));
    }
}

/// The suite's CPU over a phase, per 1,000 operations, and its peak memory; for a
/// distributed suite also the CPU of the PostgreSQL and NATS it runs on, when they run on
/// this machine (`pg_cpu_s_per_1k`, `nats_cpu_s_per_1k`): its processes share the cores
/// with them, and their work is the suite's.
pub struct Meter {
    pids: Vec<u32>,
    before: crate::sys::Usage,
    infrastructure: Vec<(crate::sys::Tree, f64)>,
}

impl Meter {
    pub fn start(suite: &Suite) -> Meter {
        let mut meter = Meter::of(suite.pids());
        meter.infrastructure = suite
            .local_infrastructure()
            .into_iter()
            .filter_map(|tree| Some((tree, tree.cpu_secs()?)))
            .collect();
        meter
    }

    /// Of the processes `pids`.
    pub fn of(pids: Vec<u32>) -> Meter {
        crate::sys::reset_peaks(&pids);
        Meter {
            before: crate::sys::usage(&pids),
            pids,
            infrastructure: Vec::new(),
        }
    }

    /// CPU seconds the processes used since the start.
    pub fn cpu_secs(&self) -> f64 {
        crate::sys::usage(&self.pids).cpu_secs - self.before.cpu_secs
    }

    pub fn finish(self, run: &mut Run, ops: u64) {
        let after = crate::sys::usage(&self.pids);
        let per_1k = |cpu: f64| cpu * 1000.0 / ops.max(1) as f64;
        let cpu = after.cpu_secs - self.before.cpu_secs;
        run.insert("cpu_s".into(), cpu);
        run.insert("cpu_s_per_1k".into(), per_1k(cpu));
        run.insert("peak_rss_mib".into(), after.peak_rss_mib);
        run.insert("end_anon_mib".into(), after.anon_mib);
        for (tree, before) in self.infrastructure {
            if let Some(now) = tree.cpu_secs() {
                let cpu = now - before;
                run.insert(format!("{}_cpu_s", tree.name), cpu);
                run.insert(format!("{}_cpu_s_per_1k", tree.name), per_1k(cpu));
            }
        }
    }
}

/// Runs `work` on a suite of its own (started with the settings `env`), then stops the
/// suite whatever `work` answered.
async fn with_suite<T>(
    ctx: &Ctx,
    env: &[(&str, &str)],
    work: impl AsyncFnOnce(&Suite) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut suite = Suite::start(&ctx.options(env)).await?;
    let result = work(&suite).await;
    suite.stop().await;
    result
}

/// A rate held: every operation answered as it should (at least 95 % of those started, none
/// failed) and p99 under `p99_ms`.
fn held(s: &Samples, p99_ms: f64) -> bool {
    s.failed == 0 && s.ok() as f64 >= 0.95 * s.started as f64 && s.quantile(0.99) < p99_ms
}

/// Steps the offered rate up through `rates` (each for `secs`) until one is not held; the
/// run's figures are those of the highest held rate (`rate` is what was achieved there).
pub async fn max_sustained<F, Fut>(
    label: &str,
    rates: &[f64],
    secs: f64,
    p99_ms: f64,
    pids: &[u32],
    op: F,
) -> Run
where
    F: Fn(u64) -> Fut + Clone,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let mut best = Run::new();
    let mut offset = 0u64;
    for &rate in rates {
        let meter = Meter::of(pids.to_vec());
        let base = offset;
        let op = op.clone();
        let s = load::open(
            &format!("{label} {rate}/s"),
            rate,
            Duration::from_secs_f64(secs),
            Duration::from_secs(10),
            move |i| op(base + i),
        )
        .await;
        offset += s.started;
        let ok = held(&s, p99_ms);
        eprintln!(
            "  {label} offered {rate}/s: achieved {:.0}/s, failed {}, p99 {:.1} ms → {}",
            s.rate(),
            s.failed,
            s.quantile(0.99),
            if ok { "held" } else { "not held" }
        );
        if !ok {
            best.insert("first_not_held".into(), rate);
            break;
        }
        let mut run = Run::from([("rate".into(), s.rate()), ("offered".into(), rate)]);
        quantiles(&mut run, &s.ok_ms);
        meter.finish(&mut run, s.ok());
        best = run;
    }
    best
}

fn sms_body(to: &str, hook: &str) -> Value {
    json!({"outboundMessageRequest": {
        "address": [to], "senderAddress": SENDER,
        "outboundSMSTextMessage": {"message": "Your code is 123456"},
        "receiptRequest": {"notifyURL": hook, "callbackData": "bench"}}})
}

/// What the receipt keys of the sends wrk made start with.
const WRK_KEY_PREFIX: &str = "wrk:";

/// Whether `key` ([`receipt_key`]) is the `DeliveredToTerminal` of a send wrk made.
pub fn wrk_delivered(key: &str) -> bool {
    key.starts_with(WRK_KEY_PREFIX) && key.ends_with("/DeliveredToTerminal")
}

/// `request id/status` of a deliveryInfoNotification, after `wrk:` for the sends wrk
/// made (their `callbackData`, [`crate::peer::WRK_CALLBACK_DATA`]).
fn receipt_key(v: &Value) -> Option<String> {
    let n = &v["deliveryInfoNotification"];
    let request = n["link"][0]["href"].as_str()?.rsplit('/').next()?;
    let by = if n["callbackData"] == crate::peer::WRK_CALLBACK_DATA {
        WRK_KEY_PREFIX
    } else {
        ""
    };
    Some(format!(
        "{by}{request}/{}",
        n["deliveryInfo"]["deliveryStatus"].as_str()?
    ))
}

pub fn sms_url(suite: &Suite) -> String {
    format!("{}/messaging/outbound/{}/requests", suite.api, enc(SENDER))
}

/// H1: the highest rate of send-SMS requests answered 201 with p99 under 50 ms (open model),
/// every accepted request's DeliveredToTerminal receipt reconciled; then the same suite
/// loaded the way the Kannel peer is (wrk, 2 threads, 32 connections, 10 s).
pub async fn h1(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    with_suite(ctx, &[], async |suite| {
        let hooks = Hooks::new(receipt_key);
        let hook = hooks.listen().await?;
        let http = client();
        let url = sms_url(suite);
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let send = {
            let (http, url, key, hook, accepted) = (
                http.clone(),
                url.clone(),
                suite.key.clone(),
                hook.clone(),
                accepted.clone(),
            );
            move |i: u64| {
                let req = http
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&sms_body(&format!("tel:+1558{i:07}"), &hook));
                let accepted = accepted.clone();
                async move {
                    let Ok(r) = req.send().await else {
                        return false;
                    };
                    if r.status() != StatusCode::CREATED {
                        return false;
                    }
                    if let Some(id) = r
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .and_then(|l| l.rsplit('/').next())
                    {
                        accepted
                            .lock()
                            .unwrap()
                            .push(format!("{id}/DeliveredToTerminal"));
                    }
                    true
                }
            }
        };
        load::open(
            "h1 warm-up",
            ctx.pick(200.0, 20.0),
            Duration::from_secs(1),
            Duration::from_secs(10),
            send.clone(),
        )
        .await;
        let rates = ctx.pick(
            vec![
                250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0,
                5000.0, 6000.0, 7000.0, 8000.0, 10000.0, 12000.0,
            ],
            vec![20.0, 40.0],
        );
        let mut runs = Vec::new();
        for n in 0..ctx.runs {
            accepted.lock().unwrap().clear();
            hooks.clear();
            let mut run = max_sustained(
                &format!("h1 run {}", n + 1),
                &rates,
                ctx.pick(5.0, 1.0),
                50.0,
                &suite.pids(),
                send.clone(),
            )
            .await;
            let loaded = Instant::now();
            let expected = accepted.lock().unwrap().clone();
            hooks
                .wait_for(&expected, Duration::from_secs(10), Duration::from_secs(120))
                .await;
            // How long the receipts of the sends accepted kept arriving after the last
            // step's load: a suite that answers sends by leaving receipts queued shows here.
            let last = hooks.last_of(&expected).unwrap_or(loaded);
            run.insert(
                "receipts_settled_ms".into(),
                last.saturating_duration_since(loaded).as_secs_f64() * 1000.0,
            );
            let r = hooks.reconcile(&expected);
            run.insert("accepted".into(), r.expected as f64);
            run.insert("lost".into(), r.lost as f64);
            run.insert("duplicated".into(), r.duplicated as f64);
            runs.push(run);
        }
        if let Some(wrk) = crate::peer::wrk_h1(ctx, suite, &hooks, &hook).await? {
            for run in &mut runs {
                run.extend(wrk.clone());
            }
        }
        anyhow::Ok(runs)
    })
    .await
}

/// The text of an inboundMessageNotification (each injected message's id).
fn inbound_key(v: &Value) -> Option<String> {
    v["inboundMessageNotification"]["inboundMessage"]["inboundSMSTextMessage"]["message"]
        .as_str()
        .map(str::to_string)
}

/// A subscription to the inbound messages of `registration`, notified at `hook`.
async fn subscribe_inbound(
    http: &reqwest::Client,
    suite: &Suite,
    registration: &str,
    hook: &str,
) -> anyhow::Result<()> {
    let r = http
        .post(format!("{}/messaging/inbound/subscriptions", suite.api))
        .bearer_auth(&suite.key)
        .json(&json!({"subscription": {
            "callbackReference": {"notifyURL": hook, "callbackData": registration},
            "destinationAddress": [registration]}}))
        .send()
        .await?;
    ensure!(
        r.status() == StatusCode::CREATED,
        "inbound subscription refused: {}",
        r.text().await?
    );
    Ok(())
}

/// Injects the network's receipt of an SMS `text` for `registration` (netsim); true on 202.
fn inject(
    http: &reqwest::Client,
    netsim: &str,
    registration: String,
    text: String,
) -> impl std::future::Future<Output = bool> + Send + 'static + use<> {
    let req = http
        .post(format!("{netsim}/netsim/v1/messages"))
        .json(&json!({
        "senderAddress": "tel:+15557654321", "destinationAddress": registration, "message": text}));
    async move { matches!(req.send().await, Ok(r) if r.status() == StatusCode::ACCEPTED) }
}

/// Injects `rate`/s inbound messages for `secs` to the registrations `dest(i)`, each with a
/// unique text; waits for their notifications. The start time of each, by text.
async fn inbound_load(
    label: &str,
    suite: &Suite,
    http: &reqwest::Client,
    hooks: &Hooks,
    rate: f64,
    secs: f64,
    dest: fn(u64) -> u32,
) -> (Samples, HashMap<String, Instant>) {
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let tag = format!("{label}-{}", rand_tag());
    let s = {
        let (http, netsim, started, tag) = (
            http.clone(),
            suite.netsim.clone(),
            started.clone(),
            tag.clone(),
        );
        load::open(
            label,
            rate,
            Duration::from_secs_f64(secs),
            Duration::from_secs(10),
            move |i| {
                let text = format!("{tag}-{i}");
                started.lock().unwrap().insert(text.clone(), Instant::now());
                inject(&http, &netsim, dest(i).to_string(), text)
            },
        )
        .await
    };
    let started = std::mem::take(&mut *started.lock().unwrap());
    let expected: Vec<String> = started.keys().cloned().collect();
    hooks
        .wait_for(&expected, Duration::from_secs(10), Duration::from_secs(120))
        .await;
    (s, started)
}

fn rand_tag() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64 % 1_000_000_007)
        .unwrap_or(0)
}

fn reconciled(run: &mut Run, hooks: &Hooks, started: &HashMap<String, Instant>) {
    let expected: Vec<String> = started.keys().cloned().collect();
    let r = hooks.reconcile(&expected);
    run.insert("events".into(), r.expected as f64);
    run.insert("delivered".into(), r.received as f64);
    run.insert("lost".into(), r.lost as f64);
    run.insert("duplicated".into(), r.duplicated as f64);
}

/// H2: inbound SMS injected at the network (netsim) at 1,000/s → the application's webhook;
/// latency from the injection's start to the webhook's arrival (one clock: this process).
pub async fn h2(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    with_suite(ctx, &[], async |suite| {
        let hooks = Hooks::new(inbound_key);
        let hook = hooks.listen().await?;
        let http = client();
        subscribe_inbound(&http, suite, "3000", &hook).await?;
        let (rate, secs) = (ctx.pick(1000.0, 50.0), ctx.pick(5.0, 1.0));
        inbound_load("h2 warm-up", suite, &http, &hooks, rate / 4.0, 1.0, |_| {
            3000
        })
        .await;
        let mut runs = Vec::new();
        for n in 0..ctx.runs {
            hooks.clear();
            let meter = Meter::start(suite);
            let (s, started) = inbound_load(
                &format!("h2 run {}", n + 1),
                suite,
                &http,
                &hooks,
                rate,
                secs,
                |_| 3000,
            )
            .await;
            let mut run = Run::from([("rate".into(), rate), ("injected".into(), s.ok() as f64)]);
            meter.finish(&mut run, s.ok());
            quantiles(&mut run, &hooks.latencies(&started));
            write_timeline(&format!("h2-run{}", n + 1), &hooks.timeline(&started));
            reconciled(&mut run, &hooks, &started);
            runs.push(run);
        }
        anyhow::Ok(runs)
    })
    .await
}

/// With `PARLAY_BENCH_TIMELINE` naming a directory, writes `timeline` there as
/// `{name}.txt`: a first line with the first start's `Instant` (on Linux its
/// CLOCK_MONOTONIC time, the clock of `perf record -k CLOCK_MONOTONIC`), then one line an
/// operation: when it started (ms after the first) and its latency (ms). It shows whether
/// the slow ones come alone or together (a pause of the suite), and when.
fn write_timeline(name: &str, timeline: &[(Instant, f64)]) {
    let Some(dir) = std::env::var_os("PARLAY_BENCH_TIMELINE") else {
        return;
    };
    let Some((first, _)) = timeline.first() else {
        return;
    };
    let mut text = format!("# first start: {first:?}\n");
    for (t, ms) in timeline {
        let at = t.duration_since(*first).as_secs_f64() * 1000.0;
        text.push_str(&format!("{at:.3} {ms:.3}\n"));
    }
    let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        eprintln!("timeline not written to {}: {e}", path.display());
    }
}

/// H3: inbound messages spread over 100 registrations, each subscribed by its own receiver
/// endpoint (100 ports); deliveries per second from the first injection to the last
/// delivery, every one reconciled.
pub async fn h3(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    with_suite(ctx, &[], async |suite| {
        let hooks = Hooks::new(inbound_key);
        let http = client();
        for r in 3100..3200 {
            let hook = hooks.listen().await?;
            subscribe_inbound(&http, suite, &r.to_string(), &hook).await?;
        }
        let dest: fn(u64) -> u32 = |i| 3100 + (i % 100) as u32;
        let (rate, secs) = (ctx.pick(6000.0, 100.0), ctx.pick(4.0, 1.0));
        inbound_load("h3 warm-up", suite, &http, &hooks, rate / 10.0, 1.0, dest).await;
        let mut runs = Vec::new();
        for n in 0..ctx.runs {
            hooks.clear();
            let meter = Meter::start(suite);
            let t0 = Instant::now();
            let (s, started) = inbound_load(
                &format!("h3 run {}", n + 1),
                suite,
                &http,
                &hooks,
                rate,
                secs,
                dest,
            )
            .await;
            let expected: Vec<String> = started.keys().cloned().collect();
            let last = hooks.last_of(&expected).unwrap_or(t0);
            let delivered = hooks.reconcile(&expected).received;
            let mut run = Run::from([
                (
                    "rate".into(),
                    delivered as f64 / last.duration_since(t0).as_secs_f64().max(1e-9),
                ),
                ("offered".into(), rate),
                ("injected_rate".into(), s.rate()),
            ]);
            meter.finish(&mut run, delivered);
            quantiles(&mut run, &hooks.latencies(&started));
            reconciled(&mut run, &hooks, &started);
            runs.push(run);
        }
        anyhow::Ok(runs)
    })
    .await
}

/// `subscription URL|note text of the presentity` of a presenceNotification.
fn presence_key(v: &Value) -> Option<String> {
    let n = &v["presenceNotification"];
    let sub = n["link"][0]["href"].as_str()?;
    let text = n["presenceContact"][0]["person"]["noteList"]["note"][0]["text"]
        .as_str()
        .unwrap_or("");
    Some(format!("{sub}|{text}"))
}

/// H4: a presentity shares presence with 1,000 watchers (each in the other's `rcs` list),
/// each watcher with a presence-list subscription of its `rcs` list; the presentity
/// publishes a note; the time from the PUT to the last watcher's notification carrying it.
/// Notifications are coalesced per presentity and watcher (at most one per interval): each
/// run starts more than an interval after the previous notifications.
pub async fn h4(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let interval_ms: u64 = ctx.pick(5000, 200);
    let interval = interval_ms.to_string();
    let env = [("PARLAY_PRESENCE__NOTIFY_INTERVAL_MS", interval.as_str())];
    with_suite(ctx, &env, async |suite| {
        let hooks = Hooks::new(presence_key);
        let hook = hooks.listen().await?;
        let http = client();
        let watchers: u64 = ctx.pick(1000, 20);
        let presentity = "tel:+15560000000".to_string();
        let member = |owner: &str, m: &str| {
            format!(
                "{}/addresslistmgt/{}/contactLists/rcs/members/{}",
                suite.api,
                enc(owner),
                enc(m)
            )
        };
        // Set-up, 16 at a time: mutual authorisation and a subscription per watcher.
        let subscriptions: Arc<Mutex<Vec<String>>> = Arc::default();
        let setup = {
            let (http, key, api, presentity, subscriptions, hook) = (
                http.clone(),
                suite.key.clone(),
                suite.api.clone(),
                presentity.clone(),
                subscriptions.clone(),
                hook.clone(),
            );
            move |i: u64| {
                let w = format!("tel:+1556100{i:04}");
                let puts = [member(&presentity, &w), member(&w, &presentity)];
                let sub = format!(
                    "{api}/presence/{}/subscriptions/presenceListSubscriptions/rcs",
                    enc(&w)
                );
                let (http, key, subscriptions, hook) = (
                    http.clone(),
                    key.clone(),
                    subscriptions.clone(),
                    hook.clone(),
                );
                async move {
                    for put in puts {
                        match http
                            .put(put)
                            .bearer_auth(&key)
                            .json(&json!({}))
                            .send()
                            .await
                        {
                            Ok(r) if r.status().is_success() => {}
                            _ => return false,
                        }
                    }
                    let Ok(r) = http
                        .post(sub)
                        .bearer_auth(&key)
                        .json(&json!({"presenceListSubscription": {
                        "callbackReference": {"notifyURL": hook, "callbackData": w},
                        "clientCorrelator": format!("bench-{i}")}}))
                        .send()
                        .await
                    else {
                        return false;
                    };
                    let Some(url) = r
                        .headers()
                        .get("location")
                        .and_then(|l| l.to_str().ok())
                        .map(str::to_string)
                    else {
                        return false;
                    };
                    subscriptions.lock().unwrap().push(url);
                    r.status() == StatusCode::CREATED
                }
            }
        };
        let failed = load::bounded(16, watchers, setup).await;
        ensure!(
            failed == 0,
            "h4 set-up: {failed} of {watchers} watchers failed"
        );
        let subscriptions = subscriptions.lock().unwrap().clone();
        ensure!(
            subscriptions.len() as u64 == watchers,
            "set-up: only {} of {watchers} subscriptions",
            subscriptions.len()
        );
        let note = |text: &str| {
            http.put(format!(
                "{}/presence/{}/presenceSource/persistent/person/noteList",
                suite.api,
                enc(&presentity)
            ))
            .bearer_auth(&suite.key)
            .json(&json!({"noteList": {"note": [{"text": text}]}}))
            .send()
        };
        let mut runs = Vec::new();
        for n in 0..=ctx.runs {
            // Past the coalescing interval of the notifications before.
            hooks
                .wait_for(
                    &[String::from("-")],
                    Duration::from_millis(500),
                    Duration::from_secs(30),
                )
                .await;
            tokio::time::sleep(Duration::from_millis(interval_ms + 300)).await;
            let text = format!("h4 run {n} {}", rand_tag());
            let expected: Vec<String> = subscriptions
                .iter()
                .map(|s| format!("{s}|{text}"))
                .collect();
            let meter = Meter::start(suite);
            let t0 = Instant::now();
            let r = note(&text).await?;
            let put = t0.elapsed();
            ensure!(r.status().is_success(), "note refused: {}", r.text().await?);
            hooks
                .wait_for(&expected, Duration::from_secs(10), Duration::from_secs(60))
                .await;
            let rec = hooks.reconcile(&expected);
            let last = hooks.last_of(&expected).unwrap_or(t0).duration_since(t0);
            if n == 0 {
                eprintln!(
                    "  h4 warm-up: {} of {} notified in {:.0} ms",
                    rec.received,
                    rec.expected,
                    last.as_secs_f64() * 1000.0
                );
                continue;
            }
            let mut ms: Vec<f64> = expected
                .iter()
                .filter_map(|k| Some(hooks.first(k)?.duration_since(t0).as_secs_f64() * 1000.0))
                .collect();
            ms.sort_by(f64::total_cmp);
            let first_ms = ms.first().copied().unwrap_or(0.0);
            let mut run = Run::from([
                ("watchers".into(), watchers as f64),
                ("last_ms".into(), last.as_secs_f64() * 1000.0),
                // Where the time to the last goes: the PUT's answer (the change committed
                // and its notifications made due), then the first notification's arrival.
                ("put_ms".into(), put.as_secs_f64() * 1000.0),
                ("first_ms".into(), first_ms),
                // The rate once they flow: from the first arrival to the last.
                (
                    "fanout_rate".into(),
                    (rec.received as f64 - 1.0).max(0.0)
                        / (last.as_secs_f64() - first_ms / 1000.0).max(1e-9),
                ),
                (
                    "rate".into(),
                    rec.received as f64 / last.as_secs_f64().max(1e-9),
                ),
                ("delivered".into(), rec.received as f64),
                ("lost".into(), rec.lost as f64),
                ("duplicated".into(), rec.duplicated as f64),
            ]);
            quantiles(&mut run, &ms);
            meter.finish(&mut run, rec.received);
            eprintln!(
                "  h4 run {n}: {} of {} in {:.0} ms",
                rec.received,
                rec.expected,
                last.as_secs_f64() * 1000.0
            );
            runs.push(run);
        }
        anyhow::Ok(runs)
    })
    .await
}

/// H5: third-party call sessions created (two participants each, netsim answering), the
/// highest rate held with p99 under 50 ms; the memory the live sessions take, per 10,000;
/// a sample of sessions read back to check the network answered.
pub async fn h5(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    // A suite per run: the memory figure is of the sessions of that run alone.
    for n in 0..ctx.runs {
        let mut suite = Suite::start(&ctx.options(&[])).await?;
        let result = async {
            let http = client();
            let created = Arc::new(Mutex::new(Vec::new()));
            let create = {
                let (http, url, key, created) = (http.clone(), format!("{}/thirdpartycall/callSessions", suite.api), suite.key.clone(), created.clone());
                move |i: u64| {
                    let req = http.post(&url).bearer_auth(&key).json(&json!({"callSessionInformation": {"participant": [
                        {"participantAddress": format!("tel:+1557{i:07}")}, {"participantAddress": format!("tel:+1559{i:07}")}]}}));
                    let created = created.clone();
                    async move {
                        let Ok(r) = req.send().await else { return false };
                        if let Some(l) = r.headers().get("location").and_then(|l| l.to_str().ok()) {
                            created.lock().unwrap().push(l.to_string());
                        }
                        r.status() == StatusCode::CREATED
                    }
                }
            };
            load::open("h5 warm-up", ctx.pick(200.0, 20.0), Duration::from_secs(1), Duration::from_secs(10), create.clone()).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let before = suite.usage();
            let live_before = created.lock().unwrap().len();
            let ladder = vec![250.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0, 5000.0, 6000.0, 8000.0, 10000.0, 12000.0];
            let rates = ctx.pick(ladder, vec![20.0, 40.0]);
            let mut run = max_sustained(&format!("h5 run {}", n + 1), &rates, ctx.pick(5.0, 1.0), 50.0, &suite.pids(), create).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after = suite.usage();
            let sessions = created.lock().unwrap().clone();
            let live = sessions.len() - live_before;
            run.insert("live_sessions".into(), live as f64);
            run.insert("mib_per_10k".into(), (after.rss_mib - before.rss_mib) * 10_000.0 / live.max(1) as f64);
            run.insert("anon_mib_per_10k".into(), (after.anon_mib - before.anon_mib) * 10_000.0 / live.max(1) as f64);
            // The network answered: a sample of sessions, each read until every participant
            // is Connected (bounded: the sessions of a step not held may still be queued at
            // the network when the load ends).
            let (mut connected, waited) = (0, Instant::now());
            let deadline = waited + Duration::from_secs(ctx.pick(60, 10));
            let sample: Vec<&String> = sessions.iter().step_by((sessions.len() / 50).max(1)).collect();
            for url in &sample {
                loop {
                    let v: Value = http.get(url.as_str()).bearer_auth(&suite.key).send().await?.json().await?;
                    let all = v["callSessionInformation"]["participant"].as_array().is_some_and(|p| p.iter().all(|p| p["participantStatus"] == "CallParticipantConnected"));
                    if all {
                        connected += 1;
                        break;
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            run.insert("sampled_connected_pct".into(), 100.0 * connected as f64 / sample.len().max(1) as f64);
            run.insert("answers_settled_ms".into(), waited.elapsed().as_secs_f64() * 1000.0);
            anyhow::Ok(run)
        }
        .await;
        suite.stop().await;
        runs.push(result?);
    }
    Ok(runs)
}

fn time(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn decision_key(v: &Value) -> Option<String> {
    v["callEventNotification"]["callSessionIdentifier"]
        .as_str()
        .map(str::to_string)
}

/// H6: network call attempts (netsim) at 500/s to a number with a callDirection
/// subscription; the application answers EndCall at once; the round trip is netsim's own
/// record, from the attempt to the decision applied at the network.
pub async fn h6(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    with_suite(ctx, &[], async |suite| {
        let hooks = Hooks::answering(decision_key, r#"{"action": {"actionToPerform": "EndCall"}}"#);
        let hook = hooks.listen().await?;
        let http = client();
        let r = http
            .post(format!("{}/callnotification/subscriptions/callDirection", suite.api))
            .bearer_auth(&suite.key)
            .json(&json!({"callDirectionSubscription": {
                "callbackReference": {"notifyURL": hook},
                "filter": {"address": [CALLED], "criteria": ["CalledNumber"]}}}))
            .send()
            .await?;
        ensure!(r.status() == StatusCode::CREATED, "callDirection subscription refused: {}", r.text().await?);
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let attempt = {
            let (http, url, attempts) = (http.clone(), format!("{}/netsim/v1/calls", suite.netsim), attempts.clone());
            move |i: u64| {
                let req = http.post(&url).json(&json!({"callingParticipant": format!("tel:+1556{i:07}"), "calledParticipant": CALLED}));
                let attempts = attempts.clone();
                async move {
                    let Ok(r) = req.send().await else { return false };
                    let Ok(v) = r.json::<Value>().await else { return false };
                    let Some(id) = v["callId"].as_str() else { return false };
                    attempts.lock().unwrap().push(id.to_string());
                    true
                }
            }
        };
        let (rate, secs) = (ctx.pick(500.0, 20.0), ctx.pick(5.0, 1.0));
        let mut runs = Vec::new();
        for n in 0..=ctx.runs {
            attempts.lock().unwrap().clear();
            let meter = Meter::start(suite);
            let (label, r, s) = if n == 0 { ("h6 warm-up".to_string(), rate / 4.0, 1.0) } else { (format!("h6 run {n}"), rate, secs) };
            let base = n as u64 * 10_000_000;
            let attempt = attempt.clone();
            let sent = load::open(&label, r, Duration::from_secs_f64(s), Duration::from_secs(10), move |i| attempt(base + i)).await;
            let ids = attempts.lock().unwrap().clone();
            // Every attempt is decided within the decision timeout, by the application or
            // by the default: read each back (bounded).
            let deadline = Instant::now() + Duration::from_secs(60);
            let (mut ms, mut by_app) = (Vec::new(), 0);
            for id in &ids {
                loop {
                    let call: Value = http.get(format!("{}/netsim/v1/calls/{id}", suite.netsim)).send().await?.json().await?;
                    if let (Some(a), Some(d)) = (time(&call["attemptedAt"]), time(&call["decidedAt"])) {
                        ms.push((d - a).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0);
                        by_app += usize::from(call["decision"]["source"] == "application");
                        break;
                    }
                    ensure!(Instant::now() < deadline, "call {id} never decided: {call}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            if n == 0 {
                continue;
            }
            ms.sort_by(f64::total_cmp);
            let mut run = Run::from([
                ("rate".into(), rate),
                ("attempts".into(), sent.started as f64),
                ("decided".into(), ms.len() as f64),
                ("by_application".into(), by_app as f64),
                ("lost".into(), (sent.started as usize - ms.len()) as f64),
            ]);
            quantiles(&mut run, &ms);
            meter.finish(&mut run, ms.len() as u64);
            runs.push(run);
        }
        anyhow::Ok(runs)
    })
    .await
}

/// H7: the suite's resident memory, idle, a few seconds after it is ready (a fresh suite
/// each run).
pub async fn h7(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let mut runs = Vec::new();
    for _ in 0..ctx.runs {
        let mut suite = Suite::start(&ctx.options(&[])).await?;
        tokio::time::sleep(Duration::from_secs(ctx.pick(5, 1))).await;
        let u = suite.usage();
        let processes = suite.pids().len();
        suite.stop().await;
        runs.push(Run::from([
            ("rss_mib".into(), u.rss_mib),
            ("peak_rss_mib".into(), u.peak_rss_mib),
            ("processes".into(), processes as f64),
        ]));
    }
    Ok(runs)
}
