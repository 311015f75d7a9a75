//! The kinds of job this product runs, and the registry `cairn serve` starts with.
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use super::registry::{Ctx, JobError, Registry};
use super::{admin, schedule};
use crate::domain::{Db, webhooks};
use crate::error::AppError;
use crate::mail;

/// Does nothing (after an optional pause): for the benchmark and for checking that the
/// workers run.
pub const NOOP: &str = "noop";
/// Removes done jobs older than a few days, nightly, and schedules the next night's run;
/// then refreshes SQLite's planner statistics where a table grew or shrank since.
pub const CLEANUP: &str = "jobs.cleanup";
/// When the clean-up runs (UTC), and how long done jobs are kept.
pub const CLEANUP_HOUR: u32 = 3;
pub const KEEP_DONE_DAYS: i64 = 7;
/// Deletes for good what went to the trash more than `trash::KEEP_DAYS` ago, nightly.
pub const TRASH_PURGE: &str = "trash.purge";
/// When the purge runs (UTC): after the clean-up, off the busy hours.
pub const TRASH_PURGE_HOUR: u32 = 4;
/// Removes audit log rows older than the retention setting, daily.
pub const AUDIT_PURGE: &str = "audit.purge";
pub const AUDIT_PURGE_HOUR: u32 = 5;

/// Every kind this product has, with its handler; email takes its SMTP settings from
/// Settings → Email only (no environment), as in tests.
pub fn registry() -> Registry {
    registry_with(
        Arc::new(mail::Env::default()),
        Arc::new(webhooks::Env::default()),
    )
}

/// Every kind, with `mail` (the environment's email settings) for `email.send` and
/// `hooks` (the HTTP client and its address guard) for `webhook.deliver`.
pub fn registry_with(mail: Arc<mail::Env>, hooks: Arc<webhooks::Env>) -> Registry {
    let mut r = Registry::new();
    r.register(NOOP, noop)
        .register(CLEANUP, cleanup)
        .register(TRASH_PURGE, trash_purge)
        .register(AUDIT_PURGE, audit_purge);
    mail::job::register(&mut r, mail);
    crate::domain::tasks::notices::register(&mut r);
    webhooks::register(&mut r, hooks);
    crate::domain::stripe::register(&mut r);
    crate::domain::backup::schedule::register(&mut r);
    crate::domain::import::apply::job::register(&mut r);
    crate::domain::scoring::job::register(&mut r);
    r
}

#[derive(Deserialize)]
struct Noop {
    /// Any number, written to the debug log so a test can count the runs.
    #[serde(default)]
    n: Option<u64>,
    /// A pause, at most a minute: a job that takes a while.
    #[serde(default)]
    sleep_ms: u64,
}

async fn noop(ctx: Ctx, p: Noop) -> Result<(), JobError> {
    if p.sleep_ms > 0 {
        tracing::debug!(job = ctx.job_id, "no-op job started");
        tokio::time::sleep(StdDuration::from_millis(p.sleep_ms.min(60_000))).await;
    }
    tracing::debug!(job = ctx.job_id, n = ?p.n, "no-op job ran");
    Ok(())
}

#[derive(Deserialize)]
struct Cleanup {
    keep_days: i64,
}

/// The next run is enqueued with the clean-up in one transaction, so a failing clean-up
/// (retried, and perhaps dead) never ends the schedule.
async fn cleanup(ctx: Ctx, p: Cleanup) -> Result<(), JobError> {
    let now = ctx.clock.now();
    let keep = p.keep_days.clamp(0, 3650);
    let tx = ctx.db.begin_write().await?;
    schedule::daily(
        &tx,
        CLEANUP,
        json!({ "keep_days": keep }),
        CLEANUP_HOUR,
        now,
    )
    .await?;
    let removed = admin::delete_done_before(&tx, now - Duration::days(keep)).await?;
    tx.commit().await?;
    tracing::info!(removed, keep_days = keep, "removed old done jobs");
    crate::db::optimize(&ctx.db.write).await?;
    Ok(())
}

#[derive(Deserialize)]
struct TrashPurge {}

/// The next night's run is enqueued first (idempotent), so a failing purge never ends the
/// schedule; the purge itself goes in batches, each its own short transaction, so a big
/// trash never holds the writer long, and a retry picks up where a failure stopped.
async fn trash_purge(ctx: Ctx, _: TrashPurge) -> Result<(), JobError> {
    let now = ctx.clock.now();
    schedule::daily(&ctx.db.write, TRASH_PURGE, json!({}), TRASH_PURGE_HOUR, now).await?;
    let purged = crate::domain::trash::purge_expired(&ctx.db, now).await?;
    tracing::info!(
        purged,
        "emptied the trash of records older than its keep period"
    );
    Ok(())
}

#[derive(Deserialize)]
struct AuditPurge {}

/// Like the trash purge: the next run first, then batches of their own.
async fn audit_purge(ctx: Ctx, _: AuditPurge) -> Result<(), JobError> {
    let now = ctx.clock.now();
    schedule::daily(&ctx.db.write, AUDIT_PURGE, json!({}), AUDIT_PURGE_HOUR, now).await?;
    let removed = crate::domain::audit::retention::purge(&ctx.db, now).await?;
    tracing::info!(removed, "removed audit log rows older than the retention");
    Ok(())
}

/// Makes sure the recurring jobs are scheduled (at every start; once however many
/// processes start).
pub async fn ensure_recurring(db: &Db) -> Result<(), AppError> {
    let payload = json!({ "keep_days": KEEP_DONE_DAYS });
    schedule::daily(
        &db.write,
        CLEANUP,
        payload,
        CLEANUP_HOUR,
        crate::domain::now(),
    )
    .await?;
    schedule::daily(
        &db.write,
        TRASH_PURGE,
        json!({}),
        TRASH_PURGE_HOUR,
        crate::domain::now(),
    )
    .await?;
    schedule::daily(
        &db.write,
        AUDIT_PURGE,
        json!({}),
        AUDIT_PURGE_HOUR,
        crate::domain::now(),
    )
    .await?;
    let prune = crate::domain::stripe::PRUNE_JOB;
    schedule::hourly(&db.write, prune, json!({}), crate::domain::now()).await?;
    let digest = crate::domain::tasks::notices::DIGEST;
    schedule::hourly(&db.write, digest, json!({}), crate::domain::now()).await?;
    crate::domain::backup::schedule::ensure(db).await?;
    crate::domain::scoring::job::ensure(db).await?;
    Ok(())
}
