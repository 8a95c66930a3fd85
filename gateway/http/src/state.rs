//! What every handler shares: the settings it needs, the database of applications, the key
//! cache and the service clients.

use std::{ops::Deref, sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use crate::{Upstreams, auth::KeyCache};

/// Handler state: one shared [`Shared`], so a clone is one reference count. The router
/// clones it for every request, once in each layer that holds it and in each `State`
/// extractor; a clone of the fields themselves (a service client is several reference
/// counts and a boxed service) cost a few per cent of a send's CPU.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

/// What [`AppState`] shares.
pub(crate) struct Shared {
    /// `{public}/{apiVersion}`: what every `resourceURL` starts with.
    pub api_root: Arc<str>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Deadline of one gRPC call (at least a second: 0 would fail every call).
    pub upstream_timeout: Duration,
    /// The applications and their key hashes.
    pub db: DatabaseConnection,
    /// Recently authenticated keys.
    pub keys: Arc<KeyCache>,
    /// The services.
    pub upstreams: Upstreams,
    /// Longest call-direction `responseTimeout` accepted, in seconds
    /// (`call.max_decision_timeout_ms` / 1000).
    pub max_response_timeout_secs: u64,
    /// Longest play-and-record `maxDuration` accepted, in seconds (`call.max_recording_secs`).
    pub max_recording_secs: u32,
    /// Most recipients of one outbound message (`messaging.max_addresses`).
    pub max_message_addresses: usize,
    /// Largest total of one MMS's attachments, in bytes (`messaging.max_attachment_bytes`).
    pub max_attachment_bytes: usize,
    /// Largest presence content file, in bytes (`presence.max_content_bytes`).
    pub max_content_bytes: usize,
}

impl AppState {
    pub(crate) fn new(
        config: &parlay_kit::Config,
        db: DatabaseConnection,
        upstreams: Upstreams,
    ) -> AppState {
        AppState(Arc::new(Shared {
            api_root: config.api_root().into(),
            max_body_bytes: config.gateway.max_body_bytes,
            upstream_timeout: Duration::from_secs(config.gateway.upstream_timeout_secs.max(1)),
            db,
            keys: Arc::new(KeyCache::default()),
            upstreams,
            max_response_timeout_secs: config.call.max_decision_timeout_ms / 1000,
            max_recording_secs: config.call.max_recording_secs,
            max_message_addresses: config.messaging.max_addresses,
            max_attachment_bytes: config.messaging.max_attachment_bytes,
            max_content_bytes: config.presence.max_content_bytes,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
