//! Command line: `parlay up | serve <service> | migrate | apps create`. Settings come from
//! compiled-in defaults, then `--config`/`PARLAY_CONFIG`, then `PARLAY_…` variables, then
//! the flags below; a bad setting stops the command with a message before anything binds.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use parlay_kit::{Config, db, shutdown, telemetry};

use crate::components::{Service, serve, up};

#[derive(Parser, Debug)]
#[command(name = "parlay", version, about = "The Parlay ParlayREST suite")]
pub struct Cli {
    /// Configuration file (TOML); also `PARLAY_CONFIG`.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// ParlayREST HTTP listener (`PARLAY_HTTP_ADDR`, default 127.0.0.1:8080).
    #[arg(long, global = true)]
    http: Option<SocketAddr>,
    /// Admin listener: /livez, /readyz, /metrics, netsim control (`PARLAY_ADMIN_ADDR`, default 127.0.0.1:9090).
    #[arg(long, global = true)]
    admin: Option<SocketAddr>,
    /// Data directory for SQLite files (`PARLAY_DATA_DIR`, default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// What resourceURLs start with (`PARLAY_PUBLIC_URL`, default http:// + the HTTP address).
    #[arg(long, global = true)]
    public_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Every service, the gateway, netsim and notify in one process (embedded mode).
    Up,
    /// One service in this process (distributed mode: NATS and a database from config).
    Serve {
        #[arg(value_enum)]
        service: Service,
    },
    /// Apply database migrations (embedded: every service's SQLite file; with --service:
    /// that service's database from config).
    Migrate {
        #[arg(long, value_enum)]
        service: Option<Service>,
    },
    /// Manage applications and their keys.
    Apps {
        #[command(subcommand)]
        command: AppsCommand,
    },
}

#[derive(Subcommand, Debug)]
enum AppsCommand {
    /// Create an application; prints its key as the last line.
    Create {
        #[arg(long)]
        name: String,
        /// A user the key may act for (tel:/sip:/acr: address, `*` and `?` as globs); repeatable.
        #[arg(long = "user")]
        users: Vec<String>,
        /// A registration whose inbound messages it reads and subscribes to (a tel:/sip:
        /// address or a short code such as 3456); repeatable.
        #[arg(long = "registration")]
        registrations: Vec<String>,
    },
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load(&cli) {
        Ok(c) => {
            for name in &c.ignored_env {
                eprintln!("parlay: warning: {name} names no setting; ignored");
            }
            c
        }
        Err(e) => {
            eprintln!("parlay: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("parlay: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parlay: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(cli: &Cli) -> Result<Config, parlay_kit::config::ConfigError> {
    let file = cli
        .config
        .clone()
        .or_else(|| std::env::var_os("PARLAY_CONFIG").map(PathBuf::from));
    let mut config = Config::load(file.as_deref(), std::env::vars())?;
    if let Some(a) = cli.http {
        config.http_addr = a;
    }
    if let Some(a) = cli.admin {
        config.admin_addr = a;
    }
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(u) = &cli.public_url {
        config.public_url = Some(u.clone());
    }
    config.validate()?;
    Ok(config)
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match command {
        Command::Up => {
            telemetry::init(&config.log, "parlay");
            let token = shutdown::on_signal();
            let served = up(config, token).await?;
            let result = served.join().await;
            telemetry::shutdown();
            result
        }
        Command::Serve { service } => {
            telemetry::init(&config.log, service_name(service));
            let token = shutdown::on_signal();
            let served = serve(service, config, token).await?;
            let result = served.join().await;
            telemetry::shutdown();
            result
        }
        Command::Migrate { service } => migrate(&config, service).await,
        Command::Apps {
            command:
                AppsCommand::Create {
                    name,
                    users,
                    registrations,
                },
        } => {
            let db = db::connect_and_migrate::<parlay_gateway::Migrator>(&db::url_for(
                &config, "gateway",
            ))
            .await?;
            let (app, key) =
                parlay_gateway::apps::create_with(&db, &name, users, registrations).await?;
            println!("application {} ({}) created", app.id, app.name);
            if app.users.is_empty() {
                println!("users: any");
            } else {
                println!("users: {}", app.users.join(", "));
            }
            if !app.registrations.is_empty() {
                println!("registrations: {}", app.registrations.join(", "));
            }
            println!("{key}");
            Ok(())
        }
    }
}

fn service_name(service: Service) -> &'static str {
    match service {
        Service::Gateway => "parlay-gateway",
        Service::Call => "parlay-call",
        Service::Messaging => "parlay-messaging",
        Service::Presence => "parlay-presence",
        Service::Addresslist => "parlay-addresslist",
        Service::Notify => "parlay-notify",
        Service::Netsim => "parlay-netsim",
    }
}

async fn migrate(config: &Config, service: Option<Service>) -> anyhow::Result<()> {
    let services = match service {
        Some(s) => vec![s],
        None => vec![
            Service::Gateway,
            Service::Call,
            Service::Messaging,
            Service::Presence,
            Service::Addresslist,
            Service::Notify,
        ],
    };
    for s in services {
        match s {
            Service::Gateway => {
                db::connect_and_migrate::<parlay_gateway::Migrator>(&db::url_for(
                    config, "gateway",
                ))
                .await?;
            }
            Service::Call => {
                db::connect_and_migrate::<parlay_call::Migrator>(&db::url_for(config, "call"))
                    .await?;
            }
            Service::Messaging => {
                db::connect_and_migrate::<parlay_messaging::Migrator>(&db::url_for(
                    config,
                    "messaging",
                ))
                .await?;
            }
            Service::Presence => {
                db::connect_and_migrate::<parlay_presence::Migrator>(&db::url_for(
                    config, "presence",
                ))
                .await?;
            }
            Service::Addresslist => {
                db::connect_and_migrate::<parlay_addresslist::Migrator>(&db::url_for(
                    config,
                    "addresslist",
                ))
                .await?;
            }
            Service::Notify => {
                db::connect_and_migrate::<parlay_notify::Migrator>(&db::url_for(config, "notify"))
                    .await?;
            }
            Service::Netsim => {}
        }
        println!("migrated {s:?}");
    }
    Ok(())
}
