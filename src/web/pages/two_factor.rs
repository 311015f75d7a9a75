//! Two-factor sign-in pages: turning it on and off from the account page, and the second
//! step of signing in (a code, or set-up when the organisation requires it). The
//! pending sign-in's secret rides in the cookie under its own key; it is not a session,
//! so nothing but these pages reads it.
use crate::web::filters;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::two_factor::{self, Enrolment, pending};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, adopt, client, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{Layout, Refusal, render, see_other};

/// The cookie key of a pending sign-in's secret.
const PENDING: &str = "pending_sign_in";

#[derive(Template)]
#[template(path = "account/two_factor_setup.html")]
struct SetupPage {
    l: Layout,
    enrolment: Enrolment,
    /// Where the first code goes: the account's or the sign-in's set-up.
    action: &'static str,
    /// Set-up at sign-in, because the organisation requires it.
    at_sign_in: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account/recovery_codes.html")]
struct RecoveryCodesPage {
    l: Layout,
    codes: Vec<String>,
    continue_to: String,
}

/// The recovery codes, once: the address bar keeps the page the form was on (a boosted
/// post would push the form's URL, which shows nothing when reloaded).
fn recovery_codes_page(page: RecoveryCodesPage) -> Result<HttpResponse, AppError> {
    let mut res = render(&page, StatusCode::OK)?;
    res.headers_mut().insert(
        HeaderName::from_static("hx-push-url"),
        HeaderValue::from_static("false"),
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "auth/two_factor.html")]
struct CodePage {
    l: Layout,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// "Turn on": a new secret waiting for its first code, shown by `show_setup`.
pub async fn begin_setup(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    match two_factor::begin_setup(&state.db, &user.actor).await {
        Ok(()) => Ok(see_other("/account/two-factor")),
        Err(e) => super::account::page(&state, &user, Some(e), None).await,
    }
}

pub async fn show_setup(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    setup_page(&state, &user, None).await
}

async fn setup_page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Some(enrolment) =
        two_factor::enrolment(&state.db.read, user.actor.id, &user.actor.email).await?
    else {
        return Ok(see_other("/account#two-factor"));
    };
    let refusal = Refusal::of(error)?;
    render(
        &SetupPage {
            l: Layout::for_user(user, "account"),
            enrolment,
            action: "/account/two-factor/confirm",
            at_sign_in: false,
            error: refusal.message,
        },
        refusal.status,
    )
}

pub async fn confirm(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    match two_factor::confirm(&state.db, &user.actor, &form.code).await {
        Ok(codes) => recovery_codes_page(RecoveryCodesPage {
            l: Layout::for_user(&user, "account"),
            codes,
            continue_to: "/account#two-factor".into(),
        }),
        Err(e @ AppError::Validation { .. }) => setup_page(&state, &user, Some(e)).await,
        Err(e) => super::account::page(&state, &user, Some(e), None).await,
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    proof: String,
}

pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<DisableForm>,
) -> Result<HttpResponse, AppError> {
    let ip = client(&req, state.config.behind_proxy).ip;
    match two_factor::disable(&state.db, &user.actor, &form.proof, &ip).await {
        Ok(()) => {
            set_flash(&user.session, "Two-factor sign-in is off.");
            Ok(see_other("/account#two-factor"))
        }
        Err(e) => super::account::page(&state, &user, Some(e), None).await,
    }
}

/// Starts the second step of a sign-in: the cookie keeps the pending secret.
pub fn begin_pending(session: &Session, secret: &str) -> Result<HttpResponse, AppError> {
    session
        .insert(PENDING, secret)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(see_other("/login/two-factor"))
}

fn pending_secret(session: &Session) -> Option<String> {
    session.get::<String>(PENDING).ok().flatten()
}

/// Back to the password, with why.
fn start_again(session: &Session, message: &str) -> HttpResponse {
    session.remove(PENDING);
    set_flash(session, message);
    see_other("/login")
}

pub async fn show_step(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    step_page(&state, &session, None).await
}

async fn step_page(
    state: &AppState,
    session: &Session,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let found = match pending_secret(session) {
        Some(secret) => pending::find(&state.db, &secret).await?,
        None => None,
    };
    let Some(found) = found else {
        return Ok(start_again(session, "Sign in with your password first."));
    };
    let (status, message) = match &error {
        None => (StatusCode::OK, None),
        Some(AppError::TooManyRequests { .. }) => (
            StatusCode::TOO_MANY_REQUESTS,
            error.as_ref().map(|e| e.to_string()),
        ),
        Some(e) => (StatusCode::UNAUTHORIZED, Some(e.to_string())),
    };
    let l = Layout::anonymous(session);
    let mut res = match found.setup {
        Some(enrolment) => render(
            &SetupPage {
                l,
                enrolment,
                action: "/login/two-factor",
                at_sign_in: true,
                error: message,
            },
            status,
        )?,
        None => render(
            &CodePage {
                l,
                email: found.email,
                error: message,
            },
            status,
        )?,
    };
    if let Some(AppError::TooManyRequests { retry_after, .. }) = error {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    }
    Ok(res)
}

pub async fn submit_step(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(secret) = pending_secret(&session) else {
        return Ok(start_again(&session, "Sign in with your password first."));
    };
    let client = client(&req, state.config.behind_proxy);
    match pending::finish(&state.db, &secret, &form.code, &client).await {
        Ok(done) => {
            session.remove(PENDING);
            adopt(&session, &done.session_secret)?;
            let asked = (!done.next.is_empty()).then_some(done.next);
            let to = super::login::landing(&state, &done.user, asked).await?;
            if let Some(codes) = done.recovery_codes {
                return recovery_codes_page(RecoveryCodesPage {
                    l: Layout::anonymous(&session),
                    codes,
                    continue_to: to,
                });
            }
            if let Some(left) = done.recovery_left {
                set_flash(
                    &session,
                    format!("You signed in with a recovery code; {left} are left."),
                );
            }
            Ok(see_other(&to))
        }
        Err(e @ (AppError::Unauthorized(_) | AppError::TooManyRequests { .. })) => {
            if pending::find(&state.db, &secret).await?.is_none() {
                return Ok(start_again(&session, &e.to_string()));
            }
            step_page(&state, &session, Some(e)).await
        }
        Err(e) => Err(e),
    }
}
