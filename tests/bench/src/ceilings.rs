//! The ceilings of this machine, measured by the same harness in the same run: what the
//! suite's building blocks do bare, with nothing of ours in the way.
//!
//! - P1 a bare axum handler returning a small JSON body (its own process, open model as H1);
//! - P2 a bare tonic unary call (tonic's health Check, its own process);
//! - P3 JetStream acknowledged publishes on the machine's NATS;
//! - P4 single-row and batched inserts through sea-orm, on SQLite (WAL, the suite's
//!   settings) and the machine's PostgreSQL;
//! - P5 a bare hyper client POSTing to a bare hyper receiver (its own process).

use std::{
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

/// P4's row ids, unique over the whole run.
static NEXT_ROW: AtomicI64 = AtomicI64::new(1);

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::Full;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::{
    Ctx, Run, load,
    scenarios::{Meter, max_sustained, quantiles},
    suite::{free_port, nats_url, pg_base},
};

/// `--serve-bare KIND PORT`: the bare servers of P1 (axum), P2 (tonic), P5 (hyper).
pub async fn serve_bare(kind: &str, port: &str) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    match kind {
        "axum" => {
            let app = axum::Router::new().route(
                "/",
                axum::routing::get(|| async {
                    axum::Json(serde_json::json!({"resourceReference": {"resourceURL": "http://127.0.0.1/1/x"}}))
                }),
            );
            axum::serve(tokio::net::TcpListener::bind(addr).await?, app).await?;
        }
        "tonic" => {
            let (reporter, service) = tonic_health::server::health_reporter();
            reporter
                .set_service_status("", tonic_health::ServingStatus::Serving)
                .await;
            tonic::transport::Server::builder()
                .add_service(service)
                .serve(addr)
                .await?;
        }
        "hyper" => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            loop {
                let (stream, _) = listener.accept().await?;
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        hyper::Response::builder()
                            .status(204)
                            .body(http_body_util::Empty::<Bytes>::new())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        }
        other => bail!("no bare server {other}"),
    }
    Ok(())
}

/// A bare server in a child process of this program, stopped on drop.
struct Bare {
    child: Child,
    port: u16,
}

impl Bare {
    async fn start(kind: &str) -> anyhow::Result<Bare> {
        let port = free_port()?;
        let child = Command::new(std::env::current_exe()?)
            .args(["--serve-bare", kind, &port.to_string()])
            .stdin(Stdio::null())
            .spawn()
            .context("starting a bare server")?;
        let bare = Bare { child, port };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if tokio::time::Instant::now() > deadline {
                bail!("the bare {kind} server did not listen");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(bare)
    }

    fn pids(&self) -> Vec<u32> {
        vec![self.child.id()]
    }
}

impl Drop for Bare {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// P1: the open model of H1 against a bare axum handler; and wrk, loaded as H1 and Kannel.
pub async fn p1(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let bare = Bare::start("axum").await?;
    let url = format!("http://127.0.0.1:{}/", bare.port);
    let http = crate::scenarios::client();
    let get = {
        let (http, url) = (http.clone(), url.clone());
        move |_| {
            let req = http.get(&url);
            async move {
                match req.send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        }
    };
    load::open(
        "p1 warm-up",
        ctx.pick(1000.0, 50.0),
        Duration::from_secs(1),
        Duration::from_secs(10),
        get.clone(),
    )
    .await;
    let rates = ctx.pick(
        vec![
            1000.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0, 12000.0, 16000.0, 20000.0, 25000.0,
            30000.0, 40000.0, 50000.0, 60000.0,
        ],
        vec![50.0, 100.0],
    );
    let mut runs = Vec::new();
    for n in 0..ctx.runs {
        runs.push(
            max_sustained(
                &format!("p1 run {}", n + 1),
                &rates,
                ctx.pick(3.0, 1.0),
                50.0,
                &bare.pids(),
                get.clone(),
            )
            .await,
        );
    }
    if let Some(wrk) = crate::peer::wrk(ctx, &url, None, &bare.pids()).await? {
        for run in &mut runs {
            run.extend(wrk.iter().map(|(k, v)| (format!("wrk_{k}"), *v)));
        }
    }
    Ok(runs)
}

/// P2: tonic unary calls (health Check), 32 callers on one HTTP/2 channel.
pub async fn p2(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let bare = Bare::start("tonic").await?;
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", bare.port))?
            .connect()
            .await?;
    let call = move |_| {
        let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        async move {
            client
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .is_ok()
        }
    };
    closed_runs(ctx, "p2", 32, &bare.pids(), call).await
}

/// `ctx.runs` closed-model runs of `op` (after a warm-up), with the CPU of `pids`.
async fn closed_runs<F, Fut>(
    ctx: &Ctx,
    label: &str,
    concurrency: usize,
    pids: &[u32],
    op: F,
) -> anyhow::Result<Vec<Run>>
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    load::closed(
        &format!("{label} warm-up"),
        concurrency,
        Duration::from_secs(1),
        op.clone(),
    )
    .await;
    let mut runs = Vec::new();
    for n in 0..ctx.runs {
        let meter = Meter::of(pids.to_vec());
        let s = load::closed(
            &format!("{label} run {}", n + 1),
            concurrency,
            Duration::from_secs_f64(ctx.pick(5.0, 1.0)),
            op.clone(),
        )
        .await;
        let mut run = Run::from([
            ("rate".into(), s.rate()),
            ("failed".into(), s.failed as f64),
        ]);
        quantiles(&mut run, &s.ok_ms);
        if !pids.is_empty() {
            meter.finish(&mut run, s.ok());
        }
        runs.push(run);
    }
    Ok(runs)
}

/// P3: JetStream publishes, each awaited until the server acknowledged it stored, 64 in
/// flight, on a file-backed stream of its own (removed afterwards).
pub async fn p3(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let client = async_nats::connect(nats_url())
        .await
        .context("connecting to NATS")?;
    let js = async_nats::jetstream::new(client);
    let name = format!("PARLAY_BENCH_{}", std::process::id());
    let subject = format!("parlaybench.{}", std::process::id());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![format!("{subject}.>")],
        storage: async_nats::jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .context("creating the stream")?;
    let publish = {
        let (js, subject) = (js.clone(), subject.clone());
        move |i: u64| {
            let js = js.clone();
            let subject = format!("{subject}.{}", i % 16);
            async move {
                match js.publish(subject, Bytes::from_static(&[7u8; 200])).await {
                    Ok(ack) => ack.await.is_ok(),
                    Err(_) => false,
                }
            }
        }
    };
    let runs = closed_runs(ctx, "p3", 64, &[], publish).await;
    let _ = js.delete_stream(&name).await;
    runs
}

/// P4: rows per second through sea-orm: single-row inserts (each its own transaction, 8
/// at a time) and batches of 100 rows per transaction (4 at a time), on SQLite in a
/// temporary file with the suite's connection settings, and on the machine's PostgreSQL in
/// a database of its own (both removed afterwards).
pub async fn p4(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let dir = std::env::temp_dir().join(format!("parlay-bench-p4-{}", std::process::id()));
    let sqlite = parlay_kit::db::connect(&parlay_kit::db::sqlite_url(&dir, "p4")).await?;
    let pg_name = format!("parlay_benchp4_{}", std::process::id());
    parlay_kit::db::drop_postgres_database(&pg_base(), &pg_name).await?;
    let url = parlay_kit::db::create_postgres_database(&pg_base(), &pg_name).await?;
    let pg = parlay_kit::db::connect(&url).await;
    let result = async {
        let pg = pg?;
        let mut runs: Vec<Run> = (0..ctx.runs).map(|_| Run::new()).collect();
        for (backend, db) in [("sqlite", sqlite.clone()), ("pg", pg.clone())] {
            db.execute_unprepared("CREATE TABLE IF NOT EXISTS bench (id BIGINT PRIMARY KEY, body TEXT NOT NULL)").await?;
            let single = {
                let db = db.clone();
                move |_| {
                    let db = db.clone();
                    let id = NEXT_ROW.fetch_add(1, Ordering::Relaxed);
                    async move {
                        let stmt = sea_orm::Statement::from_sql_and_values(
                            db.get_database_backend(),
                            if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
                                "INSERT INTO bench (id, body) VALUES (?, ?)"
                            } else {
                                "INSERT INTO bench (id, body) VALUES ($1, $2)"
                            },
                            [id.into(), "a row of about the size of an outbox entry, with some JSON in it".into()],
                        );
                        db.execute_raw(stmt).await.is_ok()
                    }
                }
            };
            let batch = {
                let db = db.clone();
                move |_| {
                    let db = db.clone();
                    let base = NEXT_ROW.fetch_add(100, Ordering::Relaxed);
                    async move {
                        let values: Vec<String> = (0..100).map(|k| format!("({}, 'a row of about the size of an outbox entry, with some JSON in it')", base + k)).collect();
                        let Ok(tx) = db.begin().await else { return false };
                        let ok = tx.execute_unprepared(&format!("INSERT INTO bench (id, body) VALUES {}", values.join(","))).await.is_ok();
                        ok && tx.commit().await.is_ok()
                    }
                }
            };
            for (n, run) in runs.iter_mut().enumerate() {
                let secs = Duration::from_secs_f64(ctx.pick(3.0, 0.5));
                let s = load::closed(&format!("p4 {backend} single run {}", n + 1), 8, secs, single.clone()).await;
                run.insert(format!("{backend}_single_rows_s"), s.rate());
                run.insert(format!("{backend}_single_p99_ms"), s.quantile(0.99));
                let s = load::closed(&format!("p4 {backend} batch run {}", n + 1), 4, secs, batch.clone()).await;
                run.insert(format!("{backend}_batch100_rows_s"), s.rate() * 100.0);
            }
        }
        pg.close().await.ok();
        anyhow::Ok(runs)
    }
    .await;
    sqlite.close().await.ok();
    let _ = parlay_kit::db::drop_postgres_database(&pg_base(), &pg_name).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// P5: a bare hyper client POSTing a small JSON body to a bare hyper receiver answering
/// 204: the most it takes with 32 senders (`rate`), and the latency of an open 1,000/s
/// (`open_p99_ms`: the floor under H2's and H6's webhook latencies).
pub async fn p5(ctx: &Ctx) -> anyhow::Result<Vec<Run>> {
    let bare = Bare::start("hyper").await?;
    let url: hyper::Uri = format!("http://127.0.0.1:{}/hook", bare.port).parse()?;
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let post = move |_| {
        let req = hyper::Request::post(url.clone())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(
                br#"{"deliveryInfoNotification":{"callbackData":"x"}}"#,
            )));
        let client = client.clone();
        async move {
            match req {
                Ok(req) => matches!(client.request(req).await, Ok(r) if r.status() == 204),
                Err(_) => false,
            }
        }
    };
    let mut runs = closed_runs(ctx, "p5", 32, &bare.pids(), post.clone()).await?;
    for (n, run) in runs.iter_mut().enumerate() {
        let s = load::open(
            &format!("p5 open run {}", n + 1),
            ctx.pick(1000.0, 50.0),
            Duration::from_secs_f64(ctx.pick(3.0, 1.0)),
            Duration::from_secs(10),
            post.clone(),
        )
        .await;
        run.insert("open_p50_ms".into(), s.quantile(0.5));
        run.insert("open_p99_ms".into(), s.quantile(0.99));
        run.insert("open_p999_ms".into(), s.quantile(0.999));
    }
    Ok(runs)
}
