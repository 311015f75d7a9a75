//! The handlers, by kind. A handler is an async function of a context and the job's
//! payload, decoded from JSON into the type it declares; a payload that does not decode
//! makes the job dead with the reason rather than failing again and again.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::Clock;
use crate::domain::Db;
use crate::error::AppError;

/// What a handler gets besides its payload.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub clock: Clock,
    pub job_id: i64,
    /// 1 on the first run.
    pub attempt: i32,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth trying again later (a server that did not answer, a busy database).
    Retry(String),
    /// Can never succeed as enqueued: the job is dead at once.
    Permanent(String),
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobError::Retry(m) | JobError::Permanent(m) => f.write_str(m),
        }
    }
}

/// A refusal of the domain's (invalid, not found, not allowed) comes out the same every
/// time, so the job is dead at once; anything else (the database busy or down) may pass.
impl From<AppError> for JobError {
    fn from(e: AppError) -> JobError {
        match e {
            AppError::Validation { .. }
            | AppError::NotFound(_)
            | AppError::Forbidden(_)
            | AppError::BadRequest(_) => JobError::Permanent(e.to_string()),
            AppError::Internal(detail) => JobError::Retry(detail),
            other => JobError::Retry(other.to_string()),
        }
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(e: sea_orm::DbErr) -> JobError {
        JobError::Retry(e.to_string())
    }
}

pub type Outcome = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;
/// A registered handler: the context and the payload as stored (JSON text).
pub type Handler = Arc<dyn Fn(Ctx, &str) -> Outcome + Send + Sync>;

#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Runs jobs of `kind` with `handler`, which takes the payload as `P`.
    pub fn register<P, F, Fut>(&mut self, kind: &str, handler: F) -> &mut Registry
    where
        P: DeserializeOwned + Send + 'static,
        F: Fn(Ctx, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let run: Handler = Arc::new(move |ctx, payload| {
            let decoded = serde_json::from_str::<P>(payload);
            let handler = handler.clone();
            Box::pin(async move {
                let payload = decoded.map_err(|e| {
                    JobError::Permanent(format!("the payload does not fit this kind of job: {e}"))
                })?;
                handler(ctx, payload).await
            })
        });
        self.handlers.insert(kind.to_string(), run);
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind)
    }

    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds
    }
}
