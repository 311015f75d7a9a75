//! The one error type of the product. Domain functions return it; `ResponseError` turns it
//! into the JSON error shape, and `web::errors` re-renders it as an HTML page or htmx
//! fragment for browser requests.
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sea_orm::{DbErr, SqlErr};
use serde::Serialize;

pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    #[error("{message}")]
    Conflict {
        message: String,
        fields: FieldErrors,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Refused for now; `retry_after` seconds tell the client when it may ask again.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("Something went wrong on our side; it has been logged.")]
    Internal(String),
}

impl AppError {
    pub fn validation(fields: FieldErrors) -> AppError {
        let message = if fields.len() == 1 {
            fields.values().next().cloned().unwrap_or_default()
        } else {
            "Some fields need attention.".to_string()
        };
        AppError::Validation { message, fields }
    }

    pub fn field(name: &str, message: impl Into<String>) -> AppError {
        let mut fields = FieldErrors::new();
        fields.insert(name.to_string(), message.into());
        AppError::validation(fields)
    }

    pub fn conflict_field(name: &str, message: impl Into<String>) -> AppError {
        let message = message.into();
        let mut fields = FieldErrors::new();
        fields.insert(name.to_string(), message.clone());
        AppError::Conflict { message, fields }
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::NotFound(format!("{what} not found."))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation { .. } => "validation_failed",
            AppError::Conflict { .. } => "conflict",
            AppError::NotFound(_) => "not_found",
            AppError::Forbidden(_) => "forbidden",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::BadRequest(_) => "bad_request",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Validation { fields, .. } | AppError::Conflict { fields, .. }
                if !fields.is_empty() =>
            {
                Some(fields)
            }
            _ => None,
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> AppError {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return AppError::Conflict {
                message: "A record with the same unique value already exists.".into(),
                fields: FieldErrors::new(),
            };
        }
        // A record this one points at went between the check and the write (a colleague
        // deleted it): the request cannot succeed as sent, and nothing was written.
        if let Some(SqlErr::ForeignKeyConstraintViolation(_)) = err.sql_err() {
            return AppError::Conflict {
                message: "Something this refers to was deleted meanwhile; reload and try again."
                    .into(),
                fields: FieldErrors::new(),
            };
        }
        let text = err.to_string();
        // SQLite's "database is locked" and a pool that cannot hand out a connection are
        // load, not bugs: the client may retry.
        if text.contains("database is locked")
            || text.contains("pool timed out")
            // PostgreSQL gave up one of two transactions waiting on each other.
            || text.contains("deadlock detected")
            || matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
        {
            tracing::warn!(error = %text, "database unavailable");
            return AppError::Unavailable("The database is busy; try again shortly.".into());
        }
        AppError::Internal(text)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, AppError::Unauthorized(_)) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let AppError::TooManyRequests { retry_after, .. } = self {
            res.insert_header(("Retry-After", retry_after.to_string()));
        }
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                fields: self.fields(),
            },
        })
    }
}
