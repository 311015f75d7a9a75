//! /api/v1/reports/…: the reports of `/reports`, as JSON, with the same filters. One
//! handler serves them all (`json_of`); each path keeps a one-line function only because
//! the OpenAPI document (utoipa) describes a path by its function (routed in
//! `web::routes`, the route table).
use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::AppState;
use crate::domain::reports::{
    self, Params, Report, activity, forecast, funnel, pipeline, revenue, velocity, win_rate,
};
use crate::error::AppError;
use crate::web::api::schema::{ErrorBody, Unauthorized, Unavailable};
use crate::web::auth::ApiUser;

/// The weekly funnel: per week (Monday to Sunday in the organisation's time zone), the
/// contacts created, those of them with an activity or a done task since, the deals won
/// (count, and value per currency), and won ÷ created as a percentage. The range is
/// widened to whole weeks. Reps under "reps see only their own records" count their own
/// records only.
#[utoipa::path(get, path = "/api/v1/reports/funnel", operation_id = "report_funnel", tag = "reports",
    params(Params),
    responses((status = 200, body = funnel::Funnel),
        (status = 400, description = "A filter that is not valid: a date that is not YYYY-MM-DD, `days` outside 1 to 730, `from` after `to`, both `days` and `from`, an unknown parameter.", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn funnel(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<funnel::Funnel>(req, state, user).await
}

/// Pipeline value by stage: per pipeline and stage, the live deals' count, value and
/// weighted value (amount × the deal's probability, or its stage's), per currency. Open
/// stages hold every open deal now; won and lost stages the deals closed in the range.
/// `open` adds up a pipeline's open stages.
#[utoipa::path(get, path = "/api/v1/reports/pipeline", operation_id = "report_pipeline", tag = "reports",
    params(Params),
    responses((status = 200, body = pipeline::PipelineReport),
        (status = 400, description = "A filter that is not valid (as for the funnel).", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn pipeline(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<pipeline::PipelineReport>(req, state, user).await
}

/// Win rate and sales cycle per month (the organisation's zone, whole months): of the
/// deals closed that month, how many were won and lost, won ÷ (won + lost) as a
/// percentage, and the average days from a won deal's creation to its win.
#[utoipa::path(get, path = "/api/v1/reports/win-rate", operation_id = "report_win_rate", tag = "reports",
    params(Params),
    responses((status = 200, body = win_rate::WinRate),
        (status = 400, description = "A filter that is not valid (as for the funnel).", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn win_rate(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<win_rate::WinRate>(req, state, user).await
}

/// Stage velocity: per pipeline and open stage, the stays that ended in the range (a
/// stay runs from a deal's move into the stage to its next move out, from the stage
/// history; a deal moved back and forth has one a visit), their average and median days;
/// and the live deals in the stage now (`stuck`) with the median days they have been in
/// it. Won and lost stages are not measured.
#[utoipa::path(get, path = "/api/v1/reports/velocity", operation_id = "report_velocity", tag = "reports",
    params(Params),
    responses((status = 200, body = velocity::Velocity),
        (status = 400, description = "A filter that is not valid (as for the funnel).", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn velocity(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<velocity::Velocity>(req, state, user).await
}

/// Forecast: the live open deals by the month they are expected to close (from this
/// month, in the organisation's zone, for a year), with their value and weighted value
/// (amount × the deal's probability, else its stage's) per currency; deals expected
/// before this month in an `overdue` line first, then `later` and `no date`. The date
/// range does not apply (the forecast looks ahead); owner, pipeline and source do.
#[utoipa::path(get, path = "/api/v1/reports/forecast", operation_id = "report_forecast", tag = "reports",
    params(Params),
    responses((status = 200, body = forecast::Forecast),
        (status = 400, description = "A filter that is not valid (as for the funnel).", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn forecast(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<forecast::Forecast>(req, state, user).await
}

/// Activity per user per week (Monday to Sunday in the organisation's zone, whole
/// weeks): the notes, calls and meetings each user logged (by when they happened) and
/// the tasks they marked done. Activities without an author (Stripe's payments and
/// refunds) are left out. `owner` picks one user; pipeline and source do not apply.
#[utoipa::path(get, path = "/api/v1/reports/activity", operation_id = "report_activity", tag = "reports",
    params(Params),
    responses((status = 200, body = activity::ActivityReport),
        (status = 400, description = "A filter that is not valid (as for the funnel).", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn activity(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<activity::ActivityReport>(req, state, user).await
}

/// Revenue per month (the organisation's zone, whole months) and per currency, from the
/// Stripe payments and refunds applied: payments, refunds and net (never added across
/// currencies), the same per contact source, and MRR at each month's end (each
/// subscription's latest change by then, counted when active, trialing or past_due).
/// Payments of contacts in the trash count (money received stays received). Owner and
/// source are the contact's; the pipeline filter does not apply to revenue and is
/// ignored. Reps under "reps see only their own records" count their contacts' only.
#[utoipa::path(get, path = "/api/v1/reports/revenue", operation_id = "report_revenue", tag = "reports",
    params(Params),
    responses((status = 200, body = revenue::Revenue),
        (status = 400, description = "A filter that is not valid (as for the funnel).", body = ErrorBody),
        (status = 401, response = Unauthorized),
        (status = 422, description = "A parameter holds a NUL character (refused before any report reads it).", body = ErrorBody),
        (status = 503, response = Unavailable)),
    security(("bearer" = [])))]
pub async fn revenue(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: ApiUser,
) -> Result<HttpResponse, AppError> {
    json_of::<revenue::Revenue>(req, state, user).await
}

/// Report `R` as JSON, with the filters of the query string.
async fn json_of<R: Report>(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<HttpResponse, AppError> {
    let p = Params::from_query(req.query_string())?;
    let f = reports::filters(&state.db, &p).await?;
    Ok(HttpResponse::Ok().json(R::run(&state.db, &actor, &f).await?))
}
