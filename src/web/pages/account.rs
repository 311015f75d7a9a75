//! The signed-in user's own account: changing the password (which signs out every other
//! session of this user), the sessions signed in and ending them, API tokens, and which
//! notification emails they get. Two-factor sign-in's own pages are `two_factor.rs`.
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::{sessions, tokens, two_factor, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, client_ip, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::pages::{Layout, Refusal, render, see_other};

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    l: Layout,
    errors: FieldErrors,
    tokens: Vec<tokens::TokenInfo>,
    /// Where this user is signed in, and which of those is this browser.
    sessions: Vec<sessions::Info>,
    this_session: i64,
    /// A token just created: shown on this page once, never again.
    new_token: Option<String>,
    /// Which notification emails this user wants.
    prefs: crate::mail::prefs::Prefs,
    /// The user's time zone, and every one they may pick.
    time_zone: String,
    zones: Vec<&'static str>,
    /// Two-factor sign-in: on or off, recovery codes left; and whether everyone must.
    two_factor: two_factor::Status,
    two_factor_required: bool,
}

impl AccountPage {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }

    /// A time to the minute (the page's script rewrites it in the reader's zone).
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

pub(super) async fn page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<AppError>,
    new_token: Option<String>,
) -> Result<HttpResponse, AppError> {
    let refusal = Refusal::of(error)?;
    render(
        &AccountPage {
            l: Layout::for_user(user, "account"),
            errors: refusal.fields,
            tokens: tokens::list_for_user(&state.db, user.actor.id).await?,
            sessions: sessions::list_for_user(&state.db, user.actor.id).await?,
            this_session: user.session_id,
            new_token,
            prefs: crate::mail::prefs::get(&state.db.read, user.actor.id).await?,
            time_zone: user.tz.name().to_string(),
            zones: crate::domain::tasks::due::zone_names().collect(),
            two_factor: two_factor::status(&state.db.read, user.actor.id).await?,
            two_factor_required: two_factor::required(&state.db.read).await?,
        },
        refusal.status,
    )
}

pub async fn show(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&state, &user, None, None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn create_token(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let req = tokens::Request {
        name: form.name,
        scope: form.scope,
        expires_in_days: form.expires_in_days,
    };
    match tokens::create_for_email(&state.db, Some(&user.actor), &user.actor.email, &req).await {
        Ok(t) => page(&state, &user, None, Some(t.token)).await,
        Err(e) => page(&state, &user, Some(e), None).await,
    }
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    tokens::revoke(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "The token was revoked; requests using it are now refused.",
    );
    Ok(see_other("/account"))
}

/// Ends one of this user's sessions (this one too, when asked: that signs out here).
pub async fn end_session(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    sessions::end_one(&state.db, &user.actor, *id).await?;
    if *id == user.session_id {
        user.session.purge();
        return Ok(see_other("/login?signed_out=1"));
    }
    set_flash(&user.session, "That session is signed out.");
    Ok(see_other("/account#sessions"))
}

pub async fn end_other_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let ended = sessions::end_others(&state.db, &user.actor, user.session_id).await?;
    let what = match ended {
        0 => "You had no other sessions.".to_string(),
        1 => "Your other session is signed out.".to_string(),
        n => format!("Your {n} other sessions are signed out."),
    };
    set_flash(&user.session, what);
    Ok(see_other("/account#sessions"))
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
    req: actix_web::HttpRequest,
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
            &client_ip(&req, state.config.behind_proxy),
            Some(user.session_id),
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
        Ok(_) => {
            set_flash(
                &user.session,
                "Password changed. Your other sessions are signed out.",
            );
            Ok(see_other("/account"))
        }
        Err(e) => page(&state, &user, Some(e), None).await,
    }
}

/// The notification checkboxes: saved, or the page again with the lead time's error.
pub async fn save_notifications(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<crate::mail::prefs::Form>,
) -> Result<HttpResponse, AppError> {
    let saved = match form.read() {
        Ok(p) => crate::mail::prefs::save(&state.db, &user.actor, &p).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => {
            set_flash(&user.session, "Your email notifications are saved.");
            Ok(see_other("/account#notifications"))
        }
        Err(e) => page(&state, &user, Some(e), None).await,
    }
}

#[derive(Deserialize)]
pub struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

pub async fn set_time_zone(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<TimeZoneForm>,
) -> Result<HttpResponse, AppError> {
    match users::set_time_zone(&state.db, &user.actor, &form.time_zone).await {
        Ok(name) => {
            set_flash(
                &user.session,
                format!("Time zone set to {name}: task dues are shown in it."),
            );
            Ok(see_other("/account"))
        }
        Err(e) => page(&state, &user, Some(e), None).await,
    }
}
