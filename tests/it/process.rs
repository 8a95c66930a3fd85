//! Faults with real processes: the suite (embedded) or the notify service (distributed)
//! runs as a child process and is killed with SIGKILL while a webhook is in flight; after a
//! restart the webhook still arrives, with the same notification id. SIGTERM drains and
//! exits cleanly. Messaging likewise: delivery statuses, their notifications and inbound
//! messages with their attachments survive a SIGKILL of the embedded suite; and a presence
//! subscription that expires while the suite is down is cancelled once it is back.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
};

use reqwest::StatusCode;

use crate::{
    harness::{
        Answer, App, Mode, NATS_URL, Suite, eventually, eventually_showing, pg_database, unique,
    },
    receiver::{Answer as Plan, Receiver},
};

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn node() -> Command {
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

pub(crate) async fn ready(admin: u16) {
    let http = reqwest::Client::new();
    // What /readyz said (its failing checks) goes in the message if it never turns ready.
    eventually_showing(
        &format!("the child process on admin port {admin} is ready"),
        30,
        || {
            let http = http.clone();
            async move {
                match http
                    .get(format!("http://127.0.0.1:{admin}/readyz"))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == StatusCode::OK => Ok(()),
                    Ok(r) => Err(format!(
                        "/readyz answered {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    )),
                    Err(e) => Err(format!("/readyz not answering: {e}")),
                }
            }
        },
    )
    .await;
}

pub(crate) fn kill(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

pub(crate) fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap()
}

async fn app_for(gateway_db: &str, api: String) -> App {
    app_reading(gateway_db, api, &[]).await
}

/// An application provisioned with `registrations`.
async fn app_reading(gateway_db: &str, api: String, registrations: &[&str]) -> App {
    let db = parlay_kit::db::connect_and_migrate::<parlay_gateway::Migrator>(gateway_db)
        .await
        .unwrap();
    let registrations = registrations.iter().map(|r| r.to_string()).collect();
    let (_, key) = parlay_gateway::apps::create_with(&db, "app", vec![], registrations)
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
async fn embedded_suite_killed_mid_messaging_loses_nothing() {
    use base64::Engine;
    use serde_json::json;
    crate::harness::init();
    let dir = std::env::temp_dir().join(unique("parlay-kill-msg-"));
    let (http, admin) = (free_port(), free_port());
    let mut child = embedded(&dir, http, admin);
    ready(admin).await;
    let config = parlay_kit::Config {
        data_dir: dir.clone(),
        ..Default::default()
    };
    let gateway_db = parlay_kit::db::url_for(&config, "gateway");
    let app = app_reading(&gateway_db, format!("http://127.0.0.1:{http}/1"), &["3456"]).await;

    // An SMS whose first delivery notification hangs in flight.
    let hook = Receiver::start().await;
    hook.plan(&[Plan::Hang]);
    let sent = app
        .send(
            reqwest::Method::POST,
            "/messaging/outbound/3456/requests",
            Some(json!({"outboundMessageRequest": {
                "address": ["tel:+15557654321"], "senderAddress": "3456",
                "outboundSMSTextMessage": {"message": "survive this"},
                "receiptRequest": {"notifyURL": hook.url, "callbackData": "k1"}}})),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    let request_url = sent.header("location").to_string();
    // An inbound MMS stored before the kill.
    let photo: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{admin}/netsim/v1/messages"))
        .json(
            &json!({"senderAddress": "tel:+15557654321", "destinationAddress": "3456",
            "subject": "Photo", "attachments": [{"name": "p.jpg", "contentType": "image/jpeg",
            "data": base64::engine::general_purpose::STANDARD.encode(&photo)}]}),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "inject: {}", r.status());
    let messages = "/messaging/inbound/registrations/3456/messages";
    eventually("the MMS is stored", 15, || async {
        let r = app.send(reqwest::Method::GET, messages, None).await;
        (r.body["inboundMessageList"]["numberOfMessagesInThisBatch"] == json!(1)).then_some(())
    })
    .await;
    let first = eventually("a delivery notification is in flight", 15, || async {
        hook.received().first().cloned()
    })
    .await;
    // Both receipts applied (netsim runs in the process killed next: a receipt it had not
    // sent yet would never come).
    let delivered = |r: &Answer| {
        r.body["deliveryInfoList"]["deliveryInfo"][0]["deliveryStatus"]
            == json!("DeliveredToTerminal")
    };
    eventually("the status reads DeliveredToTerminal", 15, || async {
        let r = app.get_url(&format!("{request_url}/deliveryInfos")).await;
        delivered(&r).then_some(())
    })
    .await;

    kill(&mut child);
    let mut restarted = embedded(&dir, http, admin);
    ready(admin).await;

    // Both statuses notified, the one cut off again with its id and body; the request
    // reads DeliveredToTerminal.
    let got = eventually("both notifications after the restart", 20, || async {
        let got = hook.received();
        let mut statuses: Vec<String> = got
            .iter()
            .map(|r| {
                r.body["deliveryInfoNotification"]["deliveryInfo"]["deliveryStatus"].to_string()
            })
            .collect();
        statuses.sort();
        statuses.dedup();
        let resent = got
            .iter()
            .filter(|r| r.notification_id() == first.notification_id())
            .count();
        (statuses.len() == 2 && resent >= 2).then_some(got)
    })
    .await;
    assert!(
        got.iter()
            .filter(|r| r.notification_id() == first.notification_id())
            .all(|r| r.body == first.body)
    );
    let r = app.get_url(&format!("{request_url}/deliveryInfos")).await;
    assert!(delivered(&r), "{:?}", r.body);
    // The MMS and its attachment are still there.
    let r = app.send(reqwest::Method::GET, messages, None).await;
    let attachment = r.body["inboundMessageList"]["inboundMessage"][0]["inboundMMSMessage"]
        ["attachment"][0]["link"]["href"]
        .as_str()
        .unwrap_or_else(|| panic!("no attachment in {:?}", r.body))
        .to_string();
    let (status, _, bytes) = app.get_bytes(&attachment).await;
    assert_eq!((status, bytes), (StatusCode::OK, photo));

    let status = terminate(&mut restarted);
    assert!(
        status.success(),
        "SIGTERM should drain and exit 0, got {status}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A presence subscription whose duration runs out while the embedded suite is down
/// (SIGKILL) is cancelled once it is back: the application gets its
/// `subscriptionCancellationNotification` and the subscription reads 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presence_subscription_expiring_while_the_suite_is_down_is_cancelled_after_restart() {
    use serde_json::json;
    crate::harness::init();
    let dir = std::env::temp_dir().join(unique("parlay-kill-prs-"));
    let (http, admin) = (free_port(), free_port());
    let mut child = embedded(&dir, http, admin);
    ready(admin).await;
    let config = parlay_kit::Config {
        data_dir: dir.clone(),
        ..Default::default()
    };
    let gateway_db = parlay_kit::db::url_for(&config, "gateway");
    let user = crate::harness::unique_tel();
    let db = parlay_kit::db::connect_and_migrate::<parlay_gateway::Migrator>(&gateway_db)
        .await
        .unwrap();
    let (_, key) = parlay_gateway::apps::create_with(&db, "prs", vec![user.clone()], vec![])
        .await
        .unwrap();
    let app = App {
        key,
        api: format!("http://127.0.0.1:{http}/1"),
        http: reqwest::Client::new(),
    };
    let hook = Receiver::start().await;
    let created = app
        .send(
            reqwest::Method::POST,
            &format!(
                "/presence/{}/subscriptions/watchersSubscriptions",
                crate::messaging::enc(&user)
            ),
            Some(json!({"watchersSubscription": {
                "callbackReference": {"notifyURL": hook.url, "callbackData": "down"},
                "duration": 2}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let url = created.header("location").to_string();
    kill(&mut child);
    // Down for longer than the subscription had left.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(hook.received().is_empty());
    let mut restarted = embedded(&dir, http, admin);
    ready(admin).await;
    let cancelled = hook
        .until("the cancellation after the restart", 20, |r| {
            r.body["subscriptionCancellationNotification"].is_object()
        })
        .await;
    assert_eq!(
        cancelled.body,
        json!({"subscriptionCancellationNotification": {
            "callbackData": "down",
            "link": [{"rel": "WatchersSubscription", "href": url}]}})
    );
    assert_eq!(app.get_url(&url).await.status, StatusCode::NOT_FOUND);
    let status = terminate(&mut restarted);
    assert!(
        status.success(),
        "SIGTERM should drain and exit 0, got {status}"
    );
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
