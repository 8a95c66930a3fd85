//! Address List Management (addresslist.md rows 1–7) under `/{apiVersion}/addresslistmgt`,
//! served by the address-list service's `AddressList` gRPC API.
//!
//! | resource | methods |
//! |---|---|
//! | `{userId}/contactLists` | GET, POST |
//! | `{userId}/contactLists/{contactListId}` | GET, PUT, DELETE |
//! | `{userId}/contactLists/{contactListId}/members` | GET |
//! | `{userId}/contactLists/{contactListId}/members/{memberId}` | PUT, GET, DELETE |
//!
//! `{userId}` is `acr:Authorization` or a percent-encoded `tel:`/`sip:` URI the key may
//! act for (else 403 POL0002); `resourceURL`s repeat it as the request wrote it.
//! `{memberId}` is a percent-encoded `tel:`/`sip:` URI (else 400 SVC0004 ["memberId"]).
//! A member PUT may have no body, `{}`, or `{"member": …}`.

use axum::{
    Router,
    extract::{FromRequest, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use parlay_kit::grpc::Transport;
use parlay_model::{
    Address,
    addresslist::{
        Attribute, AttributeList, ContactList, ContactListBody, ContactListCollection,
        ContactListCollectionBody, Member, MemberBody, MemberList, MemberListBody, urls,
    },
};
use parlay_proto::addresslist::v1::{self as pb, address_list_client::AddressListClient};

use super::{PathIds, created, ok, only};
use crate::{
    apps::App,
    auth::Caller,
    body::{JsonBody, is_json, read_limited},
    error::ApiError,
    state::AppState,
    upstream::{self, Upstreams},
    validate::{canonical, path_user, short_text},
};

type Client = AddressListClient<Transport>;

fn service(u: &Upstreams) -> &Client {
    &u.addresslist
}

const USER: &str = "userId";
const LIST: &str = "contactListId";
const MEMBER: &str = "memberId";

/// Most attributes on one member or list.
const MAX_ATTRIBUTES: usize = 32;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    let lists = format!("{base}/{{{USER}}}/contactLists");
    let list = format!("{lists}/{{{LIST}}}");
    let members = format!("{list}/members");
    Router::new()
        .route(&lists, only(get(list_lists).post(create_list), "GET, POST"))
        .route(
            &list,
            only(
                get(read_list).put(update_list).delete(delete_list),
                "GET, PUT, DELETE",
            ),
        )
        .route(&members, only(get(list_members), "GET"))
        .route(
            &format!("{members}/{{{MEMBER}}}"),
            only(
                get(read_member).put(put_member).delete(delete_member),
                "GET, PUT, DELETE",
            ),
        )
}

/// The user of the URL: (as the services know it, as the request wrote it).
fn user(app: &App, ids: &PathIds) -> Result<(String, String), ApiError> {
    let raw = ids.address(USER)?;
    Ok((path_user(app, &raw)?, raw))
}

/// A list id of the URL: what the service makes or a client may choose, else 404.
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

/// A member address: `tel:`/`sip:`, canonical; else 400 SVC0004 [`field`].
fn member_address(raw: &str, field: &str) -> Result<String, ApiError> {
    match Address::parse(raw) {
        Ok(Address::Tel(s) | Address::Sip(s)) => Ok(canonical(&s)),
        _ => Err(ApiError::of("SVC0004", [field])),
    }
}

fn attributes(list: Option<AttributeList>) -> Result<Vec<pb::Attribute>, ApiError> {
    let list = list.map(|l| l.attribute).unwrap_or_default();
    if list.len() > MAX_ATTRIBUTES {
        return Err(ApiError::of("SVC0002", ["attributeList"]));
    }
    list.into_iter()
        .map(|a| {
            let name = short_text(Some(a.name), "name")?.unwrap_or_default();
            let value = short_text(Some(a.value), "value")?.unwrap_or_default();
            if name.is_empty() {
                return Err(ApiError::of("SVC0002", ["name"]));
            }
            Ok(pb::Attribute { name, value })
        })
        .collect()
}

fn attribute_list(list: Vec<pb::Attribute>) -> Option<AttributeList> {
    (!list.is_empty()).then(|| AttributeList {
        attribute: list
            .into_iter()
            .map(|a| Attribute {
                name: a.name,
                value: a.value,
            })
            .collect(),
    })
}

fn list_json(root: &str, path_user: &str, l: pb::ContactList) -> ContactList {
    ContactList {
        resource_url: Some(urls::list(root, path_user, &l.contact_list_id)),
        contact_list_id: Some(l.contact_list_id),
        display_name: l.display_name,
        attribute_list: attribute_list(l.attributes),
    }
}

fn member_json(root: &str, path_user: &str, list: &str, m: pb::Member) -> Member {
    Member {
        resource_url: Some(urls::member(root, path_user, list, &m.member_id)),
        member_id: Some(m.member_id),
        display_name: m.display_name,
        attribute_list: attribute_list(m.attributes),
    }
}

/// GET `contactLists`.
async fn list_lists(
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
        |mut c, r| async move { c.list_contact_lists(r).await },
    )
    .await
    .map_err(|s| ApiError::from_status(&s, USER))?;
    Ok(ok(&ContactListCollectionBody {
        contact_list_collection: ContactListCollection {
            contact_list: reply
                .contact_lists
                .into_iter()
                .map(|l| list_json(&state.api_root, &raw, l))
                .collect(),
            resource_url: urls::lists(&state.api_root, &raw),
        },
    }))
}

fn list_body(body: ContactList) -> Result<pb::ContactList, ApiError> {
    Ok(pb::ContactList {
        contact_list_id: body.contact_list_id.unwrap_or_default(),
        display_name: short_text(body.display_name, "displayName")?,
        attributes: attributes(body.attribute_list)?,
    })
}

/// POST `contactLists`: 201 with `Location`.
async fn create_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<ContactListBody>,
) -> Result<Response, ApiError> {
    let (user_id, raw) = user(&app, &ids)?;
    let contact_list = list_body(body.contact_list)?;
    let message = pb::CreateContactListRequest {
        user_id,
        contact_list: Some(contact_list),
    };
    let list = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.create_contact_list(r).await
    })
    .await
    .map_err(|s| ApiError::from_body_status(&s, LIST))?;
    let list = list_json(&state.api_root, &raw, list);
    created(
        &list.resource_url.clone().unwrap_or_default(),
        &ContactListBody { contact_list: list },
    )
}

fn list_ref(app: &App, ids: &PathIds) -> Result<(pb::ContactListRef, String), ApiError> {
    let (user_id, raw) = user(app, ids)?;
    Ok((
        pb::ContactListRef {
            user_id,
            contact_list_id: list_id(ids)?,
        },
        raw,
    ))
}

/// GET `contactLists/{contactListId}`.
async fn read_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, raw) = list_ref(&app, &ids)?;
    let list = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_contact_list(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    Ok(ok(&ContactListBody {
        contact_list: list_json(&state.api_root, &raw, list),
    }))
}

/// PUT `contactLists/{contactListId}`: replaces the display name and attributes.
async fn update_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    JsonBody(body): JsonBody<ContactListBody>,
) -> Result<Response, ApiError> {
    let (r, raw) = list_ref(&app, &ids)?;
    let message = pb::UpdateContactListRequest {
        user_id: r.user_id,
        contact_list_id: r.contact_list_id,
        contact_list: Some(list_body(body.contact_list)?),
    };
    let list = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.update_contact_list(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    Ok(ok(&ContactListBody {
        contact_list: list_json(&state.api_root, &raw, list),
    }))
}

/// DELETE `contactLists/{contactListId}`: 204.
async fn delete_list(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, _) = list_ref(&app, &ids)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_contact_list(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// GET `…/members`.
async fn list_members(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, raw) = list_ref(&app, &ids)?;
    let list = message.contact_list_id.clone();
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.list_members(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    Ok(ok(&MemberListBody {
        member_list: MemberList {
            member: reply
                .members
                .into_iter()
                .map(|m| member_json(&state.api_root, &raw, &list, m))
                .collect(),
            resource_url: urls::members(&state.api_root, &raw, &list),
        },
    }))
}

fn member_ref(app: &App, ids: &PathIds) -> Result<(pb::MemberRef, String), ApiError> {
    let (r, raw) = list_ref(app, ids)?;
    let member_id = member_address(&ids.address(MEMBER)?, MEMBER)?;
    Ok((
        pb::MemberRef {
            user_id: r.user_id,
            contact_list_id: r.contact_list_id,
            member_id,
        },
        raw,
    ))
}

/// A member PUT's body: none, `{}`, or `{"member": …}` (JSON when there is one).
struct OptionalMember(Option<Member>);

impl FromRequest<AppState> for OptionalMember {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let typed = is_json(request.headers());
        let bytes = read_limited(request.into_body(), state.max_body_bytes).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalMember(None));
        }
        if !typed {
            return Err(ApiError::unsupported_media_type());
        }
        let body: MemberBody = parlay_model::from_json(&bytes).map_err(ApiError::request)?;
        Ok(OptionalMember(body.member))
    }
}

/// PUT `…/members/{memberId}`: 201 with `Location` when new, else 200.
async fn put_member(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
    OptionalMember(body): OptionalMember,
) -> Result<Response, ApiError> {
    let (r, raw) = member_ref(&app, &ids)?;
    let body = body.unwrap_or_default();
    // A body id that is no address cannot be the URL's: the key property changed.
    let body_id = match body.member_id {
        Some(id) => member_address(&id, MEMBER).unwrap_or(id),
        None => String::new(),
    };
    let member = pb::Member {
        member_id: body_id,
        display_name: short_text(body.display_name, "displayName")?,
        attributes: attributes(body.attribute_list)?,
    };
    let list = r.contact_list_id.clone();
    let message = pb::PutMemberRequest {
        user_id: r.user_id,
        contact_list_id: r.contact_list_id,
        member_id: r.member_id,
        member: Some(member),
    };
    let reply = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.put_member(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, LIST))?;
    let member = reply
        .member
        .ok_or_else(|| ApiError::internal("PutMember", "answered without a member"))?;
    let member = member_json(&state.api_root, &raw, &list, member);
    let body = MemberBody {
        member: Some(member.clone()),
    };
    if reply.created {
        created(&member.resource_url.unwrap_or_default(), &body)
    } else {
        Ok(ok(&body))
    }
}

/// GET `…/members/{memberId}`.
async fn read_member(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, raw) = member_ref(&app, &ids)?;
    let list = message.contact_list_id.clone();
    let member = upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.get_member(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, MEMBER))?;
    Ok(ok(&MemberBody {
        member: Some(member_json(&state.api_root, &raw, &list, member)),
    }))
}

/// DELETE `…/members/{memberId}`: 204.
async fn delete_member(
    State(state): State<AppState>,
    Caller(app): Caller,
    ids: PathIds,
) -> Result<Response, ApiError> {
    let (message, _) = member_ref(&app, &ids)?;
    upstream::call(&state, &app, service, message, |mut c, r| async move {
        c.delete_member(r).await
    })
    .await
    .map_err(|s| ApiError::from_status(&s, MEMBER))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
