//! The `ThirdPartyCall` gRPC service: decode, call the core, encode. Every operation is
//! scoped by the calling application: another application's session is "not found".

use std::sync::Arc;

use chrono::Utc;
use parlay_kit::{grpc, ids::new_id};
use parlay_model::Address;
use parlay_proto::call::v1::{self as pb, third_party_call_server::ThirdPartyCall};
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::{
    convert,
    core::{Changed, Core, CoreError},
    domain::{DomainError, Participant, Session},
    store::{self, Stored, entities::session},
};

pub struct CallGrpc {
    pub core: Arc<Core>,
}

type Reply<T> = Result<Response<T>, Status>;

/// Runs a handler inside a span joined to the caller's trace.
pub(crate) async fn traced<T, F>(name: &'static str, request: &Request<T>, f: F) -> F::Output
where
    F: std::future::Future,
{
    let span = tracing::info_span!("call.grpc", method = name);
    grpc::adopt_trace(request, &span);
    f.instrument(span).await
}

fn address(spec: &pb::ParticipantSpec) -> Result<String, Status> {
    Address::parse(&spec.address)
        .map(|a| a.as_str().to_string())
        .map_err(|_| grpc::exception("SVC0004", ["participantAddress"]))
}

/// What makes two creation requests "the same" for clientCorrelator purposes.
fn request_hash(req: &pb::CreateCallSessionRequest) -> String {
    let mut h = Sha256::new();
    for p in &req.participants {
        h.update(p.address.as_bytes());
        h.update([0]);
        h.update(p.name.as_deref().unwrap_or("").as_bytes());
        h.update([1]);
    }
    if let Some(cb) = &req.callback {
        h.update(cb.notify_url.as_bytes());
        h.update([2]);
        h.update(cb.callback_data.as_deref().unwrap_or("").as_bytes());
    }
    hex::encode(h.finalize())
}

impl CallGrpc {
    async fn create(
        &self,
        app: String,
        req: pb::CreateCallSessionRequest,
    ) -> Result<pb::CreateCallSessionResponse, Status> {
        if req.participants.is_empty() {
            return Err(grpc::exception("SVC0004", ["participant"]));
        }
        if req.participants.len() > self.core.config.call.max_participants {
            return Err(grpc::exception("POL0003", ["participant"]));
        }
        let addresses = req
            .participants
            .iter()
            .map(address)
            .collect::<Result<Vec<_>, _>>()?;
        let mut distinct: Vec<String> = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() != addresses.len() {
            return Err(grpc::exception("POL0013", ["participantAddress"]));
        }
        let hash = request_hash(&req);
        let replay = |existing: Stored| {
            if existing.row.request_hash == hash {
                Ok(pb::CreateCallSessionResponse {
                    session: Some(convert::session(&existing)),
                    created: false,
                })
            } else {
                let c = existing.row.client_correlator.unwrap_or_default();
                Err(grpc::exception("SVC0005", [c, "clientCorrelator".into()]))
            }
        };
        if let Some(c) = &req.client_correlator
            && let Some(existing) = store::by_correlator(&self.core.db, &app, c)
                .await
                .map_err(db)?
        {
            return replay(existing);
        }
        let id = new_id("cs");
        let participants = req
            .participants
            .iter()
            .zip(addresses)
            .map(|(spec, address)| Participant::new(new_id("pa"), address, spec.name.clone()))
            .collect();
        let row = session::Model {
            id: id.clone(),
            app_id: app.clone(),
            client_correlator: req.client_correlator.clone(),
            request_hash: hash.clone(),
            notify_url: req.callback.as_ref().map(|c| c.notify_url.clone()),
            callback_data: req.callback.as_ref().and_then(|c| c.callback_data.clone()),
            terminated: false,
            version: 0,
            created_at: Utc::now(),
            ended_at: None,
            network_call_id: None,
            decision: None,
            decision_deadline: None,
        };
        match self.core.create(row, Session::new(id, participants)).await {
            Ok(stored) => Ok(pb::CreateCallSessionResponse {
                session: Some(convert::session(&stored)),
                created: true,
            }),
            // A concurrent request with the same correlator won the race: answer as a retry.
            Err(e) if is_unique_violation(&e) => {
                let c = req.client_correlator.as_deref().unwrap_or_default();
                match store::by_correlator(&self.core.db, &app, c)
                    .await
                    .map_err(db)?
                {
                    Some(existing) => replay(existing),
                    None => Err(db(e)),
                }
            }
            Err(e) => Err(db(e)),
        }
    }

    async fn load(&self, app: &str, id: &str) -> Result<Stored, Status> {
        store::load(&self.core.db, id, Some(app))
            .await
            .map_err(db)?
            .ok_or_else(|| grpc::not_found("callSessionId"))
    }

    async fn change<F>(&self, app: &str, id: &str, f: F) -> Result<Stored, Status>
    where
        F: Fn(&mut Session) -> Result<Vec<crate::domain::Effect>, crate::domain::DomainError>
            + Send
            + Sync
            + 'static,
    {
        match self.core.mutate(id, Some(app), None, f).await {
            Ok(Changed::Session(s)) => Ok(*s),
            Ok(Changed::Missing | Changed::Duplicate) => Err(grpc::not_found("callSessionId")),
            Err(e) => Err(convert::status(e, id)),
        }
    }

    /// Adds a participant. Correlator replay, duplicate address and the participant limit
    /// are checked by the domain inside the same transaction as the change, so concurrent
    /// retries cannot call anyone twice.
    async fn add(
        &self,
        app: String,
        req: pb::AddParticipantRequest,
    ) -> Result<pb::AddParticipantResponse, Status> {
        let spec = req.participant.unwrap_or_default();
        let mut participant = Participant::new(new_id("pa"), address(&spec)?, spec.name);
        participant.client_correlator = req.client_correlator.clone();
        let id = req.call_session_id;
        let max = self.core.config.call.max_participants;
        let added = self
            .core
            .mutate(&id, Some(&app), None, {
                let participant = participant.clone();
                move |s| s.add(participant.clone(), max, Utc::now())
            })
            .await;
        let (stored, pid, created) = match added {
            Ok(Changed::Session(stored)) => (*stored, participant.id.clone(), true),
            Ok(Changed::Missing | Changed::Duplicate) => {
                return Err(grpc::not_found("callSessionId"));
            }
            Err(CoreError::Domain(DomainError::Replay(earlier))) => {
                (self.load(&app, &id).await?, earlier, false)
            }
            Err(e) => return Err(convert::status(e, &id)),
        };
        let p = stored
            .session
            .participant(&pid)
            .ok_or_else(|| grpc::not_found("participantId"))?;
        Ok(pb::AddParticipantResponse {
            participant: Some(convert::participant(p)),
            created,
        })
    }
}

pub(crate) fn db(e: sea_orm::DbErr) -> Status {
    grpc::internal("call store failed", &e)
}

pub(crate) fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[tonic::async_trait]
impl ThirdPartyCall for CallGrpc {
    async fn create_call_session(
        &self,
        request: Request<pb::CreateCallSessionRequest>,
    ) -> Reply<pb::CreateCallSessionResponse> {
        let app = grpc::app_id(&request)?;
        traced("CreateCallSession", &request, async {
            self.create(app, request.get_ref().clone())
                .await
                .map(Response::new)
        })
        .await
    }

    async fn get_call_session(
        &self,
        request: Request<pb::CallSessionRef>,
    ) -> Reply<pb::CallSession> {
        let app = grpc::app_id(&request)?;
        let stored = self.load(&app, &request.get_ref().call_session_id).await?;
        Ok(Response::new(convert::session(&stored)))
    }

    async fn delete_call_session(
        &self,
        request: Request<pb::CallSessionRef>,
    ) -> Reply<pb::DeleteResponse> {
        let app = grpc::app_id(&request)?;
        let id = request.get_ref().call_session_id.clone();
        traced("DeleteCallSession", &request, async {
            self.change(&app, &id, |s| s.end(Utc::now())).await?;
            Ok(Response::new(pb::DeleteResponse {}))
        })
        .await
    }

    async fn list_participants(
        &self,
        request: Request<pb::CallSessionRef>,
    ) -> Reply<pb::ParticipantList> {
        let app = grpc::app_id(&request)?;
        let stored = self.load(&app, &request.get_ref().call_session_id).await?;
        Ok(Response::new(pb::ParticipantList {
            participants: stored
                .session
                .participants
                .iter()
                .map(convert::participant)
                .collect(),
        }))
    }

    async fn add_participant(
        &self,
        request: Request<pb::AddParticipantRequest>,
    ) -> Reply<pb::AddParticipantResponse> {
        let app = grpc::app_id(&request)?;
        traced("AddParticipant", &request, async {
            self.add(app, request.get_ref().clone())
                .await
                .map(Response::new)
        })
        .await
    }

    async fn get_participant(
        &self,
        request: Request<pb::ParticipantRef>,
    ) -> Reply<pb::Participant> {
        let app = grpc::app_id(&request)?;
        let r = request.get_ref();
        let stored = self.load(&app, &r.call_session_id).await?;
        let p = stored
            .session
            .participant(&r.participant_id)
            .ok_or_else(|| grpc::not_found("participantId"))?;
        Ok(Response::new(convert::participant(p)))
    }

    async fn delete_participant(
        &self,
        request: Request<pb::ParticipantRef>,
    ) -> Reply<pb::DeleteResponse> {
        let app = grpc::app_id(&request)?;
        let r = request.get_ref().clone();
        traced("DeleteParticipant", &request, async {
            let participant_id = r.participant_id.clone();
            self.change(&app, &r.call_session_id, move |s| {
                s.remove(&participant_id, Utc::now())
            })
            .await?;
            Ok(Response::new(pb::DeleteResponse {}))
        })
        .await
    }
}
