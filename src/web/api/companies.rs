//! /api/v1/companies
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::domain::companies::{self, Company, CompanyInput, CompanyPatch, ListParams};
use crate::domain::records::ListQuery;
use crate::domain::{Actor, Db};
use crate::error::AppError;
use crate::web::api::records;
use crate::web::api::schema::{CompanyMergeField, ErrorBody, NotFound, Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

/// The list page as the domain reads it.
async fn list_page(db: &Db, actor: &Actor, query: &ListQuery) -> Result<HttpResponse, AppError> {
    let page = companies::list(db, actor, query).await?;
    Ok(HttpResponse::Ok().json(CompanyList::from(page)))
}

records::record_api! {
    companies: Company(CompanyInput, CompanyPatch) as ("company", "companies", "Company"),
    schemas: (CompanyList, CompanyMergeRequest, CompanyMergeField), list: list_page,
    conflict: "Another company has this name or domain, or a record it names was deleted meanwhile.",
    merge_conflict: "The merged name or domain clashes with another company, or a record was deleted meanwhile.",
    merged: "The company merged into this one, then deleted; its contacts move here.",
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
