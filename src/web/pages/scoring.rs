//! Settings → Scoring (admins): the deal score's training runs with their hold-out
//! metrics, a button that trains now (through the job queue), and a button per earlier
//! model that switches it back in.
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::domain::scoring::{self, MIN_OUTCOMES, Run, features};
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
    runs: Vec<RunView>,
    active: Option<i32>,
    min_outcomes: usize,
    fields: Vec<FieldView>,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
) -> Result<HttpResponse, AppError> {
    let runs = scoring::runs(&state.db).await?;
    let active = runs
        .iter()
        .find(|r| r.status == scoring::train::ACTIVE)
        .map(|r| r.version);
    let chosen: Vec<i64> = features::chosen(&state.db)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    let fields = features::offered(&state.db)
        .await?
        .into_iter()
        .map(|f| FieldView {
            chosen: chosen.contains(&f.id),
            id: f.id,
            label: f.label,
            kind: f.kind,
        })
        .collect();
    ok(&ScoringPage {
        l: Layout::for_user(&user, "settings"),
        runs: runs.into_iter().map(RunView::from).collect(),
        active,
        min_outcomes: MIN_OUTCOMES,
        fields,
    })
}

/// The features form: the deal custom fields ticked.
#[derive(serde::Deserialize)]
pub struct FeaturesForm {
    #[serde(default)]
    field: Vec<i64>,
}

pub async fn save_features(
    state: web::Data<AppState>,
    user: Can<gate::Scoring>,
    form: crate::web::forms::Form<FeaturesForm>,
) -> Result<HttpResponse, AppError> {
    features::set(&state.db, &user.actor, &form.0.field).await?;
    set_flash(
        &user.session,
        "Saved: the next training learns from these fields.",
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
    path: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let version = path.into_inner();
    scoring::activate(&state.db, Some(&user.actor), version).await?;
    set_flash(&user.session, format!("Model {version} scores deals now."));
    Ok(see_other("/settings/scoring"))
}
