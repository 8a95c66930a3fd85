//! A fake call service for Call Notification and Audio Call on a local port, steered by ids
//! and by the values in the request so each test can pick its answer.
//!
//! * subscription `ce91` exists (of whatever kind is asked); any other id is `NotFound`;
//!   an address `tel:+15550000008` overlaps (SVC0008 ["Busy"]); clientCorrelator `again`
//!   answers as a retry;
//! * session `csgone` is unknown (SVC0002 ["callSessionIdentifier"]), `csnotfound` is
//!   answered with a plain `NotFound`, `csended` has ended (SVC0261); media type
//!   `audio/flac` is not supported (POL0011); participant `tel:+15550000009` is not in the
//!   call (SVC0004);
//! * message `am19` and interaction `ir204` exist; recording `rc5521` is 5 bytes of
//!   `audio/wav`, `rcother` belongs to another application (`NotFound`).

use std::sync::{Arc, Mutex};

use parlay_kit::grpc;
use parlay_proto::call::v1::{
    AudioMessage, AudioMessageResponse, CreateSubscriptionRequest, CreateSubscriptionResponse,
    DeleteResponse, Interaction, InteractionKind, InteractionResponse, ListSubscriptionsRequest,
    MediaRef, MediaStatus, ParticipantMediaStatus, PlayAudioRequest, RecordingMedia, RecordingRef,
    StartInteractionRequest, Subscription, SubscriptionList, SubscriptionRef,
    audio_call_server::{AudioCall, AudioCallServer},
    call_notification_server::{CallNotification, CallNotificationServer},
};
use tonic::{Request, Response, Status, transport::server::TcpIncoming};

pub const OVERLAPPING: &str = "tel:+15550000008";
pub const NOT_IN_CALL: &str = "tel:+15550000009";
/// The lifetime the fake grants.
pub const GRANTED_SECS: u32 = 2_592_000;

/// What the fake saw.
#[derive(Clone, Default)]
pub struct FakeMedia {
    pub apps: Arc<Mutex<Vec<String>>>,
    pub subscriptions: Arc<Mutex<Vec<Subscription>>>,
    pub messages: Arc<Mutex<Vec<AudioMessage>>>,
    pub interactions: Arc<Mutex<Vec<Interaction>>>,
    pub refs: Arc<Mutex<Vec<(i32, String)>>>,
}

impl FakeMedia {
    /// Serves a fake on a free port; returns its URL and the fake.
    pub async fn spawn() -> (String, FakeMedia) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeMedia::default();
        let server = tonic::transport::Server::builder()
            .add_service(CallNotificationServer::new(fake.clone()))
            .add_service(AudioCallServer::new(fake.clone()))
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

/// The session rules shared by every Audio Call create.
fn session(id: &str, participants: &[String], media_type: Option<&str>) -> Result<(), Status> {
    match id {
        "csgone" => return Err(grpc::exception("SVC0002", ["callSessionIdentifier"])),
        "csnotfound" => return Err(Status::not_found("no such session")),
        "csended" => return Err(grpc::exception("SVC0261", [id])),
        _ => {}
    }
    if media_type == Some("audio/flac") {
        return Err(grpc::exception("POL0011", ["audio/flac"]));
    }
    if let Some(p) = participants.iter().find(|p| p.as_str() == NOT_IN_CALL) {
        return Err(grpc::exception("SVC0004", [p.as_str()]));
    }
    Ok(())
}

fn stored_subscription(kind: i32, id: &str) -> Subscription {
    Subscription {
        id: id.into(),
        kind,
        callback: Some(parlay_proto::common::v1::Callback {
            notify_url: "https://app.example.org/cn/events".into(),
            callback_data: None,
        }),
        addresses: vec!["tel:+15551230001".into()],
        address_direction: 1,
        duration_secs: Some(GRANTED_SECS),
        ..Default::default()
    }
}

#[tonic::async_trait]
impl CallNotification for FakeMedia {
    async fn create_subscription(
        &self,
        request: Request<CreateSubscriptionRequest>,
    ) -> Result<Response<CreateSubscriptionResponse>, Status> {
        self.seen(&request)?;
        let mut s = request.into_inner().subscription.unwrap_or_default();
        self.subscriptions.lock().unwrap().push(s.clone());
        if s.addresses.iter().any(|a| a == OVERLAPPING) {
            return Err(grpc::exception("SVC0008", ["Busy"]));
        }
        if let Some(id) = &s.call_session_id {
            session(id, &[], None)?;
        }
        let created = s.client_correlator.as_deref() != Some("again");
        s.id = "ce91".into();
        let requested = s.duration_secs.filter(|d| *d > 0).unwrap_or(GRANTED_SECS);
        s.duration_secs = Some(requested.min(GRANTED_SECS));
        Ok(Response::new(CreateSubscriptionResponse {
            subscription: Some(s),
            created,
        }))
    }

    async fn get_subscription(
        &self,
        request: Request<SubscriptionRef>,
    ) -> Result<Response<Subscription>, Status> {
        self.seen(&request)?;
        let r = request.into_inner();
        self.refs
            .lock()
            .unwrap()
            .push((r.kind, r.subscription_id.clone()));
        match r.subscription_id.as_str() {
            "ce91" => Ok(Response::new(stored_subscription(r.kind, "ce91"))),
            _ => Err(grpc::not_found("subscriptionId")),
        }
    }

    async fn list_subscriptions(
        &self,
        request: Request<ListSubscriptionsRequest>,
    ) -> Result<Response<SubscriptionList>, Status> {
        self.seen(&request)?;
        let kind = request.into_inner().kind;
        Ok(Response::new(SubscriptionList {
            subscriptions: vec![
                stored_subscription(kind, "ce91"),
                stored_subscription(kind, "ce92"),
            ],
        }))
    }

    async fn delete_subscription(
        &self,
        request: Request<SubscriptionRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.get_subscription(request).await?;
        Ok(Response::new(DeleteResponse {}))
    }

    async fn get_recording(
        &self,
        request: Request<RecordingRef>,
    ) -> Result<Response<RecordingMedia>, Status> {
        self.seen(&request)?;
        match request.into_inner().recording_id.as_str() {
            "rc5521" => Ok(Response::new(RecordingMedia {
                content_type: "audio/wav".into(),
                data: b"RIFF!".to_vec(),
                created_at: None,
            })),
            _ => Err(grpc::not_found("recordingId")),
        }
    }
}

fn played(addresses: &[String]) -> Vec<ParticipantMediaStatus> {
    addresses
        .iter()
        .map(|a| ParticipantMediaStatus {
            address: a.clone(),
            status: MediaStatus::Played as i32,
        })
        .collect()
}

#[tonic::async_trait]
impl AudioCall for FakeMedia {
    async fn play_audio(
        &self,
        request: Request<PlayAudioRequest>,
    ) -> Result<Response<AudioMessageResponse>, Status> {
        self.seen(&request)?;
        let mut m = request.into_inner().message.unwrap_or_default();
        self.messages.lock().unwrap().push(m.clone());
        session(&m.call_session_id, &m.participants, m.media_type.as_deref())?;
        m.id = "am19".into();
        m.statuses = played(&m.participants);
        Ok(Response::new(AudioMessageResponse {
            message: Some(m),
            created: true,
        }))
    }

    async fn get_audio_message(
        &self,
        request: Request<MediaRef>,
    ) -> Result<Response<AudioMessage>, Status> {
        self.seen(&request)?;
        match request.into_inner().id.as_str() {
            "am19" => {
                let participants = vec!["tel:+15551230002".to_string()];
                Ok(Response::new(AudioMessage {
                    id: "am19".into(),
                    call_session_id: "cs7f31".into(),
                    statuses: played(&participants),
                    participants,
                    audio_url: "https://app.example.org/prompts/welcome.wav".into(),
                    ..Default::default()
                }))
            }
            _ => Err(grpc::not_found("messageId")),
        }
    }

    async fn delete_audio_message(
        &self,
        request: Request<MediaRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.get_audio_message(request).await?;
        Ok(Response::new(DeleteResponse {}))
    }

    async fn start_interaction(
        &self,
        request: Request<StartInteractionRequest>,
    ) -> Result<Response<InteractionResponse>, Status> {
        self.seen(&request)?;
        let mut i = request.into_inner().interaction.unwrap_or_default();
        self.interactions.lock().unwrap().push(i.clone());
        session(&i.call_session_id, &i.participants, i.media_type.as_deref())?;
        i.id = "ir204".into();
        Ok(Response::new(InteractionResponse {
            interaction: Some(i),
            created: true,
        }))
    }

    async fn get_interaction(
        &self,
        request: Request<MediaRef>,
    ) -> Result<Response<Interaction>, Status> {
        self.seen(&request)?;
        let r = request.into_inner();
        self.refs.lock().unwrap().push((r.kind, r.id.clone()));
        if r.id != "ir204" {
            return Err(grpc::not_found("interactionId"));
        }
        let participants = vec!["tel:+15557654321".to_string()];
        let mut i = Interaction {
            id: r.id,
            call_session_id: "cs7f31".into(),
            statuses: played(&participants),
            participants,
            max_duration_secs: Some(60),
            ..Default::default()
        };
        i.set_kind(InteractionKind::try_from(r.kind).unwrap_or_default());
        Ok(Response::new(i))
    }

    async fn delete_interaction(
        &self,
        request: Request<MediaRef>,
    ) -> Result<Response<DeleteResponse>, Status> {
        self.get_interaction(request).await?;
        Ok(Response::new(DeleteResponse {}))
    }
}
