//! Logs and traces. One `tracing` subscriber per process: a fmt layer filtered by
//! `RUST_LOG` (or the configured filter) and an OpenTelemetry layer, so every span has
//! W3C trace ids that travel in gRPC metadata, bus headers and webhook headers. Spans are
//! exported over OTLP when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise
//! nothing leaves the process.

use std::{collections::HashMap, sync::OnceLock};

use opentelemetry::{
    Context, global,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, Layer, filter::LevelFilter, layer::SubscriberExt, util::SubscriberInitExt,
};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the process-wide subscriber once; later calls (tests) do nothing.
pub fn init(default_filter: &str, service_name: &'static str) {
    install(default_filter, provider_builder(service_name));
}

/// [`init`] with every finished span also handed, as it ends, to `exporter` (a test's
/// in-memory exporter, to see the spans a request made).
pub fn init_with_exporter<E>(default_filter: &str, service_name: &'static str, exporter: E)
where
    E: opentelemetry_sdk::trace::SpanExporter + 'static,
{
    install(
        default_filter,
        provider_builder(service_name).with_simple_exporter(exporter),
    );
}

/// A tracer provider naming the service, exporting over OTLP when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
fn provider_builder(service_name: &'static str) -> opentelemetry_sdk::trace::TracerProviderBuilder {
    let mut builder = SdkTracerProvider::builder().with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service_name)
            .build(),
    );
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
        {
            Ok(exporter) => builder = builder.with_batch_exporter(exporter),
            Err(e) => eprintln!("parlay: OTLP exporter not started: {e}"),
        }
    }
    builder
}

fn install(default_filter: &str, builder: opentelemetry_sdk::trace::TracerProviderBuilder) {
    if PROVIDER.get().is_some() {
        return;
    }
    let provider = builder.build();
    let tracer = provider.tracer("parlay");
    global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // The filter quiets the logs only: spans (and so trace ids to propagate) exist at INFO
    // whatever the log level.
    let installed = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_filter(filter),
        )
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(LevelFilter::INFO),
        )
        .try_init();
    if installed.is_ok() {
        let _ = PROVIDER.set(provider);
    }
}

/// Flushes spans still buffered for export; call once at exit.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown();
    }
}

struct MapCarrier<'a>(&'a mut HashMap<String, String>);

impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct OneHeader<'a>(Option<&'a str>);

impl Extractor for OneHeader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if key == "traceparent" { self.0 } else { None }
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
    }
}

/// The W3C `traceparent` of the current span, if it is sampled into a trace.
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let mut map = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut MapCarrier(&mut map));
    map.remove("traceparent")
}

/// Makes `span` a child of the remote context in `traceparent` (no-op when absent).
pub fn set_remote_parent(span: &tracing::Span, traceparent: Option<&str>) {
    if traceparent.is_none() {
        return;
    }
    let cx: Context = TraceContextPropagator::new().extract(&OneHeader(traceparent));
    let _ = span.set_parent(cx);
}
