//! Audio Call through the router to a fake call service: messages, status lists,
//! interactions, recordings, and the error table (SVC0261, POL0011, SVC0004, bad input).

use axum::{
    body::to_bytes,
    http::{Method, StatusCode, header},
};
use parlay_proto::call::v1::InteractionKind;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{
    fake_media::{FakeMedia, NOT_IN_CALL},
    helpers::{Harness, ROOT, harness},
};

const ALICE: &str = "tel:+15551230001";
const BOB: &str = "tel:+15551230002";
const WAV: &str = "https://app.example.org/prompts/welcome.wav";
const MESSAGES: &str = "/1/audiocall/messages/audio";
const INTERACTIONS: &str = "/1/audiocall/interactions";

async fn gateway(users: &[&str]) -> (Harness, FakeMedia) {
    let (url, fake) = FakeMedia::spawn().await;
    (harness(users, &url).await, fake)
}

fn play(session: &str, participant: &str, extra: Value) -> String {
    let mut body = json!({"audioMessage": {
        "callSessionIdentifier": session,
        "callParticipant": [participant],
        "audioUrl": WAV,
        "mediaType": "audio/wav",
        "interruptMedia": true,
        "clientCorrelator": "am-4410"}});
    let inner = body["audioMessage"].as_object_mut().unwrap();
    for (k, v) in extra.as_object().unwrap() {
        inner.insert(k.clone(), v.clone());
    }
    body.to_string()
}

#[tokio::test]
async fn audio_is_played_read_listed_and_stopped() {
    let (h, fake) = gateway(&[BOB]).await;
    let reply = h
        .call(
            Method::POST,
            MESSAGES,
            Some(&play("cs7f31", "acr:Authorization", json!({}))),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/audiocall/messages/audio/am19");
    assert_eq!(reply.header(header::LOCATION), url);
    assert_eq!(
        reply.body,
        json!({"audioMessage": {
          "callSessionIdentifier": "cs7f31",
          "callParticipant": [BOB],
          "audioUrl": WAV,
          "mediaType": "audio/wav",
          "interruptMedia": true,
          "clientCorrelator": "am-4410",
          "resourceURL": url}})
    );
    assert_eq!(fake.messages.lock().unwrap()[0].participants, [BOB]);

    let read = h.call(Method::GET, &format!("{MESSAGES}/am19"), None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["audioMessage"]["resourceURL"], url);

    let list = h
        .call(Method::GET, &format!("{MESSAGES}/am19/statusList"), None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body,
        json!({"messageStatusList": {
          "messageStatus": [{"callParticipant": BOB, "status": "Played"}],
          "resourceURL": format!("{url}/statusList")}})
    );

    let stopped = h
        .call(Method::DELETE, &format!("{MESSAGES}/am19"), None)
        .await;
    assert_eq!(stopped.status, StatusCode::NO_CONTENT);
    let gone = h
        .call(Method::GET, &format!("{MESSAGES}/am20/statusList"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.exception(), ("SVC0002".into(), json!(["messageId"])));

    let put = h
        .call(Method::PUT, &format!("{MESSAGES}/am19"), Some("{}"))
        .await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.header(header::ALLOW), "GET, DELETE");
}

#[tokio::test]
async fn service_errors_follow_the_table() {
    let (h, _) = gateway(&[]).await;
    let cases = [
        (
            play("csended", BOB, json!({})),
            400,
            "SVC0261",
            json!(["csended"]),
        ),
        (
            play("csgone", BOB, json!({})),
            400,
            "SVC0002",
            json!(["callSessionIdentifier"]),
        ),
        (
            play("csnotfound", BOB, json!({})),
            400,
            "SVC0002",
            json!(["callSessionIdentifier"]),
        ),
        (
            play("cs7f31", NOT_IN_CALL, json!({})),
            400,
            "SVC0004",
            json!([NOT_IN_CALL]),
        ),
        (
            play("cs7f31", BOB, json!({"mediaType": "audio/flac"})),
            403,
            "POL0011",
            json!(["audio/flac"]),
        ),
    ];
    for (body, status, id, variables) in cases {
        let reply = h.call(Method::POST, MESSAGES, Some(&body)).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.body);
        assert_eq!(reply.exception(), (id.to_owned(), variables), "{body}");
    }
    let flac = h
        .call(
            Method::POST,
            MESSAGES,
            Some(&play("cs7f31", BOB, json!({"mediaType": "audio/flac"}))),
        )
        .await;
    assert!(flac.body["requestError"]["policyException"].is_object());
}

#[tokio::test]
async fn bad_audio_requests_are_refused_at_the_edge() {
    let (h, fake) = gateway(&[]).await;
    let cases = [
        (
            play("cs7f31", BOB, json!({"audioUrl": "ftp://x/y.wav"})),
            400,
            "SVC0002",
            json!(["audioUrl"]),
        ),
        (
            play("cs7f31", "tel:12", json!({})),
            400,
            "SVC0004",
            json!(["callParticipant"]),
        ),
        (
            play("cs7f31", BOB, json!({"callParticipant": []})),
            400,
            "SVC0004",
            json!(["callParticipant"]),
        ),
        (
            play("cs7f31", BOB, json!({"messageFormat": "Video"})),
            403,
            "POL0011",
            json!(["Video"]),
        ),
        (
            play("cs7f31", BOB, json!({"interruptMedia": "sometimes"})),
            400,
            "SVC0002",
            json!(["interruptMedia"]),
        ),
        (
            play("cs/7f31", BOB, json!({})),
            400,
            "SVC0002",
            json!(["callSessionIdentifier"]),
        ),
        (
            play("cs7f31", "acr:Authorization", json!({})),
            403,
            "POL0002",
            json!(["acr:Authorization"]),
        ),
        (
            play("cs7f31", BOB, json!({"resourceURL": "http://x"})),
            400,
            "SVC0002",
            json!(["resourceURL"]),
        ),
    ];
    for (body, status, id, variables) in cases {
        let reply = h.call(Method::POST, MESSAGES, Some(&body)).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.body);
        assert_eq!(reply.exception(), (id.to_owned(), variables), "{body}");
    }
    assert!(fake.messages.lock().unwrap().is_empty());
    // Vendor spellings.
    let alu = json!({"audioMessage": {"callSessionId": "cs7f31", "address": BOB,
        "mediaURL": WAV, "interruptMedia": "false"}})
    .to_string();
    let reply = h.call(Method::POST, MESSAGES, Some(&alu)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["audioMessage"]["interruptMedia"], false);
    assert_eq!(reply.body["audioMessage"]["callParticipant"], json!([BOB]));
}

#[tokio::test]
async fn recording_interactions() {
    let (h, fake) = gateway(&[]).await;
    let body = json!({"playAndRecordInteraction": {
        "callSessionIdentifier": "cs7f31",
        "callParticipant": "tel:+15557654321",
        "playingConfiguration": {"playFileLocation": WAV, "mediaType": "audio/wav",
                                 "interruptMedia": false},
        "maxDuration": 60,
        "clientCorrelator": "rec-req-9"}})
    .to_string();
    let collection = format!("{INTERACTIONS}/recording");
    let reply = h.call(Method::POST, &collection, Some(&body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/audiocall/interactions/recording/ir204");
    assert_eq!(reply.header(header::LOCATION), url);
    assert_eq!(
        reply.body,
        json!({"playAndRecordInteraction": {
          "callSessionIdentifier": "cs7f31",
          "callParticipant": "tel:+15557654321",
          "playingConfiguration": {"playFileLocation": WAV, "mediaType": "audio/wav",
                                   "interruptMedia": false},
          // The spec example's 60 s, shortened to call.max_recording_secs (30 s).
          "maxDuration": 30,
          "clientCorrelator": "rec-req-9",
          "resourceURL": url}})
    );
    assert_eq!(
        fake.interactions.lock().unwrap()[0].kind(),
        InteractionKind::Recording
    );

    let read = h
        .call(Method::GET, &format!("{collection}/ir204"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(
        read.body["playAndRecordInteraction"]["interactionStatus"],
        json!([{"callParticipant": "tel:+15557654321", "status": "Played"}])
    );
    let deleted = h
        .call(Method::DELETE, &format!("{collection}/ir204"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let refs = fake.refs.lock().unwrap().clone();
    assert!(
        refs.iter()
            .all(|(k, _)| *k == InteractionKind::Recording as i32)
    );

    for (patch, id, variables) in [
        (json!({"maxDuration": 0}), "SVC0002", json!(["maxDuration"])),
        (json!({"maxDuration": 0}), "SVC0002", json!(["maxDuration"])),
        (
            json!({"callParticipant": [ALICE, BOB]}),
            "SVC0002",
            json!(["callParticipant"]),
        ),
        (
            json!({"playingConfiguration": {"playFileLocation": "nowhere"}}),
            "SVC0002",
            json!(["playFileLocation"]),
        ),
        (
            json!({"playingConfiguration": {"playFileLocation": WAV, "messageFormat": "Video"}}),
            "POL0011",
            json!(["Video"]),
        ),
    ] {
        let mut bad: Value = serde_json::from_str(&body).unwrap();
        let inner = bad["playAndRecordInteraction"].as_object_mut().unwrap();
        for (k, v) in patch.as_object().unwrap() {
            inner.insert(k.clone(), v.clone());
        }
        let reply = h
            .call(Method::POST, &collection, Some(&bad.to_string()))
            .await;
        assert!(reply.status.is_client_error(), "{bad}: {}", reply.status);
        assert_eq!(reply.exception(), (id.to_owned(), variables), "{bad}");
    }
}

#[tokio::test]
async fn collection_interactions_accept_the_nokia_root() {
    let (h, fake) = gateway(&[]).await;
    let body = json!({"digitCapture": {
        "callSessionIdentifier": "cs7f31",
        "digitConfiguration": {"minDigits": 1, "maxDigits": 4, "endChar": "#"},
        "playingConfiguration": {"playFileLocation": WAV, "messageFormat": "Audio",
                                 "mediaType": "audio/wav", "interruptMedia": true},
        "callParticipant": ["tel:+15557654321"]}})
    .to_string();
    let collection = format!("{INTERACTIONS}/collection");
    let reply = h.call(Method::POST, &collection, Some(&body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let url = format!("{ROOT}/audiocall/interactions/collection/ir204");
    assert_eq!(reply.header(header::LOCATION), url);
    let i = &reply.body["playAndCollectInteraction"];
    assert_eq!(
        i["digitConfiguration"],
        json!({"minDigits": 1, "maxDigits": 4, "endChar": "#"})
    );
    assert_eq!(i["callParticipant"], json!(["tel:+15557654321"]));
    assert_eq!(i["playingConfiguration"]["playFileLocation"], WAV);
    let seen = fake.interactions.lock().unwrap()[0].clone();
    assert_eq!(seen.kind(), InteractionKind::Collection);
    assert_eq!((seen.min_digits, seen.max_digits), (Some(1), Some(4)));

    let bad = body.replace(r##""endChar":"#""##, r#""endChar":"x""#);
    assert_ne!(bad, body);
    let reply = h.call(Method::POST, &collection, Some(&bad)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.exception(), ("SVC0002".into(), json!(["endChar"])));
    let bad = body.replace(r#""minDigits":1"#, r#""minDigits":5"#);
    let reply = h.call(Method::POST, &collection, Some(&bad)).await;
    assert_eq!(reply.exception(), ("SVC0002".into(), json!(["minDigits"])));

    let read = h
        .call(Method::GET, &format!("{collection}/ir204"), None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["playAndCollectInteraction"]["resourceURL"], url);
    let missing = h
        .call(Method::GET, &format!("{collection}/ir999"), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.exception(),
        ("SVC0002".into(), json!(["interactionId"]))
    );
}

#[tokio::test]
async fn recordings_are_served_as_media() {
    let (h, _) = gateway(&[]).await;
    let response = h
        .router
        .clone()
        .oneshot(h.request(Method::GET, "/1/audiocall/recordings/rc5521", None))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "audio/wav");
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert_eq!(&bytes[..], b"RIFF!");

    let other = h
        .call(Method::GET, "/1/audiocall/recordings/rcother", None)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.exception(),
        ("SVC0002".into(), json!(["recordingId"]))
    );
    let post = h
        .call(Method::POST, "/1/audiocall/recordings/rc5521", Some("{}"))
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header(header::ALLOW), "GET");
}
