//! Starting the components. Embedded (`up`): in-process bus, a SQLite file per service in
//! the data directory, the gateway (and address lists, towards presence) calling each
//! service's gRPC routes in this process, each service's gRPC also served on an ephemeral
//! loopback port for operators' tools, netsim's control API on the admin listener.
//! Distributed (`serve`): one component, NATS JetStream, the configured database.

use std::net::SocketAddr;

use anyhow::Context;
use parlay_kit::{
    Config,
    admin::{self, ReadyCheck},
    bus::{self, SharedBus},
    db,
    grpc::{GrpcMetrics, transport},
};
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;

/// A component `parlay serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    Gateway,
    Call,
    Messaging,
    Presence,
    Addresslist,
    Notify,
    Netsim,
}

/// A running suite or component: its bound addresses, and its tasks.
pub struct Served {
    /// The gateway's ParlayREST listener (when the gateway runs here).
    pub http: Option<SocketAddr>,
    /// The admin listener.
    pub admin: SocketAddr,
    /// The gRPC listener of the service this process serves (`serve`), or of the call
    /// service (`up`).
    pub grpc: Option<SocketAddr>,
    shutdown: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
}

impl Served {
    /// Asks everything to drain and stop.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits until every task stopped; the first error, if any. Once shutdown has begun,
    /// tasks still running after [`GRACE`] are aborted, so a stuck request or worker can
    /// never keep the process from exiting.
    pub async fn join(mut self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        let grace = async move {
            shutdown.cancelled().await;
            tokio::time::sleep(GRACE).await;
        };
        tokio::pin!(grace);
        let mut result = Ok(());
        loop {
            tokio::select! {
                done = self.tasks.join_next() => {
                    let Some(done) = done else { break };
                    if let Err(e) = done.map_err(anyhow::Error::from).and_then(|r| r) {
                        self.shutdown.cancel();
                        if result.is_ok() {
                            result = Err(e);
                        }
                    }
                }
                _ = &mut grace => {
                    tracing::warn!(grace = ?GRACE, "shutdown grace period over; aborting what still runs");
                    self.tasks.abort_all();
                    while self.tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
        result
    }
}

/// How long shutdown waits for in-flight work before aborting it (below Kubernetes'
/// default 30 s termination grace period).
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(25);

async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({what})"))
}

/// Runs every component in this process (embedded mode).
pub async fn up(mut config: Config, shutdown: CancellationToken) -> anyhow::Result<Served> {
    let http = bind(config.http_addr, "HTTP").await?;
    let admin_listener = bind(config.admin_addr, "admin").await?;
    let http_addr = http.local_addr()?;
    // The public URL follows the port actually bound (port 0 in tests).
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{http_addr}"));
    }
    // One process: no client balances over its gRPC servers, so nothing to drain away from.
    config.grpc_drain_ms = 0;
    let bus = bus::connect(&config).await?;
    let mut tasks = JoinSet::new();

    let call_db =
        db::connect_and_migrate::<parlay_call::Migrator>(&db::url_for(&config, "call")).await?;
    let notify_db =
        db::connect_and_migrate::<parlay_notify::Migrator>(&db::url_for(&config, "notify")).await?;
    let gateway_db =
        db::connect_and_migrate::<parlay_gateway::Migrator>(&db::url_for(&config, "gateway"))
            .await?;
    let messaging_db =
        db::connect_and_migrate::<parlay_messaging::Migrator>(&db::url_for(&config, "messaging"))
            .await?;
    let presence_db =
        db::connect_and_migrate::<parlay_presence::Migrator>(&db::url_for(&config, "presence"))
            .await?;
    let addresslist_db = db::connect_and_migrate::<parlay_addresslist::Migrator>(&db::url_for(
        &config,
        "addresslist",
    ))
    .await?;

    let netsim = parlay_netsim::Netsim::start(&config, bus.clone(), shutdown.clone()).await?;
    let notify =
        parlay_notify::Notify::start(&config, notify_db.clone(), bus.clone(), shutdown.clone())
            .await?;
    tasks.spawn(async move {
        notify.join().await;
        Ok(())
    });
    let grpc_listener = bind(([127, 0, 0, 1], 0).into(), "call gRPC").await?;
    let grpc_addr = grpc_listener.local_addr()?;
    let call = spawn_call(
        &mut tasks,
        &config,
        call_db.clone(),
        bus.clone(),
        grpc_listener,
        shutdown.clone(),
    )
    .await?;

    let messaging_listener = bind(([127, 0, 0, 1], 0).into(), "messaging gRPC").await?;
    let messaging = spawn_messaging(
        &mut tasks,
        &config,
        messaging_db.clone(),
        bus.clone(),
        messaging_listener,
        shutdown.clone(),
    )
    .await?;

    let presence_listener = bind(([127, 0, 0, 1], 0).into(), "presence gRPC").await?;
    let presence = spawn_presence(
        &mut tasks,
        &config,
        presence_db.clone(),
        bus.clone(),
        presence_listener,
        shutdown.clone(),
    )
    .await?;
    let addresslist_listener = bind(([127, 0, 0, 1], 0).into(), "addresslist gRPC").await?;
    let addresslist = spawn_addresslist(
        &mut tasks,
        &config,
        addresslist_db.clone(),
        transport::in_process(presence.clone()),
        addresslist_listener,
        shutdown.clone(),
    )
    .await?;

    let upstreams = parlay_gateway::Upstreams::over(
        transport::in_process(call),
        transport::in_process(messaging),
        transport::in_process(presence),
        transport::in_process(addresslist),
    );
    let router = parlay_gateway::router(&config, gateway_db.clone(), upstreams);
    tasks.spawn(serve_http(http, router, shutdown.clone()));

    let checks = vec![
        ReadyCheck::database(call_db),
        ReadyCheck::database(messaging_db),
        ReadyCheck::database(presence_db),
        ReadyCheck::database(addresslist_db),
        ReadyCheck::database(notify_db),
        ReadyCheck::database(gateway_db),
        ReadyCheck::bus(bus),
    ];
    let admin_router = admin::router(checks).merge(netsim.control_router());
    let admin_addr = admin_listener.local_addr()?;
    tasks.spawn(serve_http(admin_listener, admin_router, shutdown.clone()));
    tracing::info!(%http_addr, %admin_addr, "parlay is up (embedded mode)");
    Ok(Served {
        http: Some(http_addr),
        admin: admin_addr,
        grpc: Some(grpc_addr),
        shutdown,
        tasks,
    })
}

/// Runs one component (distributed mode).
pub async fn serve(
    service: Service,
    mut config: Config,
    shutdown: CancellationToken,
) -> anyhow::Result<Served> {
    let admin_listener = bind(config.admin_addr, "admin").await?;
    let mut tasks = JoinSet::new();
    let mut served = Served {
        http: None,
        admin: admin_listener.local_addr()?,
        grpc: None,
        shutdown: shutdown.clone(),
        tasks: JoinSet::new(),
    };
    let bus_for = |config: &Config| {
        let config = config.clone();
        async move {
            anyhow::ensure!(
                config.nats_url.is_some(),
                "PARLAY_NATS_URL must be set to serve a service on its own (distributed mode)"
            );
            Ok::<SharedBus, anyhow::Error>(bus::connect(&config).await?)
        }
    };
    let (checks, extra) = match service {
        Service::Gateway => {
            let http = bind(config.http_addr, "HTTP").await?;
            served.http = Some(http.local_addr()?);
            if config.public_url.is_none() {
                config.public_url = Some(format!("http://{}", http.local_addr()?));
            }
            let db = db::connect_and_migrate::<parlay_gateway::Migrator>(&db::url_for(
                &config, "gateway",
            ))
            .await?;
            let upstreams = parlay_gateway::Upstreams::connect_all(
                &config.call_grpc_url,
                &config.messaging_grpc_url,
                &config.presence_grpc_url,
                &config.addresslist_grpc_url,
            )?;
            tasks.spawn(serve_http(
                http,
                parlay_gateway::router(&config, db.clone(), upstreams),
                shutdown.clone(),
            ));
            (vec![ReadyCheck::database(db)], None)
        }
        Service::Call => {
            let bus = bus_for(&config).await?;
            let db =
                db::connect_and_migrate::<parlay_call::Migrator>(&db::url_for(&config, "call"))
                    .await?;
            let grpc = bind(config.grpc_addr, "gRPC").await?;
            served.grpc = Some(grpc.local_addr()?);
            spawn_call(
                &mut tasks,
                &config,
                db.clone(),
                bus.clone(),
                grpc,
                shutdown.clone(),
            )
            .await?;
            (vec![ReadyCheck::database(db), ReadyCheck::bus(bus)], None)
        }
        Service::Messaging => {
            let bus = bus_for(&config).await?;
            let db = db::connect_and_migrate::<parlay_messaging::Migrator>(&db::url_for(
                &config,
                "messaging",
            ))
            .await?;
            let grpc = bind(config.grpc_addr, "gRPC").await?;
            served.grpc = Some(grpc.local_addr()?);
            spawn_messaging(
                &mut tasks,
                &config,
                db.clone(),
                bus.clone(),
                grpc,
                shutdown.clone(),
            )
            .await?;
            (vec![ReadyCheck::database(db), ReadyCheck::bus(bus)], None)
        }
        Service::Presence => {
            let bus = bus_for(&config).await?;
            let db = db::connect_and_migrate::<parlay_presence::Migrator>(&db::url_for(
                &config, "presence",
            ))
            .await?;
            let grpc = bind(config.grpc_addr, "gRPC").await?;
            served.grpc = Some(grpc.local_addr()?);
            spawn_presence(
                &mut tasks,
                &config,
                db.clone(),
                bus.clone(),
                grpc,
                shutdown.clone(),
            )
            .await?;
            (vec![ReadyCheck::database(db), ReadyCheck::bus(bus)], None)
        }
        Service::Addresslist => {
            let db = db::connect_and_migrate::<parlay_addresslist::Migrator>(&db::url_for(
                &config,
                "addresslist",
            ))
            .await?;
            let grpc = bind(config.grpc_addr, "gRPC").await?;
            served.grpc = Some(grpc.local_addr()?);
            let presence = transport::connect(&config.presence_grpc_url)?;
            spawn_addresslist(
                &mut tasks,
                &config,
                db.clone(),
                presence,
                grpc,
                shutdown.clone(),
            )
            .await?;
            (vec![ReadyCheck::database(db)], None)
        }
        Service::Notify => {
            let bus = bus_for(&config).await?;
            let db =
                db::connect_and_migrate::<parlay_notify::Migrator>(&db::url_for(&config, "notify"))
                    .await?;
            let notify =
                parlay_notify::Notify::start(&config, db.clone(), bus.clone(), shutdown.clone())
                    .await?;
            tasks.spawn(async move {
                notify.join().await;
                Ok(())
            });
            (vec![ReadyCheck::database(db), ReadyCheck::bus(bus)], None)
        }
        Service::Netsim => {
            let bus = bus_for(&config).await?;
            let netsim =
                parlay_netsim::Netsim::start(&config, bus.clone(), shutdown.clone()).await?;
            (vec![ReadyCheck::bus(bus)], Some(netsim.control_router()))
        }
    };
    let mut admin_router = admin::router(checks);
    if let Some(extra) = extra {
        admin_router = admin_router.merge(extra);
    }
    tasks.spawn(serve_http(admin_listener, admin_router, shutdown));
    served.tasks = tasks;
    tracing::info!(?service, admin = %served.admin, "parlay service started (distributed mode)");
    Ok(served)
}

async fn spawn_call(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    config: &Config,
    db: sea_orm::DatabaseConnection,
    bus: SharedBus,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<Routes> {
    let call = parlay_call::CallService::start(config, db, bus, shutdown.clone()).await?;
    let notification = call.notification_grpc();
    let audio = call.audio_grpc();
    let apis = Routes::new(call.grpc())
        .add_service(notification)
        .add_service(audio);
    let (router, health) = grpc_server(
        config,
        &[
            "parlay.call.v1.ThirdPartyCall",
            "parlay.call.v1.CallNotification",
            "parlay.call.v1.AudioCall",
        ],
        apis.clone(),
    )
    .await?;
    serve_grpc(tasks, router, health, listener, shutdown, async move {
        call.join().await
    });
    Ok(apis)
}

async fn spawn_messaging(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    config: &Config,
    db: sea_orm::DatabaseConnection,
    bus: SharedBus,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<Routes> {
    let messaging =
        parlay_messaging::MessagingService::start(config, db, bus, shutdown.clone()).await?;
    let apis = Routes::new(messaging.grpc());
    let (router, health) =
        grpc_server(config, &["parlay.messaging.v1.Messaging"], apis.clone()).await?;
    serve_grpc(tasks, router, health, listener, shutdown, async move {
        messaging.join().await
    });
    Ok(apis)
}

async fn spawn_presence(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    config: &Config,
    db: sea_orm::DatabaseConnection,
    bus: SharedBus,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<Routes> {
    let presence =
        parlay_presence::PresenceService::start(config, db, bus, shutdown.clone()).await?;
    let apis = Routes::new(presence.grpc());
    let (router, health) =
        grpc_server(config, &["parlay.presence.v1.Presence"], apis.clone()).await?;
    serve_grpc(tasks, router, health, listener, shutdown, async move {
        presence.join().await
    });
    Ok(apis)
}

async fn spawn_addresslist(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    config: &Config,
    db: sea_orm::DatabaseConnection,
    presence: transport::Transport,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<Routes> {
    let addresslist =
        parlay_addresslist::AddressListService::start(config, db, presence, shutdown.clone())
            .await?;
    let apis = Routes::new(addresslist.grpc());
    let (router, health) =
        grpc_server(config, &["parlay.addresslist.v1.AddressList"], apis.clone()).await?;
    serve_grpc(tasks, router, health, listener, shutdown, async move {
        addresslist.join().await
    });
    Ok(apis)
}

/// Serves `router` on `listener` until shutdown, draining as [`HealthReporter::stopped`]
/// says, then waits for the service's own tasks (`joined`).
fn serve_grpc(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    router: GrpcRouter,
    health: HealthReporter,
    listener: TcpListener,
    shutdown: CancellationToken,
    joined: impl std::future::Future<Output = ()> + Send + 'static,
) {
    tasks.spawn(async move {
        router
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                health.stopped(shutdown),
            )
            .await?;
        joined.await;
        Ok(())
    });
}

/// A gRPC server measured by [`GrpcMetrics`].
type GrpcRouter = tonic::transport::server::Router<
    tower::layer::util::Stack<GrpcMetrics, tower::layer::util::Identity>,
>;

/// A service's gRPC server for its APIs (`apis`): RED metrics
/// (`parlay_grpc_requests_total`, `parlay_grpc_request_duration_seconds`); gRPC health reporting each of
/// `services` (fully qualified names) as serving; server reflection of those services and
/// health when `grpc_reflection` is on; and connections closed after
/// `grpc_max_connection_age_secs`, so clients spread over new replicas.
async fn grpc_server(
    config: &Config,
    services: &[&str],
    apis: Routes,
) -> anyhow::Result<(GrpcRouter, HealthReporter)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in services {
        reporter
            .set_service_status(*name, tonic_health::ServingStatus::Serving)
            .await;
    }
    let reporter = HealthReporter {
        reporter,
        services: services.iter().map(|s| s.to_string()).collect(),
        drain: std::time::Duration::from_millis(config.grpc_drain_ms),
    };
    let mut server = tonic::transport::Server::builder().layer(GrpcMetrics);
    if config.grpc_max_connection_age_secs > 0 {
        server = server.max_connection_age(std::time::Duration::from_secs(
            config.grpc_max_connection_age_secs,
        ));
    }
    let reflection = if config.grpc_reflection {
        let builder = services.iter().fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(parlay_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health"),
            |builder, name| builder.with_service_name(*name),
        );
        Some(builder.build_v1()?)
    } else {
        None
    };
    let mut routes = apis.add_service(health);
    if let Some(reflection) = reflection {
        routes = routes.add_service(reflection);
    }
    Ok((server.add_routes(routes), reporter))
}

/// The health service's side of a gRPC server, for a graceful stop.
struct HealthReporter {
    reporter: tonic_health::server::HealthReporter,
    services: Vec<String>,
    /// `grpc_drain_ms`.
    drain: std::time::Duration,
}

impl HealthReporter {
    /// Resolves when the server should close: at `shutdown`, once the server and each of
    /// its services report NOT_SERVING and `drain` has passed, so clients balancing over
    /// replicas have moved away (calls arriving meanwhile are still served).
    async fn stopped(self, shutdown: CancellationToken) {
        shutdown.cancelled().await;
        let not_serving = tonic_health::ServingStatus::NotServing;
        self.reporter.set_service_status("", not_serving).await;
        for name in &self.services {
            self.reporter.set_service_status(name, not_serving).await;
        }
        tokio::time::sleep(self.drain).await;
    }
}

async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    parlay_kit::serve_http(listener, router, shutdown).await;
    Ok(())
}
