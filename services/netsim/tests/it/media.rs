//! Media commands in, media events out: plays, recordings and digit collections on
//! connected legs, their timing by rules and defaults, stops, and legs that end.
//!
//! Timing tests run on a paused clock (see `calls.rs`): a `sleep` in the test moves time
//! forward only once every earlier timer of netsim has fired.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use parlay_kit::Config;
use parlay_proto::net::v1::{LegOutcome, MediaOutcome};
use serde_json::json;

use crate::harness::{Sim, collect, connect, play, record, start, start_with, stop_media};

async fn put_rules(sim: &Sim, body: &str) {
    let (status, reply) = sim.call(Method::PUT, "/netsim/v1/rules", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
}

/// Connects `participant` of `session` at `address` and waits for the answer.
async fn connected(sim: &Sim, session: &str, participant: &str, address: &str) {
    let id = format!("connect-{session}-{participant}");
    sim.send(&connect(&id, session, participant, address)).await;
    sim.event(participant, LegOutcome::Answered).await;
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_play_is_playing_then_played_after_the_rule_s_play_ms() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "tel:+4670", "call": "answer", "playMs": 1000}]}"#,
    )
    .await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    sim.send(&play("m1", "cs1", "p1", "med1")).await;
    let playing = sim.media_event("med1", MediaOutcome::Playing).await;
    assert_eq!(playing.call_session_id, "cs1");
    assert_eq!(playing.participant_id, "p1");
    assert!(playing.event_id.starts_with("ev") && playing.occurred_at.is_some());

    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(sim.media_outcomes("med1"), [MediaOutcome::Playing]);
    let played = sim.media_event("med1", MediaOutcome::Played).await;
    assert_ne!(played.event_id, playing.event_id);
    assert_eq!(played.participant_id, "p1");
    assert_eq!(played.reason, None);
    assert_eq!(
        sim.media_outcomes("med1"),
        [MediaOutcome::Playing, MediaOutcome::Played]
    );

    let log = sim.log(Some("cs1")).await;
    assert_eq!(log[1]["kind"], "play");
    assert_eq!(log[1]["mediaId"], "med1");
    assert_eq!(log[1]["url"], "https://media.example.com/hello.wav");
    assert_eq!(log[1]["commandId"], "m1");
}

#[tokio::test(start_paused = true)]
async fn without_a_rule_a_play_lasts_the_configured_default() {
    let mut config = Config::default();
    config.netsim.default_play_ms = 3_000;
    let sim = start_with(&config).await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    sim.send(&play("m1", "cs1", "p1", "med1")).await;
    sim.media_event("med1", MediaOutcome::Playing).await;
    tokio::time::sleep(Duration::from_millis(2_900)).await;
    assert_eq!(sim.media_outcomes("med1"), [MediaOutcome::Playing]);
    sim.media_event("med1", MediaOutcome::Played).await;
}

#[tokio::test]
async fn media_for_a_leg_not_connected_fails() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "tel:+4671", "call": "answer", "callDelayMs": 60000},
                      {"address": "tel:+4672", "call": "busy", "callDelayMs": 0}]}"#,
    )
    .await;
    sim.send(&connect("c1", "cs1", "dialling", "tel:+4671"))
        .await;
    sim.send(&connect("c2", "cs1", "busy", "tel:+4672")).await;
    sim.event("busy", LegOutcome::Busy).await;

    sim.send(&play("m1", "cs1", "dialling", "med1")).await;
    sim.send(&play("m2", "cs1", "busy", "med2")).await;
    sim.send(&play("m3", "nope", "p1", "med3")).await;
    sim.send(&record("m4", "cs1", "dialling", "med4", true, 0))
        .await;
    sim.send(&collect("m5", "nope", "p1", "med5", (1, 0, None)))
        .await;
    for media_id in ["med1", "med2", "med3", "med4", "med5"] {
        let failed = sim.media_event(media_id, MediaOutcome::Failed).await;
        assert_eq!(failed.reason.as_deref(), Some("participant not connected"));
        assert_eq!(sim.media_outcomes(media_id), [MediaOutcome::Failed]);
    }
    let failed = sim.media_event("med3", MediaOutcome::Failed).await;
    assert_eq!(
        (
            failed.call_session_id.as_str(),
            failed.participant_id.as_str()
        ),
        ("nope", "p1")
    );
}

#[tokio::test(start_paused = true)]
async fn stop_media_fails_the_play_in_progress() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "*", "call": "answer", "playMs": 60000}]}"#,
    )
    .await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    sim.send(&play("m1", "cs1", "p1", "med1")).await;
    sim.media_event("med1", MediaOutcome::Playing).await;
    sim.send(&stop_media("s1", "cs1", "p1", "med1")).await;
    let failed = sim.media_event("med1", MediaOutcome::Failed).await;
    assert_eq!(failed.reason.as_deref(), Some("stopped"));
    sim.send(&stop_media("s2", "cs1", "p1", "med1")).await;

    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(
        sim.media_outcomes("med1"),
        [MediaOutcome::Playing, MediaOutcome::Failed]
    );
    let log = sim.log(Some("cs1")).await;
    let stops: Vec<_> = log.iter().filter(|e| e["kind"] == "stop").collect();
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[0]["mediaId"], "med1");
    assert!(stops[0].get("ignored").is_none());
    assert_eq!(stops[1]["ignored"], true, "nothing left to stop");
}

#[tokio::test(start_paused = true)]
async fn a_leg_that_ends_fails_its_media() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "*", "call": "answer", "playMs": 60000,
                       "recording": {"durationMs": 60000}}]}"#,
    )
    .await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    connected(&sim, "cs1", "p2", "tel:+4671").await;
    sim.send(&play("m1", "cs1", "p1", "med1")).await;
    sim.send(&record("m2", "cs1", "p2", "med2", false, 0)).await;
    sim.media_event("med1", MediaOutcome::Playing).await;

    let (status, body) = sim
        .call(
            Method::POST,
            "/netsim/v1/calls/cs1/hangup",
            Some(r#"{"participantAddress": "tel:+4670"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let failed = sim.media_event("med1", MediaOutcome::Failed).await;
    assert_eq!(failed.reason.as_deref(), Some("participant left the call"));

    sim.send(&crate::harness::release("r1", "cs1", "p2", "tel:+4671"))
        .await;
    let failed = sim.media_event("med2", MediaOutcome::Failed).await;
    assert_eq!(failed.reason.as_deref(), Some("participant left the call"));
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(sim.media_outcomes("med2"), [MediaOutcome::Failed]);
}

#[tokio::test(start_paused = true)]
async fn a_recording_is_a_real_wav_file_of_the_default_length() {
    let sim = start().await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    sim.send(&record("m1", "cs1", "p1", "med1", false, 0)).await;
    tokio::time::sleep(Duration::from_millis(950)).await;
    assert!(sim.media_outcomes("med1").is_empty(), "still speaking");
    let recorded = sim.media_event("med1", MediaOutcome::Recorded).await;
    assert_eq!(sim.media_outcomes("med1"), [MediaOutcome::Recorded]);
    let media = recorded.recording.expect("the recording");
    assert_eq!(media.content_type, "audio/wav");
    assert_eq!(media.duration_ms, 1_000);
    let data = &media.data;
    assert_eq!(&data[0..4], b"RIFF");
    assert_eq!(u32_at(data, 4) as usize, data.len() - 8);
    assert_eq!(&data[8..16], b"WAVEfmt ");
    assert_eq!(u32_at(data, 24), 8_000, "sample rate");
    assert_eq!(u16::from_le_bytes([data[34], data[35]]), 16, "bits");
    assert_eq!(&data[36..40], b"data");
    assert_eq!(u32_at(data, 40), 16_000, "one second of 16-bit samples");
    assert_eq!(data.len(), 44 + 16_000);

    let log = sim.log(Some("cs1")).await;
    assert_eq!(log[1]["kind"], "record");
    assert_eq!(log[1]["mediaId"], "med1");
    assert!(log[1].get("url").is_none(), "no prompt");
}

#[tokio::test(start_paused = true)]
async fn a_recording_follows_its_prompt_and_is_capped_by_max_duration() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [{"address": "tel:+4670", "call": "answer", "playMs": 500,
                       "recording": {"durationMs": 2000}}]}"#,
    )
    .await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    sim.send(&record("m1", "cs1", "p1", "med1", true, 1)).await;
    tokio::time::sleep(Duration::from_millis(1_450)).await;
    assert!(sim.media_outcomes("med1").is_empty(), "prompt, then speech");
    let recorded = sim.media_event("med1", MediaOutcome::Recorded).await;
    let media = recorded.recording.unwrap();
    assert_eq!(media.duration_ms, 1_000, "maxDuration 1 s wins over 2 s");
    assert_eq!(media.data.len(), 44 + 16_000);
    let log = sim.log(Some("cs1")).await;
    assert_eq!(log[1]["url"], "https://media.example.com/beep.wav");
}

#[tokio::test(start_paused = true)]
async fn other_content_types_and_long_recordings_stay_plausible_and_small() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [
            {"address": "tel:+4670", "call": "answer",
             "recording": {"durationMs": 3000, "contentType": "audio/amr"}},
            {"address": "tel:+4671", "call": "answer", "recording": {"durationMs": 3600000}},
            {"address": "tel:+4672", "call": "answer",
             "recording": {"durationMs": 2000, "contentType": "audio/mpeg"}}
        ]}"#,
    )
    .await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    connected(&sim, "cs1", "p2", "tel:+4671").await;
    connected(&sim, "cs1", "p3", "tel:+4672").await;
    sim.send(&record("m1", "cs1", "p1", "amr", false, 0)).await;
    sim.send(&record("m2", "cs1", "p2", "long", false, 0)).await;
    sim.send(&record("m3", "cs1", "p3", "mpeg", false, 0)).await;

    let amr = sim.media_event("amr", MediaOutcome::Recorded).await;
    let amr = amr.recording.unwrap();
    assert_eq!(amr.content_type, "audio/amr");
    assert_eq!(amr.duration_ms, 3_000);
    assert!(amr.data.starts_with(b"#!AMR\n"));
    assert_eq!(amr.data.len(), 6 + 150 * 32, "150 frames of 20 ms");

    let mpeg = sim.media_event("mpeg", MediaOutcome::Recorded).await;
    let mpeg = mpeg.recording.unwrap();
    assert_eq!(mpeg.content_type, "audio/mpeg");
    assert_eq!(mpeg.data.len(), 8_000, "2 s at 32 kbit/s");

    // Longer than `eventually` waits: let the (paused) clock run past the cap first.
    tokio::time::sleep(Duration::from_secs(40)).await;
    let long = sim.media_event("long", MediaOutcome::Recorded).await;
    let long = long.recording.unwrap();
    assert!(long.data.len() < 600_000, "{} bytes", long.data.len());
    assert!(long.duration_ms < 3_600_000 && long.duration_ms > 30_000);
    assert_eq!(long.data.len(), 44 + 16 * long.duration_ms as usize);
}

#[tokio::test(start_paused = true)]
async fn digits_are_collected_after_the_prompt() {
    let sim = start().await;
    put_rules(
        &sim,
        r#"{"rules": [
            {"address": "tel:+4670", "call": "answer", "playMs": 400, "digits": "1234#9"},
            {"address": "*", "call": "answer"}
        ]}"#,
    )
    .await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    connected(&sim, "cs1", "p2", "tel:+4671").await;
    sim.send(&collect("m1", "cs1", "p1", "cut", (1, 3, Some("#"))))
        .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(
        sim.media_outcomes("cut").is_empty(),
        "the prompt plays first"
    );
    let collected = sim.media_event("cut", MediaOutcome::Collected).await;
    assert_eq!(collected.digits.as_deref(), Some("123"));
    assert_eq!(collected.participant_id, "p1");

    sim.send(&collect("m2", "cs1", "p1", "whole", (0, 0, Some("*"))))
        .await;
    let whole = sim.media_event("whole", MediaOutcome::Collected).await;
    assert_eq!(whole.digits.as_deref(), Some("1234#9"));

    sim.send(&collect("m3", "cs1", "p1", "few", (5, 0, Some("#"))))
        .await;
    let few = sim.media_event("few", MediaOutcome::Failed).await;
    assert_eq!(few.reason.as_deref(), Some("no input"));

    sim.send(&collect("m4", "cs1", "p2", "silent", (1, 0, None)))
        .await;
    let silent = sim.media_event("silent", MediaOutcome::Failed).await;
    assert_eq!(silent.reason.as_deref(), Some("no input"));

    let log = sim.log(Some("cs1")).await;
    let collects: Vec<_> = log.iter().filter(|e| e["kind"] == "collect").collect();
    assert_eq!(collects.len(), 4);
    assert_eq!(collects[0]["mediaId"], "cut");
    assert_eq!(collects[0]["url"], "https://media.example.com/menu.wav");
}

#[tokio::test]
async fn the_kind_decides_not_the_subject() {
    let sim = start().await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    sim.send_on("net.cmd.call.connect", &play("m1", "cs1", "p1", "med1"))
        .await;
    sim.media_event("med1", MediaOutcome::Played).await;
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_media_command_acts_once() {
    let sim = start().await;
    connected(&sim, "cs1", "p1", "tel:+4670").await;
    let command = play("m1", "cs1", "p1", "med1");
    sim.send(&command).await;
    sim.send(&command).await;
    // Another command for the same media still in progress is logged and ignored.
    sim.send(&play("m2", "cs1", "p1", "med1")).await;
    sim.media_event("med1", MediaOutcome::Played).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        sim.media_outcomes("med1"),
        [MediaOutcome::Playing, MediaOutcome::Played]
    );
    let plays: Vec<_> = sim
        .log(Some("cs1"))
        .await
        .into_iter()
        .filter(|e| e["kind"] == "play")
        .collect();
    assert_eq!(plays.len(), 2);
    assert_eq!(plays[1]["ignored"], true);
    assert_eq!(plays[1]["commandId"], "m2");
    assert!(json!(plays[0]).get("ignored").is_none());
}
