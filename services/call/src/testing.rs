//! What the crate's tests share: a core on a fresh SQLite database, and a session row.

use std::sync::Arc;

use chrono::Utc;
use parlay_kit::{Config, ids::new_id, outbox};

use crate::{core::Core, decisions::Timed, store::entities::session};

/// A core on a fresh SQLite database, telling `timer` of its decisions.
pub(crate) async fn core_telling(timer: tokio::sync::mpsc::UnboundedSender<Timed>) -> Core {
    let dir = std::env::temp_dir().join(new_id("call-test-"));
    let url = parlay_kit::db::sqlite_url(&dir, "call");
    let db = parlay_kit::db::connect_and_migrate::<crate::Migrator>(&url)
        .await
        .unwrap();
    Core::new(
        db,
        outbox::Waker::default(),
        Arc::new(Config::default()),
        timer,
    )
}

/// The row of session `id`, application `app1`'s, as stored before its first change.
pub(crate) fn session_row(id: &str) -> session::Model {
    session::Model {
        id: id.into(),
        app_id: "app1".into(),
        client_correlator: None,
        request_hash: String::new(),
        notify_url: None,
        callback_data: None,
        terminated: false,
        version: 0,
        created_at: Utc::now(),
        ended_at: None,
        network_call_id: None,
        decision: None,
        decision_deadline: None,
    }
}
