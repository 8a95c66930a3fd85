//! A fake call service on a local port, answering by session id so each test can steer it.
//!
//! * `cs7f31`: exists, with participants `pt1` (Alice) and `pt2` (Bob);
//! * `csgone`: not found; `csended`: SVC0261 on changes; `csslow`: answers after 3 s;
//!   `csbroken`: an internal error with a message that must not leak.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use parlay_kit::grpc;
use parlay_proto::call::v1::{
    AddParticipantRequest, AddParticipantResponse, CallSession, CallSessionRef,
    CreateCallSessionRequest, CreateCallSessionResponse, DeleteResponse, Participant,
    ParticipantList, ParticipantRef, ParticipantStatus,
    third_party_call_server::{ThirdPartyCall, ThirdPartyCallServer},
};
use tonic::{Request, Response, Status, transport::server::TcpIncoming};

pub const ALICE: &str = "tel:+15551230001";
pub const BOB: &str = "tel:+15551230002";

/// What the fake saw: the application id of each call, and the create messages.
#[derive(Clone, Default)]
pub struct FakeCall {
    pub apps: Arc<Mutex<Vec<String>>>,
    pub creates: Arc<Mutex<Vec<CreateCallSessionRequest>>>,
}

impl FakeCall {
    /// Serves a fake on a free port; returns its URL and the fake.
    pub async fn spawn() -> (String, FakeCall) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeCall::default();
        let server = tonic::transport::Server::builder()
            .add_service(ThirdPartyCallServer::new(fake.clone()))
            .serve_with_incoming(TcpIncoming::from(listener));
        tokio::spawn(server);
        (url, fake)
    }

    fn seen<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let app = grpc::app_id(request)?;
        self.apps.lock().unwrap().push(app);
        Ok(())
    }
}

fn participant(id: &str, address: &str) -> Participant {
    Participant {
        id: id.into(),
        address: address.into(),
        status: ParticipantStatus::Initial as i32,
        ..Default::default()
    }
}

async fn session(id: &str) -> Result<CallSession, Status> {
    match id {
        "cs7f31" | "csended" => Ok(CallSession {
            id: id.into(),
            client_correlator: Some("c2c-000117".into()),
            participants: vec![participant("pt1", ALICE), participant("pt2", BOB)],
            ..Default::default()
        }),
        "csslow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Err(grpc::not_found("callSessionId"))
        }
        "csbroken" => Err(Status::internal("disk /var/secret is full")),
        _ => Err(grpc::not_found("callSessionId")),
    }
}

#[tonic::async_trait]
impl ThirdPartyCall for FakeCall {
    async fn create_call_session(
        &self,
        request: Request<CreateCallSessionRequest>,
    ) -> Result<Response<CreateCallSessionResponse>, Status> {
        self.seen(&request)?;
        let message = request.into_inner();
        self.creates.lock().unwrap().push(message.clone());
        let participants = message
            .participants
            .iter()
            .enumerate()
            .map(|(i, p)| Participant {
                name: p.name.clone(),
                ..participant(&format!("pt{}", i + 1), &p.address)
            })
            .collect();
        Ok(Response::new(CreateCallSessionResponse {
            created: message.client_correlator.as_deref() != Some("again"),
            session: Some(CallSession {
                id: "cs7f31".into(),
                client_correlator: message.client_correlator,
                participants,
                ..Default::default()
            }),
        }))
    }

    async fn get_call_session(
        &self,
        request: Request<CallSessionRef>,
    ) -> Result<Response<CallSession>, Status> {
        self.seen(&request)?;
        session(&request.into_inner().call_session_id)
            .await
            .map(Response::new)
    }

    async fn delete_call_session(
        &self,
        request: Request<CallSessionRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.seen(&request)?;
        session(&request.into_inner().call_session_id).await?;
        Ok(Response::new(DeleteResponse {}))
    }

    async fn list_participants(
        &self,
        request: Request<CallSessionRef>,
    ) -> Result<Response<ParticipantList>, Status> {
        self.seen(&request)?;
        let s = session(&request.into_inner().call_session_id).await?;
        Ok(Response::new(ParticipantList {
            participants: s.participants,
        }))
    }

    async fn add_participant(
        &self,
        request: Request<AddParticipantRequest>,
    ) -> Result<Response<AddParticipantResponse>, Status> {
        self.seen(&request)?;
        let message = request.into_inner();
        let s = session(&message.call_session_id).await?;
        if s.id == "csended" {
            return Err(grpc::exception("SVC0261", [s.id]));
        }
        let spec = message.participant.unwrap_or_default();
        Ok(Response::new(AddParticipantResponse {
            participant: Some(Participant {
                name: spec.name,
                client_correlator: message.client_correlator,
                ..participant("pt3", &spec.address)
            }),
            created: true,
        }))
    }

    async fn get_participant(
        &self,
        request: Request<ParticipantRef>,
    ) -> Result<Response<Participant>, Status> {
        self.seen(&request)?;
        let r = request.into_inner();
        let s = session(&r.call_session_id).await?;
        s.participants
            .into_iter()
            .find(|p| p.id == r.participant_id)
            .map(Response::new)
            .ok_or_else(|| grpc::not_found("participantId"))
    }

    async fn delete_participant(
        &self,
        request: Request<ParticipantRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let r = self.get_participant(request).await?;
        drop(r);
        Ok(Response::new(DeleteResponse {}))
    }
}
