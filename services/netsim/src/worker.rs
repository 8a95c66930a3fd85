//! The command workers: each takes its commands from the bus one at a time (call
//! commands, message submits), under a span that continues the publisher's trace, acts on
//! each once, and acknowledges it once it has been logged and its effect scheduled.

use std::sync::Arc;

use futures::{StreamExt, stream::BoxStream};
use parlay_kit::{bus::Delivery, telemetry::set_remote_parent};
use parlay_proto::net::v1::{CallCommand, MessageSubmit, call_command::Kind};
use prost::Message;
use tracing::Instrument;

use crate::{Shared, calls, media, messages, network};

/// Which commands a worker handles.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Commands {
    /// `CallCommand`s, from `net.cmd.call.>`.
    Call,
    /// `MessageSubmit`s, from `net.cmd.msg.>`.
    Message,
}

/// Handles deliveries until shutdown or until the bus closes the stream.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut deliveries: BoxStream<'static, Delivery>,
    commands: Commands,
) {
    loop {
        let delivery = tokio::select! {
            biased;
            () = shared.shutdown.cancelled() => break,
            next = deliveries.next() => match next {
                Some(delivery) => delivery,
                None => {
                    tracing::warn!(?commands, "the bus closed a netsim command stream");
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
        match commands {
            Commands::Call => handle_call(&shared, delivery).instrument(span).await,
            Commands::Message => handle_message(&shared, delivery).instrument(span).await,
        }
    }
    tracing::debug!(?commands, "netsim command worker stopped");
}

async fn handle_call(shared: &Arc<Shared>, delivery: Delivery) {
    match CallCommand::decode(delivery.envelope.payload.clone()) {
        Ok(command) => {
            tracing::Span::current().record("command_id", command.command_id.as_str());
            apply_call(shared, &command, &delivery.envelope.id);
        }
        Err(error) => tracing::warn!(
            envelope_id = %delivery.envelope.id,
            %error,
            "undecodable call command; dropped"
        ),
    }
    delivery.ack().await;
}

async fn handle_message(shared: &Arc<Shared>, delivery: Delivery) {
    match MessageSubmit::decode(delivery.envelope.payload.clone()) {
        Ok(submit) => {
            tracing::Span::current().record("command_id", submit.command_id.as_str());
            apply_submit(shared, &submit, &delivery.envelope.id);
        }
        Err(error) => tracing::warn!(
            envelope_id = %delivery.envelope.id,
            %error,
            "undecodable message submit; dropped"
        ),
    }
    delivery.ack().await;
}

/// False when the command was handled before. The command id is the de-duplication key;
/// the envelope id stands in if it is missing.
fn first_time(shared: &Shared, command_id: &str, envelope_id: &str) -> bool {
    let dedup_id = if command_id.is_empty() {
        envelope_id
    } else {
        command_id
    };
    dedup_id.is_empty() || shared.lock().seen.first_time(dedup_id)
}

/// Acts on a call command unless it was handled before.
fn apply_call(shared: &Arc<Shared>, command: &CallCommand, envelope_id: &str) {
    if !first_time(shared, &command.command_id, envelope_id) {
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

/// Acts on a message submit unless it was handled before. The payload decides, not the
/// subject: a submit may arrive on any `net.cmd.msg.*`.
fn apply_submit(shared: &Arc<Shared>, submit: &MessageSubmit, envelope_id: &str) {
    if !first_time(shared, &submit.command_id, envelope_id) {
        tracing::debug!("message submit already handled; ignored");
        return;
    }
    let Some(kind) = &submit.kind else {
        tracing::warn!("message submit with neither SMS nor MMS; dropped");
        return;
    };
    messages::submit(shared, submit, kind);
}
