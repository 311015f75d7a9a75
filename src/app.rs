//! Builds the actix application: shared state, middleware and routes. `serve` and the
//! tests both use `build`, so tests exercise exactly what users get.
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::App;
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;

use crate::config::Config;
use crate::domain::Db;
use crate::web::forms::MAX_BODY;
use actix_web::web::Data;

pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
}

pub const SESSION_COOKIE: &str = "cairn_session";

pub fn build(
    state: Data<AppState>,
    key: Key,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The recorder before the first request, so nothing counted is lost.
    crate::telemetry::handle();
    let secure = state.config.secure_cookies;
    let session = SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name(SESSION_COOKIE.into())
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(
            PersistentSession::default()
                // The cookie may live as long as an admin can make a sign-in last; the
                // session's row (`sessions::start`) decides when it really ends.
                .session_ttl(Duration::days(
                    crate::domain::organisation::MAX_SESSION_DAYS,
                )),
        )
        .build();
    // Middleware runs outermost-last: the log sees every answer, headers go on every
    // answer, errors become pages before them, CSRF needs the session, and a cross-site
    // form is refused before its body is looked at for NUL characters.
    App::new()
        .app_data(state)
        .app_data(crate::web::api::json_config())
        .app_data(crate::web::api::query_config())
        .app_data(crate::web::api::path_config())
        .app_data(actix_web::web::PayloadConfig::new(MAX_BODY))
        .configure(crate::web::routes)
        .wrap(from_fn(crate::web::input::refuse_nul_outside_api))
        .wrap(from_fn(crate::web::auth::csrf))
        .wrap(session)
        .wrap(from_fn(crate::web::errors::html_errors))
        .wrap(from_fn(crate::web::middleware::security_headers))
        .wrap(from_fn(crate::web::middleware::request_log))
}
