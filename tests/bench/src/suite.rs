//! The system under test, started as child processes of the `parlay` binary so that its CPU
//! and memory are its own: embedded mode (`parlay up`, SQLite in a temporary directory) or
//! distributed mode (`parlay serve <service>` per service, over the machine's NATS JetStream
//! and PostgreSQL, in a namespace and databases of their own, removed afterwards).

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};

use crate::sys;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Embedded,
    Distributed,
}

/// Where the harness finds the machine's PostgreSQL and NATS (distributed mode, P3, P4).
pub fn pg_base() -> String {
    std::env::var("PARLAY_BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn nats_url() -> String {
    std::env::var("PARLAY_BENCH_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// Does `url` name this machine (a loopback address or `localhost`)?
fn is_local(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
    else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The short codes the benchmark application reads inbound messages of (H2, H3).
pub const REGISTRATIONS: std::ops::Range<u32> = 3000..3200;

/// What to start.
pub struct Options {
    pub mode: Mode,
    /// The `parlay` binary.
    pub parlay: PathBuf,
    /// Extra `PARLAY_*` settings for every process.
    pub env: Vec<(String, String)>,
}

/// A running suite: its processes, where it listens, and the key of an application that may
/// act for every `tel:+1…` user and read the inbound messages of [`REGISTRATIONS`].
pub struct Suite {
    mode: Mode,
    processes: Vec<(String, Child)>,
    /// `http://127.0.0.1:port/1`
    pub api: String,
    /// netsim's control API (`http://127.0.0.1:port`).
    pub netsim: String,
    pub key: String,
    dir: PathBuf,
    databases: Vec<String>,
    /// The bus prefix of a distributed suite, whose JetStream streams are removed at stop.
    bus_prefix: Option<String>,
}

impl Suite {
    pub async fn start(options: &Options) -> anyhow::Result<Suite> {
        let ns = format!(
            "bench{}x{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis()
                % 1_000_000
        );
        let dir = std::env::temp_dir().join(format!("parlay-{ns}"));
        std::fs::create_dir_all(&dir)?;
        let mut suite = Suite {
            mode: options.mode,
            processes: Vec::new(),
            api: String::new(),
            netsim: String::new(),
            key: String::new(),
            dir,
            databases: Vec::new(),
            bus_prefix: None,
        };
        let started = match options.mode {
            Mode::Embedded => suite.start_embedded(options).await,
            Mode::Distributed => suite.start_distributed(options, &ns).await,
        };
        match started {
            Ok(()) => Ok(suite),
            Err(e) => {
                suite.stop().await;
                Err(e)
            }
        }
    }

    /// The PostgreSQL and NATS a distributed suite runs on, when they run on this machine
    /// (the harness reads their CPU from /proc); none for an embedded suite.
    pub fn local_infrastructure(&self) -> Vec<sys::Tree> {
        if self.mode == Mode::Embedded {
            return Vec::new();
        }
        let mut trees = Vec::new();
        if is_local(&pg_base()) {
            trees.push(sys::Tree::POSTGRES);
        }
        if is_local(&nats_url()) {
            trees.push(sys::Tree::NATS);
        }
        trees
    }

    /// The pids of the suite's processes.
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(|(_, c)| c.id()).collect()
    }

    pub fn usage(&self) -> sys::Usage {
        sys::usage(&self.pids())
    }

    fn command(&self, options: &Options) -> Command {
        let mut c = Command::new(&options.parlay);
        c.stdin(Stdio::null())
            .env("PARLAY_LOG", "warn")
            .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c
    }

    /// Creates the benchmark's application (before the suite starts: nothing cached).
    fn create_app(&mut self, options: &Options, env: &[(&str, String)]) -> anyhow::Result<()> {
        let mut c = self.command(options);
        c.envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["--data-dir", &self.dir.display().to_string()])
            .args(["apps", "create", "--name", "bench", "--user", "tel:+1*"]);
        for r in REGISTRATIONS {
            c.args(["--registration", &r.to_string()]);
        }
        let out = c.stderr(Stdio::inherit()).output()?;
        if !out.status.success() {
            bail!("parlay apps create: {}", out.status);
        }
        self.key = String::from_utf8(out.stdout)?
            .lines()
            .last()
            .context("parlay apps create printed no key")?
            .trim()
            .to_string();
        Ok(())
    }

    fn spawn(&mut self, name: &str, mut command: Command) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log")))?;
        let child = command
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        self.processes.push((name.to_string(), child));
        Ok(())
    }

    async fn start_embedded(&mut self, options: &Options) -> anyhow::Result<()> {
        self.create_app(options, &[])?;
        let (http, admin) = (free_port()?, free_port()?);
        let mut c = self.command(options);
        c.args(["--data-dir", &self.dir.display().to_string()])
            .args(["--http", &format!("127.0.0.1:{http}")])
            .args(["--admin", &format!("127.0.0.1:{admin}")])
            .arg("up");
        self.spawn("parlay-up", c)?;
        self.ready("parlay-up", admin).await?;
        self.api = format!("http://127.0.0.1:{http}/1");
        self.netsim = format!("http://127.0.0.1:{admin}");
        Ok(())
    }

    async fn start_distributed(&mut self, options: &Options, ns: &str) -> anyhow::Result<()> {
        self.bus_prefix = Some(ns.to_string());
        let mut urls = std::collections::HashMap::new();
        for service in [
            "call",
            "messaging",
            "presence",
            "addresslist",
            "notify",
            "gateway",
        ] {
            let name = format!("parlay_{ns}_{service}");
            let url = parlay_kit::db::create_postgres_database(&pg_base(), &name).await?;
            self.databases.push(name.clone());
            let status = self
                .command(options)
                .env("PARLAY_DATABASE_URL", &url)
                .args(["migrate", "--service", service])
                .status()?;
            if !status.success() {
                bail!("parlay migrate --service {service}: {status}");
            }
            urls.insert(service, url);
        }
        self.create_app(options, &[("PARLAY_DATABASE_URL", urls["gateway"].clone())])?;

        let http = free_port()?;
        let grpc: std::collections::HashMap<&str, u16> =
            ["call", "messaging", "presence", "addresslist"]
                .into_iter()
                .map(|s| Ok((s, free_port()?)))
                .collect::<anyhow::Result<_>>()?;
        let grpc_url = |s: &str| format!("http://127.0.0.1:{}", grpc[s]);
        let attachments = self.dir.join("attachments");
        for service in [
            "call",
            "messaging",
            "presence",
            "addresslist",
            "netsim",
            "notify",
            "gateway",
        ] {
            let admin = free_port()?;
            let mut c = self.command(options);
            c.env("PARLAY_NATS_URL", nats_url())
                .env("PARLAY_BUS_PREFIX", ns)
                .env("PARLAY_PUBLIC_URL", format!("http://127.0.0.1:{http}"))
                .env("PARLAY_MESSAGING__ATTACHMENTS_DIR", &attachments)
                .env("PARLAY_CALL_GRPC_URL", grpc_url("call"))
                .env("PARLAY_MESSAGING_GRPC_URL", grpc_url("messaging"))
                .env("PARLAY_PRESENCE_GRPC_URL", grpc_url("presence"))
                .env("PARLAY_ADDRESSLIST_GRPC_URL", grpc_url("addresslist"))
                .args(["--admin", &format!("127.0.0.1:{admin}")]);
            if let Some(url) = urls.get(service) {
                c.env("PARLAY_DATABASE_URL", url);
            }
            if let Some(port) = grpc.get(service) {
                c.env("PARLAY_GRPC_ADDR", format!("127.0.0.1:{port}"));
            }
            if service == "gateway" {
                c.args(["--http", &format!("127.0.0.1:{http}")]);
            }
            c.args(["serve", service]);
            self.spawn(service, c)?;
            self.ready(service, admin).await?;
            if service == "netsim" {
                self.netsim = format!("http://127.0.0.1:{admin}");
            }
        }
        self.api = format!("http://127.0.0.1:{http}/1");
        Ok(())
    }

    /// Waits (bounded) for `/readyz` of the process just started.
    async fn ready(&mut self, name: &str, admin: u16) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{admin}/readyz"))
                .send()
                .await
                && r.status().is_success()
            {
                return Ok(());
            }
            if let Some((_, child)) = self.processes.last_mut()
                && let Some(status) = child.try_wait()?
            {
                // The log goes with the suite's directory unless it is kept: its last
                // lines go in the error, so the report says why.
                bail!(
                    "{name} exited ({status}); the end of its log: {}",
                    self.log_tail(name)
                );
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{name} not ready after 60 s; see {}",
                    self.log(name).display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of `name`'s log, on one line, without terminal colours.
    fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.log(name)).unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(without_colours)
            .collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// SIGTERM to every process (the newest first), SIGKILL after 10 s; the databases and
    /// the temporary directory are removed.
    pub async fn stop(&mut self) {
        for (_, child) in self.processes.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.processes.clear();
        if std::env::var_os("PARLAY_BENCH_KEEP").is_some() {
            eprintln!(
                "  logs and data kept in {}; databases kept: {}; streams kept: {}",
                self.dir.display(),
                self.databases.join(", "),
                self.bus_prefix
                    .as_deref()
                    .map_or("none".into(), |p| format!("{p}_*"))
            );
            self.databases.clear();
        } else {
            for db in self.databases.drain(..) {
                let _ = parlay_kit::db::drop_postgres_database(&pg_base(), &db).await;
            }
            if let Some(prefix) = self.bus_prefix.take()
                && let Err(e) = delete_streams(&prefix).await
            {
                eprintln!("  the suite's JetStream streams ({prefix}_*) were not removed: {e:#}");
            }
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes the JetStream streams a distributed suite made under the bus prefix `prefix`
/// (`{prefix}_NET_CMD` and the like): each run makes its own, and they would pile up.
async fn delete_streams(prefix: &str) -> anyhow::Result<()> {
    use futures::StreamExt as _;
    let client = async_nats::connect(nats_url())
        .await
        .context("connecting to NATS")?;
    let js = async_nats::jetstream::new(client);
    let ours = format!("{prefix}_");
    let mut names = js.stream_names();
    let mut found = Vec::new();
    while let Some(name) = names.next().await {
        let name = name.context("listing the streams")?;
        if name.starts_with(&ours) {
            found.push(name);
        }
    }
    for name in found {
        js.delete_stream(&name)
            .await
            .with_context(|| format!("deleting {name}"))?;
    }
    Ok(())
}

/// The `parlay` binary: `--parlay`, `PARLAY_BIN`, or beside this program (same target dir).
pub fn find_parlay(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("PARLAY_BIN") {
        return Ok(PathBuf::from(p));
    }
    let beside = std::env::current_exe()?
        .parent()
        .context("no directory")?
        .join("parlay");
    if beside.exists() {
        Ok(beside)
    } else {
        bail!(
            "no parlay binary at {} (build it: cargo build --release --bin parlay, or pass --parlay)",
            beside.display()
        )
    }
}

/// `line` without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn colours_are_taken_out_of_a_log_line() {
        let line = "\u{1b}[2m2026-12-07\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m address in use";
        assert_eq!(
            super::without_colours(line),
            "2026-12-07 ERROR address in use"
        );
    }

    #[test]
    fn servers_on_loopback_are_local() {
        use super::is_local;
        assert!(is_local("postgres://postgres@127.0.0.1:5432"));
        assert!(is_local("nats://localhost:4222"));
        assert!(is_local("postgres://u:p@[::1]:5432/db"));
        assert!(!is_local("postgres://postgres@db.example:5432"));
        assert!(!is_local("nats://10.0.0.7:4222"));
        assert!(!is_local("not a url"));
    }
}
