//! Faults with real processes: the suite (embedded) or the notify service (distributed)
//! runs as a child process and is killed with SIGKILL while a webhook is in flight; after a
//! restart the webhook still arrives, with the same notification id. SIGTERM drains and
//! exits cleanly.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
};

use reqwest::StatusCode;

use crate::{
    harness::{App, Mode, NATS_URL, Suite, eventually, pg_database, unique},
    receiver::{Answer as Plan, Receiver},
};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn node() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_parlay-e2e-node"));
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if std::env::var_os("RUST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .env("PARLAY_LOG", "warn")
        .env("PARLAY_NOTIFY__INITIAL_BACKOFF_MS", "50")
        .env("PARLAY_NOTIFY__LEASE_SECS", "1")
        .env("PARLAY_NOTIFY__ATTEMPT_TIMEOUT_MS", "30000");
    c
}

fn embedded(dir: &Path, http: u16, admin: u16) -> Child {
    node()
        .args(["--data-dir", dir.to_str().unwrap()])
        .args([
            "--http",
            &format!("127.0.0.1:{http}"),
            "--admin",
            &format!("127.0.0.1:{admin}"),
        ])
        .arg("up")
        .spawn()
        .unwrap()
}

async fn ready(admin: u16) {
    let http = reqwest::Client::new();
    eventually("the child process is ready", 30, || {
        let http = http.clone();
        async move {
            let r = http
                .get(format!("http://127.0.0.1:{admin}/readyz"))
                .send()
                .await
                .ok()?;
            (r.status() == StatusCode::OK).then_some(())
        }
    })
    .await;
}

fn kill(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap()
}

async fn app_for(gateway_db: &str, api: String) -> App {
    let db = parlay_kit::db::connect_and_migrate::<parlay_gateway::Migrator>(gateway_db)
        .await
        .unwrap();
    let (_, key) = parlay_gateway::apps::create(&db, "app", vec![])
        .await
        .unwrap();
    App {
        key,
        api,
        http: reqwest::Client::new(),
    }
}

/// With `running` up: creates a one-participant call whose Answer webhook hangs, SIGKILLs
/// `running` while that webhook is in flight, starts the process again with `start`, and
/// checks the webhook then arrives with the same notification id and body. Finally SIGTERM
/// must drain and exit 0.
async fn kill_mid_flight(app: &App, admin: u16, mut running: Child, start: impl Fn() -> Child) {
    let hook = Receiver::start().await;
    hook.plan(&[Plan::Hang]);
    let created = app
        .create_call(&["tel:+15551230001"], Some(&hook.url), None)
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let first = eventually("the webhook is in flight", 15, || async {
        hook.received().first().cloned()
    })
    .await;
    kill(&mut running);
    let mut restarted = start();
    ready(admin).await;
    let delivered = eventually("the webhook arrives after the restart", 20, || async {
        let got = hook.received();
        (got.len() >= 2).then_some(got)
    })
    .await;
    assert_eq!(delivered[1].notification_id(), first.notification_id());
    assert_eq!(delivered[1].body, first.body);
    let status = terminate(&mut restarted);
    assert!(
        status.success(),
        "SIGTERM should drain and exit 0, got {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_suite_killed_with_a_webhook_in_flight_loses_nothing() {
    crate::harness::init();
    let dir = std::env::temp_dir().join(unique("parlay-kill-"));
    let (http, admin) = (free_port(), free_port());
    let child = embedded(&dir, http, admin);
    ready(admin).await;
    let config = parlay_kit::Config {
        data_dir: dir.clone(),
        ..Default::default()
    };
    let gateway_db = parlay_kit::db::url_for(&config, "gateway");
    let app = app_for(&gateway_db, format!("http://127.0.0.1:{http}/1")).await;
    kill_mid_flight(&app, admin, child, || embedded(&dir, http, admin)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_notify_killed_with_a_webhook_in_flight_loses_nothing() {
    // The other services run in this process; notify runs as a child process.
    let suite = Suite::start_without_notify().await;
    assert_eq!(suite.mode, Mode::Distributed);
    let notify_db = pg_database(&format!("parlay_{}_notify2", unique("t"))).await;
    let admin = free_port();
    let notify = || {
        node()
            .env("PARLAY_NATS_URL", NATS_URL)
            .env("PARLAY_BUS_PREFIX", &suite.config.bus_prefix)
            .env("PARLAY_DATABASE_URL", &notify_db)
            .args(["--admin", &format!("127.0.0.1:{admin}"), "serve", "notify"])
            .spawn()
            .unwrap()
    };
    let app = suite.app("app", &[]).await;
    let child = notify();
    ready(admin).await;
    kill_mid_flight(&app, admin, child, notify).await;
}
