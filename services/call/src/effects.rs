//! Turns domain effects into bus messages: network commands (`net.cmd.call.*`) and
//! notification jobs (`notify.call`) whose bodies are rendered here, so notify stays
//! domain-agnostic.

use chrono::{DateTime, Utc};
use parlay_kit::{Config, bus::Envelope, ids::new_id, wire};
use parlay_model::{
    callnotif::{
        CallEvent, CallEventNotification, CallEventNotificationRequest, EventDescription,
        NotificationType,
    },
    common::Link,
};
use parlay_proto::{
    net::v1::{CallCommand, call_command},
    notify::v1::NotificationJob,
};

use crate::{
    domain::{Effect, Event, Session},
    store::entities::session,
};

pub const SUBJECT_CONNECT: &str = "net.cmd.call.connect";
pub const SUBJECT_RELEASE: &str = "net.cmd.call.release";
pub const SUBJECT_NOTIFY: &str = "notify.call";

/// The session's absolute URL.
pub fn session_url(config: &Config, id: &str) -> String {
    format!("{}/thirdpartycall/callSessions/{id}", config.api_root())
}

pub fn envelopes(
    config: &Config,
    row: &session::Model,
    session: &Session,
    effects: Vec<Effect>,
    now: DateTime<Utc>,
) -> Vec<Envelope> {
    let a_party = session
        .participants
        .first()
        .map(|p| p.address.clone())
        .unwrap_or_default();
    effects
        .into_iter()
        .filter_map(|effect| match effect {
            Effect::Connect { participant_id } => command(
                session,
                &participant_id,
                call_command::Kind::Connect(call_command::Connect {
                    calling_address: a_party.clone(),
                }),
            )
            .map(|c| wire::envelope(SUBJECT_CONNECT, c.command_id.clone(), &c)),
            Effect::Release { participant_id } => command(
                session,
                &participant_id,
                call_command::Kind::Release(call_command::Release {}),
            )
            .map(|c| wire::envelope(SUBJECT_RELEASE, c.command_id.clone(), &c)),
            Effect::Notify {
                participant_id,
                event,
            } => notification(config, row, session, &a_party, &participant_id, event, now)
                .map(|job| wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job)),
        })
        .collect()
}

fn command(
    session: &Session,
    participant_id: &str,
    kind: call_command::Kind,
) -> Option<CallCommand> {
    let p = session.participant(participant_id)?;
    Some(CallCommand {
        command_id: new_id("cm"),
        call_session_id: session.id.clone(),
        participant_id: p.id.clone(),
        address: p.address.clone(),
        name: p.name.clone(),
        kind: Some(kind),
    })
}

/// A `callEventNotification` job, when the session was created with a callback.
fn notification(
    config: &Config,
    row: &session::Model,
    session: &Session,
    a_party: &str,
    participant_id: &str,
    event: Event,
    now: DateTime<Utc>,
) -> Option<NotificationJob> {
    let notify_url = row.notify_url.clone()?;
    let p = session.participant(participant_id)?;
    let body = CallEventNotificationRequest {
        call_event_notification: CallEventNotification {
            calling_participant: a_party.to_string(),
            called_participant: p.address.clone(),
            calling_participant_name: session.participants.first().and_then(|a| a.name.clone()),
            notification_type: NotificationType::CallEvent,
            event_description: EventDescription {
                call_event: match event {
                    Event::Answer => CallEvent::Answer,
                    Event::Busy => CallEvent::Busy,
                    Event::NoAnswer => CallEvent::NoAnswer,
                    Event::NotReachable => CallEvent::NotReachable,
                    Event::Disconnected => CallEvent::Disconnected,
                },
            },
            call_session_identifier: Some(session.id.clone()),
            timestamp: Some(now),
            callback_data: row.callback_data.clone(),
            link: vec![Link {
                rel: "CallSessionInformation".into(),
                href: session_url(config, &session.id),
            }],
        },
    };
    let body = serde_json::to_vec(&body).ok()?;
    let expires = now + chrono::Duration::seconds(config.notify.max_age_secs as i64);
    Some(NotificationJob {
        job_id: new_id("nt"),
        application_id: row.app_id.clone(),
        notify_url,
        body,
        content_type: "application/json".into(),
        resource_kind: "callSession".into(),
        resource_id: session.id.clone(),
        created_at: Some(wire::timestamp(now)),
        expires_at: Some(wire::timestamp(expires)),
    })
}
