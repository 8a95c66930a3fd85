//! Temporary presence sources (rows 10–12): hyper-availability and service capabilities
//! with a requested `duration`. POST answers 201 with `Location` and the granted `duration`
//! and `expiry`; GET reads a live source; PUT refreshes it (new content, lifetime restarted
//! from now); DELETE withdraws it (204). An expired source is 404.
//!
//! Checks: at least `person.overridingWillingness` or one `serviceCapabilities` entry;
//! `basic` and `status` are `open` or `closed` (any case, sent in lower case); a
//! `serviceId` of 1 to 256 characters, at most 32 capabilities, each id once; else 400
//! SVC0002 naming the field. A refresh whose `resourceURL` names another source → 400
//! SVC0222 ["resourceURL"].

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use parlay_model::presence::{self as m, PresenceSource, PresenceSourceBody, SourcePerson, urls};
use parlay_proto::presence::v1 as pb;

use super::{service, user};
use crate::{
    apps::App,
    auth::Caller,
    body::JsonBody,
    error::ApiError,
    routes::{PathIds, created, ok},
    state::AppState,
    upstream,
    validate::{client_correlator, duration, short_text},
};

const SOURCE_ID: &str = "presenceSourceId";

/// Most capabilities in one source.
const MAX_CAPABILITIES: usize = 32;

fn open_closed(value: String, field: &'static str) -> Result<String, ApiError> {
    let v = value.to_ascii_lowercase();
    if v == "open" || v == "closed" {
        Ok(v)
    } else {
        Err(ApiError::of("SVC0002", [field]))
    }
}

fn to_pb(body: PresenceSource) -> Result<(pb::PresenceSource, Option<u32>), ApiError> {
    let overriding_willingness = body
        .person
        .and_then(|p| p.overriding_willingness)
        .map(|w| {
            Ok::<_, ApiError>(pb::OverridingWillingness {
                basic: open_closed(w.basic, "basic")?,
                until: w.until.map(parlay_kit::wire::timestamp),
            })
        })
        .transpose()?;
    if body.service_capabilities.len() > MAX_CAPABILITIES {
        return Err(ApiError::of("SVC0002", ["serviceCapabilities"]));
    }
    let mut service_capabilities: Vec<pb::ServiceCapability> = Vec::new();
    for c in body.service_capabilities {
        let id = short_text(Some(c.service_id), "serviceId")?.unwrap_or_default();
        if id.is_empty() || service_capabilities.iter().any(|k| k.service_id == id) {
            return Err(ApiError::of("SVC0002", ["serviceId"]));
        }
        service_capabilities.push(pb::ServiceCapability {
            service_id: id,
            version: short_text(c.version, "version")?,
            status: open_closed(c.status, "status")?,
        });
    }
    if overriding_willingness.is_none() && service_capabilities.is_empty() {
        return Err(ApiError::of("SVC0002", ["presenceSource"]));
    }
    let source = pb::PresenceSource {
        overriding_willingness,
        service_capabilities,
        client_correlator: client_correlator(body.client_correlator)?,
        ..Default::default()
    };
    Ok((source, duration(body.duration)?))
}

fn to_json(url: String, s: pb::PresenceSource) -> PresenceSourceBody {
    PresenceSourceBody {
        presence_source: PresenceSource {
            person: s.overriding_willingness.as_ref().map(|w| SourcePerson {
                overriding_willingness: Some(willingness_json(w)),
            }),
            service_capabilities: s.service_capabilities.iter().map(capability_json).collect(),
            duration: Some(i64::from(s.duration_secs)),
            expiry: s.expiry.as_ref().map(parlay_kit::wire::time),
            client_correlator: s.client_correlator,
            resource_url: Some(url),
        },
    }
}

pub(super) fn willingness_json(w: &pb::OverridingWillingness) -> m::OverridingWillingness {
    m::OverridingWillingness {
        basic: w.basic.clone(),
        until: w.until.as_ref().map(parlay_kit::wire::time),
    }
}

pub(super) fn capability_json(c: &pb::ServiceCapability) -> m::ServiceCapability {
    m::ServiceCapability {
        service_id: c.service_id.clone(),
        version: c.version.clone(),
        status: c.status.clone(),
    }
}

/// POST `presenceSource`.
pub(super) async fn create(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<PresenceSourceBody>,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let (source, duration_secs) = to_pb(body.presence_source)?;
    let message = pb::CreateSourceRequest {
        user_id,
        presence_source_id: String::new(),
        source: Some(source),
        duration_secs,
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.create_presence_source(r).await
    })
    .await
    .map_err(|s| ApiError::from_body_status(&s, "presenceSource"))?;
    let s = reply
        .source
        .ok_or_else(|| ApiError::internal("CreatePresenceSource", "no source"))?;
    let url = urls::source(&state.api_root, &raw, &s.presence_source_id);
    created(&url, &to_json(url.clone(), s))
}

fn source_ref(app: &App, ids: &PathIds) -> Result<(pb::SourceRef, String), ApiError> {
    let (user_id, raw) = user(app, ids)?;
    Ok((
        pb::SourceRef {
            user_id,
            presence_source_id: ids.get(SOURCE_ID)?,
        },
        raw,
    ))
}

/// GET `presenceSource/{presenceSourceId}`.
pub(super) async fn read(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, raw) = source_ref(&app, &ids)?;
    let s = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_presence_source(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SOURCE_ID))?;
    let url = urls::source(&state.api_root, &raw, &s.presence_source_id);
    Ok(ok(&to_json(url, s)))
}

/// PUT `presenceSource/{presenceSourceId}`: refresh.
pub(super) async fn refresh(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<PresenceSourceBody>,
) -> Result<Response, ApiError> {
    let (r, raw) = source_ref(&app, &ids)?;
    let url = urls::source(&state.api_root, &raw, &r.presence_source_id);
    if let Some(given) = &body.presence_source.resource_url
        && *given != url
        && *given != urls::source(&state.api_root, &r.user_id, &r.presence_source_id)
    {
        return Err(ApiError::of("SVC0222", ["resourceURL"]));
    }
    let (source, duration_secs) = to_pb(body.presence_source)?;
    let message = pb::CreateSourceRequest {
        user_id: r.user_id,
        presence_source_id: r.presence_source_id,
        source: Some(source),
        duration_secs,
    };
    let s = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.refresh_presence_source(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SOURCE_ID))?;
    Ok(ok(&to_json(url, s)))
}

/// DELETE `presenceSource/{presenceSourceId}`: 204.
pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, _) = source_ref(&app, &ids)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_presence_source(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, SOURCE_ID))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
