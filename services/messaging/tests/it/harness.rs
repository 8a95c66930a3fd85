//! Test harness: the messaging service on a throwaway database (a SQLite file, or a fresh
//! PostgreSQL database) and an in-process bus, its gRPC on a loopback port, a fake network
//! that records the submits it is sent, and a fake notify that keeps the jobs. Events are
//! published as the network would; the in-process bus returns from a publish only once the
//! service acknowledged it, i.e. after its change committed.

use std::{
    future::Future,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use parlay_kit::{
    Config,
    bus::{Bus, ConsumerSpec, Delivery, MemoryBus, SharedBus},
    grpc,
    ids::new_id,
    wire,
};
use parlay_proto::{
    messaging::v1::messaging_client::MessagingClient,
    net::v1::{
        DeliveryReceipt, DeliveryState, InboundMessageEvent, MessagePart, MessageSubmit,
        inbound_message_event, message_submit,
    },
    notify::v1::NotificationJob,
};
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The application most tests act as, and another one.
pub const APP: &str = "app-one";
pub const OTHER_APP: &str = "app-two";
/// Where `resourceURL`s start.
pub const API_ROOT: &str = "https://api.example.com/parlay/1";

/// Logs on when `TEST_LOG` is set (its value is the filter).
fn init_logs() {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        parlay_kit::telemetry::init(&filter, "parlay-messaging-test");
    }
}

/// Where the test database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server of the PostgreSQL test (the kit's test server), unless
/// `PARLAY_TEST_PG` is `off`.
pub fn pg_base() -> Option<String> {
    (std::env::var("PARLAY_TEST_PG").as_deref() != Ok("off"))
        .then(parlay_kit::db::test_postgres_server)
}

/// What the fake network and the fake notify saw.
#[derive(Default)]
pub struct Seen {
    pub submits: Mutex<Vec<MessageSubmit>>,
    pub jobs: Mutex<Vec<NotificationJob>>,
}

/// A running messaging service with its fake surroundings.
pub struct Harness {
    pub config: Config,
    pub bus: SharedBus,
    pub seen: Arc<Seen>,
    pub client: MessagingClient<Channel>,
    /// The service's database, for white-box checks.
    pub db: DatabaseConnection,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    dir: PathBuf,
    pg_database: Option<String>,
}

impl Harness {
    /// The service on SQLite with the default settings.
    pub async fn start() -> Self {
        Self::start_with(Backend::Sqlite, |_| {}).await
    }

    /// The service on `backend`, with settings changed by `tweak`.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        init_logs();
        let dir = std::env::temp_dir().join(new_id("parlay-messaging-it-"));
        let mut config = Config {
            public_url: Some("https://api.example.com/parlay".into()),
            data_dir: dir.clone(),
            ..Config::default()
        };
        tweak(&mut config);
        let (url, pg_database) = match backend {
            Backend::Sqlite => (parlay_kit::db::sqlite_url(&dir, "messaging"), None),
            Backend::Postgres => {
                let base = pg_base().expect("PostgreSQL tests are off");
                let name = format!("parlay_t_{}", new_id(""));
                let url = parlay_kit::db::create_postgres_database(&base, &name)
                    .await
                    .expect("PostgreSQL must be reachable (or set PARLAY_TEST_PG=off)");
                (url, Some(name))
            }
        };
        let db = parlay_kit::db::connect_and_migrate::<parlay_messaging::Migrator>(&url)
            .await
            .unwrap();
        let bus: SharedBus = Arc::new(MemoryBus::new());
        let shutdown = CancellationToken::new();
        let seen = Arc::new(Seen::default());
        let mut tasks = JoinSet::new();
        // Consumers first: the in-process bus refuses what nobody listens to.
        let submits = bus
            .consume(spec("test-network", "net.cmd.msg.>"))
            .await
            .unwrap();
        let jobs = bus.consume(spec("test-notify", "notify.>")).await.unwrap();
        tasks.spawn(until(shutdown.clone(), network(submits, seen.clone())));
        tasks.spawn(until(shutdown.clone(), notify(jobs, seen.clone())));

        let service = parlay_messaging::MessagingService::start(
            &config,
            db.clone(),
            bus.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let router = tonic::transport::Server::builder().add_service(service.grpc());
        let stop = shutdown.clone();
        tasks.spawn(async move {
            router
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    stop.cancelled_owned(),
                )
                .await
                .unwrap();
            service.join().await;
        });
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        Self {
            config,
            bus,
            seen,
            client: MessagingClient::new(channel),
            db,
            shutdown,
            tasks,
            dir,
            pg_database,
        }
    }

    /// A client to call the service with.
    pub fn client(&self) -> MessagingClient<Channel> {
        self.client.clone()
    }

    /// Publishes a receipt as the network would; returns once the service took it.
    pub async fn receipt(&self, receipt: DeliveryReceipt) {
        publish(
            &*self.bus,
            "net.evt.msg.receipt",
            receipt.event_id.clone(),
            &receipt,
        )
        .await;
    }

    /// Publishes an inbound message as the network would; returns once the service took it.
    pub async fn inbound(&self, event: InboundMessageEvent) {
        publish(
            &*self.bus,
            "net.evt.msg.inbound",
            event.event_id.clone(),
            &event,
        )
        .await;
    }

    /// The submits the network has received so far.
    pub fn submits(&self) -> Vec<MessageSubmit> {
        self.seen.submits.lock().unwrap().clone()
    }

    /// The notification jobs notify has received so far.
    pub fn jobs(&self) -> Vec<NotificationJob> {
        self.seen.jobs.lock().unwrap().clone()
    }

    /// Waits until the outbox is empty: every submit and job recorded so far has reached the
    /// fake network or notify (they record before acknowledging; the relay deletes a row
    /// only after that).
    pub async fn drained(&self) {
        eventually("the outbox to drain", || async {
            (crate::count(self, "outbox").await == 0).then_some(())
        })
        .await;
    }

    /// Where the service keeps inbound attachments.
    pub fn attachments_dir(&self) -> PathBuf {
        self.config.attachments_dir()
    }

    /// Stops everything and removes the database and files.
    pub async fn finish(mut self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await
        .expect("the messaging service did not stop within 10 s");
        self.db.close().await.ok();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let (Some(name), Some(base)) = (&self.pg_database, pg_base()) {
            parlay_kit::db::drop_postgres_database(&base, name)
                .await
                .unwrap();
        }
    }
}

/// A request carrying `app`'s id, as the gateway sends it.
pub fn req<T>(app: &str, message: T) -> tonic::Request<T> {
    grpc::request_for(app, message)
}

/// The exception id and variables of a refusal, with its code.
pub fn refusal(status: tonic::Status) -> (tonic::Code, String, Vec<String>) {
    let e = grpc::exception_of(&status).unwrap_or_else(|| panic!("no exception in {status:?}"));
    (status.code(), e.message_id, e.variables)
}

/// A receipt for one destination of a request.
pub fn receipt(
    request_id: &str,
    destination: &str,
    state: DeliveryState,
    description: Option<&str>,
) -> DeliveryReceipt {
    DeliveryReceipt {
        event_id: new_id("ev"),
        request_id: request_id.into(),
        destination: destination.into(),
        state: state as i32,
        description: description.map(str::to_string),
        occurred_at: Some(wire::timestamp(chrono::Utc::now())),
    }
}

/// An inbound SMS.
pub fn inbound_sms(from: &str, to: &str, text: &str) -> InboundMessageEvent {
    InboundMessageEvent {
        event_id: new_id("ev"),
        sender_address: from.into(),
        destination_address: to.into(),
        kind: Some(inbound_message_event::Kind::Text(text.into())),
        occurred_at: Some(wire::timestamp(chrono::Utc::now())),
    }
}

/// An inbound MMS with `files` as (name, content type, bytes).
pub fn inbound_mms(
    from: &str,
    to: &str,
    subject: Option<&str>,
    text: Option<&str>,
    files: &[(&str, &str, Vec<u8>)],
) -> InboundMessageEvent {
    InboundMessageEvent {
        event_id: new_id("ev"),
        sender_address: from.into(),
        destination_address: to.into(),
        kind: Some(inbound_message_event::Kind::Mms(message_submit::Mms {
            subject: subject.map(str::to_string),
            priority: Some("high".into()),
            text: text.map(str::to_string),
            attachments: files
                .iter()
                .map(|(name, content_type, data)| MessagePart {
                    name: name.to_string(),
                    content_type: content_type.to_string(),
                    data: data.clone(),
                })
                .collect(),
        })),
        occurred_at: Some(wire::timestamp(chrono::Utc::now())),
    }
}

/// Runs `work` until `stop` is cancelled.
async fn until(stop: CancellationToken, work: impl Future<Output = ()>) {
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = work => {}
    }
}

fn spec(durable: &str, filter: &str) -> ConsumerSpec {
    ConsumerSpec {
        durable: durable.into(),
        filter: filter.into(),
        ack_wait: Duration::from_secs(30),
    }
}

async fn publish(bus: &dyn Bus, subject: &str, id: String, message: &impl Message) {
    tokio::time::timeout(
        Duration::from_secs(10),
        bus.publish(wire::envelope(subject, id, message)),
    )
    .await
    .expect("the messaging service did not take the event within 10 s")
    .unwrap();
}

/// The fake network: records every submit.
async fn network(mut submits: futures::stream::BoxStream<'static, Delivery>, seen: Arc<Seen>) {
    while let Some(delivery) = submits.next().await {
        let submit = MessageSubmit::decode(delivery.envelope.payload.as_ref()).unwrap();
        seen.submits.lock().unwrap().push(submit);
        delivery.ack().await;
    }
}

/// The fake notify: keeps every job.
async fn notify(mut jobs: futures::stream::BoxStream<'static, Delivery>, seen: Arc<Seen>) {
    while let Some(delivery) = jobs.next().await {
        let job = NotificationJob::decode(delivery.envelope.payload.as_ref()).unwrap();
        seen.jobs.lock().unwrap().push(job);
        delivery.ack().await;
    }
}

/// Polls `check` until it answers Some, for at most 10 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The JSON body of a job.
pub fn body(job: &NotificationJob) -> serde_json::Value {
    serde_json::from_slice(&job.body).unwrap()
}
