//! /api/v1/deals and /api/v1/pipelines
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::deals::{
    self, Deal, DealInput, DealPatch, Move, Pipeline, Stage, StageChange, StageInput,
};
use crate::error::AppError;
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
    responses((status = 200, body = Vec<Pipeline>), (status = 401)),
    security(("bearer" = [])))]
pub async fn pipelines(
    state: web::Data<AppState>,
    ApiUser(_actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::pipelines(&state.db.read).await?))
}

/// The deals of a pipeline (the first unless `pipeline` is given), page by page, with the
/// board's filters and the deal table's status and sort; `sort=stage` is the board's order.
#[utoipa::path(get, path = "/api/v1/deals", tag = "deals",
    params(
        ("pipeline" = Option<i64>, Query, description = "Pipeline id; default the first"),
        ("owner" = Option<i64>, Query, description = "Owner's user id"),
        ("close_month" = Option<String>, Query, description = "Expected close in this month, YYYY-MM"),
        ("min_amount" = Option<i64>, Query, description = "At least this amount, in whole currency units"),
        ("max_amount" = Option<i64>, Query, description = "At most this amount, in whole currency units"),
        ("company" = Option<i64>, Query, description = "Company id"),
        ("status" = Option<String>, Query, description = "open, won or lost"),
        ("sort" = Option<String>, Query, description = "title, stage, amount, owner, close, updated (default) or created"),
        ("dir" = Option<String>, Query, description = "asc or desc"),
        ("page" = Option<u64>, Query, description = "From 1"),
        ("per_page" = Option<u64>, Query, description = "1 to 100, default 25"),
    ),
    responses((status = 200, body = DealList), (status = 401), (status = 422)),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let mut params: deals::ListParams = serde_html_form::from_str(req.query_string())
        .map_err(|e| AppError::field("query", format!("The query string is not valid: {e}")))?;
    params.per_page = params.per_page.or(Some("25".into()));
    crate::domain::pick::company_filter(&state.db, &mut params.company).await?;
    let t = deals::list(&state.db, &actor, &params.validate()?).await?;
    Ok(HttpResponse::Ok().json(DealList {
        total: t.total.max(0) as u64,
        page: t.page,
        per_page: t.per_page.max(0) as u64,
        sums: t.sums.clone(),
        items: t.items.clone(),
    }))
}

#[utoipa::path(post, path = "/api/v1/deals", tag = "deals", request_body = DealInput,
    responses((status = 201, body = Deal), (status = 400), (status = 401), (status = 403), (status = 415), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<DealInput>,
) -> Result<HttpResponse, AppError> {
    let deal = deals::create(&state.db, &actor, &body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/deals/{}", deal.id)))
        .json(deal))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}", tag = "deals",
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = Deal), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::get(&state.db, &actor, *id).await?))
}

#[utoipa::path(patch, path = "/api/v1/deals/{id}", tag = "deals", request_body = DealPatch,
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = Deal), (status = 400), (status = 401), (status = 403), (status = 404),
        (status = 409), (status = 415), (status = 422)),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<DealPatch>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(deals::update(&state.db, &actor, *id, body.into_inner()).await?))
}

#[utoipa::path(delete, path = "/api/v1/deals/{id}", tag = "deals",
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    deals::delete(&state.db, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/move", tag = "deals", request_body = Move,
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = Deal), (status = 400), (status = 401), (status = 403), (status = 404),
        (status = 409), (status = 415), (status = 422)),
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
    responses((status = 200, body = Vec<StageChange>), (status = 401), (status = 404)),
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
    pub name: String,
}

/// Renames a pipeline (admins).
#[utoipa::path(patch, path = "/api/v1/pipelines/{id}", tag = "deals", request_body = PipelineInput,
    params(("id" = i64, Path, description = "Pipeline id")),
    responses((status = 200, body = Pipeline), (status = 400), (status = 401), (status = 403), (status = 404), (status = 415), (status = 422)),
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
    responses((status = 201, body = Pipeline), (status = 400), (status = 401), (status = 403), (status = 415), (status = 422)),
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
    responses((status = 201, body = Stage), (status = 400), (status = 401), (status = 403), (status = 404), (status = 415), (status = 422)),
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
    responses((status = 200, body = Stage), (status = 400), (status = 401), (status = 403), (status = 404),
        (status = 409), (status = 415), (status = 422)),
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
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
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
    pub direction: Option<String>,
    /// Or the place to put it, 0 being first (past the end means last).
    pub position: Option<i64>,
}

/// Moves a stage in its pipeline (admins): one place up or down, or to a position.
#[utoipa::path(post, path = "/api/v1/stages/{id}/reorder", tag = "deals", request_body = StageOrder,
    params(("id" = i64, Path, description = "Stage id")),
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404), (status = 415), (status = 422)),
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
