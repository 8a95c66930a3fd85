//! The persistent person attributes: tagline (note), status icon, favourite links,
//! location; and what is refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{person_path, three};
use crate::harness::{Mode, unique_tel};

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
    let icon = person_path(a, "statusIcon");
    let put = app
        .send(
            Method::PUT,
            &icon,
            Some(json!({"statusIcon": {"url": "http://img.example.com/me.png", "contentType": "image/png", "fileSize": 5120}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{:?}", put.body);
    let etag = put.body["statusIcon"]["etag"].as_str().unwrap().to_string();
    assert_eq!(put.body["statusIcon"]["fileSize"], 5120);
    let again = app
        .send(
            Method::PUT,
            &icon,
            Some(json!({"statusIcon": {"url": "http://img.example.com/me2.png"}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_ne!(
        again.body["statusIcon"]["etag"].as_str().unwrap(),
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
    assert_eq!(
        person["statusIcon"]["url"],
        "http://img.example.com/me2.png"
    );
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
            StatusCode::FORBIDDEN,
            "POL0011",
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
