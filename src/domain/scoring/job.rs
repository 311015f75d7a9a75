//! Training as a job: nightly (so scores learn from the day's closes), and on demand
//! from Settings → Scoring. The request only queues it; the page shows the run once it
//! is stored.
use serde::Deserialize;
use serde_json::json;

use crate::domain::{Action, Actor, Db, audit};
use crate::error::AppError;
use crate::jobs::queue::{NewJob, enqueue_in};
use crate::jobs::registry::{Ctx, JobError, Registry};
use crate::jobs::schedule;

pub const JOB: &str = "scoring.train";

/// Scores the open deals again with the model scoring now (after a switch).
pub const RESCORE: &str = "scoring.score";

/// Scores the deals a change touched again (`scores::changed`).
pub const CHANGED: &str = "scoring.changed";

/// How long a change's rescoring waits, so the changes of the same moment (a bulk edit,
/// a deal moved twice) are claimed and scored together.
pub const CHANGED_AFTER_MS: i64 = 500;

/// The changes' jobs one run takes at most.
const TOGETHER: usize = 200;

/// When the nightly run starts (UTC): before the clean-up and the purges.
pub const HOUR: u32 = 2;

#[derive(Deserialize)]
struct Train {
    /// The nightly run, which queues the next night's first.
    #[serde(default)]
    nightly: bool,
}

pub fn register(r: &mut Registry) {
    r.register(JOB, run)
        .register(RESCORE, rescore)
        .register_together(CHANGED, TOGETHER, changed);
}

#[derive(Deserialize)]
struct Changed {
    deals: Vec<i64>,
}

async fn changed(jobs: Vec<(Ctx, Changed)>) -> Vec<Result<(), JobError>> {
    let n = jobs.len();
    let Some((ctx, _)) = jobs.first() else {
        return Vec::new();
    };
    let mut ids: Vec<i64> = jobs
        .iter()
        .flat_map(|(_, c)| c.deals.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    match super::scores::score_deals(&ctx.db, &ids).await {
        Ok(scored) => {
            tracing::debug!(scored, changed = ids.len(), "changed deals scored");
            vec![Ok(()); n]
        }
        Err(e) => vec![Err(JobError::from(e)); n],
    }
}

#[derive(Deserialize)]
struct Rescore {}

async fn rescore(ctx: Ctx, _: Rescore) -> Result<(), JobError> {
    let scored = super::scores::score_open(&ctx.db).await?;
    tracing::info!(scored, "open deals scored");
    Ok(())
}

async fn run(ctx: Ctx, p: Train) -> Result<(), JobError> {
    if p.nightly {
        let now = ctx.clock.now();
        schedule::daily(&ctx.db.write, JOB, json!({ "nightly": true }), HOUR, now).await?;
    }
    let run = super::train(&ctx.db).await?;
    tracing::info!(version = run.version, status = %run.status, "deal score trained");
    // Every run, switched in or not: the open deals have aged since the last.
    let scored = super::scores::score_open(&ctx.db).await?;
    tracing::info!(scored, "open deals scored");
    Ok(())
}

/// Queues every open deal to be scored again while a model scores: after an import, or
/// its undoing, which may have written deals, activities and tasks by the thousand.
pub async fn rescore_all(db: &Db) -> Result<(), AppError> {
    if super::train::scoring(db, &db.read).await? {
        crate::jobs::queue::enqueue(db, &NewJob::new(RESCORE, json!({}))).await?;
    }
    Ok(())
}

/// Makes sure the nightly run is scheduled (at every start; once however many
/// processes start).
pub async fn ensure(db: &Db) -> Result<(), AppError> {
    let now = crate::domain::now();
    schedule::daily(&db.write, JOB, json!({ "nightly": true }), HOUR, now).await?;
    Ok(())
}

/// Queues a run now, for `actor` (Settings → Scoring's button); audited.
pub async fn request(db: &Db, actor: &Actor) -> Result<i64, AppError> {
    actor.require(Action::Scoring)?;
    let tx = db.begin_write().await?;
    let id = enqueue_in(&tx, &NewJob::new(JOB, json!({}))).await?;
    audit::record(&tx, Some(actor), "train", "job", id, None).await?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(id)
}
