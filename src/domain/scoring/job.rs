//! Training as a job: nightly (so scores learn from the day's closes), and on demand
//! from Settings → Scoring; each run trains both scores (deal, lead) and scores what
//! each scores. The request only queues it; the page shows the runs once stored.
use serde::Deserialize;
use serde_json::json;

use super::Kind;
use crate::domain::{Action, Actor, Db, audit};
use crate::error::AppError;
use crate::jobs::queue::{NewJob, enqueue_in};
use crate::jobs::registry::{Ctx, JobError, Registry};
use crate::jobs::schedule;

pub const JOB: &str = "scoring.train";

/// Scores the open deals (or the leads) again with the model scoring now (after a
/// switch, an import): `rescore(kind)`.
pub const RESCORE: &str = "scoring.score";

/// Scores the deals and contacts a change touched again (`scores::changed`,
/// `lead_scores::changed`).
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
    #[serde(default)]
    deals: Vec<i64>,
    #[serde(default)]
    contacts: Vec<i64>,
}

async fn changed(jobs: Vec<(Ctx, Changed)>) -> Vec<Result<(), JobError>> {
    let n = jobs.len();
    let Some((ctx, _)) = jobs.first() else {
        return Vec::new();
    };
    let ids = |of: fn(&Changed) -> &Vec<i64>| {
        let mut ids: Vec<i64> = jobs
            .iter()
            .flat_map(|(_, c)| of(c).iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let (deals, contacts) = (ids(|c| &c.deals), ids(|c| &c.contacts));
    let done = async {
        let deals_scored = super::scores::score_deals(&ctx.db, &deals).await?;
        let leads_scored = super::lead_scores::score_contacts(&ctx.db, &contacts).await?;
        tracing::debug!(deals_scored, leads_scored, "changed records scored");
        Ok::<_, AppError>(())
    };
    match done.await {
        Ok(()) => vec![Ok(()); n],
        Err(e) => vec![Err(JobError::from(e)); n],
    }
}

/// A job rescoring everything of `kind`'s (a payload without a kind, queued before
/// leads were scored, means deals).
pub fn rescore_job(kind: Kind) -> NewJob {
    NewJob::new(RESCORE, json!({ "kind": kind }))
}

#[derive(Deserialize)]
struct Rescore {
    #[serde(default)]
    kind: Kind,
}

async fn rescore(ctx: Ctx, p: Rescore) -> Result<(), JobError> {
    score_all(&ctx.db, p.kind).await
}

/// Scores everything of `kind`'s with the model scoring now.
async fn score_all(db: &Db, kind: Kind) -> Result<(), JobError> {
    let scored = match kind {
        Kind::Deal => super::scores::score_open(db).await?,
        Kind::Lead => super::lead_scores::score_all(db).await?,
    };
    tracing::info!(scored, kind = kind.as_str(), "scored");
    Ok(())
}

async fn run(ctx: Ctx, p: Train) -> Result<(), JobError> {
    if p.nightly {
        let now = ctx.clock.now();
        schedule::daily(&ctx.db.write, JOB, json!({ "nightly": true }), HOUR, now).await?;
    }
    for kind in Kind::ALL {
        let run = super::train(&ctx.db, kind).await?;
        tracing::info!(kind = kind.as_str(), version = run.version, status = %run.status, "score trained");
        // Every run, switched in or not: what it scores has aged since the last.
        score_all(&ctx.db, kind).await?;
    }
    Ok(())
}

/// Queues every open deal and lead to be scored again while a model scores them: after
/// an import, or its undoing, which may have written records by the thousand.
pub async fn rescore_all(db: &Db) -> Result<(), AppError> {
    for kind in Kind::ALL {
        if super::train::scoring(db, &db.read, kind).await? {
            crate::jobs::queue::enqueue(db, &rescore_job(kind)).await?;
        }
    }
    Ok(())
}

/// Queues every score a bulk change of `entity` records (owner, trash) may move to be
/// scored again, in the bulk change's transaction: a selection may be every match, so
/// all of them rather than their ids. Deals move their contacts' lead scores too, and a
/// company's its contacts' and deals'.
pub async fn bulk_changed(
    db: &Db,
    conn: &impl sea_orm::ConnectionTrait,
    entity: &str,
) -> Result<(), AppError> {
    let kinds: &[Kind] = match entity {
        "contact" => &[Kind::Lead],
        "deal" | "company" => &Kind::ALL,
        _ => &[],
    };
    for kind in kinds {
        if super::train::scoring(db, conn, *kind).await? {
            enqueue_in(conn, &rescore_job(*kind)).await?;
        }
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
