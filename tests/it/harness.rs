//! Starts the suite under test on port 0 with its own namespace (data directory; or bus
//! prefix and PostgreSQL databases) and gives typed access to it: applications with keys,
//! the netsim control API, and a bounded `eventually`.

use std::{future::Future, time::Duration};

use parlay::{Served, Service};
use parlay_kit::Config;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const NATS_URL: &str = "nats://127.0.0.1:4222";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Embedded,
    Distributed,
}

/// Runs a scenario once per mode, as two tests.
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name(crate::harness::Mode::Embedded).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn distributed() {
                super::$name(crate::harness::Mode::Distributed).await
            }
        })*
    };
}
pub(crate) use both_modes;

pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Logs stay off unless RUST_LOG asks for them; spans (trace propagation) are always on.
    parlay_kit::telemetry::init("off", "parlay-e2e");
}

pub fn unique(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}{n:016x}")
}

/// A `tel:` address no other test uses: `tel:+1555` and nine random digits.
pub fn unique_tel() -> String {
    let n: u64 = rand::rng().random_range(0..1_000_000_000);
    format!("tel:+1555{n:09}")
}

/// A bus namespace that says when it was made: `t<unix seconds>x<random>`. Its streams
/// are removed by a later run once they are old (`forget_old_streams`), and its databases
/// (`parlay_t…`) by `scripts/test`.
pub fn namespace() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("t{secs}x{:08x}", rand::rng().random::<u32>())
}

/// Deletes the JetStream streams of test namespaces made more than 15 minutes ago, so runs
/// do not pile them up on the machine's NATS (a running test's streams are never that old).
async fn forget_old_streams() {
    use futures::StreamExt;
    let Ok(client) = async_nats::connect(NATS_URL).await else {
        return;
    };
    let js = async_nats::jetstream::new(client);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut names = js.stream_names();
    let mut old = Vec::new();
    while let Some(Ok(name)) = names.next().await {
        let made = name
            .strip_prefix('t')
            .and_then(|rest| rest.split_once('x'))
            .and_then(|(secs, _)| secs.parse::<u64>().ok());
        if made.is_some_and(|made| now.saturating_sub(made) > 15 * 60) {
            old.push(name);
        }
    }
    for name in old {
        let _ = js.delete_stream(&name).await;
    }
}

/// A config for tests: ephemeral ports, quick retries, short leases.
pub fn test_config() -> Config {
    let mut c = Config {
        http_addr: ([127, 0, 0, 1], 0).into(),
        admin_addr: ([127, 0, 0, 1], 0).into(),
        grpc_addr: ([127, 0, 0, 1], 0).into(),
        ..Config::default()
    };
    c.call.no_answer_timeout_secs = 2;
    c.notify.initial_backoff_ms = 50;
    c.notify.max_backoff_ms = 500;
    c.notify.lease_secs = 2;
    c.notify.attempt_timeout_ms = 2_000;
    // Presence notifications of one presentity to one subscription at most every 300 ms,
    // so tests that see several changes do not wait the default 5 s between them.
    c.presence.notify_interval_ms = 300;
    c.log = "warn".into();
    // One gateway dials one service URL: nothing to drain away from.
    c.grpc_drain_ms = 0;
    c
}

/// Creates a fresh PostgreSQL database and returns its URL.
pub async fn pg_database(name: &str) -> String {
    parlay_kit::db::create_postgres_database(&parlay_kit::db::test_postgres_server(), name)
        .await
        .unwrap()
}

pub struct Suite {
    pub mode: Mode,
    /// `http://127.0.0.1:port/1`
    pub api: String,
    /// Where netsim's control API is.
    pub admin: String,
    /// The gateway's database URL (for creating applications).
    pub gateway_db: String,
    pub http: reqwest::Client,
    /// Kept alive: dropping a `Served` aborts its tasks.
    _parts: Vec<Served>,
    pub shutdown: CancellationToken,
    /// For distributed mode: the namespace and URLs, so a test can start more processes.
    pub config: Config,
}

impl Suite {
    pub async fn start(mode: Mode) -> Suite {
        Self::start_parts(mode, true, |_| {}).await
    }

    /// A suite whose settings `tweak` changes first.
    pub async fn start_with(mode: Mode, tweak: impl FnOnce(&mut Config)) -> Suite {
        Self::start_parts(mode, true, tweak).await
    }

    /// Distributed mode without notify, for tests that run notify as a child process.
    pub async fn start_without_notify() -> Suite {
        Self::start_parts(Mode::Distributed, false, |_| {}).await
    }

    async fn start_parts(mode: Mode, with_notify: bool, tweak: impl FnOnce(&mut Config)) -> Suite {
        init();
        let shutdown = CancellationToken::new();
        let mut config = test_config();
        tweak(&mut config);
        let mut parts = Vec::new();
        let (api, admin, gateway_db);
        match mode {
            Mode::Embedded => {
                config.data_dir = std::env::temp_dir().join(unique("parlay-e2e-"));
                let served = parlay::up(config.clone(), shutdown.clone()).await.unwrap();
                api = format!("http://{}/1", served.http.unwrap());
                admin = format!("http://{}", served.admin);
                gateway_db = parlay_kit::db::url_for(&config, "gateway");
                parts.push(served);
            }
            Mode::Distributed => {
                forget_old_streams().await;
                // The gateway's port is chosen before the components start (they all render
                // URLs with it), so another test may take it meanwhile: then start afresh.
                let mut tries = 0;
                let started = loop {
                    tries += 1;
                    match start_distributed(config.clone(), with_notify, &shutdown).await {
                        Ok(started) => break started,
                        Err(e) if tries < 5 && e.to_string().contains("cannot listen") => {
                            eprintln!("distributed start failed ({e:#}); again");
                        }
                        Err(e) => panic!("distributed start failed: {e:#}"),
                    }
                };
                (api, admin, gateway_db) = (started.api, started.admin, started.gateway_db);
                config = started.config;
                parts = started.parts;
            }
        }
        Suite {
            mode,
            api,
            admin,
            gateway_db,
            http: reqwest::Client::new(),
            _parts: parts,
            shutdown,
            config,
        }
    }

    /// Creates an application; returns a client holding its key.
    pub async fn app(&self, name: &str, users: &[&str]) -> App {
        self.app_with(name, users, &[]).await
    }

    /// Creates an application provisioned with inbound-message `registrations`.
    pub async fn app_with(&self, name: &str, users: &[&str], registrations: &[&str]) -> App {
        let db = parlay_kit::db::connect_and_migrate::<parlay_gateway::Migrator>(&self.gateway_db)
            .await
            .unwrap();
        let owned = |list: &[&str]| list.iter().map(|u| u.to_string()).collect();
        let (_, key) =
            parlay_gateway::apps::create_with(&db, name, owned(users), owned(registrations))
                .await
                .unwrap();
        db.close().await.ok();
        App {
            key,
            api: self.api.clone(),
            http: self.http.clone(),
        }
    }

    pub async fn set_rules(&self, rules: Value) {
        let r = self
            .http
            .put(format!("{}/netsim/v1/rules", self.admin))
            .json(&json!({ "rules": rules }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// The netsim log entries of one call session.
    pub async fn network_log(&self, session_id: &str) -> Vec<Value> {
        self.log_query(&format!("?callSessionId={session_id}"))
            .await
    }

    /// Every netsim log entry.
    pub async fn whole_network_log(&self) -> Vec<Value> {
        self.log_query("").await
    }

    async fn log_query(&self, query: &str) -> Vec<Value> {
        let r: Value = self
            .http
            .get(format!("{}/netsim/v1/log{query}", self.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["commands"].as_array().cloned().unwrap_or_default()
    }

    /// A barrier for "nothing else happened": creates a one-participant session and waits
    /// until the network received its call. The outbox publishes in order, so commands of
    /// requests answered before it have reached netsim by then.
    pub async fn marker(&self, app: &App) -> String {
        let created = app.create_call(&["tel:+15550000000"], None, None).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created
            .header("location")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        eventually("the marker call reaches the network", 10, || async {
            (!self.network_log(&id).await.is_empty()).then_some(())
        })
        .await;
        id
    }

    /// The admin listener's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let r = self
            .http
            .get(format!("{}/metrics", self.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.unwrap()
    }

    pub async fn hang_up(&self, session_id: &str, address: &str) {
        let r = self
            .http
            .post(format!(
                "{}/netsim/v1/calls/{session_id}/hangup",
                self.admin
            ))
            .json(&json!({ "participantAddress": address }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "hangup: {}", r.status());
    }
}

impl Drop for Suite {
    /// Stops the components and removes the files this suite made: the embedded data
    /// directory, or the distributed attachments directory (databases are dropped by
    /// `scripts/test` on its next run).
    fn drop(&mut self) {
        self.shutdown.cancel();
        let scratch = match self.mode {
            Mode::Embedded => Some(self.config.data_dir.clone()),
            Mode::Distributed => self.config.messaging.attachments_dir.clone(),
        };
        if let Some(dir) = scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// An application's view of the API.
#[derive(Clone)]
pub struct App {
    pub key: String,
    pub api: String,
    pub http: reqwest::Client,
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `messageId` of a `requestError` body.
    pub fn exception(&self) -> (&str, Vec<String>) {
        let e = &self.body["requestError"];
        let inner = if e["serviceException"].is_object() {
            &e["serviceException"]
        } else {
            &e["policyException"]
        };
        let vars = inner["variables"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        (inner["messageId"].as_str().unwrap_or_default(), vars)
    }
}

impl App {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.unwrap()).await
    }

    /// A request with a raw body and content type (for malformed input).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.key)
            .header("content-type", content_type)
            .body(body);
        read(req.send().await.unwrap()).await
    }

    /// A request written on a raw socket, its answer read even when the server stops
    /// reading the body early (an oversized body gets its 413 while still being written).
    pub async fn raw_socket(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let url = self.url(path);
        let rest = url.strip_prefix("http://").unwrap();
        let (host, target) = rest.split_at(rest.find('/').unwrap());
        let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.key,
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body).await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let text = String::from_utf8_lossy(&answer).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut headers = reqwest::header::HeaderMap::new();
        for line in head.lines().skip(1) {
            if let Some((k, v)) = line.split_once(':')
                && let (Ok(k), Ok(v)) = (
                    reqwest::header::HeaderName::try_from(k.trim()),
                    reqwest::header::HeaderValue::try_from(v.trim()),
                )
            {
                headers.insert(k, v);
            }
        }
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            headers,
            body: serde_json::from_str(body.trim()).unwrap_or(Value::Null),
        }
    }

    pub async fn get_url(&self, url: &str) -> Answer {
        read(
            self.http
                .get(url)
                .bearer_auth(&self.key)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A GET whose body is read as bytes (recorded media): status, headers, bytes.
    pub async fn get_bytes(&self, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self
            .http
            .get(self.url(url))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    }

    pub async fn delete_url(&self, url: &str) -> Answer {
        read(
            self.http
                .delete(url)
                .bearer_auth(&self.key)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.api)
        }
    }

    /// POSTs a call session of `addresses`, with a callback when `notify_url` is given.
    pub async fn create_call(
        &self,
        addresses: &[&str],
        notify_url: Option<&str>,
        correlator: Option<&str>,
    ) -> Answer {
        let mut info = json!({
            "participant": addresses.iter().map(|a| json!({"participantAddress": a})).collect::<Vec<_>>(),
        });
        if let Some(url) = notify_url {
            info["callbackReference"] = json!({"notifyURL": url, "callbackData": "cb-data-1"});
        }
        if let Some(c) = correlator {
            info["clientCorrelator"] = json!(c);
        }
        self.send(
            Method::POST,
            "/thirdpartycall/callSessions",
            Some(json!({"callSessionInformation": info})),
        )
        .await
    }
}

pub async fn read(r: reqwest::Response) -> Answer {
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// Polls `check` until it returns Some, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_showing(what, secs, || {
        let checked = check();
        async move { checked.await.ok_or("") }
    })
    .await
}

/// Polls `check` until it returns Ok, for at most `secs` seconds; if it never does, the
/// panic also says what its last Err saw instead (when that is not empty).
pub async fn eventually_showing<T, E, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let seen = match check().await {
            Ok(v) => return v,
            Err(seen) => seen.to_string(),
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {secs}s: {what}{}",
            if seen.is_empty() {
                String::new()
            } else {
                format!("; last seen: {seen}")
            }
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The participant statuses of a session, in order.
pub fn statuses(session: &Value) -> Vec<String> {
    session["callSessionInformation"]["participant"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["participantStatus"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn causes(session: &Value) -> Vec<String> {
    session["callSessionInformation"]["participant"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["terminationCause"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// What a distributed start made.
struct Distributed {
    api: String,
    admin: String,
    gateway_db: String,
    config: Config,
    parts: Vec<parlay::Served>,
}

/// Starts call, netsim, notify (with `with_notify`) and the gateway as separate components
/// over NATS and PostgreSQL, in a fresh namespace. On failure, what did start is stopped.
async fn start_distributed(
    mut config: Config,
    with_notify: bool,
    shutdown: &CancellationToken,
) -> anyhow::Result<Distributed> {
    let ns = namespace();
    config.nats_url = Some(NATS_URL.into());
    config.bus_prefix = ns.clone();
    // A volume of its own, as a Deployment mounts one (removed with the suite).
    config.messaging.attachments_dir =
        Some(std::env::temp_dir().join(format!("parlay-e2e-{ns}-attachments")));
    let with_db = |service: &str| {
        let name = format!("parlay_{ns}_{service}");
        let config = config.clone();
        async move {
            let mut c = config;
            c.database_url = Some(pg_database(&name).await);
            c
        }
    };
    let mut call_cfg = with_db("call").await;
    let mut messaging_cfg = with_db("messaging").await;
    let mut presence_cfg = with_db("presence").await;
    let mut addresslist_cfg = with_db("addresslist").await;
    let mut notify_cfg = with_db("notify").await;
    let mut gateway_cfg = with_db("gateway").await;
    // Every component renders URLs: they must all know the gateway's address, chosen as
    // late as possible.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    for c in [
        &mut config,
        &mut call_cfg,
        &mut messaging_cfg,
        &mut presence_cfg,
        &mut addresslist_cfg,
        &mut notify_cfg,
        &mut gateway_cfg,
    ] {
        c.http_addr = ([127, 0, 0, 1], port).into();
        c.public_url = Some(format!("http://127.0.0.1:{port}"));
    }
    let token = shutdown.child_token();
    let mut parts = Vec::new();
    let result = async {
        let call = parlay::serve(Service::Call, call_cfg, token.clone()).await?;
        gateway_cfg.call_grpc_url = format!("http://{}", call.grpc.expect("call serves gRPC"));
        parts.push(call);
        let messaging = parlay::serve(Service::Messaging, messaging_cfg, token.clone()).await?;
        gateway_cfg.messaging_grpc_url =
            format!("http://{}", messaging.grpc.expect("messaging serves gRPC"));
        parts.push(messaging);
        let presence = parlay::serve(Service::Presence, presence_cfg, token.clone()).await?;
        let presence_url = format!("http://{}", presence.grpc.expect("presence serves gRPC"));
        gateway_cfg.presence_grpc_url = presence_url.clone();
        addresslist_cfg.presence_grpc_url = presence_url;
        parts.push(presence);
        let addresslist =
            parlay::serve(Service::Addresslist, addresslist_cfg, token.clone()).await?;
        gateway_cfg.addresslist_grpc_url = format!(
            "http://{}",
            addresslist.grpc.expect("addresslist serves gRPC")
        );
        parts.push(addresslist);
        let netsim = parlay::serve(Service::Netsim, config.clone(), token.clone()).await?;
        let admin = format!("http://{}", netsim.admin);
        parts.push(netsim);
        if with_notify {
            parts.push(parlay::serve(Service::Notify, notify_cfg.clone(), token.clone()).await?);
        }
        let gateway = parlay::serve(Service::Gateway, gateway_cfg.clone(), token.clone()).await?;
        let api = format!(
            "http://{}/1",
            gateway.http.expect("the gateway serves HTTP")
        );
        parts.push(gateway);
        anyhow::Ok((api, admin))
    }
    .await;
    match result {
        Ok((api, admin)) => {
            config.database_url = notify_cfg.database_url;
            Ok(Distributed {
                api,
                admin,
                gateway_db: gateway_cfg.database_url.unwrap_or_default(),
                config,
                parts,
            })
        }
        Err(e) => {
            token.cancel();
            for part in parts {
                let _ = part.join().await;
            }
            Err(e)
        }
    }
}
