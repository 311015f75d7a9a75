//! /api/v1/search
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::domain::search::{self, Results};
use crate::error::AppError;
use crate::web::api::schema::{Unauthorized, Unavailable, Unprocessable};
use crate::web::auth::ApiUser;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find in names, emails, domains and phones (each as a prefix; the first
    /// six count).
    #[serde(default)]
    #[param(max_length = 200)]
    q: String,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = Results), (status = 401, response = Unauthorized),
        (status = 422, response = Unprocessable), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn search(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(search::search(&state.db, &actor, &params.q).await?))
}
