//! The admin listener: `/livez` (the process answers), `/readyz` (its database and bus
//! answer), `/metrics` (Prometheus text). Services add routes (netsim's control API).

use std::{future::Future, pin::Pin, sync::Arc, sync::OnceLock};

use axum::{Router, extract::State, http::StatusCode, routing::get};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One readiness check: a name and a probe.
#[derive(Clone)]
pub struct ReadyCheck {
    pub name: &'static str,
    pub probe: Arc<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl ReadyCheck {
    pub fn new<F, Fut>(name: &'static str, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name,
            probe: Arc::new(move || Box::pin(probe())),
        }
    }

    /// The database answers.
    pub fn database(db: sea_orm::DatabaseConnection) -> Self {
        Self::new("database", move || {
            let db = db.clone();
            async move { crate::db::ping(&db).await.map_err(|e| e.to_string()) }
        })
    }

    /// The bus answers.
    pub fn bus(bus: crate::bus::SharedBus) -> Self {
        Self::new("bus", move || {
            let bus = bus.clone();
            async move { bus.ready().await.map_err(|e| e.to_string()) }
        })
    }
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); then ours only renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The admin routes, checking `checks` for readiness.
pub fn router(checks: Vec<ReadyCheck>) -> Router {
    let handle = metrics_handle();
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(Arc::new(checks))
        .route("/metrics", get(move || std::future::ready(handle.render())))
}

async fn readyz(State(checks): State<Arc<Vec<ReadyCheck>>>) -> (StatusCode, String) {
    let mut failures = Vec::new();
    for check in checks.iter() {
        if let Err(e) = (check.probe)().await {
            failures.push(format!("{}: {e}", check.name));
        }
    }
    if failures.is_empty() {
        (StatusCode::OK, "ready".into())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, failures.join("\n"))
    }
}
