//! /api/v1/export: the whole workspace as a ZIP (admins only), as Settings → Export gives it.
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::export::{self, Via};
use crate::error::AppError;
use crate::web::api::schema::{Forbidden, Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

/// Every live record of every type as CSV files in a ZIP, with `workspace.json` (format:
/// docs/export-format.md), streamed as it is written. Admins only; audited.
#[utoipa::path(get, path = "/api/v1/export", operation_id = "export_workspace", tag = "export",
    responses((status = 200, description = "The ZIP (`cairn-export-YYYY-MM-DD.zip`).",
            content_type = "application/zip", body = Vec<u8>),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn export(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let export = export::start(&state.db, Some(&actor), Via::Api).await?;
    Ok(crate::web::pages::export::download(export))
}
