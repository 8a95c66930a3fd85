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

/// GET `presenceSource/persistent` and `…/persistent/person`: 404 until something is set
/// (a temporary source is not the persistent one), then every attribute set with its own
/// `resourceURL`, the wrapper's `resourceURL` as the request wrote `{userId}`; 404 again
/// once everything is deleted.
pub async fn the_persistent_source_is_read_whole(mode: Mode) {
    let t = three(mode).await;
    let a = unique_tel();
    let app = t.suite.app("bound", &[&a]).await;
    let me = "acr:Authorization";
    let source = format!("/presence/{}/presenceSource/persistent", enc(me));
    let person = format!("{source}/person");
    for (path, name) in [(&source, "persistent"), (&person, "person")] {
        let r = app.send(Method::GET, path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.exception(), ("SVC0002", vec![name.to_string()]));
        assert!(r.body["requestError"]["serviceException"]["text"].is_string());
    }
    let hyper = app
        .send(
            Method::POST,
            &format!("/presence/{}/presenceSource", enc(me)),
            Some(json!({"presenceSource": {
                "person": {"overridingWillingness": {"basic": "open"}}, "duration": 600}})),
        )
        .await;
    assert_eq!(hyper.status, StatusCode::CREATED, "{:?}", hyper.body);
    assert_eq!(
        app.send(Method::GET, &source, None).await.status,
        StatusCode::NOT_FOUND,
        "a temporary source is not the persistent one"
    );

    let notes = json!([{"text": "In Lisbon until Friday", "lang": "en"}]);
    let put = app
        .send(
            Method::PUT,
            &person_path(me, "noteList"),
            Some(json!({"noteList": {"note": notes}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED);
    let content = format!("/presence/{}/content/me.gif", enc(me));
    let up = app
        .raw(Method::PUT, &content, "image/gif", b"GIF89a bytes".to_vec())
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{:?}", up.body);
    let icon = app
        .send(
            Method::PUT,
            &person_path(me, "statusIcon"),
            Some(json!({"statusIcon": {"url": app.url(&content)}})),
        )
        .await;
    assert_eq!(icon.status, StatusCode::CREATED, "{:?}", icon.body);
    let links = json!([{"url": "https://blog.example.net/a", "label": "Blog"}]);
    let put = app
        .send(
            Method::PUT,
            &person_path(me, "linkList"),
            Some(json!({"linkList": {"link": links}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED);
    let put = app
        .send(
            Method::PUT,
            &person_path(me, "location"),
            Some(
                json!({"location": {"placeName": "Office", "latitude": 38.5, "longitude": -9.25}}),
            ),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED);

    let expected_person = |person_url: Option<String>| {
        let mut p = json!({
            "noteList": {"note": notes, "resourceURL": app.url(&person_path(me, "noteList"))},
            "statusIcon": {
                "url": app.url(&content),
                "contentType": "image/gif",
                "etag": icon.body["statusIcon"]["etag"],
                "fileSize": 12,
                "resourceURL": app.url(&person_path(me, "statusIcon"))},
            "linkList": {"link": links, "resourceURL": app.url(&person_path(me, "linkList"))},
            "location": {"placeName": "Office", "latitude": 38.5, "longitude": -9.25,
                         "resourceURL": app.url(&person_path(me, "location"))},
        });
        if let Some(url) = person_url {
            p["resourceURL"] = json!(url);
        }
        p
    };
    let whole = app.send(Method::GET, &source, None).await;
    assert_eq!(whole.status, StatusCode::OK, "{:?}", whole.body);
    assert_eq!(
        whole.body,
        json!({"presenceSource": {"person": expected_person(None), "resourceURL": app.url(&source)}}),
        "no overridingWillingness: that is the temporary source's"
    );
    let just_person = app.send(Method::GET, &person, None).await;
    assert_eq!(just_person.status, StatusCode::OK, "{:?}", just_person.body);
    assert_eq!(
        just_person.body,
        json!({"person": expected_person(Some(app.url(&person)))})
    );
    // The same source through the user's own address: URLs as written.
    let direct = format!("/presence/{}/presenceSource/persistent", enc(&a));
    let read = app.send(Method::GET, &direct, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["presenceSource"]["resourceURL"], app.url(&direct));
    assert_eq!(
        read.body["presenceSource"]["person"]["noteList"]["resourceURL"],
        app.url(&person_path(&a, "noteList"))
    );
    assert_eq!(
        app.send(Method::PUT, &source, Some(json!({}))).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );

    for name in ["noteList", "statusIcon", "linkList"] {
        let r = app.send(Method::DELETE, &person_path(me, name), None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let left = app.send(Method::GET, &person, None).await;
    assert_eq!(
        left.body["person"],
        json!({"location": expected_person(None)["location"], "resourceURL": app.url(&person)})
    );
    let r = app
        .send(Method::DELETE, &person_path(me, "location"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let gone = app.send(Method::GET, &source, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.exception(),
        ("SVC0002", vec!["persistent".to_string()])
    );
}
