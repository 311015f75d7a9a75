//! Webhooks other services send Cairn: `POST /webhooks/stripe`. No session, no token:
//! the signature is the authentication (`domain::stripe::ingest`). The body is read raw,
//! as signed, and refused past 1 MiB without being read further.
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use crate::app::AppState;
use crate::domain::stripe::{MAX_BODY, ingest};
use crate::error::AppError;

/// Stripe's header name.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

pub async fn stripe(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = raw_body(&req, payload).await?;
    let header = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let received = ingest::receive(
        &state.db,
        state.config.stripe_secret.as_ref(),
        header,
        &body,
    )
    .await?;
    Ok(HttpResponse::Ok().json(match received {
        ingest::Received::New(_) => json!({"received": true}),
        ingest::Received::Duplicate => json!({"received": true, "duplicate": true}),
    }))
}

fn too_large() -> AppError {
    AppError::PayloadTooLarge("The body is larger than 1 MiB.".into())
}

/// The body as sent, at most `MAX_BODY` bytes: a declared length over it is refused
/// before anything is read, a stream that grows past it as soon as it does.
async fn raw_body(req: &HttpRequest, mut payload: web::Payload) -> Result<web::BytesMut, AppError> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(4096).min(MAX_BODY));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("The body could not be read: {e}.")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
