//! Logs and traces. One `tracing` subscriber per process: a fmt layer filtered by
//! `RUST_LOG` (or the configured filter) and an OpenTelemetry layer, so every span has
//! W3C trace ids that travel in gRPC metadata, bus headers and webhook headers. Spans are
//! exported over OTLP when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise
//! nothing leaves the process.

use std::sync::OnceLock;

use opentelemetry::{
    Context, global,
    propagation::{Extractor, TextMapPropagator},
    trace::{TraceContextExt as _, TraceFlags, TracerProvider as _},
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
                // Colours only on a terminal: a file, a pipe or a log collector gets plain text.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .with_filter(filter),
        )
        .with(otel_layer(tracer).with_filter(LevelFilter::INFO))
        .try_init();
    if installed.is_ok() {
        let _ = PROVIDER.set(provider);
    }
}

/// The OpenTelemetry layer, doing only what the suite uses: a span's start, end, fields,
/// parent and code location. Not kept: the time each span spent entered and idle (a clock
/// read and a lock at every poll of an instrumented future), the thread's id and name (an
/// allocation a span; a task moves between threads anyway), and making each entered
/// span's context OpenTelemetry's current one (nothing here reads it: trace context is
/// taken from the `tracing` span, see [`current_traceparent`]).
fn otel_layer<S>(
    tracer: opentelemetry_sdk::trace::Tracer,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_context_activation(false)
}

/// Flushes spans still buffered for export; call once at exit.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown();
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
/// Written as `TraceContextPropagator` writes it, without the map and the `tracestate` it
/// would build too (this runs for every call, bus message and webhook).
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags() & TraceFlags::SAMPLED
        )
    })
}

/// Makes `span` a child of the remote context in `traceparent` (no-op when absent).
pub fn set_remote_parent(span: &tracing::Span, traceparent: Option<&str>) {
    if traceparent.is_none() {
        return;
    }
    let cx: Context = TraceContextPropagator::new().extract(&OneHeader(traceparent));
    let _ = span.set_parent(cx);
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::propagation::Injector;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    struct MapCarrier<'a>(&'a mut HashMap<String, String>);

    impl Injector for MapCarrier<'_> {
        fn set(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
    }

    #[test]
    fn the_traceparent_is_the_propagators_and_follows_a_remote_parent() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry().with(otel_layer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            assert_eq!(current_traceparent(), None, "no span, no traceparent");

            let remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            let span = tracing::info_span!("hop");
            set_remote_parent(&span, Some(remote));
            let _entered = span.enter();
            let mut map = HashMap::new();
            TraceContextPropagator::new()
                .inject_context(&span.context(), &mut MapCarrier(&mut map));
            let ours = current_traceparent().expect("a span has a traceparent");
            assert_eq!(Some(&ours), map.get("traceparent"));
            assert!(
                ours.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
                "{ours}"
            );
            assert!(ours.ends_with("-01"), "{ours}");
            assert!(!ours.contains("00f067aa0ba902b7"), "a new span id: {ours}");
        });
    }
}
