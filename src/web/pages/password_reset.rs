//! "Forgot password?": asking for a link by email (the answer is the same whether the
//! address has an account or not), and choosing a new password from the link.
use crate::web::filters;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::resets;
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{client_ip, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    l: Layout,
    email: String,
    /// Set once asked: the same words for every address.
    sent_to: Option<String>,
    error: Option<String>,
    minutes: i64,
}

fn forgot_page(
    session: &Session,
    email: String,
    sent_to: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    render(
        &ForgotPage {
            l: Layout::anonymous(session),
            email,
            sent_to,
            error,
            minutes: resets::VALID_MINUTES,
        },
        status,
    )
}

pub async fn show(session: Session) -> Result<HttpResponse, AppError> {
    forgot_page(&session, String::new(), None, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn request(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    Form(form): Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let ip = client_ip(&req, state.config.behind_proxy);
    match resets::request(&state.db, &form.email, &ip).await {
        Ok(()) => {
            let to = form.email.trim().to_string();
            forgot_page(&session, String::new(), Some(to), None, StatusCode::OK)
        }
        Err(AppError::TooManyRequests {
            message,
            retry_after,
        }) => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            let mut res = forgot_page(&session, form.email, None, Some(message), status)?;
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    l: Layout,
    secret: String,
    email: String,
    message: Option<String>,
    errors: FieldErrors,
}

field_messages!(ResetPage);

async fn reset_page(
    state: &AppState,
    session: &Session,
    secret: String,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let (_, user) = resets::open(&state.db.read, &secret).await?;
    let refusal = Refusal::of(error)?;
    render(
        &ResetPage {
            l: Layout::anonymous(session),
            secret,
            email: user.email,
            message: refusal.message,
            errors: refusal.fields,
        },
        refusal.status,
    )
}

pub async fn show_reset(
    state: web::Data<AppState>,
    session: Session,
    secret: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    reset_page(&state, &session, secret.into_inner(), None).await
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn reset(
    state: web::Data<AppState>,
    session: Session,
    secret: web::Path<String>,
    Form(form): Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let secret = secret.into_inner();
    let result = if form.password != form.password_confirm {
        Err(AppError::field(
            "password_confirm",
            "The two passwords differ.",
        ))
    } else {
        resets::complete(&state.db, &secret, &form.password).await
    };
    match result {
        Ok(_) => {
            set_flash(
                &session,
                "Your password is changed and every session of yours was signed out. Sign in with the new password.",
            );
            Ok(see_other("/login"))
        }
        Err(e) => reset_page(&state, &session, secret, Some(e)).await,
    }
}
