//! /api/v1/companies
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::domain::companies::{self, Company, CompanyInput, CompanyPatch, ListParams};
use crate::error::AppError;
use crate::web::api::records;
use crate::web::api::schema::{
    CompanyMergeField, ErrorBody, Forbidden, NotFound, Unauthorized, Unavailable, Unprocessable,
    WriteErrors,
};
use crate::web::auth::ApiUser;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CompanyList {
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<Company>,
}

#[utoipa::path(get, path = "/api/v1/companies", operation_id = "list_companies", tag = "companies", params(ListParams),
    responses((status = 200, body = CompanyList), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn list(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let params = ListParams::from_query(req.query_string())?;
    let query = params.validate(25)?;
    Ok(HttpResponse::Ok().json(companies::list(&state.db, &actor, &query).await?))
}

records::crud_handlers! {
    domain = companies, record = Company, input = CompanyInput, patch = CompanyPatch,
    tag = "companies", base = "/api/v1/companies", item = "/api/v1/companies/{id}",
    ops = ("create_company", "get_company", "update_company"), id = "Company id",
    create_conflict = "Another company has this name or domain, or a record it names was deleted meanwhile.",
    update_conflict = "Another company has this name or domain, or a record it names was deleted meanwhile.",
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// `true` to delete a company that still has contacts: they stay, without a company.
    /// Without it such a delete is refused with 409.
    detach: Option<bool>,
}

#[utoipa::path(delete, path = "/api/v1/companies/{id}", operation_id = "delete_company", tag = "companies",
    params(("id" = i64, Path, description = "Company id"), DeleteParams),
    responses((status = 204, description = "Moved to the trash (managers restore it for 30 days); its contacts stay, without a company."),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Viewers only read; reps delete only records they own.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "Contacts still work here and `detach` was not given.", body = ErrorBody),
        (status = 422, description = "`detach` is not true or false.", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    params: web::Query<DeleteParams>,
) -> Result<HttpResponse, AppError> {
    companies::delete(&state.db, &actor, *id, params.detach.unwrap_or(false)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompanyMergeRequest)]
pub struct MergeRequest {
    /// The company merged into this one, then deleted; its contacts move here.
    pub merge_id: i64,
    /// Fields whose value comes from `merge_id` (name, domain, industry, size_band,
    /// website, phone, address, owner_id); the rest stay. Tags are combined.
    #[serde(default)]
    #[schema(value_type = Vec<CompanyMergeField>)]
    pub take: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/companies/{id}/merge", operation_id = "merge_companies", tag = "companies", request_body = MergeRequest,
    params(("id" = i64, Path, description = "The company that stays")),
    responses((status = 200, body = Company),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, description = "The merged name or domain clashes with another company, or a record was deleted meanwhile.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn merge(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<MergeRequest>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .json(companies::merge(&state.db, &actor, *id, body.merge_id, &body.take).await?))
}

#[utoipa::path(post, path = "/api/v1/companies/bulk", operation_id = "bulk_companies", tag = "companies", request_body = records::BulkRequest,
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
    records::bulk::<Company, ListParams>(&state.db, &actor, body.into_inner(), |query| {
        ListParams::from_query(query)?.validate(25)
    })
    .await
}
