//! /api/v1/tasks: list with filters, create, read, change and delete tasks, through the
//! same domain functions as My tasks.
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::tasks::{self, ListParams, Task, TaskInput, TaskPatch};
use crate::error::AppError;
use crate::web::api::schema::{
    ErrorBody, Forbidden, NotFound, Unauthorized, Unavailable, WriteErrors,
};
use crate::web::auth::ApiUser;

#[derive(Serialize, ToSchema)]
pub struct TaskList {
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<Task>,
}

/// Tasks, oldest first. Reps and viewers see tasks assigned to them or created by them,
/// and tasks about a record (as its page shows them); managers and admins see all.
/// `due_before` (exclusive) and `due_after` (inclusive) take a time (RFC 3339) or a date
/// (YYYY-MM-DD); a task due on a date compares its date (a time's UTC date), a timed one
/// its instant; tasks with no due match neither.
#[utoipa::path(get, path = "/api/v1/tasks", operation_id = "list_tasks", tag = "tasks",
    params(
        ("assignee_id" = Option<i64>, Query, description = "Tasks assigned to this user"),
        ("contact_id" = Option<i64>, Query, description = "Tasks about this contact"),
        ("company_id" = Option<i64>, Query, description = "Tasks about this company"),
        ("deal_id" = Option<i64>, Query, description = "Tasks about this deal"),
        ("done" = Option<bool>, Query, description = "Only done (true) or open (false) tasks"),
        ("due_before" = Option<String>, Query, description = "Due before this time or date"),
        ("due_after" = Option<String>, Query, description = "Due at or after this time or date"),
        ("page" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "From 1"),
        ("per_page" = Option<u64>, Query, minimum = 1, maximum = 100, description = "1 to 100, default 25"),
    ),
    responses((status = 200, body = TaskList), (status = 401, response = Unauthorized),
        (status = 422, description = "An unknown parameter, or a value that is not valid (the field is named).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let p: ListParams = serde_html_form::from_str(req.query_string())
        .map_err(|e| AppError::field("query", format!("The query string is not valid: {e}")))?;
    let page = tasks::list(&state.db, &actor, &p.validate(25)?).await?;
    Ok(HttpResponse::Ok().json(TaskList {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        items: page.items,
    }))
}

/// Creates a task, assigned to you unless `assignee_id` names someone else (an active
/// user who is not a viewer).
#[utoipa::path(post, path = "/api/v1/tasks", operation_id = "create_task", tag = "tasks", request_body = TaskInput,
    responses((status = 201, body = Task),
        (status = 403, response = Forbidden),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<TaskInput>,
) -> Result<HttpResponse, AppError> {
    let t = tasks::create(&state.db, &actor, &body).await?;
    Ok(HttpResponse::Created().json(t))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}", operation_id = "get_task", tag = "tasks",
    params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, body = Task), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(tasks::get(&state.db, &actor, *id).await?))
}

/// Changes a task (its assignee, its creator, a manager or an admin). `done: true`
/// completes it (logged on its record's timeline), `false` reopens it.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", operation_id = "update_task", tag = "tasks",
    params(("id" = i64, Path, description = "Task id")),
    request_body = TaskPatch,
    responses((status = 200, body = Task),
        (status = 403, description = "Only its assignee, its creator, a manager or an admin may change it (viewers none).", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "It was changed since `version`; nothing was changed.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<TaskPatch>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(tasks::update(&state.db, &actor, *id, &body).await?))
}

#[utoipa::path(delete, path = "/api/v1/tasks/{id}", operation_id = "delete_task", tag = "tasks",
    params(("id" = i64, Path, description = "Task id")),
    responses((status = 204, description = "Removed."), (status = 401, response = Unauthorized),
        (status = 403, description = "Only its assignee, its creator, a manager or an admin may delete it (viewers none).", body = ErrorBody),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    tasks::delete(&state.db, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
