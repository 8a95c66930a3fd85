//! Presence (presence.md §2): person attributes, presence contacts, watchers, the two
//! subscriptions and their notifications. Element names are the spec's (all inferred there,
//! see docs/presence.md). Input bodies reject unknown fields. A person attribute may carry
//! its `resourceURL` back (it must name the resource written, else SVC0222) and its `etag`
//! (ignored); repeated elements accept one object or an array.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    common::{CallbackReference, Link},
    tolerant,
};

/// One free-text note (§2.1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Note {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// `noteList`: the tagline(s).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoteList {
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub note: Vec<Note>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

/// `statusIcon`: a reference to an uploaded image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusIcon {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Set by the server: ignored on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

/// One favourite link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FavouriteLink {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `linkList`: favourite links.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkList {
    #[serde(default, deserialize_with = "tolerant::one_or_many")]
    pub link: Vec<FavouriteLink>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

/// `location`: free text and/or WGS84 coordinates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_name: Option<String>,
    #[serde(
        default,
        deserialize_with = "tolerant::option_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub latitude: Option<f64>,
    #[serde(
        default,
        deserialize_with = "tolerant::option_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub longitude: Option<f64>,
    #[serde(
        default,
        deserialize_with = "tolerant::option_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub accuracy: Option<f64>,
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

macro_rules! root {
    ($root:ident, $field:ident, $name:literal, $ty:ty) => {
        #[doc = concat!("`{\"", $name, "\": …}`")]
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $root {
            #[serde(rename = $name)]
            pub $field: $ty,
        }
    };
}

root!(NoteListBody, note_list, "noteList", NoteList);
root!(StatusIconBody, status_icon, "statusIcon", StatusIcon);
root!(LinkListBody, link_list, "linkList", LinkList);
root!(LocationBody, location, "location", Location);

/// RCS hyper-availability (§2.2): `basic` is `open` ("reach me now") or `closed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverridingWillingness {
    pub basic: String,
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<DateTime<Utc>>,
}

/// An RCS service capability (chat, file transfer, …) advertised through presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCapability {
    pub service_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `open` or `closed`.
    pub status: String,
}

/// The person part of a temporary presence source: hyper-availability only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourcePerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overriding_willingness: Option<OverridingWillingness>,
}

/// `presenceSource` (§2.2): a temporary source with its granted `duration` and `expiry`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<SourcePerson>,
    #[serde(
        default,
        deserialize_with = "tolerant::one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_capabilities: Vec<ServiceCapability>,
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// Set by the server: ignored on input.
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiry: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    /// On a refresh it must name the source refreshed (else SVC0222).
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

root!(
    PresenceSourceBody,
    presence_source,
    "presenceSource",
    PresenceSource
);

/// The person of the persistent source (row 7): the attributes set, each with its own
/// `resourceURL`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistentPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_list: Option<NoteList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_icon: Option<StatusIcon>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_list: Option<LinkList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

root!(PersistentPersonBody, person, "person", PersistentPerson);

/// The persistent source (row 7), shaped like a temporary `presenceSource`: its `person`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersistentSource {
    pub person: PersistentPerson,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

root!(
    PersistentSourceBody,
    presence_source,
    "presenceSource",
    PersistentSource
);

/// The person part of a contact's presence (§2.6).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_list: Option<NoteList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_icon: Option<StatusIcon>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_list: Option<LinkList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overriding_willingness: Option<OverridingWillingness>,
}

/// `presenceContact`: a presentity's presence as a watcher sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceContact {
    pub presentity_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
    /// "Who can I invite": what the presentity's devices can do now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_capabilities: Vec<ServiceCapability>,
    #[serde(
        default,
        with = "crate::timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated: Option<DateTime<Utc>>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

root!(
    PresenceContactBody,
    presence_contact,
    "presenceContact",
    PresenceContact
);

/// `presenceContactList`: every authorised contact of a list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceContactList {
    #[serde(default)]
    pub presence_contact: Vec<PresenceContact>,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

root!(
    PresenceContactListBody,
    presence_contact_list,
    "presenceContactList",
    PresenceContactList
);

/// A watcher of the user (§2.4); `status` is `Pending`, `Active` or `Terminated`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Watcher {
    pub watcher_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub status: String,
}

/// `watcherList`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatcherList {
    #[serde(default)]
    pub watcher: Vec<Watcher>,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

root!(WatcherListBody, watcher_list, "watcherList", WatcherList);

/// A watchers or presence-list subscription (§2.3, §2.5): the same fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceSubscription {
    pub callback_reference: CallbackReference,
    #[serde(
        default,
        deserialize_with = "tolerant::option_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_correlator: Option<String>,
    #[serde(
        rename = "resourceURL",
        default,
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_url: Option<String>,
}

root!(
    WatchersSubscriptionBody,
    watchers_subscription,
    "watchersSubscription",
    PresenceSubscription
);
root!(
    PresenceListSubscriptionBody,
    presence_list_subscription,
    "presenceListSubscription",
    PresenceSubscription
);

/// `{"subscriptionList": {"presenceListSubscription": […], "resourceURL": …}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceListSubscriptionList {
    #[serde(default)]
    pub presence_list_subscription: Vec<PresenceSubscription>,
    #[serde(rename = "resourceURL")]
    pub resource_url: String,
}

root!(
    PresenceListSubscriptionListBody,
    subscription_list,
    "subscriptionList",
    PresenceListSubscriptionList
);

/// `watcherNotification` (§2.8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatcherNotification {
    pub watcher: Vec<Watcher>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<Link>,
}

root!(
    WatcherNotificationBody,
    watcher_notification,
    "watcherNotification",
    WatcherNotification
);

/// `presenceNotification` (§2.8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceNotification {
    pub presence_contact: Vec<PresenceContact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<Link>,
}

root!(
    PresenceNotificationBody,
    presence_notification,
    "presenceNotification",
    PresenceNotification
);

/// `subscriptionCancellationNotification` (NetAPI): a subscription ended without the
/// application deleting it (its `duration` ran out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCancellationNotification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    /// To the subscription that ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<Link>,
}

root!(
    SubscriptionCancellationNotificationBody,
    subscription_cancellation_notification,
    "subscriptionCancellationNotification",
    SubscriptionCancellationNotification
);

pub mod urls {
    //! The presence URLs, built from an API root (`http://host/1`) and path values, each
    //! percent-encoded as one segment.

    use crate::messaging::urls::segment;

    /// `{root}/presence/{userId}` followed by `rest`, each segment encoded.
    pub fn user(root: &str, user: &str, rest: &[&str]) -> String {
        let mut url = format!("{}/presence/{}", root.trim_end_matches('/'), segment(user));
        for s in rest {
            url.push('/');
            url.push_str(&segment(s));
        }
        url
    }

    pub fn attribute(root: &str, user_id: &str, name: &str) -> String {
        user(
            root,
            user_id,
            &["presenceSource", "persistent", "person", name],
        )
    }

    pub fn persistent(root: &str, user_id: &str) -> String {
        user(root, user_id, &["presenceSource", "persistent"])
    }

    pub fn persistent_person(root: &str, user_id: &str) -> String {
        user(root, user_id, &["presenceSource", "persistent", "person"])
    }

    pub fn sources(root: &str, user_id: &str) -> String {
        user(root, user_id, &["presenceSource"])
    }

    pub fn source(root: &str, user_id: &str, id: &str) -> String {
        user(root, user_id, &["presenceSource", id])
    }

    pub fn contact(root: &str, user_id: &str, presentity: &str) -> String {
        user(root, user_id, &["presenceContact", presentity])
    }

    pub fn contact_list(root: &str, user_id: &str, list: &str) -> String {
        user(root, user_id, &["presenceContactList", list])
    }

    pub fn watchers(root: &str, user_id: &str) -> String {
        user(root, user_id, &["watchers"])
    }

    pub fn watchers_subscription(root: &str, user_id: &str, id: &str) -> String {
        user(
            root,
            user_id,
            &["subscriptions", "watchersSubscriptions", id],
        )
    }

    pub fn list_subscriptions(root: &str, user_id: &str, list: &str) -> String {
        user(
            root,
            user_id,
            &["subscriptions", "presenceListSubscriptions", list],
        )
    }

    pub fn list_subscription(root: &str, user_id: &str, list: &str, id: &str) -> String {
        user(
            root,
            user_id,
            &["subscriptions", "presenceListSubscriptions", list, id],
        )
    }
}
