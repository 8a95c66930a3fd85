//! Test harness: a router with one application, and a way to send it requests.

use axum::{
    Router,
    body::{Body, to_bytes},
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use parlay_gateway::{Migrator, Upstreams, apps};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use tower::ServiceExt;

/// What every `resourceURL` starts with in these tests.
pub const ROOT: &str = "http://api.example.com/exampleAPI/1";

/// A call service address where nothing listens: requests refused at the edge never notice.
pub const NOWHERE: &str = "http://127.0.0.1:1";

/// A router with one application, on a database file removed at drop.
pub struct Harness {
    pub router: Router,
    pub key: String,
    pub db: DatabaseConnection,
    path: std::path::PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The test configuration: public URL of the examples, 1 KiB bodies, 1 s upstream timeout.
pub fn config() -> parlay_kit::Config {
    let mut config = parlay_kit::Config {
        public_url: Some("http://api.example.com/exampleAPI".into()),
        ..Default::default()
    };
    config.gateway.max_body_bytes = 1024;
    config.gateway.upstream_timeout_secs = 1;
    config
}

/// A gateway whose one application may act for `users`, calling the service at `call_url`.
pub async fn harness(users: &[&str], call_url: &str) -> Harness {
    harness_with(config(), users, &[], call_url, NOWHERE).await
}

/// A gateway with `config` whose one application may act for `users` and read
/// `registrations`, calling the call service at `call_url` and the messaging service at
/// `messaging_url`.
pub async fn harness_with(
    config: parlay_kit::Config,
    users: &[&str],
    registrations: &[&str],
    call_url: &str,
    messaging_url: &str,
) -> Harness {
    let path = std::env::temp_dir().join(format!(
        "parlay-gateway-it-{}.db",
        parlay_kit::ids::new_id("t")
    ));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = parlay_kit::db::connect_and_migrate::<Migrator>(&url)
        .await
        .unwrap();
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    let (_, key) = apps::create_with(&db, "test app", owned(users), owned(registrations))
        .await
        .unwrap();
    let upstreams = Upstreams::connect_lazy(call_url, messaging_url).unwrap();
    let router = parlay_gateway::router(&config, db.clone(), upstreams);
    Harness {
        router,
        key,
        db,
        path,
    }
}

/// A response, its body parsed as JSON (`Null` when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// `(messageId, variables)` of a `requestError` body.
    pub fn exception(&self) -> (String, Value) {
        let error = &self.body["requestError"];
        let e = error
            .get("serviceException")
            .or_else(|| error.get("policyException"))
            .unwrap_or_else(|| panic!("not a requestError: {}", self.body));
        (
            e["messageId"].as_str().unwrap().to_owned(),
            e["variables"].clone(),
        )
    }

    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers[name].to_str().unwrap()
    }
}

impl Harness {
    /// Sends `request` as is.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let (status, headers, bytes) = self.send_raw(request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends `request` as is; the answer's body as bytes.
    pub async fn send_raw(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), 16 << 20).await.unwrap();
        (status, headers, bytes.to_vec())
    }

    /// An authenticated request with `body` of `content_type`.
    pub fn request_of(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Request<Body> {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    }

    /// An authenticated request; `body` is sent as `application/json`.
    pub fn request(&self, method: Method, path: &str, body: Option<&str>) -> Request<Body> {
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key));
        match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned())),
            None => builder.body(Body::empty()),
        }
        .unwrap()
    }

    /// Sends an authenticated request.
    pub async fn call(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        self.send(self.request(method, path, body)).await
    }
}
