//! Audio Call end to end (docs/call-notification.md "Audio Call"): Send Audio with its
//! status list, Receive Audio (play and record, the recording fetched from its URL), play
//! and collect, and the refusals; on Third Party Call sessions and on network calls.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod interactions;

use crate::{
    callnotification::{
        CONNECTED, call_subscription, session_url, subscribe, subscribed, until_statuses,
    },
    harness::{Answer, App, Mode, Suite, both_modes, unique_tel},
    receiver::Receiver,
};

both_modes!(
    send_audio_and_poll_its_status_list,
    audio_requests_are_refused_with_the_right_exceptions,
    the_notified_application_plays_into_a_network_call,
    a_deleted_message_stops_and_a_leg_that_ends_is_an_error,
);

const PROMPT: &str = "https://app.example.org/prompts/welcome.wav";

/// A Third Party Call session of `addresses`, once every participant is connected; returns
/// its URL and id.
async fn connected_session(app: &App, addresses: &[&str]) -> (String, String) {
    let created = app.create_call(addresses, None, None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let url = created.header("location").to_string();
    until_statuses(app, &url, &vec![CONNECTED; addresses.len()]).await;
    let id = url.rsplit('/').next().unwrap_or_default().to_string();
    (url, id)
}

async fn play(app: &App, message: Value) -> Answer {
    app.send(
        Method::POST,
        "/audiocall/messages/audio",
        Some(json!({ "audioMessage": message })),
    )
    .await
}

/// Checks a 201 under `{api}/audiocall/{collection}/` with `Location` = `resourceURL`.
fn created_under(suite: &Suite, collection: &str, root: &str, r: &Answer) -> String {
    assert_eq!(r.status, StatusCode::CREATED, "{collection}: {:?}", r.body);
    let url = r.body[root]["resourceURL"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(r.header("location"), url, "{:?}", r.body);
    let under = format!("{}/audiocall/{collection}/", suite.api);
    assert!(url.starts_with(&under), "{url} is not under {under}");
    url
}

/// The statuses of a message's status list, in order.
async fn status_list(app: &App, message_url: &str) -> Vec<(String, String)> {
    let r = app.get_url(&format!("{message_url}/statusList")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let list = &r.body["messageStatusList"];
    assert_eq!(list["resourceURL"], format!("{message_url}/statusList"));
    list["messageStatus"]
        .as_array()
        .unwrap_or_else(|| panic!("no messageStatus array: {}", r.body))
        .iter()
        .map(|s| {
            (
                s["callParticipant"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Polls the status list until every participant is `Played`; checks that statuses only
/// ever moved forward (Pending → Playing → Played) on the way.
async fn until_played(app: &App, message_url: &str, participants: &[&str]) {
    let rank = |s: &str| match s {
        "Pending" => 0,
        "Playing" => 1,
        "Played" => 2,
        other => panic!("unexpected status {other} for {message_url}"),
    };
    let mut last: Vec<i32> = vec![0; participants.len()];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let list = status_list(app, message_url).await;
        let who: Vec<_> = list.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            who, participants,
            "one entry per participant, in request order"
        );
        for (i, (_, status)) in list.iter().enumerate() {
            let r = rank(status);
            assert!(r >= last[i], "status went backwards: {list:?}");
            last[i] = r;
        }
        if list.iter().all(|(_, s)| s == "Played") {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 10s: {message_url} Played; last seen {list:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn send_audio_and_poll_its_status_list(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b) = (unique_tel(), unique_tel());
    suite
        .set_rules(json!([{"address": b, "call": "answer", "playMs": 300}]))
        .await;
    let app = suite.app("announcer", &[]).await;
    let (_, id) = connected_session(&app, &[&a, &b]).await;
    let r = play(
        &app,
        json!({"callSessionIdentifier": id, "callParticipant": [b], "audioUrl": PROMPT,
               "mediaType": "audio/wav", "interruptMedia": "true",
               "clientCorrelator": "am-4410"}),
    )
    .await;
    let url = created_under(&suite, "messages/audio", "audioMessage", &r);
    let m = &r.body["audioMessage"];
    assert_eq!(m["callSessionIdentifier"], id.as_str());
    assert_eq!(m["callParticipant"], json!([b]));
    assert_eq!(m["audioUrl"], PROMPT);
    assert_eq!(m["mediaType"], "audio/wav");
    assert_eq!(m["interruptMedia"], true);
    assert_eq!(m["clientCorrelator"], "am-4410");
    assert_eq!(r.header("content-type"), "application/json");

    until_played(&app, &url, &[&b]).await;
    let log = suite.network_log(&id).await;
    assert!(
        log.iter()
            .any(|c| c["kind"] == "play" && c["address"] == b.as_str() && c["url"] == PROMPT),
        "no play of {PROMPT} to {b}: {log:?}"
    );
    // A retry with the same correlator is the same message, played once (counted below,
    // after a later message reached the network); another body with it is SVC0005.
    let original = json!({"callSessionIdentifier": id, "callParticipant": [b],
                          "audioUrl": PROMPT, "mediaType": "audio/wav",
                          "interruptMedia": "true", "clientCorrelator": "am-4410"});
    let again = play(&app, original.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    assert_eq!(again.header("location"), url);
    let mut changed = original;
    changed["callParticipant"] = json!([a]);
    let r = play(&app, changed).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception().0, "SVC0005");
    let read = app.get_url(&url).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    assert_eq!(read.body["audioMessage"]["resourceURL"], url.as_str());
    assert_eq!(read.body["audioMessage"]["callParticipant"], json!([b]));

    // Two participants (one as ALU's `address` and `mediaURL`): their statuses in order.
    let r = play(
        &app,
        json!({"callSessionId": id, "address": [b, a], "mediaURL": PROMPT}),
    )
    .await;
    let both = created_under(&suite, "messages/audio", "audioMessage", &r);
    until_played(&app, &both, &[&b, &a]).await;
    let plays_to_b = suite
        .network_log(&id)
        .await
        .into_iter()
        .filter(|c| c["kind"] == "play" && c["address"] == b.as_str())
        .count();
    assert_eq!(plays_to_b, 2, "the correlator retry was played again");

    let other = suite.app("other", &[]).await;
    assert_eq!(other.get_url(&url).await.status, StatusCode::NOT_FOUND);
    let deleted = app.delete_url(&url).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    assert_eq!(app.get_url(&url).await.status, StatusCode::NOT_FOUND);
    let gone = app.get_url(&format!("{url}/statusList")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

async fn audio_requests_are_refused_with_the_right_exceptions(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("announcer", &[]).await;
    let other = suite.app("other", &[]).await;
    let (a, b, stranger) = (unique_tel(), unique_tel(), unique_tel());
    let (url, id) = connected_session(&app, &[&a, &b]).await;
    let message = |session: &str, to: &str| json!({"callSessionIdentifier": session, "callParticipant": [to], "audioUrl": PROMPT});

    let mut flac = message(&id, &b);
    flac["mediaType"] = json!("audio/flac");
    let r = play(&app, flac).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(r.exception(), ("POL0011", vec!["audio/flac".to_string()]));
    let mut video = message(&id, &b);
    video["messageFormat"] = json!("Video");
    let r = play(&app, video).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(r.exception().0, "POL0011");

    let r = play(&app, message(&id, &stranger)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception(), ("SVC0004", vec![stranger.clone()]));

    let session_field = vec!["callSessionIdentifier".to_string()];
    for r in [
        play(&app, message("csnosuchsession00000", &b)).await,
        play(&other, message(&id, &b)).await,
    ] {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.exception(), ("SVC0002", session_field.clone()));
    }
    let r = subscribe(
        &app,
        "recording",
        json!({"callbackReference": {"notifyURL": "http://127.0.0.1:9/hook"},
               "callSessionIdentifier": "csnosuchsession00000"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception(), ("SVC0002", session_field.clone()));

    assert_eq!(app.delete_url(&url).await.status, StatusCode::NO_CONTENT);
    let r = play(&app, message(&id, &b)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception(), ("SVC0261", vec![id.clone()]));
    let r = app
        .get_url(&format!(
            "{}/audiocall/messages/audio/amnosuchmessage00000",
            suite.api
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// A network call's session, once notified, takes Audio Call requests like one's own.
async fn the_notified_application_plays_into_a_network_call(mode: Mode) {
    let suite = Suite::start(mode).await;
    let app = suite.app("greeter", &[]).await;
    let other = suite.app("other", &[]).await;
    let hook = Receiver::start().await;
    let (caller, callee) = (unique_tel(), unique_tel());
    subscribed(
        &suite,
        &app,
        "callEvent",
        call_subscription(&hook.url, &[&callee], Some(&["Answer"]), "greet"),
    )
    .await;
    suite.dial(&caller, &callee).await;
    let id = hook
        .until("an Answer notification", 10, |r| r.call_event() == "Answer")
        .await
        .call_session()
        .to_string();
    until_statuses(&app, &session_url(&suite, &id), &[CONNECTED, CONNECTED]).await;
    let message = json!({"callSessionIdentifier": id, "callParticipant": caller,
                         "audioUrl": PROMPT, "mediaType": "audio/mpeg"});
    let refused = play(&other, message.clone()).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.exception().0, "SVC0002");
    let r = play(&app, message).await;
    let url = created_under(&suite, "messages/audio", "audioMessage", &r);
    assert_eq!(r.body["audioMessage"]["callParticipant"], json!([caller]));
    until_played(&app, &url, &[&caller]).await;
}

/// Waits until the message's status list says `Playing` for every participant.
async fn until_playing(app: &App, message_url: &str) {
    let mut last = Vec::new();
    for _ in 0..400 {
        last = status_list(app, message_url).await;
        if last.iter().all(|(_, s)| s == "Playing") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("not within 10s: {message_url} Playing; last seen {last:?}");
}

/// DELETE of a message being played stops it at the network; a participant whose leg ends
/// during the play gets `Error`, and is then no participant to play to.
async fn a_deleted_message_stops_and_a_leg_that_ends_is_an_error(mode: Mode) {
    let suite = Suite::start(mode).await;
    let (a, b, c) = (unique_tel(), unique_tel(), unique_tel());
    suite
        .set_rules(json!([
            {"address": b, "call": "answer", "playMs": 20000},
            {"address": c, "call": "answer", "playMs": 20000},
        ]))
        .await;
    let app = suite.app("long-player", &[]).await;
    let (_, id) = connected_session(&app, &[&a, &b, &c]).await;
    let message = |to: &str| json!({"callSessionIdentifier": id, "callParticipant": [to], "audioUrl": PROMPT});

    let r = play(&app, message(&b)).await;
    let stopped = created_under(&suite, "messages/audio", "audioMessage", &r);
    until_playing(&app, &stopped).await;
    let deleted = app.delete_url(&stopped).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    assert_eq!(app.get_url(&stopped).await.status, StatusCode::NOT_FOUND);
    crate::callnotification::until_logged(&suite, &id, "stop", &b).await;

    let r = play(&app, message(&c)).await;
    let cut = created_under(&suite, "messages/audio", "audioMessage", &r);
    until_playing(&app, &cut).await;
    suite.hang_up(&id, &c).await;
    let mut last = Vec::new();
    for _ in 0..400 {
        last = status_list(&app, &cut).await;
        if last == [(c.clone(), "Error".to_string())] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        last,
        [(c.clone(), "Error".to_string())],
        "after {c} hung up"
    );
    let r = play(&app, message(&c)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.exception(), ("SVC0004", vec![c.clone()]));
}
