//! Training a score: the deal score on the closed deals, as they were before they
//! closed (`facts`); the lead score on monthly snapshots of the contacts (`leads`). The
//! most recent fifth by time is held out. The new model is switched in only when it
//! ranks the held-out outcomes better than the model scoring now (or, at first, than the
//! baseline: the stages' own probabilities for deals, the base rate for leads). Every
//! run is kept, switched in or not.
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::Kind;
use super::facts::{self, DealFacts};
use super::metrics::{self, Metrics};
use super::model::{self, Features, Model};
use crate::domain::{Action, Actor, Db, audit, now};
use crate::entities::scoring_model;
use crate::error::AppError;

/// Outcomes of each kind needed before a model is trained (the default).
pub const MIN_OUTCOMES: usize = 30;

/// The newest share of the closed deals held out for testing.
const HOLDOUT: f64 = 0.2;

/// L2 weight of the regression (linfa's `alpha`, over the summed log loss).
const ALPHA: f64 = 1.0;

/// A run's `status`: scoring now; trained but not better; scored before; not trained.
pub const ACTIVE: &str = "active";
pub const KEPT: &str = "kept";
pub const RETIRED: &str = "retired";
pub const REFUSED: &str = "refused";

/// One training row: a record's features at a moment, with what became of it.
pub trait Example: Features + Send + Sync + 'static {
    /// Won (or, for a lead, got a won deal in time); `None` while not known.
    fn outcome(&self) -> Option<bool>;
    /// When its features hold: the hold-out is the newest by this.
    fn at(&self) -> chrono::DateTime<chrono::Utc>;
    /// When its outcome was known: training keeps only rows known before the hold-out's
    /// first moment, so no outcome it learns from lies in the hold-out's time.
    fn known_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.at()
    }
    fn id(&self) -> i64;
    /// What a model must beat at first: the stage's probability for a deal, the
    /// training rows' rate (`base_rate`) otherwise.
    fn baseline(&self, base_rate: f64) -> f64;
}

impl Example for DealFacts {
    fn outcome(&self) -> Option<bool> {
        self.won
    }

    fn at(&self) -> chrono::DateTime<chrono::Utc> {
        self.at
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn baseline(&self, base_rate: f64) -> f64 {
        stage_probability(self, base_rate)
    }
}

/// What a run measured on its hold-out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Evaluation {
    /// The trained model.
    pub model: Metrics,
    /// The baseline: each deal's stage probability as its prediction; for leads, the
    /// training rows' rate (which ranks nothing: AUC 0.5).
    pub stage: Metrics,
    /// The model that was scoring when this one was trained, if any.
    pub current: Option<Metrics>,
}

/// One run, as the settings page, the API and `cairn score` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Run {
    pub kind: Kind,
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
            kind: Kind::parse(&m.kind).unwrap_or(Kind::Deal),
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

/// Trains a score of `kind` on its history, stores the run, and switches it in when it
/// beats the current one on the hold-out.
pub async fn train(db: &Db, kind: Kind) -> Result<Run, AppError> {
    let current = active(db, kind).await?.map(|(_, m)| m);
    let outcome = match kind {
        Kind::Deal => {
            let deals = facts::deals(db, now(), facts::Which::Closed).await?;
            decide_apart(kind, deals, current).await?
        }
        Kind::Lead => {
            let horizon = super::leads::horizon_days(&db.read).await?;
            // A model of another horizon answered another question: it is no bar.
            let current = current.filter(|m| m.horizon_days == Some(horizon));
            let leads = super::leads::snapshots(db, now(), horizon).await?;
            let mut outcome = decide_apart(kind, leads, current).await?;
            if let Some(m) = &mut outcome.model {
                m.horizon_days = Some(horizon);
            }
            outcome
        }
    };
    store(db, kind, outcome).await
}

/// `decide` on the blocking pool: seconds of arithmetic at a year of history, off the
/// runtime the job queue, its lease renewals and the other jobs run on.
async fn decide_apart<E: Example>(
    kind: Kind,
    rows: Vec<E>,
    current: Option<Model>,
) -> Result<Outcome, AppError> {
    tokio::task::spawn_blocking(move || decide(kind, &rows, current.as_ref()))
        .await
        .map_err(|e| AppError::Internal(format!("training stopped: {e}")))
}

/// The model of `kind` scoring now, if one is, with its version.
pub async fn active(db: &Db, kind: Kind) -> Result<Option<(i32, Model)>, AppError> {
    let row = scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(kind.as_str()))
        .filter(scoring_model::Column::Status.eq(ACTIVE))
        .one(&db.read)
        .await?;
    Ok(row.and_then(|r| Some((r.version, serde_json::from_str(&r.model).ok()?))))
}

/// Whether a model of `kind` scores now, as this process saw it at most 5 s ago (at
/// once after a switch made here). Read through `conn`: a write asks inside its
/// transaction, which on PostgreSQL must not wait for a second connection of the pool.
pub async fn scoring(
    db: &Db,
    conn: &impl sea_orm::ConnectionTrait,
    kind: Kind,
) -> Result<bool, AppError> {
    if let Some(on) = db.scoring.get(&kind) {
        return Ok(on);
    }
    let on = scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(kind.as_str()))
        .filter(scoring_model::Column::Status.eq(ACTIVE))
        .count(conn)
        .await?
        > 0;
    db.scoring.insert(kind, on);
    Ok(on)
}

/// Why a score of `kind` was not trained on `won` and `lost` outcomes too few.
fn too_few(kind: Kind, won: usize, lost: usize) -> String {
    match kind {
        Kind::Deal => format!(
            "Scoring needs at least {MIN_OUTCOMES} won and {MIN_OUTCOMES} lost deals; \
             there are {won} won and {lost} lost. Until then deals are scored by their \
             stage's probability."
        ),
        Kind::Lead => format!(
            "The lead score needs at least {MIN_OUTCOMES} leads that got a won deal within \
             the horizon and {MIN_OUTCOMES} that did not, over the monthly snapshots of the \
             history; there are {won} and {lost}. Until then leads are not scored."
        ),
    }
}

fn decide<E: Example>(kind: Kind, rows: &[E], current: Option<&Model>) -> Outcome {
    let mut closed: Vec<&E> = rows.iter().filter(|d| d.outcome().is_some()).collect();
    closed.sort_by_key(|d| (d.at(), d.id()));
    let won = closed.iter().filter(|d| d.outcome() == Some(true)).count();
    let lost = closed.len() - won;
    if won < MIN_OUTCOMES || lost < MIN_OUTCOMES {
        return Outcome::refused(won, lost, too_few(kind, won, lost));
    }
    let held = ((closed.len() as f64) * HOLDOUT).ceil() as usize;
    let (train, test) = closed.split_at(closed.len() - held);
    let first = test.first().map(|d| d.at());
    let train: Vec<&E> = train
        .iter()
        .copied()
        .filter(|d| first.is_none_or(|f| d.known_at() <= f))
        .collect();
    let train = train.as_slice();
    let single = |rows: &[&E]| {
        let w = rows.iter().filter(|d| d.outcome() == Some(true)).count();
        w == 0 || w == rows.len()
    };
    if single(train) || single(test) {
        return Outcome::refused(
            won,
            lost,
            "The newest fifth of the outcomes (held out for testing) or the rest are all \
             of one kind, so a model could be neither trained nor tested."
                .into(),
        );
    }
    let model = match fit(train) {
        Ok(m) => m,
        Err(why) => return Outcome::refused(won, lost, why),
    };
    let outcomes: Vec<bool> = test.iter().map(|d| d.outcome() == Some(true)).collect();
    let predict = |m: &Model| -> Vec<f64> { test.iter().map(|d| m.probability(*d)).collect() };
    let base_rate =
        train.iter().filter(|d| d.outcome() == Some(true)).count() as f64 / train.len() as f64;
    let stage: Vec<f64> = test.iter().map(|d| d.baseline(base_rate)).collect();
    let evaluation = Evaluation {
        model: metrics::measure(&predict(&model), &outcomes),
        stage: metrics::measure(&stage, &outcomes),
        current: current.map(|c| metrics::measure(&predict(c), &outcomes)),
    };
    let (bar, against) = match &evaluation.current {
        Some(c) => (c.auc, "the current model's"),
        None if kind == Kind::Deal => (evaluation.stage.auc, "the stage probabilities'"),
        None => (evaluation.stage.auc, "the base rate's"),
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
fn fit<E: Example>(rows: &[&E]) -> Result<Model, String> {
    let columns = model::columns(rows);
    if columns.is_empty() {
        return Err("The history has no features to learn from.".into());
    }
    let width = columns.len();
    let mut x = Array2::<f64>::zeros((rows.len(), width));
    for (i, d) in rows.iter().enumerate() {
        for (j, v) in model::encode(&columns, *d).into_iter().enumerate() {
            x[[i, j]] = v;
        }
    }
    let y: Array1<bool> = rows.iter().map(|d| d.outcome() == Some(true)).collect();
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
        horizon_days: None,
    })
}

async fn store(db: &Db, kind: Kind, o: Outcome) -> Result<Run, AppError> {
    let tx = db.begin_write().await?;
    let last = scoring_model::Entity::find()
        .select_only()
        .column_as(scoring_model::Column::Version.max(), "v")
        .filter(scoring_model::Column::Kind.eq(kind.as_str()))
        .into_tuple::<Option<i32>>()
        .one(&tx)
        .await?
        .flatten()
        .unwrap_or(0);
    if o.status == ACTIVE {
        retire_active(&tx, kind).await?;
    }
    let json = |v: Result<String, serde_json::Error>| {
        v.map_err(|e| AppError::Internal(format!("a scoring model's JSON: {e}")))
    };
    let row = scoring_model::ActiveModel {
        kind: Set(kind.as_str().into()),
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
    db.scoring.remove(&kind);
    Ok(row.into())
}

async fn retire_active(tx: &sea_orm::DatabaseTransaction, kind: Kind) -> Result<(), AppError> {
    scoring_model::Entity::update_many()
        .col_expr(scoring_model::Column::Status, Expr::value(RETIRED))
        .filter(scoring_model::Column::Kind.eq(kind.as_str()))
        .filter(scoring_model::Column::Status.eq(ACTIVE))
        .exec(tx)
        .await?;
    Ok(())
}

/// Every run of `kind`, newest first.
pub async fn runs(db: &Db, kind: Kind) -> Result<Vec<Run>, AppError> {
    Ok(scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(kind.as_str()))
        .order_by_desc(scoring_model::Column::Version)
        .all(&db.read)
        .await?
        .into_iter()
        .map(Run::from)
        .collect())
}

/// Every run of each kind (deal first), newest first, for `actor` (any role that reads
/// records: the metrics name no record).
pub async fn runs_seen_by(db: &Db, actor: &Actor) -> Result<Vec<Run>, AppError> {
    actor.require(Action::ReadRecords)?;
    let mut all = Vec::new();
    for kind in Kind::ALL {
        all.extend(runs(db, kind).await?);
    }
    Ok(all)
}

/// Switches run `version` back in (a rollback), retiring the one scoring now; by
/// `actor` (who needs Settings → Scoring), or by `cairn score` when `None`. Audited.
pub async fn activate(
    db: &Db,
    actor: Option<&Actor>,
    kind: Kind,
    version: i32,
) -> Result<Run, AppError> {
    if let Some(a) = actor {
        a.require(Action::Scoring)?;
    }
    let tx = db.begin_write().await?;
    let row = scoring_model::Entity::find()
        .filter(scoring_model::Column::Kind.eq(kind.as_str()))
        .filter(scoring_model::Column::Version.eq(version))
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Scoring model"))?;
    if !Run::from(row.clone()).can_switch_in() {
        let why = match row.status.as_str() {
            ACTIVE => format!("That model scores {} already.", kind.scores()),
            _ => "That run trained no model; choose a run that did.".to_string(),
        };
        return Err(AppError::field("version", why));
    }
    retire_active(&tx, kind).await?;
    let mut active: scoring_model::ActiveModel = row.into();
    active.status = Set(ACTIVE.into());
    let row = active.update(&tx).await?;
    let detail = serde_json::json!({ "kind": kind.as_str(), "version": version });
    audit::record(
        &tx,
        actor,
        "activate",
        "scoring_model",
        row.id,
        Some(detail),
    )
    .await?;
    // What it scores is scored again with it, as the switch commits.
    crate::jobs::queue::enqueue_in(&tx, &super::job::rescore_job(kind)).await?;
    tx.commit().await?;
    db.scoring.remove(&kind);
    crate::jobs::wake();
    Ok(row.into())
}
