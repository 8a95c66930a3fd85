//! Audio Call: plays, interactions, their statuses, results and errors.

use parlay_kit::grpc::exception_of;
use parlay_proto::{
    call::v1::{self as pb},
    common::v1::Callback,
    net::v1::{MediaOutcome, RecordedMedia},
};
use serde_json::Value;
use tonic::Code;

use crate::harness::{APP, Harness, OTHER_APP, eventually, media_event, req};

const A: &str = "tel:+15550001";
const B: &str = "tel:+15550002";
const PROMPT: &str = "https://app.example.org/prompt.wav";

/// The code, exception id and variables of a refusal.
fn refusal(status: tonic::Status) -> (Code, String, Vec<String>) {
    let e = exception_of(&status).unwrap_or_else(|| panic!("no exception in {status:?}"));
    (status.code(), e.message_id, e.variables)
}

/// A Third Party Call session of `APP` between A and B, once both answered.
async fn connected_session(h: &Harness) -> String {
    let created = h
        .calls
        .clone()
        .create_call_session(req(
            APP,
            pb::CreateCallSessionRequest {
                participants: [A, B]
                    .map(|a| pb::ParticipantSpec {
                        address: a.into(),
                        name: None,
                    })
                    .to_vec(),
                client_correlator: None,
                callback: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let id = created.session.unwrap().id;
    eventually("both participants connected", || {
        let mut calls = h.calls.clone();
        let id = id.clone();
        async move {
            let s = calls
                .get_call_session(req(
                    APP,
                    pb::CallSessionRef {
                        call_session_id: id,
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            s.participants
                .iter()
                .all(|p| p.status == pb::ParticipantStatus::Connected as i32)
                .then_some(())
        }
    })
    .await;
    id
}

fn message(session: &str, to: &[&str]) -> pb::AudioMessage {
    pb::AudioMessage {
        call_session_id: session.into(),
        participants: to.iter().map(|a| a.to_string()).collect(),
        audio_url: "https://app.example.org/hello.wav".into(),
        media_type: Some("audio/wav".into()),
        interrupt_media: Some(true),
        ..pb::AudioMessage::default()
    }
}

async fn play(
    h: &Harness,
    app: &str,
    m: pb::AudioMessage,
) -> Result<pb::AudioMessageResponse, tonic::Status> {
    h.audio
        .clone()
        .play_audio(req(app, pb::PlayAudioRequest { message: Some(m) }))
        .await
        .map(tonic::Response::into_inner)
}

async fn start(
    h: &Harness,
    app: &str,
    i: pb::Interaction,
) -> Result<pb::InteractionResponse, tonic::Status> {
    h.audio
        .clone()
        .start_interaction(req(
            app,
            pb::StartInteractionRequest {
                interaction: Some(i),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

fn statuses(list: &[pb::ParticipantMediaStatus]) -> Vec<(String, pb::MediaStatus)> {
    list.iter()
        .map(|s| (s.address.clone(), s.status()))
        .collect()
}

fn media_ref(id: &str, kind: pb::InteractionKind) -> pb::MediaRef {
    pb::MediaRef {
        id: id.into(),
        kind: kind as i32,
    }
}

#[tokio::test]
async fn audio_is_played_to_each_participant_and_reported_in_request_order() {
    let h = Harness::start().await;
    let session = connected_session(&h).await;

    let mut m = message(&session, &[B, A]);
    m.client_correlator = Some("play-1".into());
    let created = play(&h, APP, m.clone()).await.unwrap();
    assert!(created.created);
    let msg = created.message.unwrap();
    assert_eq!(msg.participants, [B, A]);
    assert_eq!(msg.audio_url, m.audio_url);
    assert_eq!(msg.statuses.len(), 2);

    // One Play per participant, carrying the message id.
    let plays = eventually("two Play commands", || async {
        let plays = h.commands("net.cmd.call.play");
        (plays.len() == 2).then_some(plays)
    })
    .await;
    for (cmd, address) in plays.iter().zip([B, A]) {
        assert_eq!(cmd.call_session_id, session);
        assert_eq!(cmd.address, address);
        let Some(parlay_proto::net::v1::call_command::Kind::Play(p)) = &cmd.kind else {
            panic!("not a Play: {cmd:?}");
        };
        assert_eq!(p.media_id, msg.id);
        assert!(p.interrupt);
        assert_eq!(p.media_type.as_deref(), Some("audio/wav"));
    }

    // The network plays and reports: both end Played, still in request order.
    let by_ref = pb::MediaRef {
        id: msg.id.clone(),
        kind: 0,
    };
    let done = eventually("both Played", || {
        let mut audio = h.audio.clone();
        let by_ref = by_ref.clone();
        async move {
            let got = audio
                .get_audio_message(req(APP, by_ref))
                .await
                .unwrap()
                .into_inner();
            let st = statuses(&got.statuses);
            st.iter()
                .all(|(_, s)| *s == pb::MediaStatus::Played)
                .then_some(st)
        }
    })
    .await;
    assert_eq!(
        done,
        [
            (B.to_string(), pb::MediaStatus::Played),
            (A.to_string(), pb::MediaStatus::Played)
        ]
    );

    // The same request again is the same message; another one under its correlator is refused.
    let again = play(&h, APP, m.clone()).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.message.unwrap().id, msg.id);
    let mut changed = m.clone();
    changed.audio_url = "https://app.example.org/other.wav".into();
    assert_eq!(
        refusal(play(&h, APP, changed).await.unwrap_err()),
        (
            Code::InvalidArgument,
            "SVC0005".into(),
            vec!["play-1".into(), "clientCorrelator".into()]
        )
    );

    // Only its application sees it; deleted, it is gone.
    let other = h
        .audio
        .clone()
        .get_audio_message(req(OTHER_APP, by_ref.clone()))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    h.audio
        .clone()
        .delete_audio_message(req(APP, by_ref.clone()))
        .await
        .unwrap();
    for status in [
        h.audio
            .clone()
            .get_audio_message(req(APP, by_ref.clone()))
            .await
            .unwrap_err(),
        h.audio
            .clone()
            .delete_audio_message(req(APP, by_ref.clone()))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(exception_of(&status).unwrap().variables, ["messageId"]);
    }
    // Nothing was left to stop.
    assert!(h.commands("net.cmd.call.stop").is_empty());
    h.finish().await;
}

#[tokio::test]
async fn bad_plays_are_refused_with_the_parlayrest_exception() {
    let h = Harness::start().await;
    let session = connected_session(&h).await;

    let mut flac = message(&session, &[A]);
    flac.media_type = Some("audio/flac".into());
    assert_eq!(
        refusal(play(&h, APP, flac).await.unwrap_err()),
        (
            Code::PermissionDenied,
            "POL0011".into(),
            vec!["audio/flac".into()]
        )
    );
    let mut with_params = message(&session, &[A]);
    with_params.media_type = Some("Audio/WAV; rate=8000".into());
    play(&h, APP, with_params).await.unwrap();

    assert_eq!(
        refusal(
            play(&h, APP, message(&session, &[A, "tel:+19990000"]))
                .await
                .unwrap_err()
        ),
        (
            Code::InvalidArgument,
            "SVC0004".into(),
            vec!["tel:+19990000".into()]
        )
    );
    let mut ftp = message(&session, &[A]);
    ftp.audio_url = "ftp://app.example.org/hello.wav".into();
    assert_eq!(
        refusal(play(&h, APP, ftp).await.unwrap_err()),
        (
            Code::InvalidArgument,
            "SVC0002".into(),
            vec!["audioUrl".into()]
        )
    );
    // Unknown, or another application's: the session is not usable.
    for (app, id) in [(APP, "cs-unknown"), (OTHER_APP, session.as_str())] {
        assert_eq!(
            refusal(play(&h, app, message(id, &[A])).await.unwrap_err()),
            (
                Code::InvalidArgument,
                "SVC0002".into(),
                vec!["callSessionIdentifier".into()]
            )
        );
    }
    let long = pb::Interaction {
        kind: pb::InteractionKind::Recording as i32,
        call_session_id: session.clone(),
        participants: vec![A.into()],
        max_duration_secs: Some(h.config.call.max_recording_secs + 1),
        ..pb::Interaction::default()
    };
    assert_eq!(
        refusal(start(&h, APP, long).await.unwrap_err()),
        (
            Code::InvalidArgument,
            "SVC0002".into(),
            vec!["maxDuration".into()]
        )
    );

    // Once the session ended: SVC0261 naming it.
    h.calls
        .clone()
        .delete_call_session(req(
            APP,
            pb::CallSessionRef {
                call_session_id: session.clone(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        refusal(play(&h, APP, message(&session, &[A])).await.unwrap_err()),
        (
            Code::InvalidArgument,
            "SVC0261".into(),
            vec![session.clone()]
        )
    );
    h.finish().await;
}

async fn subscribe(h: &Harness, kind: pb::SubscriptionKind, session: Option<&str>, data: &str) {
    h.notifications
        .clone()
        .create_subscription(req(
            APP,
            pb::CreateSubscriptionRequest {
                subscription: Some(pb::Subscription {
                    kind: kind as i32,
                    callback: Some(Callback {
                        notify_url: format!("https://app.example.org/{data}"),
                        callback_data: Some(data.into()),
                    }),
                    call_session_id: session.map(str::to_string),
                    ..pb::Subscription::default()
                }),
            },
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_recording_goes_to_the_recording_subscriptions_and_only_its_app_reads_it() {
    let h = Harness::start().await;
    let session = connected_session(&h).await;
    subscribe(
        &h,
        pb::SubscriptionKind::Recording,
        Some(&session),
        "rec-this",
    )
    .await;
    subscribe(&h, pb::SubscriptionKind::Recording, None, "rec-all").await;
    subscribe(&h, pb::SubscriptionKind::Collection, None, "col-all").await;

    let interaction = start(
        &h,
        APP,
        pb::Interaction {
            kind: pb::InteractionKind::Recording as i32,
            call_session_id: session.clone(),
            participants: vec!["TEL:+15550002".into()],
            prompt_url: Some(PROMPT.into()),
            media_type: Some("audio/wav".into()),
            max_duration_secs: Some(30),
            ..pb::Interaction::default()
        },
    )
    .await
    .unwrap()
    .interaction
    .unwrap();
    let record = eventually("a Record command", || async {
        h.commands("net.cmd.call.record").into_iter().next()
    })
    .await;
    assert_eq!(record.address, B);
    let Some(parlay_proto::net::v1::call_command::Kind::Record(r)) = &record.kind else {
        panic!("not a Record: {record:?}");
    };
    assert_eq!(r.media_id, interaction.id);
    assert_eq!(r.max_duration_secs, 30);
    assert_eq!(r.prompt_url.as_deref(), Some(PROMPT));

    let mut recorded = media_event(&record, &interaction.id, MediaOutcome::Recorded);
    recorded.recording = Some(RecordedMedia {
        content_type: "audio/wav".into(),
        data: b"RIFF-recorded-WAVE".to_vec(),
        duration_ms: 2300,
    });
    h.media_event(recorded.clone()).await;
    h.media_event(recorded).await;

    let jobs = eventually("two recording notifications", || async {
        let jobs = h.jobs();
        (jobs.len() >= 2).then_some(jobs)
    })
    .await;
    let root = h.config.api_root();
    let interaction_url = format!("{root}/audiocall/interactions/recording/{}", interaction.id);
    let mut data = Vec::new();
    let mut recording_url = String::new();
    for job in &jobs {
        assert_eq!(job.application_id, APP);
        assert_eq!(job.content_type, "application/json");
        assert_eq!(job.resource_id, interaction.id);
        let body: Value = serde_json::from_slice(&job.body).unwrap();
        let n = &body["mediaInteractionNotification"];
        assert_eq!(n["callParticipant"], "TEL:+15550002");
        assert_eq!(n["notificationType"], "PlayAndRecord");
        assert_eq!(n["callSessionIdentifier"], session.as_str());
        assert_eq!(n["link"][0]["rel"], "PlayAndRecordInteraction");
        assert_eq!(n["link"][0]["href"], interaction_url.as_str());
        recording_url = n["mediaInteractionResult"].as_str().unwrap().to_string();
        assert_eq!(
            job.notify_url,
            format!(
                "https://app.example.org/{}",
                n["callbackData"].as_str().unwrap()
            )
        );
        data.push(n["callbackData"].as_str().unwrap().to_string());
    }
    data.sort();
    assert_eq!(
        data,
        ["rec-all", "rec-this"],
        "recording subscriptions only, once each"
    );
    let recording_id = recording_url
        .strip_prefix(&format!("{root}/audiocall/recordings/"))
        .unwrap_or_else(|| panic!("not a recording URL: {recording_url}"))
        .to_string();

    let media = h
        .notifications
        .clone()
        .get_recording(req(
            APP,
            pb::RecordingRef {
                recording_id: recording_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(media.content_type, "audio/wav");
    assert_eq!(media.data, b"RIFF-recorded-WAVE");
    let other = h
        .notifications
        .clone()
        .get_recording(req(OTHER_APP, pb::RecordingRef { recording_id }))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    assert_eq!(exception_of(&other).unwrap().variables, ["recordingId"]);

    let got = h
        .audio
        .clone()
        .get_interaction(req(
            APP,
            media_ref(&interaction.id, pb::InteractionKind::Recording),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        statuses(&got.statuses),
        [("TEL:+15550002".to_string(), pb::MediaStatus::Played)]
    );
    // Asked for as the other kind, it does not exist.
    let wrong = h
        .audio
        .clone()
        .get_interaction(req(
            APP,
            media_ref(&interaction.id, pb::InteractionKind::Collection),
        ))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::NotFound);
    h.finish().await;
}

#[tokio::test]
async fn collected_digits_are_notified_and_a_deleted_interaction_is_stopped() {
    let h = Harness::start().await;
    let session = connected_session(&h).await;
    subscribe(&h, pb::SubscriptionKind::Collection, None, "col").await;
    let collection = |correlator: &str| pb::Interaction {
        kind: pb::InteractionKind::Collection as i32,
        call_session_id: session.clone(),
        participants: vec![A.into()],
        prompt_url: Some(PROMPT.into()),
        min_digits: Some(1),
        max_digits: Some(4),
        end_char: Some("#".into()),
        client_correlator: Some(correlator.into()),
        ..pb::Interaction::default()
    };
    let first = start(&h, APP, collection("c-1"))
        .await
        .unwrap()
        .interaction
        .unwrap();
    let second = start(&h, APP, collection("c-2"))
        .await
        .unwrap()
        .interaction
        .unwrap();
    let collects = eventually("two Collect commands", || async {
        let c = h.commands("net.cmd.call.collect");
        (c.len() == 2).then_some(c)
    })
    .await;

    let mut collected = media_event(&collects[0], &first.id, MediaOutcome::Collected);
    collected.digits = Some("1234".into());
    h.media_event(collected).await;
    let job = eventually("a collection notification", || async {
        h.jobs().into_iter().next()
    })
    .await;
    let body: Value = serde_json::from_slice(&job.body).unwrap();
    let n = &body["mediaInteractionNotification"];
    assert_eq!(n["mediaInteractionResult"], "1234");
    assert_eq!(n["notificationType"], "PlayAndCollect");
    assert_eq!(n["callbackData"], "col");
    assert_eq!(n["link"][0]["rel"], "PlayAndCollectInteraction");

    // The second is still pending: deleting it stops it at the network.
    let second_ref = media_ref(&second.id, pb::InteractionKind::Collection);
    h.audio
        .clone()
        .delete_interaction(req(APP, second_ref.clone()))
        .await
        .unwrap();
    let stop = eventually("a StopMedia command", || async {
        h.commands("net.cmd.call.stop").into_iter().next()
    })
    .await;
    assert_eq!(stop.participant_id, collects[1].participant_id);
    let Some(parlay_proto::net::v1::call_command::Kind::StopMedia(s)) = &stop.kind else {
        panic!("not a StopMedia: {stop:?}");
    };
    assert_eq!(s.media_id, second.id);
    let gone = h
        .audio
        .clone()
        .get_interaction(req(APP, second_ref))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    assert_eq!(exception_of(&gone).unwrap().variables, ["interactionId"]);
    // A late report about the deleted interaction is dropped quietly.
    h.media_event(media_event(&collects[1], &second.id, MediaOutcome::Failed))
        .await;
    h.finish().await;
}
