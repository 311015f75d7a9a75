//! Traces over OTLP/HTTP (JSON) when `CAIRN_OTLP_ENDPOINT` is set: a span per request
//! (its trace id in the request's log line and the `X-Trace-Id` header), per database
//! statement, per job and per outbound call (webhooks, SMTP), sent in batches from a
//! thread of their own. Off by default, and then nothing is created: `span` gives the
//! no-op span and the database has no callback. A collector that is down costs dropped
//! spans and one warning, never a request's time.
use std::borrow::Cow;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanKind, TraceContextExt, TraceId, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// Whether traces are exported (set once, at start).
pub fn on() -> bool {
    TRACER.get().is_some()
}

/// Starts the exporter and gives the tracer the `tracing` layer sends spans to. Called
/// before the async runtime starts: the blocking HTTP client must not be made inside it.
pub fn start(endpoint: &str) -> Result<SdkTracer, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("the OTLP HTTP client: {e}"))?;
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Blocking(client))
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url)
        .build()
        .map_err(|e| format!("the OTLP exporter: {e}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(Quiet {
            inner: exporter,
            endpoint: endpoint.to_string(),
        })
        .with_resource(
            Resource::builder()
                .with_service_name("cairn")
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        )
        .build();
    let tracer = provider.tracer("cairn");
    let _ = PROVIDER.set(provider);
    let _ = TRACER.set(tracer.clone());
    Ok(tracer)
}

/// Sends the spans still held (at the end of `serve`), waiting at most a few seconds.
pub fn flush() {
    if let Some(p) = PROVIDER.get() {
        let _ = p.force_flush();
    }
}

/// `make()` when traces are on, else the span that records nothing (and costs nothing).
pub fn span(make: impl FnOnce() -> tracing::Span) -> tracing::Span {
    match on() {
        true => make(),
        false => tracing::Span::none(),
    }
}

/// The trace id of `span` (32 hex digits), when traces are on.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    if !on() {
        return None;
    }
    let id = span.context().span().span_context().trace_id();
    (id != TraceId::INVALID).then(|| id.to_string())
}

/// A finished database statement, as a child of the current span: sea-orm reports each
/// statement after it ran (`db::connect` sets this as its callback when traces are on),
/// so the span is made with its start and end times. The SQL only: values are not sent.
pub fn statement(info: &sea_orm::metric::Info<'_>) {
    let Some(tracer) = TRACER.get() else { return };
    let parent: Context = tracing::Span::current().context();
    if !parent.span().span_context().is_valid() {
        return; // a statement outside any request or job (start-up): not traced
    }
    let end = SystemTime::now();
    let start = end.checked_sub(info.elapsed).unwrap_or(end);
    let sql: String = info.statement.sql.chars().take(2000).collect();
    let system = match info.statement.db_backend {
        sea_orm::DbBackend::Postgres => "postgresql",
        _ => "sqlite",
    };
    let mut span = tracer
        .span_builder("db")
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new("db.system", system),
            KeyValue::new("db.statement", sql),
            KeyValue::new("db.failed", info.failed),
        ])
        .start_with_context(tracer, &parent);
    opentelemetry::trace::Span::end_with_timestamp(&mut span, end);
}

/// reqwest's blocking client as the exporter's: the batch thread waits for each send.
#[derive(Debug)]
struct Blocking(reqwest::blocking::Client);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for Blocking {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let request = reqwest::blocking::Request::try_from(request)?;
        let response = self.0.execute(request)?;
        let mut out = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        Ok(out.body(response.bytes()?)?)
    }
}

/// The exporter, saying once that the collector cannot be reached (each failure is
/// counted in `/metrics`); the spans of a failed batch are dropped.
#[derive(Debug)]
struct Quiet<E> {
    inner: E,
    endpoint: String,
}

static WARNED: AtomicBool = AtomicBool::new(false);

impl<E: SpanExporter> SpanExporter for Quiet<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let sent = self.inner.export(batch).await;
        if let Err(e) = &sent {
            crate::telemetry::trace_export_failed();
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    endpoint = %self.endpoint,
                    error = %e,
                    "traces could not be exported to the OTLP endpoint; spans are dropped until it answers (said once)"
                );
            }
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// A name for a span of an outbound call to `url`: its host only (paths and queries can
/// hold secrets).
pub fn host_of(url: &str) -> Cow<'static, str> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| Cow::Owned(h.to_string())))
        .unwrap_or(Cow::Borrowed("unknown"))
}
