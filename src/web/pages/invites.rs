//! Invitations: sent, resent and revoked from Settings → Users (admins), and accepted by
//! the invitee on `/invite/{secret}`, who chooses a name and password and is signed in.
use crate::web::filters;
use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::two_factor::pending::{self, AfterPassword};
use crate::domain::{invites, sso};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, client, gate, set_flash, sign_in};
use crate::web::forms::Form;
use crate::web::pages::users::{InviteForm, NewUserForm, page_with};
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

/// The invite form's fields are named `invite_email` and `invite_role` on the page, apart
/// from the add-user form's.
fn for_invite_form(e: AppError) -> AppError {
    let rename = |fields: FieldErrors| -> FieldErrors {
        fields
            .into_iter()
            .map(|(k, v)| (format!("invite_{k}"), v))
            .collect()
    };
    match e {
        AppError::Validation { message, fields } => AppError::Validation {
            message,
            fields: rename(fields),
        },
        AppError::Conflict { message, fields } => AppError::Conflict {
            message,
            fields: rename(fields),
        },
        other => other,
    }
}

#[derive(Deserialize)]
pub struct InvitePost {
    #[serde(default)]
    invite_email: String,
    #[serde(default)]
    invite_role: String,
}

pub async fn create(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    Form(form): Form<InvitePost>,
) -> Result<HttpResponse, AppError> {
    match invites::create(
        &state.db,
        &user.actor,
        &form.invite_email,
        &form.invite_role,
    )
    .await
    {
        Ok(inv) => {
            set_flash(
                &user.session,
                sent_note(&state, &inv.email, "An invitation").await?,
            );
            Ok(see_other("/settings/users#invites"))
        }
        Err(e) => {
            let kept = InviteForm {
                email: form.invite_email,
                role: form.invite_role,
            };
            let new = NewUserForm::default();
            page_with(&state, &user, new, kept, Some(for_invite_form(e))).await
        }
    }
}

/// What became of an invitation's email: on its way, or held while no SMTP server is
/// configured (the admin cannot pass the link on by hand: the outbox shows it redacted).
async fn sent_note(state: &AppState, to: &str, what: &str) -> Result<String, AppError> {
    let cfg = crate::mail::settings::effective(&state.db.read, &state.config.mail).await?;
    Ok(if cfg.smtp.is_some() {
        format!(
            "{what} is on its way to {to}; its link works for {} days.",
            invites::VALID_DAYS
        )
    } else {
        format!(
            "{what} to {to} is held: no SMTP server is configured (Settings → Email). Once one is, release the held emails there."
        )
    })
}

pub async fn resend(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let inv = invites::resend(&state.db, &user.actor, *id).await?;
    let note = sent_note(&state, &inv.email, "A new invitation").await?;
    set_flash(
        &user.session,
        format!("{note} The previous link no longer works."),
    );
    Ok(see_other("/settings/users#invites"))
}

pub async fn revoke(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    invites::revoke(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "The invitation was revoked; its link no longer works.",
    );
    Ok(see_other("/settings/users#invites"))
}

#[derive(Template)]
#[template(path = "auth/invite.html")]
struct AcceptPage {
    l: Layout,
    secret: String,
    email: String,
    role: String,
    name: String,
    message: Option<String>,
    errors: FieldErrors,
}

field_messages!(AcceptPage);

async fn accept_page(
    state: &AppState,
    session: &Session,
    secret: String,
    name: String,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let inv = invites::open(&state.db.read, &secret).await?;
    let refusal = Refusal::of(error)?;
    render(
        &AcceptPage {
            l: Layout::anonymous(session),
            secret,
            email: inv.email,
            role: inv.role,
            name,
            message: refusal.message,
            errors: refusal.fields,
        },
        refusal.status,
    )
}

pub async fn show(
    state: web::Data<AppState>,
    session: Session,
    secret: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    accept_page(&state, &session, secret.into_inner(), String::new(), None).await
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    secret: web::Path<String>,
    Form(form): Form<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let secret = secret.into_inner();
    let result = if form.password != form.password_confirm {
        Err(AppError::field(
            "password_confirm",
            "The two passwords differ.",
        ))
    } else {
        invites::accept(&state.db, &secret, &form.name, &form.password).await
    };
    match result {
        Ok(user) => {
            // Where only admins sign in with a password, everyone else's first sign-in
            // is through the identity provider too.
            if let Some(why) = sso::config::password_refusal(&state.db.read, &user.role).await? {
                set_flash(&session, format!("Your account is ready. {why}"));
                return Ok(see_other("/login"));
            }
            // When the organisation requires two-factor, the new user sets it up first.
            if let AfterPassword::Pending { secret } =
                pending::after_password(&state.db, &user, "").await?
            {
                return super::two_factor::begin_pending(&session, &secret);
            }
            let client = client(&req, state.config.behind_proxy);
            sign_in(&state.db, &session, user.id, &client).await?;
            set_flash(&session, format!("Welcome to Cairn, {}.", user.name));
            Ok(see_other("/"))
        }
        Err(e) => accept_page(&state, &session, secret, form.name, Some(e)).await,
    }
}
