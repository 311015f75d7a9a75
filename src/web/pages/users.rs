//! Settings → Users (admins only): add or invite people, change roles, deactivate and
//! reactivate. The invitations' own handlers are in `invites`.
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::{Role, invites, two_factor, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, CurrentUser, gate, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{
    FieldMessages, Layout, Refusal, field_messages, render, see_other, short_date,
};

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<users::Person>,
    new: NewUserForm,
    /// Pending invitations, and the invite form as last sent.
    invites: Vec<invites::Pending>,
    invite: InviteForm,
    errors: FieldErrors,
    message: Option<String>,
}

field_messages!(UsersPage);

impl UsersPage {
    fn roles(&self) -> [&'static str; 4] {
        Role::ALL.map(Role::as_str)
    }

    fn is_me(&self, u: &users::Person) -> bool {
        self.l.user.as_ref().is_some_and(|me| me.id == u.id)
    }

    fn day(&self, u: &users::Person) -> String {
        short_date(&u.created_at)
    }

    fn date(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        short_date(t)
    }
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    new: NewUserForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    page_with(state, user, new, InviteForm::default(), error).await
}

/// The page, with both forms as they were sent (a refused one shows its errors).
pub(crate) async fn page_with(
    state: &AppState,
    user: &CurrentUser,
    new: NewUserForm,
    mut invite: InviteForm,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    if invite.role.is_empty() {
        invite.role = "rep".into();
    }
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    render(
        &UsersPage {
            l: Layout::for_user(user, "settings"),
            users: users::list_all(&state.db).await?,
            new,
            invites: invites::list_pending(&state.db).await?,
            invite,
            errors,
            message,
        },
        status,
    )
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
) -> Result<HttpResponse, AppError> {
    let new = NewUserForm {
        role: "rep".into(),
        ..Default::default()
    };
    page(&state, &user, new, None).await
}

pub async fn create(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    Form(form): Form<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    let input = users::NewUser {
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password.clone(),
        role: form.role.clone(),
    };
    match users::create(&state.db, Some(&user.actor), &input).await {
        Ok(created) => {
            set_flash(
                &user.session,
                format!("{} can now sign in as {}.", created.name, created.email),
            );
            Ok(see_other("/settings/users"))
        }
        Err(e) => {
            let kept = NewUserForm {
                password: String::new(),
                ..form
            };
            page(&state, &user, kept, Some(e)).await
        }
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    id: web::Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    match users::set_role(&state.db, &user.actor, *id, &form.role).await {
        Ok(u) => {
            set_flash(&user.session, format!("{} is now {}.", u.name, u.role));
            Ok(see_other("/settings/users"))
        }
        Err(e) => page(&state, &user, NewUserForm::default(), Some(e)).await,
    }
}

async fn set_active(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    active: bool,
) -> Result<HttpResponse, AppError> {
    match users::set_active(&state.db, Some(&user.actor), id, active).await {
        Ok(()) => {
            let what = if active {
                "reactivated"
            } else {
                "deactivated; their sessions ended and their API tokens were revoked"
            };
            set_flash(&user.session, format!("The user was {what}."));
            Ok(see_other("/settings/users"))
        }
        Err(e) => page(state, user, NewUserForm::default(), Some(e)).await,
    }
}

pub async fn deactivate(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_active(&state, &user, *id, false).await
}

pub async fn activate(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_active(&state, &user, *id, true).await
}

/// An admin resets someone's two-factor sign-in (a lost phone): it goes, their sessions
/// end, and when two-factor is required they set it up again at their next sign-in.
pub async fn reset_two_factor(
    state: web::Data<AppState>,
    user: Can<gate::ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    match two_factor::reset_for(&state.db, Some(&user.actor), *id).await {
        Ok(()) => {
            set_flash(
                &user.session,
                "Their two-factor sign-in was reset and their sessions ended; they sign in with their password alone, or set it up again where it is required.",
            );
            Ok(see_other("/settings/users"))
        }
        Err(e) => page(&state, &user, NewUserForm::default(), Some(e)).await,
    }
}
