//! The persistent person attributes (rows 1–6): a PUT creates (201 with `Location`) or
//! replaces (200) one attribute whole and echoes it with its `resourceURL`; GET reads it
//! (404 when never set); DELETE removes it (204). The whole persistent source (row 7):
//! GET `presenceSource/persistent` (`presenceSource` with its `person`) and
//! `…/persistent/person` (`person`), every attribute set with its own `resourceURL`; 404
//! when none is.
//!
//! Checks before the service is called: texts without control characters and of bounded
//! length, web URLs (`url` of links and icons), coordinates in range, at least a
//! `placeName` or both coordinates for a location, an icon `contentType` of
//! `image/jpeg`, `image/png` or `image/gif` (else 403 POL0011). A status icon's `url`
//! must name the user's own uploaded content (`…/presence/{userId}/content/{fileName}`,
//! else 400 SVC0002 ["url"]); its `contentType`, `fileSize` and `etag` are the file's. A body that carries a
//! `resourceURL` naming another resource tries to change a key property: 400 SVC0222
//! ["resourceURL"].

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use parlay_model::presence::{self as m, urls};
use parlay_proto::presence::v1::{self as pb, attribute::Value};
use serde::{Serialize, de::DeserializeOwned};

use super::{service, user};
use crate::{
    auth::Caller,
    body::JsonBody,
    error::ApiError,
    routes::{PathIds, created, ok},
    state::AppState,
    upstream,
    validate::{is_web_url, short_text},
};

/// Longest note, in characters.
const MAX_NOTE_CHARS: usize = 1024;

/// Image types a status icon may have (RCS icon types).
pub(crate) const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/gif"];

/// Whose attribute a request writes: the API root and the user (as written, as resolved).
pub(crate) struct Where<'a> {
    pub root: &'a str,
    pub raw: &'a str,
    pub user: &'a str,
}

/// The file a status icon URL names: `{root}/presence/{userId}/content/{fileName}` of the
/// user written (either spelling), else 400 SVC0002 ["url"].
fn own_content(url: &str, at: &Where) -> Result<String, ApiError> {
    let refused = || ApiError::of("SVC0002", ["url"]);
    let prefix = format!("{}/presence/", at.root.trim_end_matches('/'));
    let rest = url.strip_prefix(&prefix).ok_or_else(refused)?;
    let (owner, rest) = rest.split_once('/').ok_or_else(refused)?;
    let file = rest.strip_prefix("content/").ok_or_else(refused)?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|d| d.into_owned())
            .map_err(|_| refused())
    };
    let owner = decode(owner)?;
    let file = decode(file)?;
    let same = owner == at.raw || crate::validate::canonical(&owner) == at.user;
    if !same || !super::content::valid_name(&file) {
        return Err(refused());
    }
    Ok(file)
}

/// One person attribute: its URL name, its body, and the conversions.
pub(crate) trait PersonAttribute: Send + Sync + 'static {
    const NAME: &'static str;
    const KIND: pb::AttributeKind;
    type Body: DeserializeOwned + Send;
    type Out: Serialize;
    /// The body's `resourceURL`, if it carries one.
    fn resource_url(body: &Self::Body) -> Option<&str>;
    fn to_pb(body: Self::Body, at: &Where) -> Result<Value, ApiError>;
    /// The JSON answer, `None` when the service answered another kind.
    fn to_json(value: Value, url: String) -> Option<Self::Out>;
}

fn text(value: String, max: usize, field: &'static str) -> Result<String, ApiError> {
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::of("SVC0002", [field]));
    }
    Ok(value)
}

fn lang(value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(l)
            if l.is_empty()
                || l.len() > 35
                || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            Err(ApiError::of("SVC0002", ["lang"]))
        }
        other => Ok(other),
    }
}

fn web_url(url: String) -> Result<String, ApiError> {
    if url.chars().count() <= crate::validate::MAX_URL_CHARS && is_web_url(&url) {
        Ok(url)
    } else {
        Err(ApiError::of("SVC0002", ["url"]))
    }
}

fn within(
    value: Option<f64>,
    range: std::ops::RangeInclusive<f64>,
    field: &'static str,
) -> Result<Option<f64>, ApiError> {
    match value {
        Some(v) if !v.is_finite() || !range.contains(&v) => Err(ApiError::of("SVC0002", [field])),
        other => Ok(other),
    }
}

pub(crate) struct Notes;
impl PersonAttribute for Notes {
    const NAME: &'static str = "noteList";
    const KIND: pb::AttributeKind = pb::AttributeKind::NoteList;
    type Body = m::NoteListBody;
    type Out = m::NoteListBody;
    fn resource_url(body: &Self::Body) -> Option<&str> {
        body.note_list.resource_url.as_deref()
    }
    fn to_pb(body: Self::Body, _: &Where) -> Result<Value, ApiError> {
        if body.note_list.note.is_empty() {
            return Err(ApiError::of("SVC0002", ["note"]));
        }
        let notes = body
            .note_list
            .note
            .into_iter()
            .map(|n| {
                Ok(pb::Note {
                    text: text(n.text, MAX_NOTE_CHARS, "text")?,
                    lang: lang(n.lang)?,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Value::NoteList(pb::NoteList { notes }))
    }
    fn to_json(value: Value, url: String) -> Option<Self::Out> {
        let Value::NoteList(n) = value else {
            return None;
        };
        let mut note_list = note_list_json(&n);
        note_list.resource_url = Some(url);
        Some(m::NoteListBody { note_list })
    }
}

pub(crate) struct StatusIcon;
impl PersonAttribute for StatusIcon {
    const NAME: &'static str = "statusIcon";
    const KIND: pb::AttributeKind = pb::AttributeKind::StatusIcon;
    type Body = m::StatusIconBody;
    type Out = m::StatusIconBody;
    fn resource_url(body: &Self::Body) -> Option<&str> {
        body.status_icon.resource_url.as_deref()
    }
    fn to_pb(body: Self::Body, at: &Where) -> Result<Value, ApiError> {
        let i = body.status_icon;
        let content_file = Some(own_content(&i.url, at)?);
        let content_type = match i.content_type {
            Some(t) if IMAGE_TYPES.contains(&t.to_ascii_lowercase().as_str()) => {
                Some(t.to_ascii_lowercase())
            }
            Some(_) => return Err(ApiError::of("POL0011", ["contentType"])),
            None => None,
        };
        Ok(Value::StatusIcon(pb::StatusIcon {
            url: web_url(i.url)?,
            content_type,
            etag: None,
            file_size: i.file_size,
            resolution: short_text(i.resolution, "resolution")?,
            content_file,
        }))
    }
    fn to_json(value: Value, url: String) -> Option<Self::Out> {
        let Value::StatusIcon(i) = value else {
            return None;
        };
        let mut status_icon = status_icon_json(&i);
        status_icon.resource_url = Some(url);
        Some(m::StatusIconBody { status_icon })
    }
}

pub(crate) struct Links;
impl PersonAttribute for Links {
    const NAME: &'static str = "linkList";
    const KIND: pb::AttributeKind = pb::AttributeKind::LinkList;
    type Body = m::LinkListBody;
    type Out = m::LinkListBody;
    fn resource_url(body: &Self::Body) -> Option<&str> {
        body.link_list.resource_url.as_deref()
    }
    fn to_pb(body: Self::Body, _: &Where) -> Result<Value, ApiError> {
        if body.link_list.link.is_empty() {
            return Err(ApiError::of("SVC0002", ["link"]));
        }
        let links = body
            .link_list
            .link
            .into_iter()
            .map(|l| {
                Ok(pb::Link {
                    url: web_url(l.url)?,
                    label: short_text(l.label, "label")?,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Value::LinkList(pb::LinkList { links }))
    }
    fn to_json(value: Value, url: String) -> Option<Self::Out> {
        let Value::LinkList(l) = value else {
            return None;
        };
        let mut link_list = link_list_json(&l);
        link_list.resource_url = Some(url);
        Some(m::LinkListBody { link_list })
    }
}

pub(crate) struct Location;
impl PersonAttribute for Location {
    const NAME: &'static str = "location";
    const KIND: pb::AttributeKind = pb::AttributeKind::Location;
    type Body = m::LocationBody;
    type Out = m::LocationBody;
    fn resource_url(body: &Self::Body) -> Option<&str> {
        body.location.resource_url.as_deref()
    }
    fn to_pb(body: Self::Body, _: &Where) -> Result<Value, ApiError> {
        let l = body.location;
        let latitude = within(l.latitude, -90.0..=90.0, "latitude")?;
        let longitude = within(l.longitude, -180.0..=180.0, "longitude")?;
        let accuracy = within(l.accuracy, 0.0..=f64::MAX, "accuracy")?;
        let place_name = short_text(l.place_name, "placeName")?.filter(|p| !p.is_empty());
        if latitude.is_some() != longitude.is_some() {
            return Err(ApiError::of(
                "SVC0002",
                [if latitude.is_some() {
                    "longitude"
                } else {
                    "latitude"
                }],
            ));
        }
        if place_name.is_none() && latitude.is_none() {
            return Err(ApiError::of("SVC0002", ["location"]));
        }
        Ok(Value::Location(pb::Location {
            place_name,
            latitude,
            longitude,
            accuracy,
            timestamp: l.timestamp.map(parlay_kit::wire::timestamp),
        }))
    }
    fn to_json(value: Value, url: String) -> Option<Self::Out> {
        let Value::Location(l) = value else {
            return None;
        };
        let mut location = location_json(&l);
        location.resource_url = Some(url);
        Some(m::LocationBody { location })
    }
}

fn note_list_json(n: &pb::NoteList) -> m::NoteList {
    m::NoteList {
        note: n
            .notes
            .iter()
            .map(|n| m::Note {
                text: n.text.clone(),
                lang: n.lang.clone(),
            })
            .collect(),
        resource_url: None,
    }
}

fn status_icon_json(i: &pb::StatusIcon) -> m::StatusIcon {
    m::StatusIcon {
        url: i.url.clone(),
        content_type: i.content_type.clone(),
        etag: i.etag.clone(),
        file_size: i.file_size,
        resolution: i.resolution.clone(),
        resource_url: None,
    }
}

fn link_list_json(l: &pb::LinkList) -> m::LinkList {
    m::LinkList {
        link: l
            .links
            .iter()
            .map(|l| m::FavouriteLink {
                url: l.url.clone(),
                label: l.label.clone(),
            })
            .collect(),
        resource_url: None,
    }
}

fn location_json(l: &pb::Location) -> m::Location {
    m::Location {
        place_name: l.place_name.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
        accuracy: l.accuracy,
        timestamp: l.timestamp.as_ref().map(parlay_kit::wire::time),
        resource_url: None,
    }
}

/// A contact's person part as JSON; `None` when it published nothing.
pub(super) fn person_json(_root: &str, p: pb::Person) -> Option<m::Person> {
    let person = m::Person {
        note_list: p.note_list.as_ref().map(note_list_json),
        status_icon: p.status_icon.as_ref().map(status_icon_json),
        link_list: p.link_list.as_ref().map(link_list_json),
        location: p.location.as_ref().map(location_json),
        overriding_willingness: p
            .overriding_willingness
            .as_ref()
            .map(super::sources::willingness_json),
    };
    (person != m::Person::default()).then_some(person)
}

/// PUT: 201 + `Location` the first time, 200 after.
pub(crate) async fn write<A: PersonAttribute>(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<A::Body>,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let url = urls::attribute(&state.api_root, &raw, A::NAME);
    if let Some(given) = A::resource_url(&body)
        && given != url
        && given != urls::attribute(&state.api_root, &user_id, A::NAME)
    {
        return Err(ApiError::of("SVC0222", ["resourceURL"]));
    }
    let at = Where {
        root: &state.api_root,
        raw: &raw,
        user: &user_id,
    };
    let value = A::to_pb(body, &at)?;
    let message = pb::PutAttributeRequest {
        user_id,
        attribute: Some(pb::Attribute { value: Some(value) }),
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.put_attribute(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, A::NAME))?;
    let answer = reply
        .attribute
        .and_then(|a| a.value)
        .and_then(|v| A::to_json(v, url.clone()))
        .ok_or_else(|| ApiError::internal("PutAttribute", "answered another attribute"))?;
    if reply.created {
        created(&url, &answer)
    } else {
        Ok(ok(&answer))
    }
}

/// GET: 200, or 404 SVC0002 [name] when never set.
pub(crate) async fn read<A: PersonAttribute>(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let message = pb::AttributeRef {
        user_id,
        kind: A::KIND as i32,
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_attribute(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, A::NAME))?;
    let url = urls::attribute(&state.api_root, &raw, A::NAME);
    let answer = reply
        .value
        .and_then(|v| A::to_json(v, url))
        .ok_or_else(|| ApiError::internal("GetAttribute", "answered another attribute"))?;
    Ok(ok(&answer))
}

/// DELETE: 204, or 404 when never set.
pub(crate) async fn delete<A: PersonAttribute>(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (user_id, _) = user(&app, &ids)?;
    let message = pb::AttributeRef {
        user_id,
        kind: A::KIND as i32,
    };
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_attribute(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, A::NAME))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The persistent source's attributes with their `resourceURL`s, or 404 SVC0002 [name]
/// when the user has set none.
async fn persistent(
    state: &AppState,
    app: &crate::apps::App,
    ids: &PathIds,
    name: &str,
) -> Result<(m::PersistentPerson, String), ApiError> {
    let (user_id, raw) = user(app, ids)?;
    let message = pb::UserRef { user_id };
    let p = upstream::call(state, app, service, message, |mut c, r| async move {
        c.get_persistent_source(r).await
    })
    .await
    .map_err(|s| match s.code() {
        tonic::Code::NotFound => ApiError::not_found(name),
        _ => ApiError::from_status(&s, name),
    })?;
    let root = &state.api_root;
    let url = |name: &str| Some(urls::attribute(root, &raw, name));
    let person = m::PersistentPerson {
        note_list: p.note_list.as_ref().map(|n| m::NoteList {
            resource_url: url(Notes::NAME),
            ..note_list_json(n)
        }),
        status_icon: p.status_icon.as_ref().map(|i| m::StatusIcon {
            resource_url: url(StatusIcon::NAME),
            ..status_icon_json(i)
        }),
        link_list: p.link_list.as_ref().map(|l| m::LinkList {
            resource_url: url(Links::NAME),
            ..link_list_json(l)
        }),
        location: p.location.as_ref().map(|l| m::Location {
            resource_url: url(Location::NAME),
            ..location_json(l)
        }),
        resource_url: None,
    };
    Ok((person, raw))
}

/// GET `presenceSource/persistent`: `{"presenceSource": {"person": {…}, "resourceURL"}}`.
pub(crate) async fn read_source(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (person, raw) = persistent(&state, &app, &ids, "persistent").await?;
    Ok(ok(&m::PersistentSourceBody {
        presence_source: m::PersistentSource {
            person,
            resource_url: urls::persistent(&state.api_root, &raw),
        },
    }))
}

/// GET `presenceSource/persistent/person`: `{"person": {…, "resourceURL"}}`.
pub(crate) async fn read_person(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (mut person, raw) = persistent(&state, &app, &ids, "person").await?;
    person.resource_url = Some(urls::persistent_person(&state.api_root, &raw));
    Ok(ok(&m::PersistentPersonBody { person }))
}
