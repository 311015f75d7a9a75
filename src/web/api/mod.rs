//! The JSON API under /api/v1: bearer tokens only, the shared error shape, and an
//! OpenAPI document that a test keeps true to the routes.
pub mod activities;
pub mod audit;
pub mod companies;
pub mod contacts;
pub mod dashboard;
pub mod deals;
pub mod export;
pub mod openapi;
pub mod personal_data;
pub mod records;
pub mod reports;
pub mod schema;
pub mod scoring;
pub mod search;
pub mod tasks;
pub mod trash;
pub mod webhook_endpoints;
pub mod webhooks;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, web};

use crate::error::AppError;
use crate::web::forms::MAX_BODY;

/// JSON bodies: 415 without `Content-Type: application/json`, 413 over 1 MiB, 400 for text
/// that is not JSON, 422 for JSON of the wrong shape (a string where a number goes).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY)
        .error_handler(|err, _req: &HttpRequest| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("Send the body as application/json.".into())
        }
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::PayloadTooLarge("The body is larger than 1 MiB.".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => AppError::Validation {
            message: format!("The JSON does not match what this endpoint takes: {e}"),
            fields: Default::default(),
        },
        JsonPayloadError::Deserialize(e) => {
            AppError::BadRequest(format!("The body is not valid JSON: {e}"))
        }
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            AppError::PayloadTooLarge("The body is larger than 1 MiB.".into())
        }
        other => AppError::BadRequest(format!("The body could not be read: {other}")),
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        AppError::Validation {
            message: format!("The query string is not valid: {err}"),
            fields: Default::default(),
        }
        .into()
    })
}

/// A path segment that cannot be an id (`/contacts/abc`) names nothing: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err: PathError, _req: &HttpRequest| {
        AppError::NotFound("There is nothing at this address.".into()).into()
    })
}

pub async fn method_not_allowed() -> actix_web::HttpResponse {
    actix_web::HttpResponse::MethodNotAllowed().json(serde_json::json!({
        "error": {"code": "method_not_allowed", "message": "This method is not allowed on this resource."}
    }))
}
