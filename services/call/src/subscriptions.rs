//! Call Notification subscriptions: call events, call direction, and media-interaction
//! results (recording, collection). Each belongs to the application that made it; a
//! subscription past its lifetime matches nothing and is later deleted.
//!
//! Call-event and call-direction subscriptions are found by address through
//! `call_subscription_addresses` (one row per watched address, lower-cased).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use parlay_kit::{Config, grpc, ids::new_id, wire};
use parlay_model::Address;
use parlay_proto::{
    call::v1::{self as pb, call_notification_server::CallNotification},
    common::v1::Callback,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};

use crate::{
    core::Core,
    domain::{Action, Event},
    grpc::{db, is_unique_violation, traced},
    store::{
        self,
        entities::{subscription, watched},
    },
};

/// The four kinds, with their URL segment (also their stored name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    CallEvent,
    CallDirection,
    Recording,
    Collection,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CallEvent => "callEvent",
            Kind::CallDirection => "callDirection",
            Kind::Recording => "recording",
            Kind::Collection => "collection",
        }
    }

    fn from_pb(kind: i32) -> Result<Kind, Status> {
        Ok(match pb::SubscriptionKind::try_from(kind) {
            Ok(pb::SubscriptionKind::CallEvent) => Kind::CallEvent,
            Ok(pb::SubscriptionKind::CallDirection) => Kind::CallDirection,
            Ok(pb::SubscriptionKind::Recording) => Kind::Recording,
            Ok(pb::SubscriptionKind::Collection) => Kind::Collection,
            _ => return Err(Status::invalid_argument("subscription kind missing")),
        })
    }

    fn to_pb(self) -> pb::SubscriptionKind {
        match self {
            Kind::CallEvent => pb::SubscriptionKind::CallEvent,
            Kind::CallDirection => pb::SubscriptionKind::CallDirection,
            Kind::Recording => pb::SubscriptionKind::Recording,
            Kind::Collection => pb::SubscriptionKind::Collection,
        }
    }

    fn watches_calls(self) -> bool {
        matches!(self, Kind::CallEvent | Kind::CallDirection)
    }

    /// The events a subscription of this kind may ask for; also what no criteria means.
    fn supported(self) -> &'static [Event] {
        match self {
            Kind::CallEvent => &[
                Event::CalledNumber,
                Event::Answer,
                Event::Busy,
                Event::NotReachable,
                Event::NoAnswer,
                Event::Disconnected,
            ],
            Kind::CallDirection => &[
                Event::CalledNumber,
                Event::Busy,
                Event::NotReachable,
                Event::NoAnswer,
            ],
            Kind::Recording | Kind::Collection => &[],
        }
    }

    /// The `rel` of notification links to a subscription of this kind.
    pub fn link_rel(self) -> &'static str {
        match self {
            Kind::CallEvent => "CallEventSubscription",
            Kind::CallDirection => "CallDirectionSubscription",
            Kind::Recording => "PlayAndRecordInteractionSubscription",
            Kind::Collection => "PlayAndCollectInteractionSubscription",
        }
    }
}

/// A subscription's absolute URL.
pub fn url(config: &Config, kind: Kind, id: &str) -> String {
    format!(
        "{}/callnotification/subscriptions/{}/{id}",
        config.api_root(),
        kind.as_str()
    )
}

pub fn event_name(event: Event) -> &'static str {
    match event {
        Event::CalledNumber => "CalledNumber",
        Event::Answer => "Answer",
        Event::Busy => "Busy",
        Event::NotReachable => "NotReachable",
        Event::NoAnswer => "NoAnswer",
        Event::Disconnected => "Disconnected",
    }
}

fn event_from_pb(kind: i32) -> Option<Event> {
    Some(match pb::CallEventKind::try_from(kind).ok()? {
        pb::CallEventKind::CalledNumber => Event::CalledNumber,
        pb::CallEventKind::Answer => Event::Answer,
        pb::CallEventKind::Busy => Event::Busy,
        pb::CallEventKind::NotReachable => Event::NotReachable,
        pb::CallEventKind::NoAnswer => Event::NoAnswer,
        pb::CallEventKind::Disconnected => Event::Disconnected,
        pb::CallEventKind::Unspecified => return None,
    })
}

fn event_to_pb(event: Event) -> pb::CallEventKind {
    match event {
        Event::CalledNumber => pb::CallEventKind::CalledNumber,
        Event::Answer => pb::CallEventKind::Answer,
        Event::Busy => pb::CallEventKind::Busy,
        Event::NotReachable => pb::CallEventKind::NotReachable,
        Event::NoAnswer => pb::CallEventKind::NoAnswer,
        Event::Disconnected => pb::CallEventKind::Disconnected,
    }
}

fn criteria_of(model: &subscription::Model) -> Vec<Event> {
    model
        .criteria
        .split(',')
        .filter_map(|name| {
            Kind::CallEvent
                .supported()
                .iter()
                .copied()
                .find(|e| event_name(*e) == name)
        })
        .collect()
}

fn addresses_of(model: &subscription::Model) -> Vec<String> {
    serde_json::from_str(&model.addresses).unwrap_or_default()
}

pub fn kind_of(model: &subscription::Model) -> Option<Kind> {
    [
        Kind::CallEvent,
        Kind::CallDirection,
        Kind::Recording,
        Kind::Collection,
    ]
    .into_iter()
    .find(|k| k.as_str() == model.kind)
}

/// The default action of a call-direction subscription.
pub fn default_action(model: &subscription::Model) -> Action {
    if model.default_action == "EndCall" {
        Action::EndCall
    } else {
        Action::Continue
    }
}

/// Live subscriptions of `kinds` that watch this call for `event`: the called party's
/// address for `Called` ones, the calling party's for `Calling` ones. Oldest first.
pub async fn matching<C: ConnectionTrait>(
    db: &C,
    kinds: &[Kind],
    calling: &str,
    called: &str,
    event: Event,
    now: DateTime<Utc>,
) -> Result<Vec<subscription::Model>, DbErr> {
    let found = watching(kinds, calling, called, now).all(db).await?;
    Ok(matching_of(found, calling, called, event))
}

/// The live subscriptions of `kinds` that watch `calling` or `called`, oldest first: what
/// [`matching`] reads, in one statement (this is on the path of every call event), before
/// [`matching_of`] keeps those that match.
pub fn watching(
    kinds: &[Kind],
    calling: &str,
    called: &str,
    now: DateTime<Utc>,
) -> sea_orm::Select<subscription::Entity> {
    let watching = sea_orm::sea_query::Query::select()
        .column(watched::Column::SubscriptionId)
        .from(watched::Entity)
        .and_where(
            watched::Column::Address
                .is_in([calling.to_ascii_lowercase(), called.to_ascii_lowercase()]),
        )
        .and_where(watched::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())))
        .to_owned();
    subscription::Entity::find()
        .filter(subscription::Column::Id.in_subquery(watching))
        .filter(subscription::Column::ExpiresAt.gt(now))
        .order_by_asc(subscription::Column::CreatedAt)
        .order_by_asc(subscription::Column::Id)
}

/// Of the subscriptions [`watching`] found, those for `event` whose address is the party
/// their direction names.
pub fn matching_of(
    found: Vec<subscription::Model>,
    calling: &str,
    called: &str,
    event: Event,
) -> Vec<subscription::Model> {
    found
        .into_iter()
        .filter(|s| {
            let party = if s.address_direction == "Calling" {
                calling
            } else {
                called
            };
            addresses_of(s)
                .iter()
                .any(|a| a.eq_ignore_ascii_case(party))
                && criteria_of(s).contains(&event)
        })
        .collect()
}

/// Live media-interaction subscriptions of `app` of `kind` for `session_id` (or for every
/// session).
pub async fn media_targets<C: ConnectionTrait>(
    db: &C,
    app: &str,
    kind: Kind,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<subscription::Model>, DbErr> {
    let found = subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::Kind.eq(kind.as_str()))
        .filter(subscription::Column::ExpiresAt.gt(now))
        .order_by_asc(subscription::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .filter(|s| s.call_session_id.as_deref().is_none_or(|c| c == session_id))
        .collect())
}

/// Deletes subscriptions whose lifetime ended before `cutoff`.
pub async fn purge_expired<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ids: Vec<String> = subscription::Entity::find()
        .select_only()
        .column(subscription::Column::Id)
        .filter(subscription::Column::ExpiresAt.lt(cutoff))
        .into_tuple()
        .all(db)
        .await?;
    delete_ids(db, ids).await
}

/// Deletes subscriptions `ids` and the addresses they watch; returns how many went.
async fn delete_ids<C: ConnectionTrait>(db: &C, ids: Vec<String>) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    watched::Entity::delete_many()
        .filter(watched::Column::SubscriptionId.is_in(ids.clone()))
        .exec(db)
        .await?;
    let done = subscription::Entity::delete_many()
        .filter(subscription::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// The `CallNotification` gRPC service.
pub struct NotificationGrpc {
    pub core: Arc<Core>,
}

type Reply<T> = Result<Response<T>, Status>;

/// A create request, checked and normalised.
struct Checked {
    kind: Kind,
    addresses: Vec<String>,
    criteria: Vec<Event>,
    direction: &'static str,
    default_action: &'static str,
    response_timeout_ms: i64,
    duration_secs: i64,
    call_session_id: Option<String>,
    callback: Callback,
}

impl NotificationGrpc {
    fn check(&self, sub: &pb::Subscription) -> Result<Checked, Status> {
        let config = &self.core.config.call;
        let kind = Kind::from_pb(sub.kind)?;
        let callback = sub
            .callback
            .clone()
            .filter(|c| !c.notify_url.is_empty())
            .ok_or_else(|| grpc::exception("SVC0002", ["callbackReference"]))?;
        let mut addresses = Vec::new();
        let mut criteria = Vec::new();
        if kind.watches_calls() {
            if sub.addresses.is_empty() {
                return Err(grpc::exception("SVC0002", ["address"]));
            }
            for raw in &sub.addresses {
                let parsed =
                    Address::parse(raw).map_err(|_| grpc::exception("SVC0004", [raw.clone()]))?;
                let a = parsed.as_str().to_string();
                if !addresses
                    .iter()
                    .any(|x: &String| x.eq_ignore_ascii_case(&a))
                {
                    addresses.push(a);
                }
            }
            for c in &sub.criteria {
                let event = event_from_pb(*c)
                    .filter(|e| kind.supported().contains(e))
                    .ok_or_else(|| grpc::exception("SVC0002", ["criteria"]))?;
                if !criteria.contains(&event) {
                    criteria.push(event);
                }
            }
            if criteria.is_empty() {
                criteria = kind.supported().to_vec();
            }
        }
        let direction = match pb::AddressDirection::try_from(sub.address_direction) {
            Ok(pb::AddressDirection::Calling) => "Calling",
            _ => "Called",
        };
        let default_action = match pb::DefaultAction::try_from(sub.default_action) {
            Ok(pb::DefaultAction::EndCall) => "EndCall",
            _ => "Continue",
        };
        let response_timeout_ms = match sub.response_timeout_ms {
            None | Some(0) => config.decision_timeout_ms,
            Some(ms) if u64::from(ms) <= config.max_decision_timeout_ms => u64::from(ms),
            Some(_) => return Err(grpc::exception("SVC0002", ["responseTimeout"])),
        };
        let max = config.max_subscription_secs;
        let duration_secs = match sub.duration_secs {
            None | Some(0) => max,
            Some(d) => u64::from(d).min(max),
        };
        let call_session_id = match kind {
            Kind::Recording | Kind::Collection => sub.call_session_id.clone(),
            _ => None,
        };
        Ok(Checked {
            kind,
            addresses,
            criteria,
            direction,
            default_action,
            response_timeout_ms: response_timeout_ms as i64,
            duration_secs: duration_secs as i64,
            call_session_id,
            callback,
        })
    }

    async fn create(
        &self,
        app: String,
        req: pb::CreateSubscriptionRequest,
    ) -> Result<pb::CreateSubscriptionResponse, Status> {
        let sub = req
            .subscription
            .ok_or_else(|| Status::invalid_argument("subscription missing"))?;
        let c = self.check(&sub)?;
        let hash = request_hash(&c, sub.duration_secs);
        let replay = |existing: subscription::Model| {
            if existing.request_hash == hash {
                Ok(pb::CreateSubscriptionResponse {
                    subscription: Some(to_pb(&existing)),
                    created: false,
                })
            } else {
                let value = existing.client_correlator.unwrap_or_default();
                Err(grpc::exception(
                    "SVC0005",
                    [value, "clientCorrelator".into()],
                ))
            }
        };
        let db_ = &self.core.db;
        let now = Utc::now();
        if let Some(correlator) = &sub.client_correlator
            && let Some(existing) = by_correlator(db_, &app, correlator).await?
        {
            if existing.expires_at > now {
                return replay(existing);
            }
            // An expired subscription keeps its correlator only until the janitor runs.
            delete(db_, &existing.id).await.map_err(db)?;
        }
        if let Some(session_id) = &c.call_session_id
            && store::load(db_, session_id, Some(&app))
                .await
                .map_err(db)?
                .is_none()
        {
            return Err(grpc::exception("SVC0002", ["callSessionIdentifier"]));
        }
        let model = subscription::Model {
            id: new_id("sb"),
            app_id: app.clone(),
            kind: c.kind.as_str().into(),
            notify_url: c.callback.notify_url.clone(),
            callback_data: c.callback.callback_data.clone(),
            client_correlator: sub.client_correlator.clone(),
            request_hash: hash.clone(),
            addresses: serde_json::to_string(&c.addresses).unwrap_or_else(|_| "[]".into()),
            criteria: c
                .criteria
                .iter()
                .map(|e| event_name(*e))
                .collect::<Vec<_>>()
                .join(","),
            address_direction: c.direction.into(),
            call_session_id: c.call_session_id.clone(),
            default_action: c.default_action.into(),
            response_timeout_ms: c.response_timeout_ms,
            duration_secs: c.duration_secs,
            expires_at: now + chrono::Duration::seconds(c.duration_secs),
            created_at: now,
        };
        match insert(db_, &model, &c, now).await {
            Ok(Some(shared)) => Err(grpc::exception("SVC0008", [event_name(shared)])),
            Ok(None) => Ok(pb::CreateSubscriptionResponse {
                subscription: Some(to_pb(&model)),
                created: true,
            }),
            Err(e) if is_unique_violation(&e) => {
                let correlator = sub.client_correlator.as_deref().unwrap_or_default();
                match by_correlator(db_, &app, correlator).await? {
                    Some(existing) => replay(existing),
                    None => Err(db(e)),
                }
            }
            Err(e) => Err(db(e)),
        }
    }

    async fn find(
        &self,
        app: &str,
        r: &pb::SubscriptionRef,
    ) -> Result<subscription::Model, Status> {
        let kind = Kind::from_pb(r.kind)?;
        subscription::Entity::find_by_id(r.subscription_id.clone())
            .filter(subscription::Column::AppId.eq(app))
            .filter(subscription::Column::Kind.eq(kind.as_str()))
            .filter(subscription::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.core.db)
            .await
            .map_err(db)?
            .ok_or_else(|| grpc::not_found("subscriptionId"))
    }
}

async fn by_correlator<C: ConnectionTrait>(
    db_: &C,
    app: &str,
    correlator: &str,
) -> Result<Option<subscription::Model>, Status> {
    subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::ClientCorrelator.eq(correlator))
        .one(db_)
        .await
        .map_err(db)
}

/// The first criterion a live subscription of the same application, kind and direction
/// shares with `c` on a shared address.
async fn overlap<C: ConnectionTrait>(
    db_: &C,
    app: &str,
    c: &Checked,
    now: DateTime<Utc>,
) -> Result<Option<Event>, DbErr> {
    let mine = subscription::Entity::find()
        .filter(subscription::Column::AppId.eq(app))
        .filter(subscription::Column::Kind.eq(c.kind.as_str()))
        .filter(subscription::Column::AddressDirection.eq(c.direction))
        .filter(subscription::Column::ExpiresAt.gt(now))
        .all(db_)
        .await?;
    Ok(mine
        .iter()
        .filter(|s| {
            addresses_of(s)
                .iter()
                .any(|a| c.addresses.iter().any(|b| a.eq_ignore_ascii_case(b)))
        })
        .find_map(|s| {
            let theirs = criteria_of(s);
            c.criteria.iter().copied().find(|e| theirs.contains(e))
        }))
}

/// Stores the subscription unless it overlaps one of the application's (then returns the
/// shared criterion). The check and the insert are one write transaction, serialised per
/// application (SQLite: the write lock; PostgreSQL: an advisory lock on the application),
/// so two concurrent requests cannot both pass it.
async fn insert(
    db_: &sea_orm::DatabaseConnection,
    model: &subscription::Model,
    c: &Checked,
    now: DateTime<Utc>,
) -> Result<Option<Event>, DbErr> {
    let txn = parlay_kit::db::begin_write(db_).await?;
    if c.kind.watches_calls() {
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                [format!("call-subscriptions:{}", model.app_id).into()],
            ))
            .await?;
        }
        if let Some(shared) = overlap(&txn, &model.app_id, c, now).await? {
            txn.rollback().await?;
            return Ok(Some(shared));
        }
    }
    subscription::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    let mut watched_rows: Vec<watched::ActiveModel> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for a in &c.addresses {
        let lower = a.to_ascii_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        seen.push(lower.clone());
        watched_rows.push(
            watched::Model {
                subscription_id: model.id.clone(),
                address: lower,
                kind: model.kind.clone(),
            }
            .into_active_model(),
        );
    }
    if !watched_rows.is_empty() {
        watched::Entity::insert_many(watched_rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(None)
}

/// Deletes a subscription and the addresses it watches.
async fn delete(db_: &sea_orm::DatabaseConnection, id: &str) -> Result<(), DbErr> {
    let txn = parlay_kit::db::begin_write(db_).await?;
    delete_ids(&txn, vec![id.to_string()]).await?;
    txn.commit().await
}

/// What makes two creation requests "the same" for clientCorrelator purposes.
fn request_hash(c: &Checked, requested_duration: Option<u32>) -> String {
    let mut h = Sha256::new();
    let mut part = |s: &str| {
        h.update(s.as_bytes());
        h.update([0]);
    };
    part(c.kind.as_str());
    for a in &c.addresses {
        part(a);
    }
    part("|");
    for e in &c.criteria {
        part(event_name(*e));
    }
    part(c.direction);
    part(c.default_action);
    part(&c.response_timeout_ms.to_string());
    part(&requested_duration.unwrap_or(0).to_string());
    part(c.call_session_id.as_deref().unwrap_or(""));
    part(&c.callback.notify_url);
    part(c.callback.callback_data.as_deref().unwrap_or(""));
    hex::encode(h.finalize())
}

pub fn to_pb(model: &subscription::Model) -> pb::Subscription {
    let kind = kind_of(model).unwrap_or(Kind::CallEvent);
    let calls = kind.watches_calls();
    pb::Subscription {
        id: model.id.clone(),
        kind: kind.to_pb() as i32,
        callback: Some(Callback {
            notify_url: model.notify_url.clone(),
            callback_data: model.callback_data.clone(),
        }),
        addresses: if calls {
            addresses_of(model)
        } else {
            Vec::new()
        },
        criteria: if calls {
            criteria_of(model)
                .into_iter()
                .map(|e| event_to_pb(e) as i32)
                .collect()
        } else {
            Vec::new()
        },
        address_direction: if !calls {
            pb::AddressDirection::Unspecified
        } else if model.address_direction == "Calling" {
            pb::AddressDirection::Calling
        } else {
            pb::AddressDirection::Called
        } as i32,
        client_correlator: model.client_correlator.clone(),
        duration_secs: Some(u32::try_from(model.duration_secs).unwrap_or(u32::MAX)),
        expires_at: Some(wire::timestamp(model.expires_at)),
        call_session_id: model.call_session_id.clone(),
        default_action: if kind != Kind::CallDirection {
            pb::DefaultAction::Unspecified
        } else if model.default_action == "EndCall" {
            pb::DefaultAction::EndCall
        } else {
            pb::DefaultAction::Continue
        } as i32,
        response_timeout_ms: (kind == Kind::CallDirection)
            .then(|| u32::try_from(model.response_timeout_ms).unwrap_or(u32::MAX)),
    }
}

#[tonic::async_trait]
impl CallNotification for NotificationGrpc {
    async fn create_subscription(
        &self,
        request: Request<pb::CreateSubscriptionRequest>,
    ) -> Reply<pb::CreateSubscriptionResponse> {
        let app = grpc::app_id(&request)?;
        traced("CreateSubscription", &request, async {
            self.create(app, request.get_ref().clone())
                .await
                .map(Response::new)
        })
        .await
    }

    async fn get_subscription(
        &self,
        request: Request<pb::SubscriptionRef>,
    ) -> Reply<pb::Subscription> {
        let app = grpc::app_id(&request)?;
        let found = self.find(&app, request.get_ref()).await?;
        Ok(Response::new(to_pb(&found)))
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> Reply<pb::SubscriptionList> {
        let app = grpc::app_id(&request)?;
        let kind = Kind::from_pb(request.get_ref().kind)?;
        let found = subscription::Entity::find()
            .filter(subscription::Column::AppId.eq(app))
            .filter(subscription::Column::Kind.eq(kind.as_str()))
            .filter(subscription::Column::ExpiresAt.gt(Utc::now()))
            .order_by_asc(subscription::Column::CreatedAt)
            .order_by_asc(subscription::Column::Id)
            .all(&self.core.db)
            .await
            .map_err(db)?;
        Ok(Response::new(pb::SubscriptionList {
            subscriptions: found.iter().map(to_pb).collect(),
        }))
    }

    async fn delete_subscription(
        &self,
        request: Request<pb::SubscriptionRef>,
    ) -> Reply<pb::DeleteResponse> {
        let app = grpc::app_id(&request)?;
        traced("DeleteSubscription", &request, async {
            let found = self.find(&app, request.get_ref()).await?;
            delete(&self.core.db, &found.id).await.map_err(db)?;
            Ok(Response::new(pb::DeleteResponse {}))
        })
        .await
    }

    async fn get_recording(&self, request: Request<pb::RecordingRef>) -> Reply<pb::RecordingMedia> {
        let app = grpc::app_id(&request)?;
        crate::media::recording(&self.core, &app, &request.get_ref().recording_id)
            .await
            .map(Response::new)
    }
}
