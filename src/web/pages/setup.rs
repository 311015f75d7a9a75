use crate::web::filters;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::setup;
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{client, set_flash, sign_in};
use crate::web::forms::Form;
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

#[derive(Template)]
#[template(path = "auth/setup.html")]
struct SetupPage {
    l: Layout,
    token: String,
    email: String,
    name: String,
    errors: FieldErrors,
}

field_messages!(SetupPage);

#[derive(Deserialize)]
pub struct TokenParam {
    token: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<TokenParam>,
) -> Result<HttpResponse, AppError> {
    setup::check(&state.db, q.token.as_deref()).await?;
    render(
        &SetupPage {
            l: Layout::anonymous(&session),
            token: q.token.clone().unwrap_or_default(),
            email: String::new(),
            name: String::new(),
            errors: FieldErrors::new(),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn submit(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let token = form.token.as_deref();
    let result = if form.password != form.password_confirm {
        setup::check(&state.db, token).await?;
        Err(AppError::field(
            "password_confirm",
            "The two passwords differ.",
        ))
    } else {
        setup::complete(&state.db, token, &form.email, &form.name, &form.password).await
    };
    match result {
        Ok(user) => {
            let client = client(&req, state.config.behind_proxy);
            sign_in(&state.db, &session, user.id, &client).await?;
            set_flash(&session, "Welcome to Cairn. Your admin account is ready.");
            Ok(see_other("/welcome"))
        }
        Err(e) => {
            let refusal = Refusal::of(Some(e))?;
            render(
                &SetupPage {
                    l: Layout::anonymous(&session),
                    token: form.token.unwrap_or_default(),
                    email: form.email,
                    name: form.name,
                    errors: refusal.fields,
                },
                refusal.status,
            )
        }
    }
}
