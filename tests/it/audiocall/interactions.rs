//! Audio Call interactions end to end: play and record (Receive Audio, the recording
//! fetched from its URL) and play and collect, their results delivered through the
//! starter's Call Notification media-interaction subscriptions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{PROMPT, connected_session, created_under};
use crate::{
    callnotification::{created, subscribe, subscribed},
    harness::{App, Mode, Suite, both_modes, unique_tel},
    receiver::{Received, Receiver},
};

both_modes!(
    receive_audio_records_and_serves_the_recording,
    play_and_collect_delivers_the_digits_to_the_starter_only,
    a_session_filter_limits_the_results,
);

/// `mediaInteractionNotification` of a received webhook.
fn media(r: &Received) -> &Value {
    &r.body["mediaInteractionNotification"]
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// Receive Audio: a recording subscription, then a play-and-record interaction; the
/// notification points at the recording, which only the starter may fetch.
async fn receive_audio_records_and_serves_the_recording(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b) = (unique_tel(), unique_tel());
    suite
        .set_rules(json!([{"address": b, "call": "answer", "playMs": 100,
                           "recording": {"durationMs": 500, "contentType": "audio/wav"}}]))
        .await;
    let app = suite.app("voicemail", &[]).await;
    let other = suite.app("other", &[]).await;
    let hook = Receiver::start().await;
    let (_, id) = connected_session(&app, &[&a, &b]).await;
    let r = subscribe(
        &app,
        "recording",
        json!({"callbackReference": {"notifyURL": hook.url, "callbackData": "vm-box-1"},
               "callSessionIdentifier": id, "clientCorrelator": "rec-1"}),
    )
    .await;
    let sub_url = created(&suite, "recording", &r);
    let s = &r.body["playAndRecordInteractionSubscription"];
    assert_eq!(s["callSessionIdentifier"], id.as_str());
    assert_eq!(s["callbackReference"]["callbackData"], "vm-box-1");
    assert_eq!(s["clientCorrelator"], "rec-1");
    let again = subscribe(
        &app,
        "recording",
        json!({"callbackReference": {"notifyURL": hook.url, "callbackData": "vm-box-1"},
               "callSessionIdentifier": id, "clientCorrelator": "rec-1"}),
    )
    .await;
    assert_eq!(
        created(&suite, "recording", &again),
        sub_url,
        "correlator replay"
    );
    assert_eq!(other.get_url(&sub_url).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.delete_url(&sub_url).await.status,
        StatusCode::NOT_FOUND
    );

    let r = app
        .send(
            Method::POST,
            "/audiocall/interactions/recording",
            Some(json!({"playAndRecordInteraction": {
                "callSessionIdentifier": id, "callParticipant": b,
                "playingConfiguration": {"playFileLocation": PROMPT, "mediaType": "audio/wav",
                                         "interruptMedia": false},
                "maxDuration": 60, "clientCorrelator": "rec-req-9"}})),
        )
        .await;
    let interaction = created_under(
        &suite,
        "interactions/recording",
        "playAndRecordInteraction",
        &r,
    );
    assert_eq!(
        r.body["playAndRecordInteraction"]["callParticipant"],
        b.as_str()
    );
    assert_eq!(
        r.body["playAndRecordInteraction"]["maxDuration"], 30,
        "shortened to call.max_recording_secs"
    );

    let got = hook
        .until("the recording notification", 10, |r| {
            media(r)["notificationType"] == "PlayAndRecord"
        })
        .await;
    let n = media(&got);
    assert_eq!(n["callParticipant"], b.as_str());
    assert_eq!(n["callSessionIdentifier"], id.as_str());
    assert_eq!(n["callbackData"], "vm-box-1");
    assert_eq!(
        n["link"],
        json!([{"rel": "PlayAndRecordInteraction", "href": interaction}])
    );
    let recording = n["mediaInteractionResult"].as_str().unwrap_or_default();
    assert!(
        recording.starts_with(&format!("{}/audiocall/recordings/", suite.api)),
        "not a recording URL: {n}"
    );
    let log = suite.network_log(&id).await;
    assert!(
        log.iter()
            .any(|c| c["kind"] == "record" && c["address"] == b.as_str() && c["url"] == PROMPT),
        "no record of {b} with the prompt: {log:?}"
    );

    let (status, headers, bytes) = app.get_bytes(recording).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers.get("content-type").unwrap(), "audio/wav");
    assert!(bytes.len() >= 44, "{} bytes", bytes.len());
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    assert_eq!(u32_at(&bytes, 4) as usize, bytes.len() - 8);
    assert_eq!(&bytes[36..40], b"data");
    let (byte_rate, data_len) = (u32_at(&bytes, 28), u32_at(&bytes, 40));
    assert_eq!(
        u64::from(data_len) * 1_000 / u64::from(byte_rate),
        500,
        "recording length in ms (rule durationMs 500)"
    );
    let (status, _, _) = other.get_bytes(recording).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let read = app.get_url(&interaction).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    assert_eq!(
        read.body["playAndRecordInteraction"]["interactionStatus"],
        json!([{"callParticipant": b, "status": "Played"}])
    );
    assert_eq!(
        other.get_url(&interaction).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get_url(&sub_url).await.status, StatusCode::OK);
    assert_eq!(
        app.delete_url(&sub_url).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get_url(&sub_url).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete_url(&interaction).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_url(&interaction).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Starts a collection of `who`'s digits in `session` as `app` (Nokia's `digitCapture`
/// root when `nokia`); returns the interaction's URL.
async fn collect(suite: &Suite, app: &App, session: &str, who: &str, nokia: bool) -> String {
    let root = if nokia {
        "digitCapture"
    } else {
        "playAndCollectInteraction"
    };
    let r = app
        .send(
            Method::POST,
            "/audiocall/interactions/collection",
            Some(json!({root: {
                "callSessionIdentifier": session, "callParticipant": [who],
                "playingConfiguration": {"playFileLocation": PROMPT, "messageFormat": "Audio",
                                         "mediaType": "audio/wav", "interruptMedia": true},
                "digitConfiguration": {"minDigits": 1, "maxDigits": 4, "endChar": "#"}}})),
        )
        .await;
    created_under(
        suite,
        "interactions/collection",
        "playAndCollectInteraction",
        &r,
    )
}

/// Play and collect: the digits the participant presses go to the starter's collection
/// subscriptions, not to another application's.
async fn play_and_collect_delivers_the_digits_to_the_starter_only(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b, c) = (unique_tel(), unique_tel(), unique_tel());
    suite
        .set_rules(json!([
            {"address": b, "call": "answer", "playMs": 50, "digits": "1234"},
            {"address": c, "call": "answer", "playMs": 50, "digits": "9"},
        ]))
        .await;
    let app = suite.app("ivr", &[]).await;
    let other = suite.app("other-ivr", &[]).await;
    let (mine, theirs) = (Receiver::start().await, Receiver::start().await);
    let body = |url: &str| json!({"callbackReference": {"notifyURL": url, "callbackData": "dtmf"}});
    subscribed(&suite, &app, "collection", body(&mine.url)).await;
    subscribed(&suite, &other, "collection", body(&theirs.url)).await;

    let (_, id) = connected_session(&app, &[&a, &b]).await;
    let interaction = collect(&suite, &app, &id, &b, false).await;
    let got = mine
        .until("the digits", 10, |r| {
            media(r)["notificationType"] == "PlayAndCollect"
        })
        .await;
    let n = media(&got);
    assert_eq!(n["mediaInteractionResult"], "1234");
    assert_eq!(n["callParticipant"], b.as_str());
    assert_eq!(n["callSessionIdentifier"], id.as_str());
    assert_eq!(n["callbackData"], "dtmf");
    assert_eq!(
        n["link"],
        json!([{"rel": "PlayAndCollectInteraction", "href": interaction}])
    );
    let read = app.get_url(&interaction).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    let i = &read.body["playAndCollectInteraction"];
    assert_eq!(
        i["interactionStatus"],
        json!([{"callParticipant": b, "status": "Played"}])
    );
    assert_eq!(i["digitConfiguration"]["maxDigits"], 4);

    // The other application's own collection is the marker: app's digits went out before.
    let (_, theirs_id) = connected_session(&other, &[&a, &c]).await;
    collect(&suite, &other, &theirs_id, &c, true).await;
    theirs
        .until("the other application's digits", 10, |r| {
            media(r)["mediaInteractionResult"] == "9"
        })
        .await;
    assert_eq!(
        theirs.received().len(),
        1,
        "another application's results delivered: {:?}",
        theirs.received()
    );
    assert_eq!(mine.received().len(), 1, "{:?}", mine.received());
}

/// A subscription limited to one session is not told of another session's results.
async fn a_session_filter_limits_the_results(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b) = (unique_tel(), unique_tel());
    suite
        .set_rules(json!([{"address": b, "call": "answer", "playMs": 50, "digits": "42"}]))
        .await;
    let app = suite.app("ivr", &[]).await;
    let (limited, all) = (Receiver::start().await, Receiver::start().await);
    let (_, first) = connected_session(&app, &[&a, &b]).await;
    let (_, second) = connected_session(&app, &[&a, &b]).await;
    // ALU's `callSessionId` spelling of the filter.
    subscribed(
        &suite,
        &app,
        "collection",
        json!({"callbackReference": {"notifyURL": limited.url}, "callSessionId": first}),
    )
    .await;
    subscribed(
        &suite,
        &app,
        "collection",
        json!({"callbackReference": {"notifyURL": all.url}}),
    )
    .await;
    collect(&suite, &app, &second, &b, false).await;
    all.until("the second session's digits", 10, |r| {
        media(r)["callSessionIdentifier"] == second.as_str()
    })
    .await;
    collect(&suite, &app, &first, &b, false).await;
    let got = limited
        .until("the first session's digits", 10, |r| {
            media(r)["mediaInteractionResult"] == "42"
        })
        .await;
    assert_eq!(media(&got)["callSessionIdentifier"], first.as_str());
    all.until("the first session's digits too", 10, |r| {
        media(r)["callSessionIdentifier"] == first.as_str()
    })
    .await;
    assert_eq!(
        limited.received().len(),
        1,
        "another session's results: {:?}",
        limited.received()
    );
}
