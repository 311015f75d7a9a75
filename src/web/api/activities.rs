//! /api/v1/activities: a record's timeline, and logging, editing or removing an entry.
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::activities::{
    self, Activity, ActivityInput, ActivityPatch, ListParams, Revision,
};
use crate::error::AppError;
use crate::web::api::schema::{
    ErrorBody, Forbidden, NotFound, Unauthorized, Unavailable, WriteErrors,
};
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
#[utoipa::path(get, path = "/api/v1/activities", operation_id = "list_activities", tag = "activities",
    params(
        ("deal_id" = Option<i64>, Query, description = "The deal's activities"),
        ("contact_id" = Option<i64>, Query, description = "The contact's activities"),
        ("company_id" = Option<i64>, Query, description = "The company's activities"),
        ("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "From 1"),
        ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 25"),
        ("before" = Option<String>, Query,
            description = "Only entries older than this one: `<occurred_at>_<id>` of the last entry seen (its RFC 3339 time, `_`, its id)"),
        ("with_deals" = Option<bool>, Query, description = "For a contact or company: also the activities of its deals"),
    ),
    responses((status = 200, body = ActivityList), (status = 401, response = Unauthorized),
        (status = 404, description = "The deal, contact or company does not exist.", body = ErrorBody),
        (status = 422, description = "Not exactly one of deal_id, contact_id and company_id, an unknown parameter, or a value that is not valid.", body = ErrorBody),
        (status = 503, response = Unavailable)),
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

#[utoipa::path(post, path = "/api/v1/activities", operation_id = "create_activity", tag = "activities", request_body = ActivityInput,
    responses((status = 201, body = Activity),
        (status = 403, response = Forbidden),
        (status = 409, description = "The record it is about was deleted meanwhile.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<ActivityInput>,
) -> Result<HttpResponse, AppError> {
    let a = activities::create(&state.db, &actor, &body).await?;
    Ok(HttpResponse::Created().json(a))
}

#[utoipa::path(delete, path = "/api/v1/activities/{id}", operation_id = "delete_activity", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    responses((status = 204, description = "Removed."), (status = 401, response = Unauthorized),
        (status = 403, description = "Only its author, a manager or an admin may remove it (viewers none).", body = ErrorBody),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    activities::delete(&state.db, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Edits an activity (its author, a manager or an admin): the text it replaces is kept
/// as a revision and the activity is marked edited.
#[utoipa::path(patch, path = "/api/v1/activities/{id}", operation_id = "update_activity", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    request_body = ActivityPatch,
    responses((status = 200, body = Activity),
        (status = 403, description = "Only its author, a manager or an admin may edit it (viewers none).", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "It was edited since `version`; nothing was changed.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<ActivityPatch>,
) -> Result<HttpResponse, AppError> {
    let a = activities::update(&state.db, &actor, *id, &body).await?;
    Ok(HttpResponse::Ok().json(a))
}

#[derive(Serialize, ToSchema)]
pub struct RevisionList {
    /// Earlier versions, newest first.
    pub items: Vec<Revision>,
}

/// An activity's earlier versions, newest first: each is what an edit replaced.
#[utoipa::path(get, path = "/api/v1/activities/{id}/revisions", operation_id = "list_activity_revisions", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    responses((status = 200, body = RevisionList), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn revisions(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (_, items) = activities::revisions(&state.db, &actor, *id).await?;
    Ok(HttpResponse::Ok().json(RevisionList { items }))
}
