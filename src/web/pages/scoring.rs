//! Settings → Scoring (admins): each score's (deal, lead) training runs with their
//! hold-out metrics, a button that trains both now (through the job queue), a button per
//! earlier model that switches it back in, the deal custom fields learned from and the
//! lead score's horizon.
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::domain::scoring::{self, Kind, MIN_OUTCOMES, Run, features, leads};
use crate::error::AppError;
use crate::web::auth::{Can, gate, set_flash};
use crate::web::filters;
use crate::web::pages::{Layout, ok, see_other};

/// A run as a row shows it.
struct RunView {
    version: i32,
    status: String,
    trained_at: DateTime<Utc>,
    outcomes: String,
    auc: Option<String>,
    stage_auc: Option<String>,
    before_auc: Option<String>,
    log_loss: Option<String>,
    message: Option<String>,
    /// A model that can be switched back in (trained, not scoring now).
    can_activate: bool,
}

impl From<Run> for RunView {
    fn from(r: Run) -> RunView {
        let three = |x: f64| format!("{x:.3}");
        let m = r.metrics.as_ref();
        RunView {
            version: r.version,
            can_activate: r.can_switch_in(),
            status: r.status,
            trained_at: r.trained_at,
            outcomes: format!("{} won, {} lost ({} held out)", r.won, r.lost, r.holdout),
            auc: m.map(|m| three(m.model.auc)),
            stage_auc: m.map(|m| three(m.stage.auc)),
            before_auc: m.and_then(|m| m.current.as_ref()).map(|c| three(c.auc)),
            log_loss: m.map(|m| three(m.model.log_loss)),
            message: r.message,
        }
    }
}

/// One score's section: its runs and the model scoring now.
struct ScoreView {
    kind: &'static str,
    title: &'static str,
    /// What the page calls its baseline's AUC.
    baseline: &'static str,
    /// What its outcomes are counted in ("Deals", "Snapshots").
    outcomes: &'static str,
    active: Option<i32>,
    runs: Vec<RunView>,
}

impl ScoreView {
    fn new(kind: Kind, runs: Vec<Run>) -> ScoreView {
        let (title, baseline, outcomes) = match kind {
            Kind::Deal => ("Deal score runs", "Stages' AUC", "Deals"),
            Kind::Lead => ("Lead score runs", "Base rate's AUC", "Snapshots"),
        };
        ScoreView {
            kind: kind.as_str(),
            title,
            baseline,
            outcomes,
            active: runs
                .iter()
                .find(|r| r.status == scoring::train::ACTIVE)
                .map(|r| r.version),
            runs: runs.into_iter().map(RunView::from).collect(),
        }
    }
}

/// A deal custom field as the features form offers it.
struct FieldView {
    id: i64,
    label: String,
    kind: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "settings/scoring.html")]
struct ScoringPage {
    l: Layout,
    scores: Vec<ScoreView>,
    min_outcomes: usize,
    /// Deal custom fields, for the deal score.
    fields: Vec<FieldView>,
    /// Contact custom fields, for the lead score.
    lead_fields: Vec<FieldView>,
    horizon_days: i64,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
) -> Result<HttpResponse, AppError> {
    let mut scores = Vec::new();
    for kind in Kind::ALL {
        scores.push(ScoreView::new(kind, scoring::runs(&state.db, kind).await?));
    }
    ok(&ScoringPage {
        l: Layout::for_user(&user, "settings"),
        scores,
        min_outcomes: MIN_OUTCOMES,
        fields: field_views(&state, Kind::Deal).await?,
        lead_fields: field_views(&state, Kind::Lead).await?,
        horizon_days: leads::horizon_days(&state.db.read).await?,
    })
}

/// The custom fields `kind`'s score can learn from, each ticked or not.
async fn field_views(state: &AppState, kind: Kind) -> Result<Vec<FieldView>, AppError> {
    let chosen: Vec<i64> = features::chosen(&state.db, kind)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    Ok(features::offered(&state.db, kind)
        .await?
        .into_iter()
        .map(|f| FieldView {
            chosen: chosen.contains(&f.id),
            id: f.id,
            label: f.label,
            kind: f.kind,
        })
        .collect())
}

/// A features form: the custom fields ticked for the score of `kind` (deal or lead).
#[derive(serde::Deserialize)]
pub struct FeaturesForm {
    #[serde(default)]
    field: Vec<i64>,
    #[serde(default)]
    kind: String,
}

pub async fn save_features(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
    form: crate::web::forms::Form<FeaturesForm>,
) -> Result<HttpResponse, AppError> {
    let kind = match form.0.kind.as_str() {
        "" => Kind::Deal,
        k => Kind::parse(k).ok_or_else(|| AppError::field("kind", "Choose deal or lead."))?,
    };
    features::set(&state.db, &user.actor, kind, &form.0.field).await?;
    set_flash(
        &user.session,
        "Saved: the next training learns from these fields.",
    );
    Ok(see_other("/settings/scoring"))
}

/// The lead score's horizon form.
#[derive(serde::Deserialize)]
pub struct HorizonForm {
    #[serde(default)]
    horizon_days: String,
}

pub async fn save_horizon(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
    form: crate::web::forms::Form<HorizonForm>,
) -> Result<HttpResponse, AppError> {
    let days = leads::set_horizon(&state.db, &user.actor, &form.0.horizon_days).await?;
    set_flash(
        &user.session,
        format!("Saved: the next training scores the chance of a won deal within {days} days."),
    );
    Ok(see_other("/settings/scoring"))
}

pub async fn train(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
) -> Result<HttpResponse, AppError> {
    scoring::job::request(&state.db, &user.actor).await?;
    set_flash(
        &user.session,
        "Training started: the new run appears below within a minute (reload the page).",
    );
    Ok(see_other("/settings/scoring"))
}

pub async fn activate(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let (kind, version) = path.into_inner();
    let kind = Kind::parse(&kind).ok_or_else(|| AppError::not_found("Scoring model"))?;
    scoring::activate(&state.db, Some(&user.actor), kind, version).await?;
    set_flash(
        &user.session,
        format!("Model {version} scores {} now.", kind.scores()),
    );
    Ok(see_other("/settings/scoring"))
}
