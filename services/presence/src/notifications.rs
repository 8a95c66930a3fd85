//! Notification jobs for notify (`notify.presence`), their JSON bodies rendered here with
//! the shared ParlayREST model: `watcherNotification` to a presentity's watchers
//! subscriptions, `presenceNotification` to a watcher's presence-list subscriptions.

use chrono::{DateTime, Utc};
use parlay_kit::{bus::Envelope, ids::new_id, wire};
use parlay_model::{
    common::Link,
    presence::{
        self as m, PresenceNotification, PresenceNotificationBody,
        SubscriptionCancellationNotification, SubscriptionCancellationNotificationBody,
        WatcherNotification, WatcherNotificationBody, urls,
    },
};
use parlay_proto::{notify::v1::NotificationJob, presence::v1 as pb};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    attributes, convert,
    core::Core,
    deliveries::{KIND_LIST, KIND_WATCHERS},
    domain::Shown,
    entities::subscription,
    error::Result,
};

/// Where notification jobs go.
pub const SUBJECT_NOTIFY: &str = "notify.presence";

/// The outbox order key of watcher notifications.
pub const WATCHERS_ORDER_KEY: &str = "presence-watchers";

fn job(
    core: &Core,
    sub: &subscription::Model,
    body: Vec<u8>,
    kind: &str,
    now: DateTime<Utc>,
) -> Envelope {
    let expires = now + chrono::Duration::seconds(core.config.notify.max_age_secs as i64);
    let job = NotificationJob {
        job_id: new_id("nt"),
        application_id: sub.app_id.clone(),
        notify_url: sub.notify_url.clone(),
        body,
        content_type: "application/json".into(),
        resource_kind: kind.into(),
        resource_id: sub.id.clone(),
        created_at: Some(wire::timestamp(now)),
        expires_at: Some(wire::timestamp(expires)),
        reply_to: None,
        // One subscription's notifications in the order made: never a stale state after
        // a newer one.
        order_key: sub.id.clone(),
    };
    wire::envelope(SUBJECT_NOTIFY, job.job_id.clone(), &job)
}

pub fn status_pb(shown: Shown) -> pb::WatcherStatus {
    match shown {
        Shown::Pending => pb::WatcherStatus::Pending,
        Shown::Active => pb::WatcherStatus::Active,
        Shown::Terminated => pb::WatcherStatus::Terminated,
    }
}

pub fn status_name(shown: Shown) -> &'static str {
    match shown {
        Shown::Pending => "Pending",
        Shown::Active => "Active",
        Shown::Terminated => "Terminated",
    }
}

/// The `watcherNotification` of `watcher`'s new status to each live watchers
/// subscription of `presentity`.
pub async fn watcher_jobs<C: ConnectionTrait>(
    db: &C,
    core: &Core,
    presentity: &str,
    watcher: &str,
    shown: Shown,
    now: DateTime<Utc>,
) -> Result<Vec<Envelope>> {
    let subs = subscription::Entity::find()
        .filter(subscription::Column::Kind.eq(KIND_WATCHERS))
        .filter(subscription::Column::UserId.eq(presentity))
        .filter(subscription::Column::ExpiresAt.gt(now))
        .all(db)
        .await?;
    if subs.is_empty() {
        return Ok(Vec::new());
    }
    let display_name = crate::relations::display_name(db, presentity, watcher).await?;
    let root = core.api_root();
    Ok(subs
        .iter()
        .filter_map(|sub| {
            let body = WatcherNotificationBody {
                watcher_notification: WatcherNotification {
                    watcher: vec![m::Watcher {
                        watcher_id: watcher.to_string(),
                        display_name: display_name.clone(),
                        status: status_name(shown).into(),
                    }],
                    callback_data: sub.callback_data.clone(),
                    link: vec![Link {
                        rel: "WatchersSubscription".into(),
                        href: urls::watchers_subscription(&root, &sub.path_user_id, &sub.id),
                    }],
                },
            };
            let body = serde_json::to_vec(&body).ok()?;
            Some(job(core, sub, body, "watchersSubscription", now))
        })
        .collect())
}

/// `presentity`'s current presence.
pub async fn contact<C: ConnectionTrait>(db: &C, presentity: &str) -> Result<pb::PresenceContact> {
    let (person, updated) = attributes::person(db, presentity).await?;
    let (_, service_capabilities) =
        crate::sources::union(&crate::sources::live(db, presentity, Utc::now()).await?);
    Ok(pb::PresenceContact {
        presentity_user_id: presentity.to_string(),
        person: Some(person),
        last_updated: updated.map(wire::timestamp),
        service_capabilities,
    })
}

/// The `presenceNotification` of `contact` to list subscription `sub`.
pub fn presence_job(
    core: &Core,
    sub: &subscription::Model,
    contact: &pb::PresenceContact,
    now: DateTime<Utc>,
) -> Option<Envelope> {
    let root = core.api_root();
    let body = PresenceNotificationBody {
        presence_notification: PresenceNotification {
            presence_contact: vec![m::PresenceContact {
                presentity_user_id: contact.presentity_user_id.clone(),
                person: contact.person.as_ref().and_then(convert::person),
                service_capabilities: contact
                    .service_capabilities
                    .iter()
                    .map(convert::capability)
                    .collect(),
                last_updated: contact.last_updated.as_ref().map(wire::time),
                resource_url: Some(urls::contact(
                    &root,
                    &sub.path_user_id,
                    &contact.presentity_user_id,
                )),
            }],
            callback_data: sub.callback_data.clone(),
            link: vec![Link {
                rel: "PresenceListSubscription".into(),
                href: urls::list_subscription(&root, &sub.path_user_id, &sub.list_id, &sub.id),
            }],
        },
    };
    let body = serde_json::to_vec(&body).ok()?;
    Some(job(core, sub, body, "presenceListSubscription", now))
}

/// The `subscriptionCancellationNotification` telling `sub`'s application that it ended
/// (its duration ran out), linking to the subscription as it was given.
pub fn cancellation_job(
    core: &Core,
    sub: &subscription::Model,
    now: DateTime<Utc>,
) -> Option<Envelope> {
    let root = core.api_root();
    let (rel, href, kind) = if sub.kind == KIND_LIST {
        (
            "PresenceListSubscription",
            urls::list_subscription(&root, &sub.path_user_id, &sub.list_id, &sub.id),
            "presenceListSubscription",
        )
    } else {
        (
            "WatchersSubscription",
            urls::watchers_subscription(&root, &sub.path_user_id, &sub.id),
            "watchersSubscription",
        )
    };
    let body = SubscriptionCancellationNotificationBody {
        subscription_cancellation_notification: SubscriptionCancellationNotification {
            callback_data: sub.callback_data.clone(),
            link: vec![Link {
                rel: rel.into(),
                href,
            }],
        },
    };
    let body = serde_json::to_vec(&body).ok()?;
    Some(job(core, sub, body, kind, now))
}
