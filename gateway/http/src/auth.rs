//! Authentication of every request: `Authorization: Bearer <key>` names the application.
//!
//! Successful lookups are cached in memory for [`TTL`], keyed by the key's hash. Failures are
//! never cached, so a key created a moment ago by `parlay apps create` in another process
//! works on its first use; the price is one indexed query per bad request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{apps, apps::App, error::ApiError, state::AppState};

/// How long a successful lookup is trusted.
const TTL: Duration = Duration::from_secs(30);
/// Longest key looked up; anything longer cannot be one of ours.
const MAX_KEY_LEN: usize = 128;
/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 1024;

/// The authenticated application of a request, put there by [`require_app`].
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub Arc<App>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// Positive key lookups, by key hash.
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, (Arc<App>, Instant)>>,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<Arc<App>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(hash) {
            Some((app, at)) if at.elapsed() < TTL => Some(app.clone()),
            Some(_) => {
                entries.remove(hash);
                None
            }
            None => None,
        }
    }

    fn put(&self, hash: String, app: Arc<App>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, (_, at)| at.elapsed() < TTL);
        }
        entries.insert(hash, (app, Instant::now()));
    }
}

/// The key of `Authorization: Bearer <key>` (scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty() && key.len() <= MAX_KEY_LEN)
        .then_some(key)
}

/// The application holding `key`, from the cache or the database.
async fn lookup(state: &AppState, key: &str) -> Result<Option<Arc<App>>, ApiError> {
    let hash = apps::key_hash(key);
    if let Some(app) = state.keys.get(&hash) {
        return Ok(Some(app));
    }
    let found = apps::find_by_hash(&state.db, &hash)
        .await
        .map_err(|e| ApiError::internal("cannot look up an application key", e))?;
    Ok(found.map(|app| {
        let app = Arc::new(app);
        state.keys.put(hash, app.clone());
        app
    }))
}

/// Middleware: 401 unless the request carries a known key; otherwise the request goes on
/// with its [`Caller`].
pub(crate) async fn require_app(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(key) = bearer(request.headers()) else {
        return ApiError::Unauthorized.into_response();
    };
    match lookup(&state, key).await {
        Ok(Some(app)) => {
            request.extensions_mut().insert(Caller(app));
            next.run(request).await
        }
        Ok(None) => ApiError::Unauthorized.into_response(),
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_keys_are_read_from_the_header() {
        assert_eq!(bearer(&headers("Bearer prl_abc")), Some("prl_abc"));
        assert_eq!(bearer(&headers("bearer  prl_abc ")), Some("prl_abc"));
        assert_eq!(bearer(&headers("Basic dXNlcjpwdw==")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&headers("Bearer")), None);
        assert_eq!(
            bearer(&headers(&format!("Bearer {}", "k".repeat(200)))),
            None
        );
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cache_keeps_fresh_entries_only() {
        let cache = KeyCache::default();
        let app = Arc::new(App {
            id: "app1".into(),
            name: "a".into(),
            users: vec![],
            registrations: vec![],
        });
        assert!(cache.get("h").is_none());
        cache.put("h".into(), app.clone());
        assert_eq!(cache.get("h").unwrap().id, "app1");
        let stale = Instant::now().checked_sub(TTL + Duration::from_secs(1));
        if let Some(stale) = stale {
            cache
                .entries
                .lock()
                .unwrap()
                .insert("h".into(), (app, stale));
            assert!(cache.get("h").is_none());
            assert!(cache.entries.lock().unwrap().is_empty());
        }
    }
}
