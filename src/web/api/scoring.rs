//! /api/v1/scoring/models: the deal score's training runs with their hold-out metrics.
use actix_web::{HttpResponse, web};

use crate::app::AppState;
use crate::domain::scoring::{self, Run};
use crate::error::AppError;
use crate::web::api::schema::{Forbidden, Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

/// The deal score's training runs, newest first: which one scores deals now (`active`),
/// each one's hold-out AUC, log loss and calibration against the stages' own
/// probabilities, and why a run was not switched in.
#[utoipa::path(get, path = "/api/v1/scoring/models", operation_id = "list_scoring_models",
    tag = "scoring",
    responses((status = 200, body = Vec<Run>), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn models(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(scoring::runs_seen_by(&state.db, &actor).await?))
}
