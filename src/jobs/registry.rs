//! The handlers, by kind. A handler is an async function of a context and the job's
//! payload, decoded from JSON into the type it declares; a payload that does not decode
//! makes the job dead with the reason rather than failing again and again. A kind may
//! take several claimed jobs in one run (`register_together`).
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

/// What a run of claimed jobs comes to: one result per job, in the order given.
pub type Outcomes = Pin<Box<dyn Future<Output = Vec<Result<(), JobError>>> + Send>>;
/// A registered handler: the jobs of one run, each with its context and its payload as
/// stored (JSON text). A run is one job, or up to the kind's `together` claimed at once.
pub type Handler = Arc<dyn Fn(Vec<(Ctx, String)>) -> Outcomes + Send + Sync>;

#[derive(Clone)]
struct Kind {
    handler: Handler,
    /// Claimed jobs one run takes at most.
    together: usize,
}

#[derive(Clone, Default)]
pub struct Registry {
    kinds: HashMap<String, Kind>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Runs jobs of `kind` with `handler`, which takes the payload as `P`, one job a run.
    pub fn register<P, F, Fut>(&mut self, kind: &str, handler: F) -> &mut Registry
    where
        P: DeserializeOwned + Send + 'static,
        F: Fn(Ctx, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let run: Handler = Arc::new(move |jobs: Vec<(Ctx, String)>| {
            let handler = handler.clone();
            Box::pin(async move {
                let mut out = Vec::with_capacity(jobs.len());
                for (ctx, payload) in jobs {
                    out.push(match decode::<P>(&payload) {
                        Ok(p) => handler(ctx, p).await,
                        Err(e) => Err(e),
                    });
                }
                out
            })
        });
        self.add(kind, run, 1)
    }

    /// Runs up to `together` claimed jobs of `kind` in one run of `handler`, which takes
    /// their payloads as `P` (each with its job's context) and answers for each, in
    /// order: for jobs whose work costs less done together (the Stripe events of many
    /// small jobs applied in one transaction). A payload that does not decode makes its
    /// job dead and is not passed on.
    pub fn register_together<P, F, Fut>(
        &mut self,
        kind: &str,
        together: usize,
        handler: F,
    ) -> &mut Registry
    where
        P: DeserializeOwned + Send + 'static,
        F: Fn(Vec<(Ctx, P)>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<(), JobError>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let run: Handler = Arc::new(move |jobs: Vec<(Ctx, String)>| {
            let handler = handler.clone();
            Box::pin(async move {
                let mut out: Vec<Result<(), JobError>> = Vec::with_capacity(jobs.len());
                let mut decoded = Vec::with_capacity(jobs.len());
                let mut at = Vec::with_capacity(jobs.len());
                for (i, (ctx, payload)) in jobs.into_iter().enumerate() {
                    out.push(Ok(()));
                    match decode::<P>(&payload) {
                        Ok(p) => {
                            decoded.push((ctx, p));
                            at.push(i);
                        }
                        Err(e) => out[i] = Err(e),
                    }
                }
                let given = decoded.len();
                let results = handler(decoded).await;
                if results.len() != given {
                    let e = JobError::Retry(format!(
                        "the handler answered for {} of {given} jobs",
                        results.len()
                    ));
                    for &i in &at {
                        out[i] = Err(e.clone());
                    }
                    return out;
                }
                for (i, r) in at.into_iter().zip(results) {
                    out[i] = r;
                }
                out
            })
        });
        self.add(kind, run, together.max(1))
    }

    fn add(&mut self, kind: &str, handler: Handler, together: usize) -> &mut Registry {
        self.kinds
            .insert(kind.to_string(), Kind { handler, together });
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Handler> {
        self.kinds.get(kind).map(|k| &k.handler)
    }

    /// How many claimed jobs of `kind` one run takes at most (1 for an unknown kind).
    pub fn together(&self, kind: &str) -> usize {
        self.kinds.get(kind).map_or(1, |k| k.together)
    }

    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.kinds.keys().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds
    }
}

fn decode<P: DeserializeOwned>(payload: &str) -> Result<P, JobError> {
    serde_json::from_str::<P>(payload)
        .map_err(|e| JobError::Permanent(format!("the payload does not fit this kind of job: {e}")))
}
