//! The open deals' scores, from the model scoring now: written together by the scoring
//! job (after a training run, nightly as deals age, after a switch), read one at a time
//! by the deal page with their explanation.
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::Kind;
use super::facts;
use super::model::{Factor, Features, Model};
use crate::domain::{Actor, Db, now};
use crate::entities::{change_counter, deal, deal_score, pipeline_stage};
use crate::error::AppError;
use crate::jobs::queue::{NewJob, enqueue_in};

/// Rows written per statement.
const CHUNK: usize = 500;

/// Factors kept per deal each way (up, down).
const KEPT: usize = 3;

/// What moves a deal's score most each way, as stored and as the API shows it
/// (`score_factors`): each factor's log-odds, with the model's intercept and the rest
/// of its factors, sum to the score's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Explanation {
    /// What raises it most, largest first.
    pub up: Vec<Factor>,
    /// What lowers it most, largest first.
    pub down: Vec<Factor>,
}

/// A stored score as a record's page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The chance it ends won (a lead: gets a won deal in time), 0–100.
    pub percent: i32,
    pub model_version: i32,
    pub up: Vec<Factor>,
    pub down: Vec<Factor>,
}

/// Scores every open deal with the model scoring now, and drops the scores of deals no
/// longer open (or all of them when no model scores); how many were scored.
pub async fn score_open(db: &Db) -> Result<usize, AppError> {
    let Some((version, model)) = super::train::active(db, Kind::Deal).await? else {
        deal_score::Entity::delete_many().exec(&db.write).await?;
        boards_changed(&db.write).await?;
        return Ok(0);
    };
    let at = now();
    let custom = super::features::of_model(db, Kind::Deal, &model).await?;
    let open = facts::open(db, at, &custom).await?;
    // Arithmetic over every open deal: off the async runtime, as training.
    let rows = tokio::task::spawn_blocking(move || rows(&model, version, at, open))
        .await
        .map_err(|e| AppError::Internal(format!("scoring stopped: {e}")))??;
    let scored = rows.len();
    for chunk in rows.chunks(CHUNK) {
        upsert(&db.write, chunk).await?;
    }
    drop_unscorable(&db.write, None).await?;
    boards_changed(&db.write).await?;
    Ok(scored)
}

/// Scores deals `ids` again after they changed (`changed`), with the model scoring now,
/// in one transaction: those still open get a new score, the others (closed, deleted)
/// lose theirs. How many were scored.
pub async fn score_deals(db: &Db, ids: &[i64]) -> Result<usize, AppError> {
    let Some((version, model)) = super::train::active(db, Kind::Deal).await? else {
        return Ok(0);
    };
    let at = now();
    let custom = super::features::of_model(db, Kind::Deal, &model).await?;
    let mut scored = 0;
    for ids in ids.chunks(CHUNK) {
        let facts = facts::open_among(db, at, ids, &custom).await?;
        let rows = rows(&model, version, at, facts)?;
        let tx = db.begin_write().await?;
        upsert(&tx, &rows).await?;
        // Checked in this transaction: a deal that closed after its facts were read (and
        // whose own rescoring ran first) keeps no score.
        drop_unscorable(&tx, Some(ids)).await?;
        boards_changed(&tx).await?;
        tx.commit().await?;
        scored += rows.len();
    }
    Ok(scored)
}

/// Queues deals `ids` to be scored again within seconds, in the transaction that
/// changed them, when a model scores (read at most every 5 s): one job per change,
/// whose run takes those queued at the same moment together (`job::CHANGED`). Their
/// contacts' lead scores too: a deal opened, closed or gone changes its contacts'.
pub async fn changed(db: &Db, conn: &impl ConnectionTrait, ids: &[i64]) -> Result<(), AppError> {
    super::lead_scores::deals_changed(db, conn, ids).await?;
    if ids.is_empty() || !super::train::scoring(db, conn, Kind::Deal).await? {
        return Ok(());
    }
    let job = NewJob::new(super::job::CHANGED, serde_json::json!({ "deals": ids }))
        .at(now() + chrono::Duration::milliseconds(super::job::CHANGED_AFTER_MS));
    enqueue_in(conn, &job).await?;
    Ok(())
}

/// The rows storing `deals`' scores by `model` (version `version`) at `at`.
fn rows(
    model: &Model,
    version: i32,
    at: chrono::DateTime<chrono::Utc>,
    deals: Vec<facts::DealFacts>,
) -> Result<Vec<deal_score::ActiveModel>, AppError> {
    deals
        .into_iter()
        .map(|d| {
            let (probability, factors) = explain(model, &d)?;
            Ok(deal_score::ActiveModel {
                deal_id: Set(d.id),
                model_version: Set(version),
                probability: Set(probability),
                factors: Set(factors),
                scored_at: Set(at),
            })
        })
        .collect()
}

/// `f`'s probability by `model`, and its explanation as stored (JSON): the `KEPT`
/// factors moving it most each way, each to four decimals (pages show two): at a
/// million leads the full seventeen digits of each were about a fifth of a row (400 B).
pub fn explain<F: Features>(model: &Model, f: &F) -> Result<(f64, String), AppError> {
    let (mut up, mut down): (Vec<Factor>, Vec<Factor>) =
        model.factors(f).into_iter().partition(|f| f.log_odds > 0.0);
    up.truncate(KEPT);
    down.truncate(KEPT);
    for f in up.iter_mut().chain(down.iter_mut()) {
        f.log_odds = (f.log_odds * 10_000.0).round() / 10_000.0;
    }
    let factors = serde_json::to_string(&Explanation { up, down })
        .map_err(|e| AppError::Internal(format!("a score's factors: {e}")))?;
    Ok((model.probability(f), factors))
}

/// A stored score's row as a page shows it.
pub fn shown(probability: f64, model_version: i32, factors: &str) -> Result<Score, AppError> {
    let stored: Explanation = serde_json::from_str(factors)
        .map_err(|e| AppError::Internal(format!("a score's factors: {e}")))?;
    Ok(Score {
        percent: (probability * 100.0).round().clamp(0.0, 100.0) as i32,
        model_version,
        up: stored.up,
        down: stored.down,
    })
}

/// Drops the scores (of `ids`, or all) of deals no longer open and live: closed, in the
/// trash, or gone. A correlated NOT EXISTS, which PostgreSQL runs as an anti-join where
/// NOT IN over every open deal would not fit its hash.
async fn drop_unscorable(conn: &impl ConnectionTrait, ids: Option<&[i64]>) -> Result<(), AppError> {
    let open_live = Query::select()
        .expr(Expr::val(1))
        .from(deal::Entity)
        .inner_join(
            pipeline_stage::Entity,
            Expr::col((pipeline_stage::Entity, pipeline_stage::Column::Id))
                .equals((deal::Entity, deal::Column::StageId)),
        )
        .and_where(
            Expr::col((deal::Entity, deal::Column::Id))
                .equals((deal_score::Entity, deal_score::Column::DealId)),
        )
        .and_where(Expr::col((pipeline_stage::Entity, pipeline_stage::Column::Kind)).eq("open"))
        .and_where(Expr::col((deal::Entity, deal::Column::DeletedAt)).is_null())
        .to_owned();
    let mut gone = deal_score::Entity::delete_many().filter(Expr::exists(open_live).not());
    if let Some(ids) = ids {
        gone = gone.filter(deal_score::Column::DealId.is_in(ids.iter().copied()));
    }
    gone.exec(conn).await?;
    Ok(())
}

async fn upsert(
    conn: &impl ConnectionTrait,
    rows: &[deal_score::ActiveModel],
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    deal_score::Entity::insert_many(rows.to_vec())
        .on_conflict(
            OnConflict::column(deal_score::Column::DealId)
                .update_columns([
                    deal_score::Column::ModelVersion,
                    deal_score::Column::Probability,
                    deal_score::Column::Factors,
                    deal_score::Column::ScoredAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Retires the cached boards and deal lists, which show scores: the `board` counter's
/// triggers watch the deals' own tables, not this one. Last in its transaction, so on
/// PostgreSQL the counter's row is held only for the commit, as the triggers hold it.
pub(super) async fn boards_changed(conn: &impl ConnectionTrait) -> Result<(), AppError> {
    change_counter::Entity::update_many()
        .col_expr(
            change_counter::Column::N,
            sea_orm::sea_query::Expr::col(change_counter::Column::N).add(1),
        )
        .filter(change_counter::Column::Name.eq("board"))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deal `id`'s stored score, for `actor`: a deal they may not see is "not found".
pub async fn for_deal(db: &Db, actor: &Actor, id: i64) -> Result<Option<Score>, AppError> {
    crate::domain::access::check(
        db,
        &db.read,
        actor,
        crate::domain::access::Table::Deals,
        id,
        "Deal",
    )
    .await?;
    let Some(row) = deal_score::Entity::find_by_id(id).one(&db.read).await? else {
        return Ok(None);
    };
    shown(row.probability, row.model_version, &row.factors).map(Some)
}
