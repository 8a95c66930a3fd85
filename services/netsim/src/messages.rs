//! Messages the suite submits (`net.cmd.msg.submit`): each destination gets a log entry
//! (kind `sms` or `mms`) and the delivery receipts the first rule matching it scripts
//! (see [`rules::delivery_plan`]), published on `net.evt.msg.receipt` by one task per
//! destination, each receipt its delay after the submit. Shutdown cancels the receipts
//! still pending.

use std::sync::Arc;

use chrono::Utc;
use parlay_kit::{ids::new_id, wire};
use parlay_model::messaging::DeliveryStatus;
use parlay_proto::net::v1::{
    DeliveryReceipt, DeliveryState, MessagePart, MessageSubmit, SmsEncoding, SmsSegment,
    message_submit::{Kind, Mms, Sms},
};
use tokio::time::Instant;
use tracing::Instrument;

use crate::{
    Shared,
    log::{AttachmentView, LogEntry, LogKind, MessageDetails},
    publish::{RECEIPT_SUBJECT, publish},
    rules::{self, PlannedReceipt},
};

/// Logs a submit once per destination and schedules each destination's receipts.
pub(crate) fn submit(shared: &Arc<Shared>, submit: &MessageSubmit, kind: &Kind) {
    let submitted = Instant::now();
    let (log_kind, mut details) = match kind {
        Kind::Sms(sms) => (LogKind::Sms, sms_details(sms)),
        Kind::Mms(mms) => (LogKind::Mms, mms_details(mms)),
    };
    details.request_id = Some(submit.request_id.clone()).filter(|id| !id.is_empty());
    details.sender_address = submit.sender_address.clone();
    details.sender_name = submit.sender_name.clone().filter(|n| !n.is_empty());
    let plans: Vec<Vec<PlannedReceipt>> = {
        let mut state = shared.lock();
        submit
            .destinations
            .iter()
            .map(|destination| {
                state.log.push(LogEntry::message(
                    log_kind,
                    destination,
                    Some(&submit.command_id),
                    details.clone(),
                ));
                rules::delivery_plan(&state.rules, destination, shared.default_delivery)
            })
            .collect()
    };
    tracing::info!(
        request_id = submit.request_id,
        kind = ?log_kind,
        destinations = submit.destinations.len(),
        "message submitted"
    );
    for (destination, plan) in submit.destinations.iter().zip(plans) {
        let task = deliver(
            shared.clone(),
            submit.request_id.clone(),
            destination.clone(),
            submitted,
            plan,
        );
        tokio::spawn(task.in_current_span());
    }
}

/// Publishes one destination's receipts, each at `submitted` plus its delay (the plan is in
/// due order, so they go out in that order), until done or shutdown.
async fn deliver(
    shared: Arc<Shared>,
    request_id: String,
    destination: String,
    submitted: Instant,
    plan: Vec<PlannedReceipt>,
) {
    for step in plan {
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = tokio::time::sleep_until(submitted + step.delay) => {}
        }
        let receipt = DeliveryReceipt {
            event_id: new_id("ev"),
            request_id: request_id.clone(),
            destination: destination.clone(),
            state: delivery_state(step.status).into(),
            description: step.description,
            occurred_at: Some(wire::timestamp(Utc::now())),
        };
        tracing::info!(request_id, destination, status = ?step.status, "delivery receipt");
        shared.lock().log.push(LogEntry::message(
            LogKind::Receipt,
            &destination,
            None,
            MessageDetails {
                request_id: Some(request_id.clone()),
                event_id: Some(receipt.event_id.clone()),
                status: Some(format!("{:?}", step.status)),
                description: receipt.description.clone(),
                ..MessageDetails::default()
            },
        ));
        if !publish(
            &shared.bus,
            &shared.shutdown,
            RECEIPT_SUBJECT,
            &receipt.event_id,
            &receipt,
        )
        .await
        {
            return;
        }
    }
}

/// The bus's name for a ParlayREST delivery status.
fn delivery_state(status: DeliveryStatus) -> DeliveryState {
    match status {
        DeliveryStatus::DeliveredToNetwork => DeliveryState::DeliveredToNetwork,
        DeliveryStatus::DeliveryUncertain => DeliveryState::DeliveryUncertain,
        DeliveryStatus::DeliveryImpossible => DeliveryState::DeliveryImpossible,
        DeliveryStatus::MessageWaiting => DeliveryState::MessageWaiting,
        DeliveryStatus::DeliveredToTerminal => DeliveryState::DeliveredToTerminal,
        DeliveryStatus::DeliveryNotificationNotSupported => {
            DeliveryState::DeliveryNotificationNotSupported
        }
    }
}

/// An SMS as the log shows it: the text re-assembled from its segments (by sequence
/// number), how many there were and their encoding.
fn sms_details(sms: &Sms) -> MessageDetails {
    MessageDetails {
        text: Some(reassemble(&sms.segments)),
        segments: Some(sms.segments.len()),
        encoding: match sms.encoding() {
            SmsEncoding::Gsm7 => Some("gsm7"),
            SmsEncoding::Ucs2 => Some("ucs2"),
            SmsEncoding::Unspecified => None,
        },
        ..MessageDetails::default()
    }
}

fn reassemble(segments: &[SmsSegment]) -> String {
    let mut ordered: Vec<&SmsSegment> = segments.iter().collect();
    // Stable: segments without sequence numbers keep their order.
    ordered.sort_by_key(|s| s.sequence);
    ordered.iter().map(|s| s.text.as_str()).collect()
}

/// An MMS as the log shows it: subject, priority, text and the attachments without data.
pub(crate) fn mms_details(mms: &Mms) -> MessageDetails {
    MessageDetails {
        subject: mms.subject.clone(),
        priority: mms.priority.clone(),
        text: mms.text.clone(),
        attachments: Some(mms.attachments.iter().map(attachment_view).collect()),
        ..MessageDetails::default()
    }
}

fn attachment_view(part: &MessagePart) -> AttachmentView {
    AttachmentView {
        name: part.name.clone(),
        content_type: part.content_type.clone(),
        size: part.data.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(sequence: u32, text: &str) -> SmsSegment {
        SmsSegment {
            reference: 7,
            sequence,
            total: 3,
            text: text.into(),
        }
    }

    #[test]
    fn segments_are_reassembled_in_sequence_order() {
        let sms = Sms {
            encoding: SmsEncoding::Ucs2.into(),
            segments: vec![segment(2, "lo, "), segment(1, "Hel"), segment(3, "wörld")],
        };
        let details = sms_details(&sms);
        assert_eq!(details.text.as_deref(), Some("Hello, wörld"));
        assert_eq!(details.segments, Some(3));
        assert_eq!(details.encoding, Some("ucs2"));
        assert_eq!(sms_details(&Sms::default()).text.as_deref(), Some(""));
    }

    #[test]
    fn every_status_has_its_state() {
        use DeliveryStatus::*;
        let states: Vec<_> = [
            DeliveredToNetwork,
            DeliveryUncertain,
            DeliveryImpossible,
            MessageWaiting,
            DeliveredToTerminal,
            DeliveryNotificationNotSupported,
        ]
        .into_iter()
        .map(|s| delivery_state(s).as_str_name())
        .collect();
        assert_eq!(
            states,
            [
                "DELIVERY_STATE_DELIVERED_TO_NETWORK",
                "DELIVERY_STATE_DELIVERY_UNCERTAIN",
                "DELIVERY_STATE_DELIVERY_IMPOSSIBLE",
                "DELIVERY_STATE_MESSAGE_WAITING",
                "DELIVERY_STATE_DELIVERED_TO_TERMINAL",
                "DELIVERY_STATE_DELIVERY_NOTIFICATION_NOT_SUPPORTED",
            ]
        );
    }
}
