//! Settings → Custom fields (admins): define extra fields for contacts and companies.
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::custom_fields::{self, Field, KINDS};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Admin, CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{Layout, Refusal, render, see_other};

#[derive(Template)]
#[template(path = "settings/fields.html")]
struct FieldsPage {
    l: Layout,
    contact_fields: Vec<Field>,
    company_fields: Vec<Field>,
    errors: FieldErrors,
    message: Option<String>,
}

impl FieldsPage {
    fn kinds(&self) -> [(&'static str, &'static str); 7] {
        KINDS
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, l)| *l)
            .unwrap_or("")
    }

    fn sections(&self) -> [(&'static str, &Vec<Field>); 2] {
        [
            ("Contact fields", &self.contact_fields),
            ("Company fields", &self.company_fields),
        ]
    }

    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    render(
        &FieldsPage {
            l: Layout::for_user(user, "settings"),
            contact_fields: custom_fields::for_entity(&state.db.read, "contact").await?,
            company_fields: custom_fields::for_entity(&state.db.read, "company").await?,
            errors,
            message,
        },
        status,
    )
}

pub async fn index(state: web::Data<AppState>, user: Admin) -> Result<HttpResponse, AppError> {
    page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct NewField {
    /// contact or company.
    #[serde(default)]
    entity: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    kind: String,
    /// One choice per line, for select kinds.
    #[serde(default)]
    options: String,
    required: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    user: Admin,
    Form(form): Form<NewField>,
) -> Result<HttpResponse, AppError> {
    let options: Vec<String> = form.options.lines().map(str::to_string).collect();
    match custom_fields::create(
        &state.db,
        &user.actor,
        &form.entity,
        &form.label,
        &form.kind,
        &options,
        form.required.is_some(),
    )
    .await
    {
        Ok(f) => {
            set_flash(
                &user.session,
                format!(
                    "Field “{}” added to {}.",
                    f.label,
                    if f.entity == "company" {
                        "companies"
                    } else {
                        "contacts"
                    }
                ),
            );
            Ok(see_other("/settings/fields"))
        }
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    user: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    custom_fields::delete(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "Field removed, with its values on every record.",
    );
    Ok(see_other("/settings/fields"))
}
