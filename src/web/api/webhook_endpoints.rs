//! `/api/v1/webhooks`: outbound webhook endpoints and their delivery log, as Settings →
//! Webhooks shows them (admins only), through the same `domain::webhooks::endpoints`.
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::domain::paging;
use crate::domain::webhooks::endpoints::{
    self, Delivery, Endpoint, EndpointInput, EndpointPatch, NewEndpoint,
};
use crate::error::{AppError, FieldErrors};
use crate::web::api::schema::{ErrorBody, NotFound, Unauthorized, Unavailable, WriteErrors};
use crate::web::auth::ApiUser;

/// A page of an endpoint's deliveries, newest first.
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<Delivery>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// 1 or more (default 1); 50 deliveries a page.
    #[param(value_type = Option<u64>, minimum = 1)]
    pub page: Option<String>,
}

/// The endpoints (admins).
#[utoipa::path(get, path = "/api/v1/webhooks", operation_id = "list_webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Endpoint>), (status = 401, response = Unauthorized),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(endpoints::list(&state.db, &actor).await?))
}

/// Registers an endpoint (admins); its signing secret is in the answer, this once.
#[utoipa::path(post, path = "/api/v1/webhooks", operation_id = "create_webhook", tag = "webhooks",
    request_body = EndpointInput,
    responses((status = 201, body = NewEndpoint),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    body: web::Json<EndpointInput>,
) -> Result<HttpResponse, AppError> {
    let (endpoint, secret) = endpoints::create(&state.db, &actor, &body).await?;
    Ok(HttpResponse::Created().json(NewEndpoint { endpoint, secret }))
}

/// One endpoint (admins); its secret masked.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", operation_id = "get_webhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 200, body = Endpoint), (status = 401, response = Unauthorized),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn get(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(endpoints::get(&state.db, &actor, *id).await?))
}

/// Changes an endpoint's URL, kind or event types (admins); the secret stays.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", operation_id = "update_webhook", tag = "webhooks",
    request_body = EndpointPatch, params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 200, body = Endpoint),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound), WriteErrors),
    security(("bearer" = [])))]
pub async fn update(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    body: web::Json<EndpointPatch>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(endpoints::patch(&state.db, &actor, *id, &body).await?))
}

/// Removes an endpoint and its delivery log (admins).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", operation_id = "delete_webhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 204, description = "Removed, with its delivery log."),
        (status = 401, response = Unauthorized),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound), (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn delete(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    endpoints::delete(&state.db, &actor, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint's delivery log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id"), LogParams),
    responses((status = 200, body = DeliveryList), (status = 401, response = Unauthorized),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound), (status = 422, response = crate::web::api::schema::Unprocessable),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn deliveries(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
    q: web::Query<LogParams>,
) -> Result<HttpResponse, AppError> {
    let mut fields = FieldErrors::new();
    let (page, _) = paging(&q.page, &None, endpoints::LOG_PAGE, &mut fields);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let found = endpoints::deliveries(&state.db, &actor, *id, page).await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        total: found.total,
        page: found.page,
        per_page: found.per_page,
        items: found.items.into_iter().map(Delivery::from).collect(),
    }))
}

/// Sends a delivery again with the same event id, as a new job (admins). Its endpoint
/// must be enabled.
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/redeliver", tag = "webhooks",
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 200, body = Delivery),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "The delivery is queued already, or its endpoint is disabled.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn redeliver(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let d = endpoints::redeliver(&state.db, &actor, *id).await?;
    Ok(HttpResponse::Ok().json(Delivery::from(d)))
}

/// Turns a disabled endpoint on again (admins); redeliver what it missed from its log.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 200, body = Endpoint),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound), WriteErrors),
    security(("bearer" = [])))]
pub async fn enable(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(endpoints::enable(&state.db, &actor, *id).await?))
}

/// The delivery a test event was queued as.
#[derive(Serialize, ToSchema)]
pub struct TestQueued {
    /// In the endpoint's log (`/api/v1/webhooks/{id}/deliveries`).
    pub delivery_id: i64,
}

/// Queues a `webhook.test` event to this endpoint alone (admins).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks",
    params(("id" = i64, Path, description = "Endpoint id")),
    responses((status = 202, body = TestQueued),
        (status = 403, description = "Only admins manage webhooks.", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 409, description = "The endpoint is disabled.", body = ErrorBody),
        WriteErrors),
    security(("bearer" = [])))]
pub async fn test(
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let delivery_id = endpoints::send_test(&state.db, &actor, *id).await?;
    Ok(HttpResponse::Accepted().json(TestQueued { delivery_id }))
}
