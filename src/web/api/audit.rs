//! /api/v1/audit: the audit log with the filters of Settings → Audit log (admins only).
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppState;
use crate::domain::Action;
use crate::domain::audit::log::{self, LogPage, Params};
use crate::error::AppError;
use crate::web::api::schema::{ErrorBody, Forbidden, Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

/// Audit log entries, newest first, a page at a time: follow `older` (as `before`) for
/// the next page and `newer` (as `after`) for the previous one. `from` and `to` take a
/// time (RFC 3339) or a date (YYYY-MM-DD, UTC); a date `to` includes that whole day.
/// Admins only.
#[utoipa::path(get, path = "/api/v1/audit", operation_id = "list_audit", tag = "audit",
    params(Params),
    responses((status = 200, body = LogPage), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, description = "An unknown parameter, or a value that is not valid (the field is named).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    actor.require(Action::AuditLog)?;
    let p: Params = crate::web::forms::parse_query(req.query_string())?;
    let page = log::list(&state.db, &actor, &p.validate(chrono_tz::UTC)?).await?;
    Ok(HttpResponse::Ok().json(page))
}
