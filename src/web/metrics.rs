//! `GET /metrics`: the Prometheus text (`telemetry`), for a scraper presenting a metrics
//! token (`domain::monitoring`) on the pages' address, or for anyone on the separate
//! `CAIRN_METRICS_BIND` address, which serves nothing else.
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, web};

use crate::app::AppState;
use crate::domain::monitoring;
use crate::error::AppError;

/// The text format's content type, version 0.0.4 (what Prometheus asks for first).
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn scrape(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let token = state.config.metrics_token.as_ref();
    if !monitoring::allows(&state.db, token, presented).await? {
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body(
                "The metrics need a token: send `Authorization: Bearer <token>` with the \
                 token made under Settings → Monitoring or set as CAIRN_METRICS_TOKEN.\n",
            ));
    }
    open(state).await
}

/// The metrics without a token: only the separate address routes here.
pub async fn open(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let text = crate::telemetry::render(&state.db).await?;
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(text))
}

/// The separate address's app: `/metrics` and nothing else (404 for any other path).
pub fn separate(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .route("/metrics", web::get().to(open))
}
