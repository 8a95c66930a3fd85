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
    net::v1::{self as net, CallCommand, call_command},
    notify::v1::{NotificationJob, ReplyTo},
};

use crate::{
    domain::{Action, Decided, Effect, Event, Pending, Session, Source},
    store::entities::{session, subscription},
    subscriptions::{self, Kind},
};

pub const SUBJECT_CONNECT: &str = "net.cmd.call.connect";
pub const SUBJECT_RELEASE: &str = "net.cmd.call.release";
pub const SUBJECT_NOTIFY: &str = "notify.call";
/// Where notify publishes applications' answers to call-direction notifications.
pub const SUBJECT_DECISION_REPLY: &str = "reply.call.decision";

/// The session's absolute URL.
pub fn session_url(config: &Config, id: &str) -> String {
    format!("{}/thirdpartycall/callSessions/{id}", config.api_root())
}

/// The call-event subscriptions each `Notify` effect reaches, found by the core.
#[derive(Default)]
pub struct Subscribers(pub Vec<(String, Event, Vec<subscription::Model>)>);

impl Subscribers {
    fn of(&self, participant_id: &str, event: Event) -> &[subscription::Model] {
        self.0
            .iter()
            .find(|(p, e, _)| p == participant_id && *e == event)
            .map_or(&[], |(_, _, subs)| subs.as_slice())
    }
}

pub fn envelopes(
    config: &Config,
    row: &session::Model,
    session: &Session,
    effects: Vec<Effect>,
    subscribers: &Subscribers,
    now: DateTime<Utc>,
) -> Vec<Envelope> {
    let a_party = session
        .participants
        .first()
        .map(|p| p.address.clone())
        .unwrap_or_default();
    // The network learns a decision with the first command that carries it out.
    let mut decided = effects.iter().find_map(|e| match e {
        Effect::Decided(d) => Some(decision(d)),
        _ => None,
    });
    let mut out = Vec::new();
    for effect in effects {
        match effect {
            Effect::Connect { participant_id } => out.extend(
                command(
                    session,
                    &participant_id,
                    call_command::Kind::Connect(call_command::Connect {
                        calling_address: a_party.clone(),
                    }),
                    decided.take(),
                )
                .map(|c| wire::envelope(SUBJECT_CONNECT, c.command_id.clone(), &c)),
            ),
            Effect::Release { participant_id } => out.extend(
                command(
                    session,
                    &participant_id,
                    call_command::Kind::Release(call_command::Release {}),
                    decided.take(),
                )
                .map(|c| wire::envelope(SUBJECT_RELEASE, c.command_id.clone(), &c)),
            ),
            Effect::Notify {
                participant_id,
                event,
            } => {
                // The session's own callback hears of its legs, not of call set-up.
                if event != Event::CalledNumber {
                    out.extend(
                        session_notification(config, row, session, &participant_id, event, now)
                            .map(|job| wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job)),
                    );
                }
                for sub in subscribers.of(&participant_id, event) {
                    out.extend(
                        call_notification(
                            config,
                            session,
                            (&participant_id, event),
                            (&sub.id, sub.callback_data.clone()),
                            NotificationType::CallEvent,
                            now,
                        )
                        .map(|body| {
                            let job = job(
                                config,
                                &sub.app_id,
                                &sub.notify_url,
                                body,
                                "callEventSubscription",
                                &sub.id,
                                now,
                            );
                            wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job)
                        }),
                    );
                }
            }
            Effect::Ask {
                pending,
                notify_url,
                callback_data,
            } => out.extend(
                ask(config, session, &pending, notify_url, callback_data, now)
                    .map(|job| wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job)),
            ),
            Effect::Decided(_) => {}
        }
    }
    out
}

fn decision(d: &Decided) -> net::Decision {
    net::Decision {
        action: match d.action {
            Action::Continue => net::CallAction::Continue,
            Action::EndCall => net::CallAction::EndCall,
            Action::Route => net::CallAction::Route,
        } as i32,
        source: match d.source {
            Source::Application => net::DecisionSource::Application,
            Source::Default => net::DecisionSource::Default,
        } as i32,
        routing_address: d.routing_address.clone(),
    }
}

fn command(
    session: &Session,
    participant_id: &str,
    kind: call_command::Kind,
    decision: Option<net::Decision>,
) -> Option<CallCommand> {
    let p = session.participant(participant_id)?;
    Some(CallCommand {
        command_id: new_id("cm"),
        call_session_id: session.id.clone(),
        participant_id: p.id.clone(),
        address: p.address.clone(),
        name: p.name.clone(),
        network_call: network_call(session),
        decision,
        kind: Some(kind),
    })
}

/// The binding of a network-originated session to the network's call.
pub fn network_call(session: &Session) -> Option<net::NetworkCall> {
    let call_id = session.network_call.clone()?;
    Some(net::NetworkCall {
        call_id,
        calling_participant_id: session.participants.first()?.id.clone(),
    })
}

/// A notification job for notify.
pub fn job(
    config: &Config,
    app_id: &str,
    notify_url: &str,
    body: Vec<u8>,
    resource_kind: &str,
    resource_id: &str,
    now: DateTime<Utc>,
) -> NotificationJob {
    let expires = now + chrono::Duration::seconds(config.notify.max_age_secs as i64);
    NotificationJob {
        job_id: new_id("nt"),
        application_id: app_id.to_string(),
        notify_url: notify_url.to_string(),
        body,
        content_type: "application/json".into(),
        resource_kind: resource_kind.into(),
        resource_id: resource_id.to_string(),
        created_at: Some(wire::timestamp(now)),
        expires_at: Some(wire::timestamp(expires)),
        reply_to: None,
        // A session's events in the order they happened.
        order_key: resource_id.to_string(),
    }
}

fn wire_event(event: Event) -> CallEvent {
    match event {
        Event::CalledNumber => CallEvent::CalledNumber,
        Event::Answer => CallEvent::Answer,
        Event::Busy => CallEvent::Busy,
        Event::NoAnswer => CallEvent::NoAnswer,
        Event::NotReachable => CallEvent::NotReachable,
        Event::Disconnected => CallEvent::Disconnected,
    }
}

/// A `callEventNotification` for the session's own callback, when it was created with one.
fn session_notification(
    config: &Config,
    row: &session::Model,
    session: &Session,
    participant_id: &str,
    event: Event,
    now: DateTime<Utc>,
) -> Option<NotificationJob> {
    let notify_url = row.notify_url.clone()?;
    let p = session.participant(participant_id)?;
    let body = CallEventNotificationRequest {
        call_event_notification: CallEventNotification {
            calling_participant: session
                .participants
                .first()
                .map(|a| a.address.clone())
                .unwrap_or_default(),
            called_participant: p.address.clone(),
            calling_participant_name: session.participants.first().and_then(|a| a.name.clone()),
            notification_type: NotificationType::CallEvent,
            event_description: EventDescription {
                call_event: wire_event(event),
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
    Some(job(
        config,
        &row.app_id,
        &notify_url,
        body,
        "callSession",
        &session.id,
        now,
    ))
}

/// A `callEventNotification` body for a subscriber, about `participant_id`'s leg; `kind`
/// is `CallEvent` or `CallDirection`.
fn call_notification(
    config: &Config,
    session: &Session,
    about: (&str, Event),
    subscription: (&str, Option<String>),
    kind: NotificationType,
    now: DateTime<Utc>,
) -> Option<Vec<u8>> {
    let (participant_id, event) = about;
    let (subscription_id, callback_data) = subscription;
    let (calling, called) = session.parties(participant_id)?;
    let link_kind = if kind == NotificationType::CallDirection {
        Kind::CallDirection
    } else {
        Kind::CallEvent
    };
    let body = CallEventNotificationRequest {
        call_event_notification: CallEventNotification {
            calling_participant: calling,
            called_participant: called,
            calling_participant_name: session.participants.first().and_then(|a| a.name.clone()),
            notification_type: kind,
            event_description: EventDescription {
                call_event: wire_event(event),
            },
            call_session_identifier: Some(session.id.clone()),
            timestamp: Some(now),
            callback_data,
            link: vec![Link {
                rel: link_kind.link_rel().into(),
                href: subscriptions::url(config, link_kind, subscription_id),
            }],
        },
    };
    serde_json::to_vec(&body).ok()
}

/// The call-direction notification: delivered once before the deadline, its answer
/// published on [`SUBJECT_DECISION_REPLY`].
fn ask(
    config: &Config,
    session: &Session,
    pending: &Pending,
    notify_url: String,
    callback_data: Option<String>,
    now: DateTime<Utc>,
) -> Option<NotificationJob> {
    let body = call_notification(
        config,
        session,
        (&pending.participant_id, pending.trigger),
        (&pending.subscription_id, callback_data),
        NotificationType::CallDirection,
        now,
    )?;
    let mut job = job(
        config,
        &pending.app_id,
        &notify_url,
        body,
        "callSession",
        &session.id,
        now,
    );
    job.job_id = pending.id.clone();
    job.expires_at = Some(wire::timestamp(pending.deadline));
    job.reply_to = Some(ReplyTo {
        subject: SUBJECT_DECISION_REPLY.into(),
        deadline: Some(wire::timestamp(pending.deadline)),
    });
    Some(job)
}
