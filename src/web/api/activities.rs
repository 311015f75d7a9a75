//! /api/v1/activities: a record's timeline, and logging or removing an entry.
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::activities::{self, Activity, ActivityInput, ListParams};
use crate::error::AppError;
use crate::web::auth::ApiUser;

#[derive(Serialize, ToSchema)]
pub struct ActivityList {
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<Activity>,
}

/// A record's activities, newest first: give exactly one of deal_id, contact_id,
/// company_id; page and per_page (at most 100, default 25) as elsewhere; `with_deals=true`
/// adds a contact's or company's deals' activities, as their pages show.
#[utoipa::path(get, path = "/api/v1/activities", tag = "activities",
    params(
        ("deal_id" = Option<i64>, Query, description = "The deal's activities"),
        ("contact_id" = Option<i64>, Query, description = "The contact's activities"),
        ("company_id" = Option<i64>, Query, description = "The company's activities"),
        ("page" = Option<u64>, Query, description = "From 1"),
        ("per_page" = Option<u64>, Query, description = "1 to 100, default 25"),
        ("before" = Option<String>, Query, description = "Only entries older than this one: `<occurred_at>_<id>` of the last entry seen"),
        ("with_deals" = Option<bool>, Query, description = "For a contact or company: also the activities of its deals"),
    ),
    responses((status = 200, body = ActivityList), (status = 401), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let p: ListParams = serde_html_form::from_str(req.query_string())
        .map_err(|e| AppError::field("query", format!("The query string is not valid: {e}")))?;
    let page = activities::list(&state.db, &actor, &p.validate(25)?).await?;
    Ok(HttpResponse::Ok().json(ActivityList {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        items: page.items,
    }))
}

#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", request_body = ActivityInput,
    responses((status = 201, body = Activity), (status = 400), (status = 401), (status = 403), (status = 415), (status = 422)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<ActivityInput>,
) -> Result<HttpResponse, AppError> {
    let a = activities::create(&state.db, &actor, &body).await?;
    Ok(HttpResponse::Created().json(a))
}

#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    activities::delete(&state.db, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
