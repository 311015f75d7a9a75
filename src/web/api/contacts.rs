//! /api/v1/contacts
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::contacts::{self, Contact, ContactInput, ContactPatch, ListParams};
use crate::error::AppError;
use crate::web::api::records;
use crate::web::api::schema::{
    ContactMergeField, ErrorBody, Forbidden, NotFound, Unauthorized, Unavailable, Unprocessable,
    WriteErrors,
};
use crate::web::auth::ApiUser;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ContactList {
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<Contact>,
}

#[utoipa::path(get, path = "/api/v1/contacts", operation_id = "list_contacts", tag = "contacts", params(ListParams),
    responses((status = 200, body = ContactList), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn list(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let params = ListParams::from_query(req.query_string())?;
    let query = params.validate(25)?;
    let (total, items) = contacts::list_json(&state.db, &actor, &query).await?;
    let body = format!(
        "{{\"total\":{total},\"page\":{},\"per_page\":{},\"items\":{items}}}",
        query.page, query.per_page
    );
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

records::crud_handlers! {
    domain = contacts, record = Contact, input = ContactInput, patch = ContactPatch,
    tag = "contacts", base = "/api/v1/contacts", item = "/api/v1/contacts/{id}",
    ops = ("create_contact", "get_contact", "update_contact"), id = "Contact id",
    create_conflict = "Another contact has this email, or a record it names was deleted meanwhile.",
    update_conflict = "Another contact has this email, or a record it names was deleted meanwhile.",
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}", operation_id = "delete_contact", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id")),
    responses((status = 204, description = "Moved to the trash, where managers can restore it for 30 days."),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Viewers only read; reps delete only records they own.", body = ErrorBody),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    contacts::delete(&state.db, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/contacts/bulk", operation_id = "bulk_contacts", tag = "contacts", request_body = records::BulkRequest,
    responses((status = 200, body = crate::web::api::records::BulkResult),
        (status = 403, response = Forbidden),
        (status = 409, description = "A record the action names was deleted meanwhile.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn bulk(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<records::BulkRequest>,
) -> Result<HttpResponse, AppError> {
    records::bulk::<Contact, ListParams>(&state.db, &actor, body.into_inner(), |query| {
        ListParams::from_query(query)?.validate(25)
    })
    .await
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ContactMergeRequest)]
pub struct MergeRequest {
    /// The contact merged into this one, then deleted.
    pub merge_id: i64,
    /// Fields whose value comes from `merge_id` (first_name, last_name, email, phone,
    /// company, title, source, owner_id); the rest stay. Tags are combined.
    #[serde(default)]
    #[schema(value_type = Vec<ContactMergeField>)]
    pub take: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", operation_id = "merge_contacts", tag = "contacts", request_body = MergeRequest,
    params(("id" = i64, Path, description = "The contact that stays")),
    responses((status = 200, body = Contact),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "The merged values clash with another contact (email), or a record was deleted meanwhile.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn merge(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<MergeRequest>,
) -> Result<HttpResponse, AppError> {
    let contact = contacts::merge::merge(&state.db, &actor, *id, body.merge_id, &body.take).await?;
    Ok(HttpResponse::Ok().json(contact))
}
