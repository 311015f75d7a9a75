//! /api/v1/activities: a record's timeline, and logging, editing or removing an entry.
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::activities::{self, Activity, ActivityInput, ActivityPatch, Revision};
use crate::error::AppError;
use crate::web::api::records;
use crate::web::api::schema::{ErrorBody, NotFound, Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

records::list_handler! {
    /// A record's activities, newest first: give exactly one of deal_id, contact_id,
    /// company_id; page and per_page (at most 100, default 25) as elsewhere; `with_deals=true`
    /// adds a contact's or company's deals' activities, as their pages show.
    domain = activities, record = Activity, list = ActivityList,
    path = "/api/v1/activities", op = "list_activities", tag = "activities",
    errors = (
        (status = 404, description = "The deal, contact or company does not exist.", body = ErrorBody),
        (status = 422, description = "Not exactly one of deal_id, contact_id and company_id, an unknown parameter, or a value that is not valid.", body = ErrorBody),
    ),
}

records::create_handler! {
    domain = activities, record = Activity, input = ActivityInput,
    path = "/api/v1/activities", op = "create_activity", tag = "activities",
    conflict = "The record it is about was deleted meanwhile.",
}

records::delete_handler! {
    domain = activities, path = "/api/v1/activities/{id}", op = "delete_activity",
    tag = "activities", id = "Activity id", removed = "Removed.",
    forbidden = "Only its author, a manager or an admin may remove it (viewers none).",
}

records::update_handler! {
    /// Edits an activity (its author, a manager or an admin): the text it replaces is kept
    /// as a revision and the activity is marked edited.
    domain = activities, record = Activity, patch = ActivityPatch,
    path = "/api/v1/activities/{id}", op = "update_activity", tag = "activities", id = "Activity id",
    forbidden = (description = "Only its author, a manager or an admin may edit it (viewers none).", body = ErrorBody),
    conflict = "It was edited since `version`; nothing was changed.",
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
