//! Settings → Pipelines (admins): new pipelines; stages added, edited, reordered and
//! removed (their deals moved to a stage the admin picks).
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::deals::{self, Pipeline, StageInput};
use crate::domain::onboarding;
use crate::error::AppError;
use crate::web::auth::{Can, CurrentUser, gate, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{Layout, Refusal, render, see_other};

#[derive(Template)]
#[template(path = "settings/pipelines.html")]
struct PipelinesPage {
    l: Layout,
    pipelines: Vec<Pipeline>,
    /// The currency new deals start in.
    currency: String,
    message: Option<String>,
}

const KINDS: [&str; 3] = ["open", "won", "lost"];

impl PipelinesPage {
    fn kinds(&self) -> [&'static str; 3] {
        KINDS
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let refusal = Refusal::of(error)?;
    // Every field's message in one line: the page has no field next to each input.
    let message = if refusal.fields.is_empty() {
        refusal.message
    } else {
        Some(refusal.fields.into_values().collect::<Vec<_>>().join(" "))
    };
    let status = refusal.status;
    render(
        &PipelinesPage {
            l: Layout::for_user(user, "settings"),
            pipelines: deals::pipelines(&state.db.read).await?,
            currency: deals::org_currency(&state.db).await?,
            message,
        },
        status,
    )
}

fn done(user: &CurrentUser, flash: &str) -> HttpResponse {
    set_flash(&user.session, flash);
    see_other("/settings/pipelines")
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
) -> Result<HttpResponse, AppError> {
    onboarding::pipeline_checked(&state.db, &user.actor).await?;
    page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct PipelineForm {
    #[serde(default)]
    name: String,
}

pub async fn create(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
    Form(form): Form<PipelineForm>,
) -> Result<HttpResponse, AppError> {
    match deals::create_pipeline(&state.db, &user.actor, &form.name).await {
        Ok(p) => Ok(done(&user, &format!("Pipeline {} created.", p.name))),
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

pub async fn rename(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
    id: web::Path<i64>,
    Form(form): Form<PipelineForm>,
) -> Result<HttpResponse, AppError> {
    match deals::rename_pipeline(&state.db, &user.actor, *id, &form.name).await {
        Ok(p) => Ok(done(&user, &format!("Pipeline renamed to {}.", p.name))),
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct StageForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    probability: String,
    #[serde(default)]
    kind: String,
}

impl StageForm {
    fn input(&self) -> Result<StageInput, AppError> {
        let probability = self.probability.trim().parse::<i32>().map_err(|_| {
            AppError::field(
                "probability",
                "Probability is a whole number from 0 to 100.",
            )
        })?;
        Ok(StageInput {
            name: self.name.clone(),
            probability,
            kind: self.kind.clone(),
        })
    }
}

pub async fn add_stage(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
    id: web::Path<i64>,
    Form(form): Form<StageForm>,
) -> Result<HttpResponse, AppError> {
    let result = match form.input() {
        Ok(input) => deals::add_stage(&state.db, &user.actor, *id, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(done(&user, &format!("Stage {} added.", s.name))),
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

pub async fn update_stage(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
    id: web::Path<i64>,
    Form(form): Form<StageForm>,
) -> Result<HttpResponse, AppError> {
    let result = match form.input() {
        Ok(input) => deals::update_stage(&state.db, &user.actor, *id, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(done(&user, &format!("Stage {} saved.", s.name))),
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct ReorderForm {
    /// The arrow buttons.
    #[serde(default)]
    direction: String,
    /// Dragging (static/board.js): the row's new place, 0 first.
    #[serde(default)]
    position: String,
}

pub async fn reorder_stage(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
    id: web::Path<i64>,
    Form(form): Form<ReorderForm>,
) -> Result<HttpResponse, AppError> {
    let position =
        match form.position.trim() {
            "" => None,
            p => Some(p.parse::<i64>().map_err(|_| {
                AppError::field("position", "position is a whole number, 0 or more.")
            })?),
        };
    deals::reorder_stage(
        &state.db,
        &user.actor,
        *id,
        Some(form.direction.as_str()),
        position,
    )
    .await?;
    Ok(see_other("/settings/pipelines"))
}

#[derive(Deserialize)]
pub struct DeleteStageForm {
    #[serde(default)]
    move_to: String,
}

pub async fn delete_stage(
    state: web::Data<AppState>,
    user: Can<gate::ManagePipelines>,
    id: web::Path<i64>,
    Form(form): Form<DeleteStageForm>,
) -> Result<HttpResponse, AppError> {
    let move_to = form.move_to.trim().parse::<i64>().ok();
    match deals::delete_stage(&state.db, &user.actor, *id, move_to).await {
        Ok(0) => Ok(done(&user, "Stage removed.")),
        Ok(n) => Ok(done(
            &user,
            &format!("Stage removed; {n} deal(s) moved and their history notes it."),
        )),
        Err(e) => page(&state, &user, Some(e)).await,
    }
}
