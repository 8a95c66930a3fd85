//! The `AudioCall` gRPC service: decode, check, store the medium and its network commands
//! in one transaction, encode. Another application's medium is "not found".

use chrono::Utc;
use parlay_kit::{bus::Envelope, grpc, ids::new_id, outbox, wire};
use parlay_proto::{
    call::v1::{self as pb, audio_call_server::AudioCall},
    net::v1::{CallCommand, call_command},
};
use sea_orm::DbErr;
use tonic::{Request, Response, Status};

use super::{
    AudioGrpc,
    convert::{
        interaction_kind, interaction_request, interaction_to_pb, message_request, message_to_pb,
    },
    entities::{media, target},
    rules::{self, MediaError, MediaKind, MediaStatus},
    store::{self, Media},
};
use crate::{
    domain::Session,
    effects,
    grpc::{db, is_unique_violation, traced},
};

pub const SUBJECT_PLAY: &str = "net.cmd.call.play";
pub const SUBJECT_RECORD: &str = "net.cmd.call.record";
pub const SUBJECT_COLLECT: &str = "net.cmd.call.collect";
pub const SUBJECT_STOP: &str = "net.cmd.call.stop";

type Reply<T> = Result<Response<T>, Status>;

/// Why a creation stopped: the store failed, or the request is refused.
enum Failure {
    Db(DbErr),
    Refused(Status),
}

impl From<DbErr> for Failure {
    fn from(e: DbErr) -> Self {
        Failure::Db(e)
    }
}

impl From<MediaError> for Failure {
    fn from(e: MediaError) -> Self {
        Failure::Refused(e.into())
    }
}

/// What the transaction found or made.
enum Created {
    New(Media),
    /// The application's earlier medium with the same clientCorrelator.
    Earlier(Media),
}

impl AudioGrpc {
    /// Starts a play or an interaction; answers the medium and whether it is new.
    async fn create(&self, app: &str, req: rules::Request) -> Result<(Media, bool), Status> {
        let config = &self.core.config.call;
        req.check(&config.audio_media_types, config.max_recording_secs)?;
        let hash = req.hash();
        let created = match self.insert(app, &req, &hash).await {
            Ok(created) => created,
            Err(Failure::Refused(status)) => return Err(status),
            // A concurrent request with the same correlator won the race: answer as a retry.
            Err(Failure::Db(e)) if is_unique_violation(&e) => {
                let correlator = req.client_correlator.as_deref().unwrap_or_default();
                match store::by_correlator(&self.core.db, app, correlator)
                    .await
                    .map_err(db)?
                {
                    Some(earlier) => Created::Earlier(earlier),
                    None => return Err(db(e)),
                }
            }
            Err(Failure::Db(e)) => return Err(db(e)),
        };
        match created {
            Created::New(m) => Ok((m, true)),
            Created::Earlier(m) if m.row.request_hash == hash => Ok((m, false)),
            Created::Earlier(m) => {
                let value = m.row.client_correlator.unwrap_or_default();
                Err(grpc::exception(
                    "SVC0005",
                    [value, "clientCorrelator".into()],
                ))
            }
        }
    }

    /// In one write transaction: the correlator replay, the session checks, the rows, and
    /// one command per participant in the outbox (ordered with the session's commands).
    async fn insert(
        &self,
        app: &str,
        req: &rules::Request,
        hash: &str,
    ) -> Result<Created, Failure> {
        let txn = parlay_kit::db::begin_write(&self.core.db).await?;
        if let Some(correlator) = &req.client_correlator
            && let Some(earlier) = store::by_correlator(&txn, app, correlator).await?
        {
            txn.rollback().await?;
            return Ok(Created::Earlier(earlier));
        }
        let Some(stored) = crate::store::load(&txn, &req.session_id, Some(app)).await? else {
            txn.rollback().await?;
            return Err(Failure::Refused(grpc::exception(
                "SVC0002",
                ["callSessionIdentifier"],
            )));
        };
        let targets = match req.targets(&stored.session) {
            Ok(targets) => targets,
            Err(e) => {
                txn.rollback().await?;
                return Err(e.into());
            }
        };
        let id = new_id(match req.kind() {
            MediaKind::Audio => "am",
            MediaKind::Recording => "ir",
            MediaKind::Collection => "ic",
        });
        let m = Media {
            row: row(app, &id, req, hash),
            targets: targets
                .iter()
                .enumerate()
                .map(|(i, t)| target::Model {
                    media_id: id.clone(),
                    position: i as i32,
                    participant_id: t.participant_id.clone(),
                    address: t.address.clone(),
                    status: MediaStatus::Pending.as_str().into(),
                    result: None,
                })
                .collect(),
        };
        store::insert(&txn, &m).await?;
        let max_recording = self.core.config.call.max_recording_secs;
        let envelopes = targets
            .iter()
            .filter_map(|t| {
                let (subject, kind) = command_kind(&id, req, max_recording);
                envelope(&stored.session, &t.participant_id, subject, kind)
            })
            .collect();
        let recorded = outbox::enqueue(&txn, &req.session_id, envelopes).await?;
        txn.commit().await?;
        self.core.waker.hand(recorded);
        Ok(Created::New(m))
    }

    async fn find(&self, app: &str, r: &pb::MediaRef, kind: MediaKind) -> Result<Media, Status> {
        store::find(&self.core.db, app, &r.id, kind)
            .await
            .map_err(db)?
            .ok_or_else(|| grpc::not_found(id_param(kind)))
    }

    /// Stops what is still under way (StopMedia per active participant) and forgets the
    /// medium, in one transaction.
    async fn delete(&self, app: &str, id: &str, kind: MediaKind) -> Result<(), Status> {
        let txn = parlay_kit::db::begin_write(&self.core.db)
            .await
            .map_err(db)?;
        let Some(m) = store::find(&txn, app, id, kind).await.map_err(db)? else {
            txn.rollback().await.map_err(db)?;
            return Err(grpc::not_found(id_param(kind)));
        };
        let mut envelopes = Vec::new();
        // A session that ended (or was purged) has nothing left playing.
        if let Some(stored) = crate::store::load(&txn, &m.row.session_id, None)
            .await
            .map_err(db)?
            && !stored.session.terminated
        {
            for t in &m.targets {
                if MediaStatus::parse(&t.status).is_active() {
                    let stop = call_command::Kind::StopMedia(call_command::StopMedia {
                        media_id: m.row.id.clone(),
                    });
                    envelopes.extend(envelope(
                        &stored.session,
                        &t.participant_id,
                        SUBJECT_STOP,
                        stop,
                    ));
                }
            }
        }
        store::delete(&txn, vec![m.row.id.clone()])
            .await
            .map_err(db)?;
        let recorded = outbox::enqueue(&txn, &m.row.session_id, envelopes)
            .await
            .map_err(db)?;
        txn.commit().await.map_err(db)?;
        self.core.waker.hand(recorded);
        Ok(())
    }
}

fn row(app: &str, id: &str, req: &rules::Request, hash: &str) -> media::Model {
    let int = |n: Option<u32>| n.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    media::Model {
        id: id.to_string(),
        app_id: app.to_string(),
        session_id: req.session_id.clone(),
        kind: req.kind().as_str().into(),
        client_correlator: req.client_correlator.clone(),
        request_hash: hash.to_string(),
        url: req.url.clone(),
        media_type: req.media_type.clone(),
        interrupt_media: req.interrupt_media,
        max_duration_secs: int(req.max_duration_secs),
        min_digits: int(req.min_digits),
        max_digits: int(req.max_digits),
        end_char: req.end_char.clone(),
        created_at: Utc::now(),
    }
}

/// The command (and its subject) that carries out medium `id` for one participant.
fn command_kind(
    id: &str,
    req: &rules::Request,
    max_recording_secs: u32,
) -> (&'static str, call_command::Kind) {
    match req.kind() {
        MediaKind::Audio => (
            SUBJECT_PLAY,
            call_command::Kind::Play(call_command::Play {
                media_id: id.to_string(),
                url: req.url.clone().unwrap_or_default(),
                media_type: req.media_type.clone(),
                interrupt: req.interrupt_media.unwrap_or(false),
            }),
        ),
        MediaKind::Recording => (
            SUBJECT_RECORD,
            call_command::Kind::Record(call_command::Record {
                media_id: id.to_string(),
                prompt_url: req.url.clone(),
                media_type: req.media_type.clone(),
                // Never the network's own (unbounded) limit: ours applies.
                max_duration_secs: req
                    .max_duration_secs
                    .filter(|d| *d > 0)
                    .unwrap_or(max_recording_secs),
            }),
        ),
        MediaKind::Collection => (
            SUBJECT_COLLECT,
            call_command::Kind::Collect(call_command::Collect {
                media_id: id.to_string(),
                prompt_url: req.url.clone(),
                media_type: req.media_type.clone(),
                min_digits: req.min_digits.unwrap_or(1),
                max_digits: req.max_digits.unwrap_or(0),
                end_char: req.end_char.clone(),
            }),
        ),
    }
}

/// A command about `participant_id` of `session`, ready for the outbox.
fn envelope(
    session: &Session,
    participant_id: &str,
    subject: &str,
    kind: call_command::Kind,
) -> Option<Envelope> {
    let p = session.participant(participant_id)?;
    let cmd = CallCommand {
        command_id: new_id("cm"),
        call_session_id: session.id.clone(),
        participant_id: p.id.clone(),
        address: p.address.clone(),
        name: p.name.clone(),
        network_call: effects::network_call(session),
        decision: None,
        kind: Some(kind),
    };
    Some(wire::envelope(subject, cmd.command_id.clone(), &cmd))
}

fn id_param(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "messageId",
        MediaKind::Recording | MediaKind::Collection => "interactionId",
    }
}

#[tonic::async_trait]
impl AudioCall for AudioGrpc {
    async fn play_audio(
        &self,
        request: Request<pb::PlayAudioRequest>,
    ) -> Reply<pb::AudioMessageResponse> {
        let app = grpc::app_id(&request)?;
        traced("PlayAudio", &request, async {
            let message = request
                .get_ref()
                .message
                .clone()
                .ok_or_else(|| Status::invalid_argument("message missing"))?;
            let (m, created) = self.create(&app, message_request(message)).await?;
            Ok(Response::new(pb::AudioMessageResponse {
                message: Some(message_to_pb(&m)),
                created,
            }))
        })
        .await
    }

    async fn get_audio_message(&self, request: Request<pb::MediaRef>) -> Reply<pb::AudioMessage> {
        let app = grpc::app_id(&request)?;
        let m = self.find(&app, request.get_ref(), MediaKind::Audio).await?;
        Ok(Response::new(message_to_pb(&m)))
    }

    async fn delete_audio_message(
        &self,
        request: Request<pb::MediaRef>,
    ) -> Reply<pb::DeleteResponse> {
        let app = grpc::app_id(&request)?;
        traced("DeleteAudioMessage", &request, async {
            self.delete(&app, &request.get_ref().id, MediaKind::Audio)
                .await?;
            Ok(Response::new(pb::DeleteResponse {}))
        })
        .await
    }

    async fn start_interaction(
        &self,
        request: Request<pb::StartInteractionRequest>,
    ) -> Reply<pb::InteractionResponse> {
        let app = grpc::app_id(&request)?;
        traced("StartInteraction", &request, async {
            let interaction = request
                .get_ref()
                .interaction
                .clone()
                .ok_or_else(|| Status::invalid_argument("interaction missing"))?;
            let kind = interaction_kind(interaction.kind)?;
            let (m, created) = self
                .create(&app, interaction_request(interaction, kind))
                .await?;
            Ok(Response::new(pb::InteractionResponse {
                interaction: Some(interaction_to_pb(&m)),
                created,
            }))
        })
        .await
    }

    async fn get_interaction(&self, request: Request<pb::MediaRef>) -> Reply<pb::Interaction> {
        let app = grpc::app_id(&request)?;
        let kind = interaction_kind(request.get_ref().kind)?;
        let m = self.find(&app, request.get_ref(), kind).await?;
        Ok(Response::new(interaction_to_pb(&m)))
    }

    async fn delete_interaction(
        &self,
        request: Request<pb::MediaRef>,
    ) -> Reply<pb::DeleteResponse> {
        let app = grpc::app_id(&request)?;
        traced("DeleteInteraction", &request, async {
            let kind = interaction_kind(request.get_ref().kind)?;
            self.delete(&app, &request.get_ref().id, kind).await?;
            Ok(Response::new(pb::DeleteResponse {}))
        })
        .await
    }
}
