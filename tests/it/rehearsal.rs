//! The cluster rehearsed on one machine: the distributed mode with two replicas of the
//! gateway, call, messaging and notify (netsim, which holds its simulated network in memory,
//! runs once, as it does on Kubernetes), each a process of its own against the machine's
//! NATS JetStream and PostgreSQL. Traffic arrives at a fixed rate (SMS with delivery receipts
//! and call sessions, half each, spread over both gateways); a third of the way in, one
//! replica of each service gets SIGTERM and is started again, two thirds of the way in the
//! other gets SIGKILL and is started again. Every accepted request must get its webhook
//! (nothing lost); every request must get an answer; duplicates seen by the receiver are
//! counted (delivery is at least once). `scripts/rehearse` runs it longer, and prints the
//! figures.

use std::{
    collections::{BTreeMap, HashMap},
    process::Child,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    harness::{NATS_URL, namespace, pg_database},
    process::{free_port, kill, node, ready, terminate},
    receiver::Receiver,
};

/// The services run twice, in the order they start.
const SCALED: [&str; 4] = ["call", "messaging", "notify", "gateway"];
const SENDER: &str = "7788";

struct Replica {
    service: &'static str,
    admin: u16,
    env: Vec<(String, String)>,
    args: Vec<String>,
    child: Child,
}

impl Replica {
    fn start(service: &'static str, env: Vec<(String, String)>, extra: Vec<String>) -> Replica {
        let admin = free_port();
        let mut args = vec!["--admin".to_string(), format!("127.0.0.1:{admin}")];
        args.extend(extra);
        args.extend(["serve".to_string(), service.to_string()]);
        let child = spawn(&env, &args);
        Replica {
            service,
            admin,
            env,
            args,
            child,
        }
    }

    fn restart(&mut self) {
        self.child = spawn(&self.env, &self.args);
    }
}

fn signal(which: &str, child: &Child) {
    let _ = std::process::Command::new("kill")
        .args([which, &child.id().to_string()])
        .status();
}

fn spawn(env: &[(String, String)], args: &[String]) -> Child {
    let mut c = node();
    c.envs(env.iter().map(|(k, v)| (k, v)));
    c.args(args);
    // Each replica's warnings appended to a file of its own there, when asked.
    if let Some(dir) = std::env::var_os("REHEARSE_LOGS") {
        let name = args.join("-").replace([':', '.'], "_");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::path::Path::new(&dir).join(format!("{name}.log")))
        {
            c.stderr(file);
        }
    }
    c.spawn().expect("a replica starts")
}

/// The load: `rate` operations a second for `secs` seconds.
struct Plan {
    rate: u32,
    secs: u32,
}

impl Plan {
    fn from_env() -> Plan {
        let var = |name: &str, default: u32| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Plan {
            rate: var("REHEARSE_RATE", 25).max(1),
            secs: var("REHEARSE_SECS", 12).max(3),
        }
    }
}

/// What one operation expects to see at the receiver.
#[derive(Debug, Clone)]
enum Expect {
    /// `deliveryInfoNotification` with this callbackData, DeliveredToTerminal.
    Sms(String),
    /// `callEventNotification` of this session with callEvent Answer.
    Call(String),
}

#[derive(Default)]
struct Tally {
    sent: u64,
    accepted: Vec<Expect>,
    /// Answers other than 201, by status.
    refused: BTreeMap<u16, u64>,
    /// Requests that got no HTTP answer (the connection broke after it was sent), by the
    /// gateway (0 or 1) they went to.
    unanswered: [u64; 2],
    /// Requests that went to the other gateway because theirs refused the connection.
    failed_over: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_each_service_survive_sigterm_and_sigkill_mid_run() {
    crate::harness::init();
    let plan = Plan::from_env();
    let ns = namespace();
    let mut urls = HashMap::new();
    for service in SCALED {
        let url = pg_database(&format!("parlay_{ns}_{service}")).await;
        // Migrations run once, before the replicas, as the migration Job does.
        let status = node()
            .env("PARLAY_DATABASE_URL", &url)
            .args(["migrate", "--service", service])
            .status()
            .unwrap();
        assert!(status.success(), "migrating {service}: {status}");
        urls.insert(service, url);
    }
    let http = [free_port(), free_port()];
    let (call_grpc, messaging_grpc) = ([free_port(), free_port()], [free_port(), free_port()]);
    let list = |ports: &[u16]| {
        ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let public = format!("http://127.0.0.1:{}", http[0]);
    let common = |service: &str| {
        let mut env = vec![
            ("PARLAY_NATS_URL".to_string(), NATS_URL.to_string()),
            ("PARLAY_BUS_PREFIX".into(), ns.clone()),
            ("PARLAY_PUBLIC_URL".into(), public.clone()),
            ("PARLAY_GRPC_DRAIN_MS".into(), "500".into()),
            (
                "PARLAY_MESSAGING__ATTACHMENTS_DIR".into(),
                std::env::temp_dir()
                    .join(format!("parlay-{ns}-attachments"))
                    .display()
                    .to_string(),
            ),
        ];
        if let Some(url) = urls.get(service) {
            env.push(("PARLAY_DATABASE_URL".into(), url.clone()));
        }
        env
    };

    let t0 = std::time::Instant::now();
    let netsim = Replica::start("netsim", common("netsim"), vec![]);
    ready(netsim.admin).await;
    let mut replicas: Vec<Replica> = Vec::new();
    for service in SCALED {
        for i in 0..2 {
            let mut env = common(service);
            let mut extra = vec![];
            match service {
                "call" => env.push((
                    "PARLAY_GRPC_ADDR".into(),
                    format!("127.0.0.1:{}", call_grpc[i]),
                )),
                "messaging" => env.push((
                    "PARLAY_GRPC_ADDR".into(),
                    format!("127.0.0.1:{}", messaging_grpc[i]),
                )),
                "gateway" => {
                    env.push(("PARLAY_CALL_GRPC_URL".into(), list(&call_grpc)));
                    env.push(("PARLAY_MESSAGING_GRPC_URL".into(), list(&messaging_grpc)));
                    extra = vec!["--http".into(), format!("127.0.0.1:{}", http[i])];
                }
                _ => {}
            }
            let replica = Replica::start(service, env, extra);
            ready(replica.admin).await;
            replicas.push(replica);
        }
    }

    let key = {
        let db = parlay_kit::db::connect_and_migrate::<parlay_gateway::Migrator>(&urls["gateway"])
            .await
            .unwrap();
        let (_, key) =
            parlay_gateway::apps::create_with(&db, "rehearsal", vec![], vec![SENDER.into()])
                .await
                .unwrap();
        db.close().await.ok();
        key
    };
    eprintln!("[rehearsal] {:?} replicas ready", t0.elapsed());
    let hook = Receiver::start().await;
    // A new connection per request, as many clients behind a load balancer: a gateway that
    // stopped refuses it, and the request goes to the other one.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let tally = Arc::new(Mutex::new(Tally::default()));

    // The faults, on their own schedule beside the load.
    let third = Duration::from_secs(u64::from(plan.secs)) / 3;
    let start = tokio::time::Instant::now();
    let faults = tokio::spawn(async move {
        tokio::time::sleep_until(start + third).await;
        // SIGTERM to one replica of each service at once; each drains and exits, and is
        // started again (as a Deployment replaces a pod).
        for r in replicas.iter().step_by(2) {
            signal("-TERM", &r.child);
        }
        let mut stopped = Vec::new();
        for r in replicas.iter_mut().step_by(2) {
            let began = std::time::Instant::now();
            let status = tokio::task::block_in_place(|| r.child.wait().unwrap());
            stopped.push((r.service, status, began.elapsed()));
            r.restart();
        }
        for r in replicas.iter().step_by(2) {
            ready(r.admin).await;
        }
        tokio::time::sleep_until(start + third * 2).await;
        // SIGKILL to the other replica of each service: no drain at all.
        for r in replicas.iter_mut().skip(1).step_by(2) {
            tokio::task::block_in_place(|| kill(&mut r.child));
            r.restart();
        }
        for r in replicas.iter().skip(1).step_by(2) {
            ready(r.admin).await;
        }
        (replicas, stopped)
    });

    // The load: an open model, one operation every 1/rate s whatever the answers do.
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / plan.rate);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut load = tokio::task::JoinSet::new();
    let total = u64::from(plan.rate) * u64::from(plan.secs);
    for n in 0..total {
        ticks.tick().await;
        let (client, key, hook, tally) =
            (client.clone(), key.clone(), hook.url.clone(), tally.clone());
        load.spawn(async move {
            operation(&client, &key, &hook, http, n, &tally).await;
        });
    }
    while load.join_next().await.is_some() {}
    eprintln!("[rehearsal] {:?} load sent", t0.elapsed());
    let (mut replicas, stopped) = faults.await.unwrap();
    eprintln!("[rehearsal] {:?} faults done", t0.elapsed());

    // Every accepted operation's webhook, within a bounded wait.
    let accepted = tally.lock().unwrap().accepted.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let missing = loop {
        let received = hook.received();
        let missing: Vec<&Expect> = accepted
            .iter()
            .filter(|e| !received.iter().any(|r| satisfies(r, e)))
            .collect();
        if missing.is_empty() || tokio::time::Instant::now() > deadline {
            break missing.len();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("[rehearsal] {:?} webhooks awaited", t0.elapsed());
    let received = hook.received();
    let mut ids: HashMap<String, u64> = HashMap::new();
    for r in &received {
        *ids.entry(r.notification_id()).or_default() += 1;
    }
    let duplicates: u64 = ids.values().map(|n| n - 1).sum();
    let consumed = consumed_per_replica(&replicas).await;

    let tally = tally.lock().unwrap();
    let report = json!({
        "plan": {"rate_per_sec": plan.rate, "secs": plan.secs},
        "sent": tally.sent,
        "accepted": tally.accepted.len(),
        "refused": tally.refused,
        "unanswered": tally.unanswered,
        "failed_over_to_the_other_gateway": tally.failed_over,
        "lost": missing,
        "webhooks_received": received.len(),
        "duplicates_seen_by_the_receiver": duplicates,
        "bus_events_consumed_since_last_start": consumed,
        "sigterm": stopped.iter().map(|(s, st, took)| json!({"service": s, "exit": st.to_string(), "secs_to_exit": took.as_secs_f64()})).collect::<Vec<_>>(),
    });
    println!(
        "rehearsal report:\n{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    if let Ok(path) = std::env::var("REHEARSE_REPORT") {
        std::fs::write(path, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    }

    for r in replicas.iter_mut() {
        terminate(&mut r.child);
    }
    let mut netsim = netsim;
    terminate(&mut netsim.child);
    eprintln!("[rehearsal] {:?} stopped", t0.elapsed());
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("parlay-{ns}-attachments")));

    assert_eq!(tally.sent, total);
    assert_eq!(missing, 0, "accepted operations without their webhook");
    // Only the gateway killed with SIGKILL may leave requests it had taken unanswered.
    assert_eq!(
        tally.unanswered[0], 0,
        "requests without an HTTP answer from the gateway stopped with SIGTERM: {report}"
    );
    // The only refusals a replica's death may cause: the service was unavailable (503).
    assert!(
        tally.refused.keys().all(|s| *s == 503),
        "refusals other than 503: {report}"
    );
    assert!(
        tally.accepted.len() as u64 * 10 >= total * 9,
        "fewer than 90% accepted: {report}"
    );
    for (service, status, _) in &stopped {
        assert!(
            status.success(),
            "{service} should drain and exit 0 on SIGTERM, got {status}"
        );
    }
}

/// One operation (even n: an SMS, odd n: a call session) against gateway n % 2, or the
/// other when that one refuses the connection.
async fn operation(
    client: &reqwest::Client,
    key: &str,
    hook: &str,
    ports: [u16; 2],
    n: u64,
    tally: &Mutex<Tally>,
) {
    let tag = format!("rh-{n}");
    let (path, body) = if n.is_multiple_of(2) {
        (
            format!("/messaging/outbound/{SENDER}/requests"),
            json!({"outboundMessageRequest": {
                "address": [format!("tel:+1555{:07}", n)], "senderAddress": SENDER,
                "outboundSMSTextMessage": {"message": "rehearsal"},
                "receiptRequest": {"notifyURL": hook, "callbackData": tag}}}),
        )
    } else {
        (
            "/thirdpartycall/callSessions".to_string(),
            json!({"callSessionInformation": {
                "participant": [{"participantAddress": format!("tel:+1666{:07}", n)}],
                "callbackReference": {"notifyURL": hook, "callbackData": tag}}}),
        )
    };
    tally.lock().unwrap().sent += 1;
    let first = (n % 2) as usize;
    let mut answer = None;
    for gateway in [first, 1 - first] {
        let sent = client
            .post(format!("http://127.0.0.1:{}/1{path}", ports[gateway]))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await;
        match sent {
            Err(e) if e.is_connect() && gateway == first => {
                tally.lock().unwrap().failed_over += 1;
            }
            other => {
                answer = Some((gateway, other.ok()));
                break;
            }
        }
    }
    let Some((_, Some(answer))) = answer else {
        let gateway = answer.map_or(first, |(g, _)| g);
        tally.lock().unwrap().unanswered[gateway] += 1;
        return;
    };
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    let mut tally = tally.lock().unwrap();
    if status != StatusCode::CREATED {
        *tally.refused.entry(status.as_u16()).or_default() += 1;
        return;
    }
    let expect = if n.is_multiple_of(2) {
        Expect::Sms(tag)
    } else {
        let url = body["callSessionInformation"]["resourceURL"]
            .as_str()
            .unwrap_or_default();
        Expect::Call(url.rsplit('/').next().unwrap_or_default().to_string())
    };
    tally.accepted.push(expect);
}

fn satisfies(r: &crate::receiver::Received, expect: &Expect) -> bool {
    match expect {
        Expect::Sms(tag) => {
            let n = &r.body["deliveryInfoNotification"];
            n["callbackData"] == json!(tag)
                && n["deliveryInfo"]["deliveryStatus"] == json!("DeliveredToTerminal")
        }
        Expect::Call(session) => r.call_session() == session && r.call_event() == "Answer",
    }
}

/// `parlay_bus_consumed_total` of each running replica (since its last start).
async fn consumed_per_replica(replicas: &[Replica]) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for (i, r) in replicas.iter().enumerate() {
        let text = match http
            .get(format!("http://127.0.0.1:{}/metrics", r.admin))
            .send()
            .await
        {
            Ok(a) => a.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let consumed: f64 = text
            .lines()
            .filter(|l| l.starts_with("parlay_bus_consumed_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        out.push(json!({"service": r.service, "replica": i % 2, "consumed": consumed}));
    }
    out
}
