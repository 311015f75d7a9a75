//! The one error type of the product. Domain functions return it; it knows nothing of
//! HTTP: `web::errors` maps it to a status and the JSON error shape, or to an HTML page or
//! htmx fragment for browser requests.
use std::collections::BTreeMap;

use sea_orm::{DbErr, RuntimeErr, SqlErr};

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
        if is_unreachable(&err) {
            tracing::warn!(error = %err, "database unreachable");
            return AppError::Unavailable(
                "The database cannot be reached right now; try again in a moment.".into(),
            );
        }
        if is_transient(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return AppError::Unavailable("The database is busy; try again shortly.".into());
        }
        let text = err.to_string();
        AppError::Internal(text)
    }
}

/// The database is gone (restarting, its machine or network down): no connection could be
/// made or the one in hand broke. The pool makes new connections once it is back.
fn is_unreachable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        DbErr::Conn(_) => true,
        DbErr::ConnectionAcquire(_) => false,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(e.as_ref(), Error::Io(_) | Error::PoolClosed)
                || matches!(e.as_ref(), Error::Database(d) if d.code().is_some_and(|c| c.starts_with("57P")))
        }
        _ => false,
    }
}

/// Load, not a bug, judged by the database's own error code: the client may retry.
/// SQLite: BUSY (5) and LOCKED (6) with their extended codes; PostgreSQL: deadlock
/// detected (40P01) and serialization failure (40001); and a pool with no connection to
/// give, or a connection that broke.
fn is_transient(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                Error::PoolTimedOut | Error::PoolClosed | Error::Io(_) => true,
                Error::Database(d) => {
                    let code = d.code().unwrap_or_default();
                    match code.parse::<i32>() {
                        Ok(sqlite) => matches!(sqlite & 0xff, 5 | 6),
                        Err(_) => matches!(code.as_ref(), "40P01" | "40001"),
                    }
                }
                _ => false,
            }
        }
        _ => false,
    }
}
