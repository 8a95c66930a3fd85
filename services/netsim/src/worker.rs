//! The command worker: takes call commands from the bus one at a time, under a span that
//! continues the publisher's trace, acts on each once, and acknowledges it once it has
//! been logged and its effect scheduled.

use std::sync::Arc;

use futures::{StreamExt, stream::BoxStream};
use parlay_kit::{bus::Delivery, telemetry::set_remote_parent};
use parlay_proto::net::v1::{CallCommand, call_command::Kind};
use prost::Message;
use tracing::Instrument;

use crate::{Shared, calls, media, network};

/// Handles deliveries until shutdown or until the bus closes the stream.
pub(crate) async fn run(shared: Arc<Shared>, mut deliveries: BoxStream<'static, Delivery>) {
    loop {
        let delivery = tokio::select! {
            biased;
            () = shared.shutdown.cancelled() => break,
            next = deliveries.next() => match next {
                Some(delivery) => delivery,
                None => {
                    tracing::warn!("the bus closed netsim's command stream");
                    break;
                }
            },
        };
        let span = tracing::info_span!(
            "netsim.command",
            subject = %delivery.envelope.subject,
            command_id = tracing::field::Empty,
        );
        set_remote_parent(&span, delivery.envelope.traceparent.as_deref());
        handle(&shared, delivery).instrument(span).await;
    }
    tracing::debug!("netsim command worker stopped");
}

async fn handle(shared: &Arc<Shared>, delivery: Delivery) {
    match CallCommand::decode(delivery.envelope.payload.clone()) {
        Ok(command) => {
            tracing::Span::current().record("command_id", command.command_id.as_str());
            apply(shared, &command, &delivery.envelope.id);
        }
        Err(error) => tracing::warn!(
            envelope_id = %delivery.envelope.id,
            %error,
            "undecodable call command; dropped"
        ),
    }
    delivery.ack().await;
}

/// Acts on a command unless it was handled before.
fn apply(shared: &Arc<Shared>, command: &CallCommand, envelope_id: &str) {
    // The command id is the de-duplication key; the envelope id stands in if it is missing.
    let dedup_id = if command.command_id.is_empty() {
        envelope_id
    } else {
        command.command_id.as_str()
    };
    if !dedup_id.is_empty() && !shared.lock().seen.first_time(dedup_id) {
        tracing::debug!("call command already handled; ignored");
        return;
    }
    if command.kind.is_none() {
        tracing::warn!("call command without a kind; dropped");
        return;
    }
    // First, so the caller's leg of a network call exists before the command acts on it.
    network::on_command(shared, command);
    // The kind decides, not the subject: every kind may arrive on any `net.cmd.call.*`.
    match &command.kind {
        Some(Kind::Connect(connect)) => calls::connect(shared, command, &connect.calling_address),
        Some(Kind::Release(_)) => calls::release(shared, command),
        Some(Kind::Play(play)) => media::play(shared, command, play),
        Some(Kind::Record(record)) => media::record(shared, command, record),
        Some(Kind::Collect(collect)) => media::collect(shared, command, collect),
        Some(Kind::StopMedia(stop)) => media::stop(shared, command, stop),
        None => {}
    }
}
