//! Training the deal score: on the closed deals, as they were before they closed
//! (`facts`), the most recent fifth by close held out. The new model is switched in
//! only when it ranks the held-out outcomes better than the model scoring now (or, at
//! first, than the stages' own probabilities). Every run is kept, switched in or not.
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::facts::{self, DealFacts};
use super::metrics::{self, Metrics};
use super::model::{self, Model};
use crate::domain::{Action, Actor, Db, audit, now};
use crate::entities::scoring_model;
use crate::error::AppError;

/// Outcomes of each kind needed before a model is trained (the default).
pub const MIN_OUTCOMES: usize = 30;

/// The newest share of the closed deals held out for testing.
const HOLDOUT: f64 = 0.2;

/// L2 weight of the regression (linfa's `alpha`, over the summed log loss).
const ALPHA: f64 = 1.0;

pub const KIND: &str = "deal";

/// A run's `status`: scoring now; trained but not better; scored before; not trained.
pub const ACTIVE: &str = "active";
pub const KEPT: &str = "kept";
pub const RETIRED: &str = "retired";
pub const REFUSED: &str = "refused";

/// What a run measured on its hold-out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Evaluation {
    /// The trained model.
    pub model: Metrics,
    /// Each deal's stage probability as its prediction.
    pub stage: Metrics,
    /// The model that was scoring when this one was trained, if any.
    pub current: Option<Metrics>,
}

/// One run, as the settings page, the API and `cairn score` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Run {
    pub version: i32,
    /// `active` (scoring now), `kept` (trained, not better), `retired` (was active),
    /// or `refused` (not trained: `message` says why).
    pub status: String,
    pub trained_at: chrono::DateTime<chrono::Utc>,
    pub won: i32,
    pub lost: i32,
    pub holdout: i32,
    pub metrics: Option<Evaluation>,
    pub message: Option<String>,
}

impl Run {
    /// Whether this run's model can be switched in: it trained one, and it is not the
    /// one scoring now.
    pub fn can_switch_in(&self) -> bool {
        self.status == KEPT || self.status == RETIRED
    }
}

impl From<scoring_model::Model> for Run {
    fn from(m: scoring_model::Model) -> Run {
        Run {
            version: m.version,
            status: m.status,
            trained_at: m.trained_at,
            won: m.won,
            lost: m.lost,
            holdout: m.holdout,
            metrics: serde_json::from_str(&m.metrics).ok(),
            message: m.message,
        }
    }
}

/// What a run decided, before it is stored.
struct Outcome {
    status: &'static str,
    won: usize,
    lost: usize,
    holdout: usize,
    evaluation: Option<Evaluation>,
    model: Option<Model>,
    message: Option<String>,
}

impl Outcome {
    fn refused(won: usize, lost: usize, message: String) -> Outcome {
        Outcome {
            status: REFUSED,
            won,
            lost,
            holdout: 0,
            evaluation: None,
            model: None,
            message: Some(message),
        }
    }
}

/// Trains a deal score on the closed deals, stores the run, and switches it in when it
/// beats the current one on the hold-out.
pub async fn train(db: &Db) -> Result<Run, AppError> {
    let deals = facts::deals(db, now(), facts::Which::Closed).await?;
    let current = active(db).await?.map(|(_, m)| m);
    // Seconds of arithmetic at a year of deals: off the runtime the job queue, its lease
    // renewals and the other jobs run on.
    let outcome = tokio::task::spawn_blocking(move || decide(&deals, current.as_ref()))
        .await
        .map_err(|e| AppError::Internal(format!("training stopped: {e}")))?;
    store(db, outcome).await
}

/// The model scoring deals now, if one is, with its version.
pub async fn active(db: &Db) -> Result<Option<(i32, Model)>, AppError> {
    let row = scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(KIND))
        .filter(scoring_model::Column::Status.eq(ACTIVE))
        .one(&db.read)
        .await?;
    Ok(row.and_then(|r| Some((r.version, serde_json::from_str(&r.model).ok()?))))
}

/// Whether a model scores deals now, as this process saw it at most 5 s ago (at once
/// after a switch made here). Read through `conn`: a deal write asks inside its
/// transaction, which on PostgreSQL must not wait for a second connection of the pool.
pub async fn scoring(db: &Db, conn: &impl sea_orm::ConnectionTrait) -> Result<bool, AppError> {
    if let Some(on) = db.scoring.get(&()) {
        return Ok(on);
    }
    let on = scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(KIND))
        .filter(scoring_model::Column::Status.eq(ACTIVE))
        .count(conn)
        .await?
        > 0;
    db.scoring.insert((), on);
    Ok(on)
}

fn decide(deals: &[DealFacts], current: Option<&Model>) -> Outcome {
    let mut closed: Vec<&DealFacts> = deals.iter().filter(|d| d.won.is_some()).collect();
    closed.sort_by_key(|d| (d.at, d.id));
    let won = closed.iter().filter(|d| d.won == Some(true)).count();
    let lost = closed.len() - won;
    if won < MIN_OUTCOMES || lost < MIN_OUTCOMES {
        return Outcome::refused(
            won,
            lost,
            format!(
                "Scoring needs at least {MIN_OUTCOMES} won and {MIN_OUTCOMES} lost deals; \
                 there are {won} won and {lost} lost. Until then deals are scored by their \
                 stage's probability."
            ),
        );
    }
    let held = ((closed.len() as f64) * HOLDOUT).ceil() as usize;
    let (train, test) = closed.split_at(closed.len() - held);
    let single = |rows: &[&DealFacts]| {
        let w = rows.iter().filter(|d| d.won == Some(true)).count();
        w == 0 || w == rows.len()
    };
    if single(train) || single(test) {
        return Outcome::refused(
            won,
            lost,
            "The newest fifth of the closed deals (held out for testing) or the rest are \
             all won or all lost, so a model could be neither trained nor tested."
                .into(),
        );
    }
    let model = match fit(train) {
        Ok(m) => m,
        Err(why) => return Outcome::refused(won, lost, why),
    };
    let outcomes: Vec<bool> = test.iter().map(|d| d.won == Some(true)).collect();
    let predict = |m: &Model| -> Vec<f64> { test.iter().map(|d| m.probability(d)).collect() };
    let base_rate =
        train.iter().filter(|d| d.won == Some(true)).count() as f64 / train.len() as f64;
    let stage: Vec<f64> = test
        .iter()
        .map(|d| stage_probability(d, base_rate))
        .collect();
    let evaluation = Evaluation {
        model: metrics::measure(&predict(&model), &outcomes),
        stage: metrics::measure(&stage, &outcomes),
        current: current.map(|c| metrics::measure(&predict(c), &outcomes)),
    };
    let (bar, against) = match &evaluation.current {
        Some(c) => (c.auc, "the current model's"),
        None => (evaluation.stage.auc, "the stage probabilities'"),
    };
    let better = evaluation.model.auc > bar;
    Outcome {
        status: if better { ACTIVE } else { KEPT },
        won,
        lost,
        holdout: test.len(),
        message: (!better).then(|| {
            format!(
                "Not switched in: its hold-out AUC {:.3} does not beat {against} {bar:.3}.",
                evaluation.model.auc
            )
        }),
        evaluation: Some(evaluation),
        model: Some(model),
    }
}

/// The deal's stage probability, or the training win rate when its stage is unknown.
pub fn stage_probability(d: &DealFacts, base_rate: f64) -> f64 {
    d.stage
        .as_ref()
        .map_or(base_rate, |s| f64::from(s.probability) / 100.0)
        .clamp(0.01, 0.99)
}

/// The regression on `rows`; a message when it cannot be made.
fn fit(rows: &[&DealFacts]) -> Result<Model, String> {
    let columns = model::columns(rows);
    if columns.is_empty() {
        return Err("The closed deals have no features to learn from.".into());
    }
    let width = columns.len();
    let mut x = Array2::<f64>::zeros((rows.len(), width));
    for (i, d) in rows.iter().enumerate() {
        for (j, v) in model::encode(&columns, d).into_iter().enumerate() {
            x[[i, j]] = v;
        }
    }
    let y: Array1<bool> = rows.iter().map(|d| d.won == Some(true)).collect();
    let fitted = LogisticRegression::default()
        .alpha(ALPHA)
        .max_iterations(300)
        .fit(&Dataset::new(x, y))
        .map_err(|e| format!("The model could not be trained: {e}"))?;
    // linfa's positive class is the larger label: `true`, a win.
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let weights: Vec<f64> = fitted.params().iter().map(|w| w * sign).collect();
    let intercept = fitted.intercept() * sign;
    if !intercept.is_finite() || weights.iter().any(|w| !w.is_finite()) {
        return Err(
            "Training gave weights that are not numbers; the previous model is kept.".into(),
        );
    }
    Ok(Model {
        columns,
        weights,
        intercept,
    })
}

async fn store(db: &Db, o: Outcome) -> Result<Run, AppError> {
    let tx = db.begin_write().await?;
    let last = scoring_model::Entity::find()
        .select_only()
        .column_as(scoring_model::Column::Version.max(), "v")
        .filter(scoring_model::Column::Kind.eq(KIND))
        .into_tuple::<Option<i32>>()
        .one(&tx)
        .await?
        .flatten()
        .unwrap_or(0);
    if o.status == ACTIVE {
        retire_active(&tx).await?;
    }
    let json = |v: Result<String, serde_json::Error>| {
        v.map_err(|e| AppError::Internal(format!("a scoring model's JSON: {e}")))
    };
    let row = scoring_model::ActiveModel {
        kind: Set(KIND.into()),
        version: Set(last + 1),
        status: Set(o.status.into()),
        trained_at: Set(now()),
        won: Set(o.won as i32),
        lost: Set(o.lost as i32),
        holdout: Set(o.holdout as i32),
        metrics: Set(json(serde_json::to_string(&o.evaluation))?),
        model: Set(json(serde_json::to_string(&o.model))?),
        message: Set(o.message),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    db.scoring.remove(&());
    Ok(row.into())
}

async fn retire_active(tx: &sea_orm::DatabaseTransaction) -> Result<(), AppError> {
    scoring_model::Entity::update_many()
        .col_expr(scoring_model::Column::Status, Expr::value(RETIRED))
        .filter(scoring_model::Column::Kind.eq(KIND))
        .filter(scoring_model::Column::Status.eq(ACTIVE))
        .exec(tx)
        .await?;
    Ok(())
}

/// Every run, newest first.
pub async fn runs(db: &Db) -> Result<Vec<Run>, AppError> {
    Ok(scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(KIND))
        .order_by_desc(scoring_model::Column::Version)
        .all(&db.read)
        .await?
        .into_iter()
        .map(Run::from)
        .collect())
}

/// Every run, newest first, for `actor` (any role that reads records: the metrics
/// name no record).
pub async fn runs_seen_by(db: &Db, actor: &Actor) -> Result<Vec<Run>, AppError> {
    actor.require(Action::ReadRecords)?;
    runs(db).await
}

/// Switches run `version` back in (a rollback), retiring the one scoring now; by
/// `actor` (who needs Settings → Scoring), or by `cairn score` when `None`. Audited.
pub async fn activate(db: &Db, actor: Option<&Actor>, version: i32) -> Result<Run, AppError> {
    if let Some(a) = actor {
        a.require(Action::Scoring)?;
    }
    let tx = db.begin_write().await?;
    let row = scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(KIND))
        .filter(scoring_model::Column::Version.eq(version))
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Scoring model"))?;
    if !Run::from(row.clone()).can_switch_in() {
        let why = match row.status.as_str() {
            ACTIVE => "That model scores deals already.",
            _ => "That run trained no model; choose a run that did.",
        };
        return Err(AppError::field("version", why));
    }
    retire_active(&tx).await?;
    let mut active: scoring_model::ActiveModel = row.into();
    active.status = Set(ACTIVE.into());
    let row = active.update(&tx).await?;
    let detail = serde_json::json!({ "version": version });
    audit::record(
        &tx,
        actor,
        "activate",
        "scoring_model",
        row.id,
        Some(detail),
    )
    .await?;
    // The open deals are scored again with it, as the switch commits.
    let rescore = crate::jobs::queue::NewJob::new(super::job::RESCORE, serde_json::json!({}));
    crate::jobs::queue::enqueue_in(&tx, &rescore).await?;
    tx.commit().await?;
    db.scoring.remove(&());
    crate::jobs::wake();
    Ok(row.into())
}
