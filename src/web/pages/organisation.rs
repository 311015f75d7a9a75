//! Settings → Organisation (admins): the workspace's name, default time zone and
//! currency, how long a sign-in lasts, and the access rules.
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::deals::CURRENCIES;
use crate::domain::organisation::{self, MAX_SESSION_DAYS, Organisation};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, CurrentUser, gate, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

#[derive(Template)]
#[template(path = "settings/organisation.html")]
struct OrganisationPage {
    l: Layout,
    errors: FieldErrors,
    message: Option<String>,
    /// What the form shows: the stored values, or what was typed when refused.
    org: Organisation,
    session_days: String,
    zones: Vec<&'static str>,
    max_days: i64,
}

field_messages!(OrganisationPage);

impl OrganisationPage {
    fn currencies(&self) -> [&'static str; 40] {
        CURRENCIES
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    typed: Option<(&OrgForm, AppError)>,
) -> Result<HttpResponse, AppError> {
    let stored = organisation::load(&state.db.read).await?;
    let (org, session_days, error) = match typed {
        None => (stored.clone(), stored.session_days.to_string(), None),
        Some((f, e)) => (
            Organisation {
                name: f.name.clone(),
                time_zone: f.time_zone.clone(),
                currency: f.currency.clone(),
                session_days: stored.session_days,
                own_records_only: f.own_records_only.is_some(),
                require_2fa: f.require_2fa.is_some(),
            },
            f.session_days.clone(),
            Some(e),
        ),
    };
    let refusal = Refusal::of(error)?;
    render(
        &OrganisationPage {
            l: Layout::for_user(user, "settings"),
            errors: refusal.fields,
            message: refusal.message,
            org,
            session_days,
            zones: crate::domain::tasks::due::zone_names().collect(),
            max_days: MAX_SESSION_DAYS,
        },
        refusal.status,
    )
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    session_days: String,
    /// A checkbox: present when ticked.
    own_records_only: Option<String>,
    require_2fa: Option<String>,
}

pub async fn save(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    Form(form): Form<OrgForm>,
) -> Result<HttpResponse, AppError> {
    let input = organisation::Form {
        name: form.name.clone(),
        time_zone: form.time_zone.clone(),
        currency: form.currency.clone(),
        session_days: form.session_days.clone(),
        own_records_only: form.own_records_only.is_some(),
        require_2fa: form.require_2fa.is_some(),
    };
    match organisation::save(&state.db, &user.actor, &input).await {
        Ok(_) => {
            set_flash(&user.session, "Organisation settings saved.");
            Ok(see_other("/settings/organisation"))
        }
        Err(e) => page(&state, &user, Some((&form, e))).await,
    }
}
