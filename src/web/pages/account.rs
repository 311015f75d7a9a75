//! The signed-in user's own account: changing the password (which signs out every other
//! session of this user).
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::users;
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, set_flash, sign_in};
use crate::web::forms::Form;
use crate::web::pages::{Layout, render, see_other};

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    l: Layout,
    errors: FieldErrors,
}

impl AccountPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

pub async fn show(user: CurrentUser) -> Result<HttpResponse, AppError> {
    render(
        &AccountPage {
            l: Layout::for_user(&user, "account"),
            errors: FieldErrors::new(),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: String,
}

pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let result = if form.new_password != form.new_password_confirm {
        Err(AppError::field(
            "new_password_confirm",
            "The two new passwords differ.",
        ))
    } else {
        users::change_password(
            &state.db,
            &user.actor,
            &form.current_password,
            &form.new_password,
        )
        .await
        .map_err(|e| match e {
            // The domain names the new password "password"; the form calls it new_password.
            AppError::Validation {
                message,
                mut fields,
            } => {
                if let Some(m) = fields.remove("password") {
                    fields.insert("new_password".into(), m);
                }
                AppError::Validation { message, fields }
            }
            other => other,
        })
    };
    match result {
        Ok(updated) => {
            // Every other session is over; this one continues under the new version.
            sign_in(&user.session, &updated)?;
            set_flash(
                &user.session,
                "Password changed. Your other sessions are signed out.",
            );
            Ok(see_other("/account"))
        }
        Err(AppError::Validation { fields, .. }) => render(
            &AccountPage {
                l: Layout::for_user(&user, "account"),
                errors: fields,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => Err(e),
    }
}
