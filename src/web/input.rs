//! A NUL character never reaches a handler: PostgreSQL cannot store one in text (it
//! answers an error, which would be a 500) and no field of a CRM has a use for one. Any
//! request carrying one in its query string, form body or JSON body is refused here with
//! 422 naming the field, on both engines alike. Other control characters are a rule of
//! each field and are checked in `domain`.
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::AppError;

/// For browser routes; the API scope runs it after authentication instead, so a stranger
/// gets 401 and no body is read for them.
pub async fn refuse_nul_outside_api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A webhook's body is stored raw, as signed; the API checks its own JSON.
    if req.path().starts_with("/api/") || req.path().starts_with("/webhooks/") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    refuse_nul(req, next)
        .await
        .map(ServiceResponse::map_into_right_body)
}

pub async fn refuse_nul(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(field) = nul_in_pairs(req.query_string().as_bytes()) {
        return Ok(req.error_response(refused(&field)).map_into_right_body());
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let json = content_type.starts_with("application/json");
    if form || json {
        let body = match req.extract::<web::Bytes>().await {
            Ok(b) => b,
            Err(_) => {
                let e = AppError::PayloadTooLarge("The body is larger than 1 MiB.".into());
                return Ok(req.error_response(e).map_into_right_body());
            }
        };
        let field = if form {
            nul_in_pairs(&body)
        } else {
            nul_in_json(&body)
        };
        req.set_payload(Payload::from(body));
        if let Some(field) = field {
            return Ok(req.error_response(refused(&field)).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn refused(field: &str) -> AppError {
    AppError::field(
        field,
        format!("{field} cannot contain a NUL character (\\0)."),
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The first key of `a=b&c=d` text whose key or value decodes to a NUL.
fn nul_in_pairs(bytes: &[u8]) -> Option<String> {
    if !contains(bytes, b"%00") && !bytes.contains(&0) {
        return None;
    }
    url::form_urlencoded::parse(bytes)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| printable(&k))
}

/// The path (`custom_fields.a`, `contact_ids.2`) of the first JSON string or key holding
/// a NUL. Text that is not JSON passes: its handler answers it.
fn nul_in_json(bytes: &[u8]) -> Option<String> {
    if !contains(bytes, b"\\u0000") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    find_nul(&value, "")
}

fn find_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            printable(key)
        } else {
            format!("{path}.{}", printable(key))
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() {
            "body".into()
        } else {
            path.into()
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, &join(&i.to_string()))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(k))
            } else {
                find_nul(v, &join(k))
            }
        }),
        _ => None,
    }
}

/// A field name fit to show: control characters dropped, at most 100 characters.
fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(100).collect()
}
