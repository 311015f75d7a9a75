use crate::web::filters;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::auth;
use crate::domain::sso;
use crate::domain::two_factor::pending::{self, AfterPassword};
use crate::domain::{Action, Role, onboarding, permissions};
use crate::entities::user;
use crate::error::AppError;
use crate::web::auth::{client, sign_in, sign_out};
use crate::web::forms::Form;
use crate::web::pages::{Layout, render, safe_next, see_other, two_factor};

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    l: Layout,
    email: String,
    next: String,
    error: Option<String>,
    /// "Sign in with …" when single sign-on is set up: its label.
    sso_label: Option<String>,
    /// Password sign-in is for admins only (the form says so).
    password_admins_only: bool,
}

/// The sign-in page with `error` (if any) at `status`. Single sign-on's button, when set
/// up, carries `next` along.
pub async fn page(
    state: &AppState,
    l: Layout,
    email: String,
    next: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sso = sso::config::load(&state.db.read).await?;
    render(
        &LoginPage {
            l,
            email,
            next,
            error,
            sso_label: sso.provider.map(|p| p.label),
            password_admins_only: sso.rules.password_admins_only,
        },
        status,
    )
}

impl LoginPage {
    fn sso_href(&self) -> String {
        if self.next.is_empty() {
            "/login/sso".into()
        } else {
            format!(
                "/login/sso?next={}",
                crate::web::errors::url_encode(&self.next)
            )
        }
    }
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
    signed_out: Option<String>,
}

/// The page a sign-in was asked to return to, when one was (a path on this site).
pub fn asked_for(next: Option<&str>) -> Option<String> {
    next.filter(|n| !n.is_empty()).map(|n| safe_next(Some(n)))
}

pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<NextParam>,
) -> Result<HttpResponse, AppError> {
    let mut l = Layout::anonymous(&session);
    if q.signed_out.is_some() && l.flash.is_none() {
        l.flash = Some("You are signed out.".into());
    }
    page(
        &state,
        l,
        String::new(),
        asked_for(q.next.as_deref()).unwrap_or_default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let client = client(&req, state.config.behind_proxy);
    let asked = asked_for(form.next.as_deref());
    match auth::login(&state.db, &form.email, &form.password, &client.ip).await {
        Ok(user) => {
            let later = asked.clone().unwrap_or_default();
            if let AfterPassword::Pending { secret } =
                pending::after_password(&state.db, &user, &later).await?
            {
                return two_factor::begin_pending(&session, &secret);
            }
            sign_in(&state.db, &session, user.id, &client).await?;
            Ok(see_other(&landing(&state, &user, asked).await?))
        }
        Err(
            e @ (AppError::Unauthorized(_)
            | AppError::Forbidden(_)
            | AppError::TooManyRequests { .. }),
        ) => {
            let retry_after = match &e {
                AppError::TooManyRequests { retry_after, .. } => Some(*retry_after),
                _ => None,
            };
            let status = match &e {
                AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
                // Password sign-in is off for this user.
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            let mut res = page(
                &state,
                Layout::anonymous(&session),
                form.email,
                asked.unwrap_or_default(),
                Some(e.to_string()),
                status,
            )
            .await?;
            if let Some(seconds) = retry_after {
                res.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(seconds),
                );
            }
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// Where a user lands once signed in: the page they asked for, else an admin is offered
/// the first steps until they are done, else the default page.
pub async fn landing(
    state: &AppState,
    user: &user::Model,
    asked: Option<String>,
) -> Result<String, AppError> {
    if let Some(to) = asked {
        return Ok(to);
    }
    let onboards =
        Role::parse(&user.role).is_some_and(|r| permissions::allows(r, Action::Onboarding));
    if onboards && !onboarding::steps(&state.db).await?.complete() {
        return Ok("/welcome".into());
    }
    Ok(safe_next(None))
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let ip = crate::web::auth::client_ip(&req, state.config.behind_proxy);
    sign_out(&state.db, &session, &ip).await?;
    // The session is gone, so the message rides in the URL instead of a flash.
    Ok(see_other("/login?signed_out=1"))
}
