//! Presence (presence.md rows 1–7 and 13–19) under `/{apiVersion}/presence`, served by the
//! presence service's `Presence` gRPC API.
//!
//! | resource | methods |
//! |---|---|
//! | `{userId}/presenceSource/persistent` and `…/persistent/person` | GET (row 7) |
//! | `{userId}/presenceSource/persistent/person/{noteList,statusIcon,linkList,location}` | PUT, GET, DELETE |
//! | `{userId}/content/{fileName}` | PUT (image bytes), GET, DELETE |
//! | `{userId}/presenceSource` | POST (temporary source) |
//! | `{userId}/presenceSource/{presenceSourceId}` | GET, PUT (refresh), DELETE |
//! | `{userId}/presenceContact/{presentityUserId}` | GET |
//! | `{userId}/presenceContactList/{contactListId}` | GET |
//! | `{userId}/watchers` | GET |
//! | `{userId}/subscriptions/watchersSubscriptions` | POST |
//! | `{userId}/subscriptions/watchersSubscriptions/{subscriptionId}` | GET, DELETE |
//! | `{userId}/subscriptions/presenceListSubscriptions/{contactListId}` | POST, GET (list) |
//! | `{userId}/subscriptions/presenceListSubscriptions/{contactListId}/{subscriptionId}` | GET, DELETE |
//!
//! `{userId}` is `acr:Authorization` or a percent-encoded `tel:`/`sip:` URI the key may
//! act for (else 403 POL0002); `resourceURL`s repeat it as the request wrote it.

use axum::{
    Router,
    routing::{get, post},
};
use parlay_kit::grpc::Transport;
use parlay_model::Address;
use parlay_proto::presence::v1::presence_client::PresenceClient;

use super::{PathIds, only};
use crate::{
    apps::App,
    error::ApiError,
    state::AppState,
    upstream::Upstreams,
    validate::{canonical, path_user},
};

mod attributes;
mod contacts;
pub(crate) mod content;
mod sources;
mod subscriptions;

type Client = PresenceClient<Transport>;

fn service(u: &Upstreams) -> &Client {
    &u.presence
}

const USER: &str = "userId";
const PRESENTITY: &str = "presentityUserId";
const LIST: &str = "contactListId";
const SUBSCRIPTION_ID: &str = "subscriptionId";

pub(crate) fn routes(base: &str) -> Router<AppState> {
    let user = format!("{base}/{{{USER}}}");
    let person = format!("{user}/presenceSource/persistent/person");
    let watchers_subs = format!("{user}/subscriptions/watchersSubscriptions");
    let list_subs = format!("{user}/subscriptions/presenceListSubscriptions/{{{LIST}}}");
    use attributes::{Links, Location, Notes, StatusIcon, delete as del, read, write};
    Router::new()
        .route(
            &format!("{user}/presenceSource/persistent"),
            only(get(attributes::read_source), "GET"),
        )
        .route(&person, only(get(attributes::read_person), "GET"))
        .route(
            &format!("{person}/noteList"),
            only(
                get(read::<Notes>).put(write::<Notes>).delete(del::<Notes>),
                "GET, PUT, DELETE",
            ),
        )
        .route(
            &format!("{person}/statusIcon"),
            only(
                get(read::<StatusIcon>)
                    .put(write::<StatusIcon>)
                    .delete(del::<StatusIcon>),
                "GET, PUT, DELETE",
            ),
        )
        .route(
            &format!("{person}/linkList"),
            only(
                get(read::<Links>).put(write::<Links>).delete(del::<Links>),
                "GET, PUT, DELETE",
            ),
        )
        .route(
            &format!("{person}/location"),
            only(
                get(read::<Location>)
                    .put(write::<Location>)
                    .delete(del::<Location>),
                "GET, PUT, DELETE",
            ),
        )
        .route(
            &format!("{user}/content/{{fileName}}"),
            only(
                get(content::read)
                    .put(content::write)
                    .delete(content::delete),
                "GET, PUT, DELETE",
            )
            .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            &format!("{user}/presenceSource"),
            only(post(sources::create), "POST"),
        )
        .route(
            &format!("{user}/presenceSource/{{presenceSourceId}}"),
            only(
                get(sources::read)
                    .put(sources::refresh)
                    .delete(sources::delete),
                "GET, PUT, DELETE",
            ),
        )
        .route(
            &format!("{user}/presenceContact/{{{PRESENTITY}}}"),
            only(get(contacts::contact), "GET"),
        )
        .route(
            &format!("{user}/presenceContactList/{{{LIST}}}"),
            only(get(contacts::contact_list), "GET"),
        )
        .route(
            &format!("{user}/watchers"),
            only(get(contacts::watchers), "GET"),
        )
        .route(
            &watchers_subs,
            only(post(subscriptions::create_watchers), "POST"),
        )
        .route(
            &format!("{watchers_subs}/{{{SUBSCRIPTION_ID}}}"),
            only(
                get(subscriptions::read_watchers).delete(subscriptions::delete_watchers),
                "GET, DELETE",
            ),
        )
        .route(
            &list_subs,
            only(
                post(subscriptions::create_list).get(subscriptions::list_lists),
                "GET, POST",
            ),
        )
        .route(
            &format!("{list_subs}/{{{SUBSCRIPTION_ID}}}"),
            only(
                get(subscriptions::read_list).delete(subscriptions::delete_list),
                "GET, DELETE",
            ),
        )
}

/// The user of the URL: (as the services know it, as the request wrote it).
fn user(app: &App, ids: &PathIds) -> Result<(String, String), ApiError> {
    let raw = ids.address(USER)?;
    Ok((path_user(app, &raw)?, raw))
}

/// A contact list id of the URL, else 404 naming it.
fn list_id(ids: &PathIds) -> Result<String, ApiError> {
    let id = ids.address(LIST)?;
    let shaped = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if shaped {
        Ok(id)
    } else {
        Err(ApiError::not_found(LIST))
    }
}

/// A presentity of the URL: a `tel:`/`sip:` URI, canonical; else 400 SVC0004.
fn presentity(ids: &PathIds) -> Result<String, ApiError> {
    match Address::parse(&ids.address(PRESENTITY)?) {
        Ok(Address::Tel(s) | Address::Sip(s)) => Ok(canonical(&s)),
        _ => Err(ApiError::of("SVC0004", [PRESENTITY])),
    }
}
