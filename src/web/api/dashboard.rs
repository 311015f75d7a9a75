//! /api/v1/dashboard: the dashboard of `/`, as JSON.
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::reports::dashboard::{self, Dashboard};
use crate::domain::tasks::due;
use crate::error::AppError;
use crate::web::api::schema::{Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

/// The dashboard: this month's won deals and value per currency, the open pipeline's
/// count, value and weighted value per currency, the win rate this month and over the
/// last 90 days, contacts created and deals won per week for the last 12 weeks, the
/// last 5 deals won, and the caller's overdue tasks (days of the organisation's time
/// zone). The figures are kept up to 30 seconds per scope (`as_of` says when they were
/// read). Reps under "reps see only their own records" count their own records only.
#[utoipa::path(get, path = "/api/v1/dashboard", operation_id = "dashboard", tag = "reports",
    responses((status = 200, body = Dashboard),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn dashboard(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let org = crate::domain::organisation::cached(&state.db).await?;
    let tz = due::zone(&org.time_zone);
    let d = dashboard::dashboard(&state.db, &actor, tz, crate::domain::now()).await?;
    Ok(HttpResponse::Ok().json(d))
}
