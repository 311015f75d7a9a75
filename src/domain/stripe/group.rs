//! Applying stored events together: the webhook queues one job per `SIZE` events it
//! stored at once, the queue hands the jobs claimed at once to one run (up to
//! `TOGETHER`), and the run applies their events in short transactions of up to
//! `per_transaction` (an event that fails writes nothing: `apply::apply_unsaved`; its
//! timeline rows are written together at the end), so the queue's claim, completion
//! and commit are paid once per group rather than once per event. Short on SQLite, so
//! its one writer is never held long against the acknowledgements waiting for it; on
//! PostgreSQL the group's customer locks are all taken first in one sorted statement,
//! so two groups sharing customers wait for each other instead of deadlocking. Any
//! error rolls the whole group back, and its events are then applied one by one
//! (`apply::run`).
use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter};
use serde_json::json;
use tokio::sync::Semaphore;

use super::apply::{self, Out, Outcome};
use super::rows::Rows;
use super::{JOB, MAX_ATTEMPTS, Status};
use crate::domain::{Db, now, webhooks};
use crate::entities::stripe_event;
use crate::error::AppError;
use crate::jobs::NewJob;

/// Events per job at most (the webhook's, `ingest`).
pub const SIZE: usize = 16;

/// Jobs one run takes at most (claimed together: `jobs::Registry::register_together`).
/// Each transaction pays its dozen statements whatever it holds, so the jobs waiting
/// are applied together.
pub const TOGETHER: usize = 8;

/// Events per transaction at most. On SQLite a transaction holds the one writer against
/// the acknowledgements waiting for it, which then join one group (`group_commit` takes
/// the group once it holds the writer): a longer apply makes that wait longer, a shorter
/// one leaves the queue trailing the load. Bench (sw), 20 s of as many signed events as
/// the machine takes: at 16 events the webhook acknowledged 4 000–5 400 a second but the
/// queue drained 13–16 s after the load stopped (the issue asks 10 at most); at 32 it
/// drained at once but acknowledged 3 200–3 500 with p99 22.5–24 ms; at 24, 4 000–4 200
/// with p99 19.9–20.6 ms, drained in 4.6–5.5 s. On PostgreSQL a transaction holds only
/// its customers' locks, and a bigger one pays its statements over more events.
pub fn per_transaction(db: &Db) -> usize {
    match db.write.get_database_backend() {
        DatabaseBackend::Sqlite => SQLITE_SIZE,
        _ => PG_SIZE,
    }
}

const SQLITE_SIZE: usize = 24;
const PG_SIZE: usize = 64;

/// One group applies at a time in this process on SQLite: its one writer runs one
/// transaction at a time anyway, and a second group waiting for it would put the
/// acknowledgements queued for the writer behind two groups rather than one.
static SQLITE_TURN: Semaphore = Semaphore::const_new(1);

/// The job that applies stored events `ids` (at most `SIZE`) together.
pub fn job(ids: &[i64]) -> NewJob {
    NewJob::new(JOB, json!({ "events": ids })).attempts(MAX_ATTEMPTS)
}

/// Applies those of events `ids` not applied yet, by event time, in one transaction.
pub async fn process(db: &Db, ids: &[i64]) -> Result<(), AppError> {
    let _turn = match db.write.get_database_backend() {
        DatabaseBackend::Sqlite => Some(
            SQLITE_TURN
                .acquire()
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?,
        ),
        _ => None,
    };
    let at = now();
    let tx = db.begin_write().await?;
    if tx.get_database_backend() == DatabaseBackend::Postgres {
        // The group's commit does not wait for its WAL flush: a crash can lose it only
        // together with its job's completion (written after it, flushed with it), so
        // the job runs again and finds the events waiting. A setting, not a query, so
        // a statement of PostgreSQL's own.
        tx.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
            .await?;
    }
    let mut events = apply::claim(&tx, ids).await?;
    events.sort_by_key(|e| (e.created, e.id));
    let named: Vec<_> = events.iter().filter_map(super::named::named).collect();
    let held: HashSet<String> = named.iter().map(|n| n.key.clone()).collect();
    super::billing::lock_all(&tx, &held).await?;
    let customers = named.into_iter().filter_map(|n| n.customer).collect();
    let rows = Rows::read(&tx, customers).await?;
    let mut out = Out::new(db, held, rows);
    let mut processed = Vec::with_capacity(events.len());
    let (mut ignored, mut failed) = (0, 0);
    for event in &events {
        let (status, why) = match apply::apply_unsaved(&mut out, &tx, event, at).await? {
            Outcome::Processed => {
                processed.push(event.id);
                continue;
            }
            Outcome::Ignored(why) => {
                ignored += 1;
                (Status::Ignored, why)
            }
            Outcome::Failed(why) => {
                failed += 1;
                (Status::Failed, why)
            }
        };
        apply::mark(&tx, event.id, status, &why, Some(at)).await?;
    }
    out.rows.write(&tx).await?;
    super::timeline::write(&tx, &out.logged, at).await?;
    super::ledger::write(db, &tx, std::mem::take(&mut out.ledger), at).await?;
    let done = processed.len() as u64;
    if !processed.is_empty() {
        // One statement for the group's applied events (their error cleared).
        stripe_event::Entity::update_many()
            .col_expr(
                stripe_event::Column::Status,
                Expr::value(Status::Processed.as_str()),
            )
            .col_expr(
                stripe_event::Column::Error,
                Expr::value(Option::<String>::None),
            )
            .col_expr(stripe_event::Column::ProcessedAt, Expr::value(Some(at)))
            .col_expr(stripe_event::Column::Attempts, apply::attempted())
            .filter(stripe_event::Column::Id.is_in(processed))
            .exec(&tx)
            .await?;
    }
    tx.commit().await?;
    crate::telemetry::webhook_processed("stripe", Status::Processed.as_str(), done);
    for (status, n) in [(Status::Ignored, ignored), (Status::Failed, failed)] {
        crate::telemetry::webhook_processed("stripe", status.as_str(), n);
    }
    webhooks::wake_if(out.queued);
    Ok(())
}
