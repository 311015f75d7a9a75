//! /api/v1/deals and /api/v1/pipelines
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::deals::{
    self, Deal, DealInput, DealPatch, Move, Pipeline, Stage, StageChange, StageInput,
};
use crate::error::AppError;
use crate::web::api::schema::{
    ErrorBody, Forbidden, NotFound, StageDirection, Unauthorized, Unavailable, Unprocessable,
    WriteErrors,
};
use crate::web::auth::ApiUser;

#[derive(Serialize, ToSchema)]
pub struct DealList {
    /// Every deal that matches, over all pages.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// The amounts of every match, per currency, in minor units.
    pub sums: std::collections::BTreeMap<String, i64>,
    pub items: Vec<Deal>,
}

#[utoipa::path(get, path = "/api/v1/pipelines", tag = "deals",
    responses((status = 200, body = Vec<Pipeline>), (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn pipelines(
    state: web::Data<AppState>,
    ApiUser(_actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::pipelines(&state.db.read).await?))
}

/// The deals of a pipeline (the first unless `pipeline` is given), page by page, with the
/// board's filters and the deal table's status and sort; `sort=stage` is the board's order.
#[utoipa::path(get, path = "/api/v1/deals", operation_id = "list_deals", tag = "deals",
    params(deals::ListParams),
    responses((status = 200, body = DealList), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let mut params: deals::ListParams = crate::web::forms::parse_query(req.query_string())?;
    params.per_page = params.per_page.or(Some("25".into()));
    crate::domain::pick::company_filter(&state.db, &actor, &mut params.company).await?;
    let t = deals::list(&state.db, &actor, &params.validate()?).await?;
    Ok(HttpResponse::Ok().json(DealList {
        total: t.total.max(0) as u64,
        page: t.page,
        per_page: t.per_page.max(0) as u64,
        sums: t.sums.clone(),
        items: t.items.clone(),
    }))
}

crate::web::api::records::crud_handlers! {
    domain = deals, record = Deal, input = DealInput, patch = DealPatch,
    tag = "deals", base = "/api/v1/deals", item = "/api/v1/deals/{id}",
    ops = ("create_deal", "get_deal", "update_deal"), id = "Deal id",
    create_conflict = "A record it names was deleted meanwhile.",
    update_conflict = "`version` is not the deal's current one (someone changed it), or a record it names was deleted meanwhile.",
}

crate::web::api::records::trash_delete_handler! {
    domain = deals, path = "/api/v1/deals/{id}", op = "delete_deal", tag = "deals", id = "Deal id",
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/move", tag = "deals", request_body = Move,
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = Deal),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "`version` is not the deal's current one: someone changed or moved it.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn move_deal(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<Move>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::move_deal(&state.db, &actor, *id, &body).await?))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}/stage-changes", tag = "deals",
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = Vec<StageChange>), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn stage_changes(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::stage_changes(&state.db, &actor, *id).await?))
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PipelineInput {
    /// Up to 80 characters (runs of spaces count as one); unique among pipelines, any case.
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
}

/// Renames a pipeline (admins).
#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", tag = "deals", request_body = PipelineInput,
    params(("id" = i64, Path, description = "Pipeline id")),
    responses((status = 200, body = Pipeline),
        (status = 403, description = "Only admins change pipelines.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "Another pipeline has this name.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn rename_pipeline(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<PipelineInput>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::rename_pipeline(&state.db, &actor, *id, &body.name).await?))
}

/// Creates a pipeline with New, In progress, Won and Lost stages (admins).
#[utoipa::path(post, path = "/api/v1/pipelines", tag = "deals", request_body = PipelineInput,
    responses((status = 201, body = Pipeline),
        (status = 403, description = "Only admins change pipelines.", body = ErrorBody),
        (status = 409, description = "Another pipeline has this name.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn create_pipeline(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<PipelineInput>,
) -> Result<HttpResponse, AppError> {
    let pipeline = deals::create_pipeline(&state.db, &actor, &body.name).await?;
    Ok(HttpResponse::Created().json(pipeline))
}

/// Adds a stage at the end of a pipeline (admins).
#[utoipa::path(post, path = "/api/v1/pipelines/{id}/stages", tag = "deals", request_body = StageInput,
    params(("id" = i64, Path, description = "Pipeline id")),
    responses((status = 201, body = Stage),
        (status = 403, description = "Only admins change pipelines.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "Another stage of this pipeline has this name.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn add_stage(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<StageInput>,
) -> Result<HttpResponse, AppError> {
    let stage = deals::add_stage(&state.db, &actor, *id, &body).await?;
    Ok(HttpResponse::Created().json(stage))
}

/// Renames a stage, sets its probability or kind (admins).
#[utoipa::path(patch, path = "/api/v1/stages/{id}", tag = "deals", request_body = StageInput,
    params(("id" = i64, Path, description = "Stage id")),
    responses((status = 200, body = Stage),
        (status = 403, description = "Only admins change pipelines.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "Another stage of this pipeline has this name, or the change would leave the pipeline without an open stage.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn update_stage(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<StageInput>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::update_stage(&state.db, &actor, *id, &body).await?))
}

#[derive(serde::Deserialize)]
struct DeleteStageQuery {
    move_to: Option<i64>,
}

/// Removes a stage; `?move_to=<stage id>` says where its deals go.
#[utoipa::path(delete, path = "/api/v1/stages/{id}", tag = "deals",
    params(("id" = i64, Path, description = "Stage id"),
        ("move_to" = Option<i64>, Query, description = "Stage (same pipeline and kind) that takes the deals")),
    responses((status = 204, description = "Removed; its deals moved to `move_to`."),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Only admins change pipelines.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "Deals sit in the stage and no `move_to` was given, or it is the pipeline's last open stage.", body = ErrorBody),
        (status = 422, description = "`move_to` is not a stage of the same pipeline and kind.", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn delete_stage(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let q: DeleteStageQuery = serde_html_form::from_str(req.query_string())
        .map_err(|_| AppError::field("move_to", "move_to is a stage id."))?;
    deals::delete_stage(&state.db, &actor, *id, q.move_to).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageOrder {
    /// up or down: one place earlier or later.
    #[schema(value_type = Option<StageDirection>)]
    pub direction: Option<String>,
    /// Or the place to put it, 0 being first (past the end means last).
    #[schema(minimum = 0)]
    pub position: Option<i64>,
}

/// Moves a stage in its pipeline (admins): one place up or down, or to a position.
#[utoipa::path(post, path = "/api/v1/stages/{id}/reorder", tag = "deals", request_body = StageOrder,
    params(("id" = i64, Path, description = "Stage id")),
    responses((status = 204, description = "Moved."),
        (status = 403, description = "Only admins change pipelines.", body = ErrorBody),
        (status = 404, response = NotFound),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn reorder_stage(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<StageOrder>,
) -> Result<HttpResponse, AppError> {
    deals::reorder_stage(
        &state.db,
        &actor,
        *id,
        body.direction.as_deref(),
        body.position,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
