//! The persistent person attributes: tagline (note), status icon, favourite links,
//! location; and what is refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{person_path, three};
use crate::{
    harness::{Mode, unique_tel},
    messaging::enc,
};

pub async fn the_note_is_set_read_replaced_and_deleted(mode: Mode) {
    let t = three(mode).await;
    let a = unique_tel();
    let app = t.suite.app("bound", &[&a]).await;
    let path = person_path("acr:Authorization", "noteList");
    let url = app.url(&path);
    assert_eq!(
        app.send(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    let body = json!({"noteList": {"note": [{"text": "In Lisbon until Friday", "lang": "en"}]}});
    let put = app.send(Method::PUT, &path, Some(body.clone())).await;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    assert_eq!(put.header("location"), url);
    assert_eq!(
        put.body,
        json!({"noteList": {"note": [{"text": "In Lisbon until Friday", "lang": "en"}], "resourceURL": url}})
    );
    let replaced = app
        .send(
            Method::PUT,
            &path,
            Some(json!({"noteList": {"note": {"text": "Gym"}}})),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    let read = app.send(Method::GET, &path, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["noteList"]["note"], json!([{"text": "Gym"}]));
    // The same user through its own address.
    let direct = app
        .send(Method::GET, &person_path(&a, "noteList"), None)
        .await;
    assert_eq!(direct.body["noteList"]["note"], json!([{"text": "Gym"}]));
    assert_eq!(
        app.send(Method::DELETE, &path, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(Method::DELETE, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
}

pub async fn icon_links_and_location_are_published(mode: Mode) {
    let t = three(mode).await;
    let (app, a) = (&t.app, &t.a);
    // Upload an image, point the icon at it.
    let content = format!("/presence/{}/content/me.png", enc(a));
    let png = b"\x89PNG\r\n\x1a\nfake image bytes".to_vec();
    let up = app
        .raw(Method::PUT, &content, "image/png", png.clone())
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.body);
    let content_url = app.url(&content);
    assert_eq!(up.header("location"), content_url);
    let gif = app
        .raw(
            Method::PUT,
            &format!("/presence/{}/content/x.bmp", enc(a)),
            "image/bmp",
            vec![1, 2],
        )
        .await;
    assert_eq!(
        (gif.status, gif.exception().0),
        (StatusCode::FORBIDDEN, "POL0011")
    );
    let big = app
        .raw(Method::PUT, &content, "image/png", vec![0; 300 * 1024])
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let icon = person_path(a, "statusIcon");
    let put = app
        .send(
            Method::PUT,
            &icon,
            Some(json!({"statusIcon": {"url": content_url}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    assert_eq!(put.body["statusIcon"]["contentType"], "image/png");
    assert_eq!(put.body["statusIcon"]["fileSize"], png.len());
    let etag = put.body["statusIcon"]["etag"].as_str().unwrap().to_string();
    let elsewhere = app
        .send(
            Method::PUT,
            &icon,
            Some(json!({"statusIcon": {"url": "http://img.example.com/me.png"}})),
        )
        .await;
    assert_eq!(elsewhere.exception(), ("SVC0002", vec!["url".to_string()]));
    // A new image under the same name: the icon's etag follows.
    let replaced = app
        .raw(
            Method::PUT,
            &content,
            "image/png",
            b"\x89PNG other".to_vec(),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT);
    let read = app.send(Method::GET, &icon, None).await;
    assert_ne!(
        read.body["statusIcon"]["etag"].as_str().unwrap(),
        etag,
        "a new etag"
    );
    let links = person_path(a, "linkList");
    let body = json!({"linkList": {"link": [{"url": "https://blog.example.net/alice", "label": "My blog"}]}});
    let put = app.send(Method::PUT, &links, Some(body)).await;
    assert_eq!(put.status, StatusCode::CREATED);
    assert_eq!(put.body["linkList"]["link"][0]["label"], "My blog");
    assert_eq!(
        put.body["linkList"]["resourceURL"],
        app.url(&links).as_str()
    );
    let location = person_path(a, "location");
    let put = app
        .send(
            Method::PUT,
            &location,
            Some(json!({"location": {"placeName": "Office, 3rd floor", "latitude": 38.7223, "longitude": -9.1393, "accuracy": 50}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    let read = app.send(Method::GET, &location, None).await;
    assert_eq!(read.body["location"]["latitude"], 38.7223);
    assert_eq!(read.body["location"]["placeName"], "Office, 3rd floor");
    // What a watcher sees: everything at once.
    super::mutual(app, &t.b, a).await;
    let seen = app
        .send(
            Method::GET,
            &format!(
                "/presence/{}/presenceContact/{}",
                crate::messaging::enc(&t.b),
                crate::messaging::enc(a)
            ),
            None,
        )
        .await;
    let person = &seen.body["presenceContact"]["person"];
    assert_eq!(person["statusIcon"]["url"], content_url.as_str());
    // B fetches the icon with its own key (an application acting for B only).
    let b_app = t.suite.app("b-only", &[&t.b]).await;
    let (status, headers, bytes) = b_app.get_bytes(&content_url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(bytes, b"\x89PNG other");
    // A stranger's key may not.
    let stranger = t.suite.app("c-only", &[&t.c]).await;
    let (status, _, _) = stranger.get_bytes(&content_url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        person["linkList"]["link"][0]["url"],
        "https://blog.example.net/alice"
    );
    assert_eq!(person["location"]["accuracy"], 50.0);
}

pub async fn bad_attributes_are_refused_and_change_nothing(mode: Mode) {
    let t = three(mode).await;
    let (app, a) = (&t.app, &t.a);
    let notes = person_path(a, "noteList");
    let eleven: Vec<_> = (0..11).map(|i| json!({"text": format!("n{i}")})).collect();
    let cases = [
        (
            notes.clone(),
            json!({"noteList": {"note": eleven}}),
            StatusCode::FORBIDDEN,
            "POL0260",
        ),
        (
            notes.clone(),
            json!({"noteList": {"note": []}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
        (
            notes.clone(),
            json!({"noteList": {"note": [{"text": "x"}], "resourceURL": "http://elsewhere/x"}}),
            StatusCode::BAD_REQUEST,
            "SVC0222",
        ),
        (
            notes.clone(),
            json!({"noteList": {"note": [{"text": "x", "colour": "red"}]}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
        (
            person_path(a, "statusIcon"),
            json!({"statusIcon": {"url": "http://x/y.bmp", "contentType": "image/bmp"}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
        (
            person_path(a, "statusIcon"),
            json!({"statusIcon": {"url": "not a url"}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
        (
            person_path(a, "linkList"),
            json!({"linkList": {"link": [{"url": "ftp://x"}]}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
        (
            person_path(a, "location"),
            json!({"location": {"latitude": 91, "longitude": 0}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
        (
            person_path(a, "location"),
            json!({"location": {"accuracy": 5}}),
            StatusCode::BAD_REQUEST,
            "SVC0002",
        ),
    ];
    for (path, body, status, id) in cases {
        let r = app.send(Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(
            (r.status, r.exception().0),
            (status, id),
            "{body}: {:?}",
            r.body
        );
        assert_eq!(
            app.send(Method::GET, &path, None).await.status,
            StatusCode::NOT_FOUND,
            "{body}"
        );
    }
    let r = app
        .raw(
            Method::PUT,
            &notes,
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.send(Method::POST, &notes, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
