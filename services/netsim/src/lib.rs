//! Netsim: the simulated network of development, tests and operator sandboxes.
//!
//! It consumes call commands (`net.cmd.call.>`) from the bus, answers them with leg events
//! (`net.evt.call.leg`) chosen by scripted rules (address glob → answer, busy, no answer,
//! not reachable, after a delay) and with media events (`net.evt.call.media`: plays,
//! recordings, digit collections). It consumes message submits (`net.cmd.msg.>`) and
//! answers each destination with delivery receipts (`net.evt.msg.receipt`:
//! `DeliveredToNetwork` then `DeliveredToTerminal` by default, or what the rules script).
//! It serves a small JSON control API to script it, start network-originated calls
//! (`net.evt.call.attempt`), make a connected participant hang up, inject inbound SMS and
//! MMS (`net.evt.msg.inbound`) and read the log of what it was told to do.
//!
//! Netsim is a single-replica simulator: its state lives in memory and is not persisted.
#![forbid(unsafe_code)]

mod audio;
mod calls;
mod control;
mod error;
mod glob;
mod inbound;
mod legs;
mod log;
mod media;
mod messages;
mod network;
mod publish;
mod rules;
mod worker;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use parlay_kit::bus::{BusError, ConsumerSpec, SharedBus};
use tokio_util::sync::CancellationToken;

/// The durable consumer group netsim reads call commands with.
const DURABLE: &str = "netsim-call-commands";
/// Every call command subject.
const FILTER: &str = "net.cmd.call.>";
/// The durable consumer group netsim reads message submits with (a group of its own, so an
/// existing call consumer keeps its filter, and messages never wait behind calls).
const MSG_DURABLE: &str = "netsim-msg-commands";
/// Every message command subject.
const MSG_FILTER: &str = "net.cmd.msg.>";
/// How long a command may stay unacknowledged before the bus delivers it again.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// A running network simulator; clone it to share.
#[derive(Clone)]
pub struct Netsim {
    shared: Arc<Shared>,
}

impl Netsim {
    /// Subscribes (durable "netsim-call-commands", filter "net.cmd.call.>", and durable
    /// "netsim-msg-commands", filter "net.cmd.msg.>"; ack_wait 30 s) and spawns a worker for
    /// each; returns once subscribed.
    pub async fn start(
        config: &parlay_kit::Config,
        bus: SharedBus,
        shutdown: CancellationToken,
    ) -> Result<Netsim, BusError> {
        let deliveries = bus
            .consume(ConsumerSpec {
                durable: DURABLE.to_string(),
                filter: FILTER.to_string(),
                ack_wait: ACK_WAIT,
            })
            .await?;
        let msg_deliveries = bus
            .consume(ConsumerSpec {
                durable: MSG_DURABLE.to_string(),
                filter: MSG_FILTER.to_string(),
                ack_wait: ACK_WAIT,
            })
            .await?;
        let shared = Arc::new(Shared {
            bus,
            shutdown,
            default_call_delay: Duration::from_millis(config.netsim.default_call_delay_ms),
            media_defaults: rules::MediaDefaults {
                play: Duration::from_millis(config.netsim.default_play_ms),
                recording: Duration::from_millis(config.netsim.default_recording_ms),
            },
            default_delivery: Duration::from_millis(config.netsim.default_delivery_ms),
            max_attachment_bytes: config.messaging.max_attachment_bytes,
            state: Mutex::new(State::default()),
        });
        tokio::spawn(worker::run(
            shared.clone(),
            deliveries,
            worker::Commands::Call,
        ));
        tokio::spawn(worker::run(
            shared.clone(),
            msg_deliveries,
            worker::Commands::Message,
        ));
        Ok(Netsim { shared })
    }

    /// The control API routes (`/netsim/v1/...`), to be merged into an admin router.
    pub fn control_router(&self) -> axum::Router {
        control::router(self.shared.clone())
    }
}

/// What the worker, the outcome timers and the control API share.
pub(crate) struct Shared {
    pub(crate) bus: SharedBus,
    pub(crate) shutdown: CancellationToken,
    /// Delay of a call outcome when the matching rule names none (or no rule matches).
    pub(crate) default_call_delay: Duration,
    /// Play and recording lengths when the matching rule names none.
    pub(crate) media_defaults: rules::MediaDefaults,
    /// Delay of a message's final receipt when the matching rule names none.
    pub(crate) default_delivery: Duration,
    /// Largest total size of an injected MMS's attachments.
    pub(crate) max_attachment_bytes: usize,
    state: Mutex<State>,
}

impl Shared {
    /// The simulator state. Never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; every update leaves the state whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The simulator's memory: rules, legs, network calls, media in progress, the command log
/// (messages included) and the commands already seen.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) rules: Vec<rules::Rule>,
    pub(crate) legs: legs::Legs,
    pub(crate) calls: network::NetworkCalls,
    pub(crate) media: media::MediaJobs,
    pub(crate) log: log::CommandLog,
    pub(crate) seen: log::SeenCommands,
}
