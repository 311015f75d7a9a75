//! Settings → Monitoring (admins): how a Prometheus scraper reaches `/metrics`, and the
//! token it presents (made here, shown once; `domain::monitoring`).
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use crate::app::AppState;
use crate::domain::monitoring;
use crate::error::AppError;
use crate::web::auth::{Can, gate, set_flash};
use crate::web::filters;
use crate::web::pages::{Layout, ok, see_other};

#[derive(Template)]
#[template(path = "settings/monitoring.html")]
struct MonitoringPage {
    l: Layout,
    /// Where a scraper reads the metrics on the pages' address.
    url: String,
    /// `scheme` and `target` of the example scrape configuration.
    scheme: &'static str,
    target: String,
    env_token: bool,
    separate: Option<String>,
    stored: Option<(String, Option<DateTime<Utc>>)>,
    /// The token just made: shown this once.
    made: Option<String>,
    log_json: bool,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::Monitoring>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, None).await
}

pub async fn make_token(
    state: web::Data<AppState>,
    user: Can<gate::Monitoring>,
) -> Result<HttpResponse, AppError> {
    let token = monitoring::make(&state.db, &user.actor).await?;
    page(&state, &user, Some(token)).await
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    user: Can<gate::Monitoring>,
) -> Result<HttpResponse, AppError> {
    monitoring::revoke(&state.db, &user.actor).await?;
    set_flash(
        &user.session,
        "The metrics token was revoked: a scraper presenting it is refused from now on.",
    );
    Ok(see_other("/settings/monitoring"))
}

async fn page(
    state: &AppState,
    user: &Can<gate::Monitoring>,
    made: Option<String>,
) -> Result<HttpResponse, AppError> {
    let base = &state.config.base_url;
    let (scheme, target) = match base.split_once("://") {
        Some(("https", rest)) => ("https", rest.to_string()),
        Some((_, rest)) => ("http", rest.to_string()),
        None => ("http", base.clone()),
    };
    let stored = monitoring::stored(&state.db, &user.actor)
        .await?
        .map(|s| (s.hint, s.made_at));
    ok(&MonitoringPage {
        l: Layout::for_user(user, "settings"),
        url: format!("{base}/metrics"),
        scheme,
        target,
        env_token: state.config.metrics_token.is_some(),
        separate: state.config.metrics_bind.map(|a| a.to_string()),
        stored,
        made,
        log_json: state.config.log_json,
    })
}
