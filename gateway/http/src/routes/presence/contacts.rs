//! Watching others: one presentity's presence, a contact list's, and the user's watchers.

use axum::{extract::State, response::Response};
use parlay_model::presence::{
    PresenceContactBody, PresenceContactList, PresenceContactListBody, Watcher, WatcherList,
    WatcherListBody, urls,
};
use parlay_proto::presence::v1 as pb;

use super::{LIST, PRESENTITY, USER, attributes, list_id, presentity, service, user};
use crate::{
    auth::Caller,
    error::ApiError,
    routes::{PathIds, ok},
    state::AppState,
    upstream,
};

pub(super) fn contact_json(
    root: &str,
    path_user: &str,
    c: pb::PresenceContact,
) -> parlay_model::presence::PresenceContact {
    parlay_model::presence::PresenceContact {
        resource_url: Some(urls::contact(root, path_user, &c.presentity_user_id)),
        person: c.person.and_then(|p| attributes::person_json(root, p)),
        service_capabilities: c
            .service_capabilities
            .iter()
            .map(super::sources::capability_json)
            .collect(),
        last_updated: c.last_updated.as_ref().map(parlay_kit::wire::time),
        presentity_user_id: c.presentity_user_id,
    }
}

/// GET `presenceContact/{presentityUserId}`.
pub(super) async fn contact(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let message = pb::ContactRef {
        user_id,
        presentity_user_id: presentity(&ids)?,
    };
    let c = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_presence_contact(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, PRESENTITY))?;
    Ok(ok(&PresenceContactBody {
        presence_contact: contact_json(&state.api_root, &raw, c),
    }))
}

/// GET `presenceContactList/{contactListId}`.
pub(super) async fn contact_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let list = list_id(&ids)?;
    let message = pb::ListRef {
        user_id,
        contact_list_id: list.clone(),
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_presence_contact_list(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    Ok(ok(&PresenceContactListBody {
        presence_contact_list: PresenceContactList {
            presence_contact: reply
                .contacts
                .into_iter()
                .map(|c| contact_json(&state.api_root, &raw, c))
                .collect(),
            resource_url: urls::contact_list(&state.api_root, &raw, &list),
        },
    }))
}

fn status_name(s: pb::WatcherStatus) -> &'static str {
    match s {
        pb::WatcherStatus::Active => "Active",
        pb::WatcherStatus::Pending => "Pending",
        pb::WatcherStatus::Terminated | pb::WatcherStatus::Unspecified => "Terminated",
    }
}

/// GET `watchers`.
pub(super) async fn watchers(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let reply = upstream::call(
        &state,
        &app,
        service,
        pb::UserRef { user_id },
        |mut c, r| async move { c.list_watchers(r).await },
    )
    .await
    .map_err(|s| ApiError::from_status(&s, USER))?;
    Ok(ok(&WatcherListBody {
        watcher_list: WatcherList {
            watcher: reply
                .watchers
                .into_iter()
                .map(|w| Watcher {
                    status: status_name(w.status()).into(),
                    watcher_id: w.watcher_id,
                    display_name: w.display_name,
                })
                .collect(),
            resource_url: urls::watchers(&state.api_root, &raw),
        },
    }))
}
