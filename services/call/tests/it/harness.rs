//! Test harness: the call service on a throwaway SQLite file and an in-process bus, its
//! gRPC on a loopback port, and a fake network that answers every Connect and every Play,
//! records the commands it saw, and takes the notification jobs meant for notify.

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
    bus::{Bus, ConsumerSpec, MemoryBus, SharedBus},
    grpc,
    ids::new_id,
    wire,
};
use parlay_proto::{
    call::v1::{
        audio_call_client::AudioCallClient, call_notification_client::CallNotificationClient,
        third_party_call_client::ThirdPartyCallClient,
    },
    net::v1::{CallCommand, CallLegEvent, LegOutcome, MediaEvent, MediaOutcome, call_command},
    notify::v1::NotificationJob,
};
use prost::Message;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

/// The application most tests act as, and another one.
pub const APP: &str = "app-one";
pub const OTHER_APP: &str = "app-two";

/// Logs on when `TEST_LOG` is set (its value is the filter).
fn init_logs() {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        parlay_kit::telemetry::init(&filter, "parlay-call-test");
    }
}

/// What the fake network and the fake notify saw.
#[derive(Default)]
pub struct Seen {
    pub commands: Mutex<Vec<(String, CallCommand)>>,
    pub jobs: Mutex<Vec<NotificationJob>>,
}

/// A running call service with its fake surroundings.
pub struct Harness {
    pub config: Config,
    pub bus: SharedBus,
    pub seen: Arc<Seen>,
    pub calls: ThirdPartyCallClient<Channel>,
    pub audio: AudioCallClient<Channel>,
    pub notifications: CallNotificationClient<Channel>,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    dir: PathBuf,
}

impl Harness {
    pub async fn start() -> Self {
        init_logs();
        let dir = std::env::temp_dir().join(new_id("parlay-call-it-"));
        let config = Config {
            public_url: Some("https://api.example.com/parlay".into()),
            ..Config::default()
        };
        let db = parlay_kit::db::connect_and_migrate::<parlay_call::Migrator>(
            &parlay_kit::db::sqlite_url(&dir, "call"),
        )
        .await
        .unwrap();
        let bus: SharedBus = Arc::new(MemoryBus::new());
        let shutdown = CancellationToken::new();
        let seen = Arc::new(Seen::default());
        let mut tasks = JoinSet::new();
        // Consumers first: the in-process bus refuses what nobody listens to.
        let commands = bus
            .consume(spec("test-network", "net.cmd.call.>"))
            .await
            .unwrap();
        let jobs = bus.consume(spec("test-notify", "notify.>")).await.unwrap();
        tasks.spawn(until(
            shutdown.clone(),
            network(commands, bus.clone(), seen.clone()),
        ));
        tasks.spawn(until(shutdown.clone(), notify(jobs, seen.clone())));

        let call = parlay_call::CallService::start(&config, db, bus.clone(), shutdown.clone())
            .await
            .unwrap();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let router = tonic::transport::Server::builder()
            .add_service(call.grpc())
            .add_service(call.notification_grpc())
            .add_service(call.audio_grpc());
        let stop = shutdown.clone();
        tasks.spawn(async move {
            router
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    stop.cancelled_owned(),
                )
                .await
                .unwrap();
            call.join().await;
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
            calls: ThirdPartyCallClient::new(channel.clone()),
            audio: AudioCallClient::new(channel.clone()),
            notifications: CallNotificationClient::new(channel),
            shutdown,
            tasks,
            dir,
        }
    }

    /// Publishes a media event as the network would.
    pub async fn media_event(&self, event: MediaEvent) {
        publish_event(
            &*self.bus,
            "net.evt.call.media",
            event.event_id.clone(),
            &event,
        )
        .await;
    }

    /// The commands seen so far on `subject`.
    pub fn commands(&self, subject: &str) -> Vec<CallCommand> {
        self.seen
            .commands
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _)| s == subject)
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// The notification jobs seen so far.
    pub fn jobs(&self) -> Vec<NotificationJob> {
        self.seen.jobs.lock().unwrap().clone()
    }

    /// Stops everything and removes the database.
    pub async fn finish(mut self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await
        .expect("the call service did not stop within 10 s");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A request carrying `app`'s id, as the gateway sends it.
pub fn req<T>(app: &str, message: T) -> tonic::Request<T> {
    grpc::request_for(app, message)
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

async fn publish_event(bus: &dyn Bus, subject: &str, id: String, message: &impl Message) {
    tokio::time::timeout(
        Duration::from_secs(10),
        bus.publish(wire::envelope(subject, id, message)),
    )
    .await
    .expect("the call service did not take the event within 10 s")
    .unwrap();
}

/// The fake network: records every command; answers Connect with ANSWERED and Play with
/// PLAYING then PLAYED. Recordings and collections wait for the test to answer them.
async fn network(
    mut commands: futures::stream::BoxStream<'static, parlay_kit::bus::Delivery>,
    bus: SharedBus,
    seen: Arc<Seen>,
) {
    while let Some(delivery) = commands.next().await {
        let subject = delivery.envelope.subject.clone();
        let cmd = CallCommand::decode(delivery.envelope.payload.as_ref()).unwrap();
        seen.commands
            .lock()
            .unwrap()
            .push((subject.clone(), cmd.clone()));
        // Settle first: the call service's relay waits for this before its next command.
        delivery.ack().await;
        let bus = bus.clone();
        match cmd.kind.clone() {
            Some(call_command::Kind::Connect(_)) => {
                let event = CallLegEvent {
                    event_id: new_id("ev"),
                    call_session_id: cmd.call_session_id.clone(),
                    participant_id: cmd.participant_id.clone(),
                    address: cmd.address.clone(),
                    outcome: LegOutcome::Answered as i32,
                    occurred_at: Some(wire::timestamp(chrono::Utc::now())),
                    sequence: 1,
                };
                tokio::spawn(async move {
                    publish_event(&*bus, "net.evt.call.leg", event.event_id.clone(), &event).await;
                });
            }
            Some(call_command::Kind::Play(play)) => {
                tokio::spawn(async move {
                    for outcome in [MediaOutcome::Playing, MediaOutcome::Played] {
                        let event = media_event(&cmd, &play.media_id, outcome);
                        publish_event(&*bus, "net.evt.call.media", event.event_id.clone(), &event)
                            .await;
                    }
                });
            }
            _ => {}
        }
    }
}

/// A media event about `cmd`'s participant.
pub fn media_event(cmd: &CallCommand, media_id: &str, outcome: MediaOutcome) -> MediaEvent {
    MediaEvent {
        event_id: new_id("ev"),
        call_session_id: cmd.call_session_id.clone(),
        participant_id: cmd.participant_id.clone(),
        media_id: media_id.to_string(),
        outcome: outcome as i32,
        occurred_at: Some(wire::timestamp(chrono::Utc::now())),
        ..MediaEvent::default()
    }
}

/// The fake notify: keeps every job.
async fn notify(
    mut jobs: futures::stream::BoxStream<'static, parlay_kit::bus::Delivery>,
    seen: Arc<Seen>,
) {
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
