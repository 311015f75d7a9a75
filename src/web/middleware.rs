//! Security headers on every response, and one log line per request (method, path without
//! its query string, status, latency): never a password, token or cookie. The same
//! request is counted for `/metrics` by its route pattern.
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// The response header naming the request's trace (with traces on): the id to look for
/// in the log and the tracing backend.
const TRACE_ID: header::HeaderName = header::HeaderName::from_static("x-trace-id");

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Browsers that once reached an https install keep to https for it (a year).
    let https = req
        .app_data::<actix_web::web::Data<crate::app::AppState>>()
        .is_some_and(|s| s.config.secure_cookies);
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    Ok(res)
}

pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    // The path only: query strings can hold secrets (the setup token).
    let path = req.path().to_string();
    let span = crate::traces::span(
        || tracing::info_span!(target: "cairn::http", "request", %method, path, route = tracing::field::Empty, status = tracing::field::Empty, trace_id = tracing::field::Empty),
    );
    let trace_id = crate::traces::trace_id(&span);
    if let Some(id) = &trace_id {
        span.record("trace_id", id.as_str());
    }
    let mut res = next.call(req).instrument(span.clone()).await;
    if let (Some(id), Ok(r)) = (&trace_id, &mut res)
        && let Ok(value) = HeaderValue::from_str(id)
    {
        r.headers_mut().insert(TRACE_ID, value);
    }
    let (status, route) = match &res {
        Ok(r) => (r.status().as_u16(), r.request().match_pattern()),
        Err(e) => (e.as_response_error().status_code().as_u16(), None),
    };
    let took = start.elapsed();
    if let Some(r) = &route {
        span.record("route", r.as_str());
    }
    span.record("status", status);
    let _in_span = span.enter();
    crate::telemetry::http(method.as_str(), route, status, took);
    let micros = took.as_micros() as u64;
    if status >= 500 {
        tracing::warn!(target: "cairn::http", %method, path, status, latency_us = micros, trace_id, "request");
    } else {
        tracing::info!(target: "cairn::http", %method, path, status, latency_us = micros, trace_id, "request");
    }
    res
}
