//! Settings → Custom fields (admins): define extra fields for contacts, companies and
//! deals, and edit them (label, required flag, choices; key and kind stay as created).
use crate::web::filters;
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::custom_fields::{self, Field, FieldEdit, KINDS, OptionEdit};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, CurrentUser, gate, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

#[derive(Template)]
#[template(path = "settings/fields.html")]
struct FieldsPage {
    l: Layout,
    contact_fields: Vec<Field>,
    company_fields: Vec<Field>,
    deal_fields: Vec<Field>,
    errors: FieldErrors,
    message: Option<String>,
}

field_messages!(FieldsPage, EditPage);

impl FieldsPage {
    fn kinds(&self) -> [(&'static str, &'static str); 7] {
        KINDS
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        kind_label(kind)
    }

    fn sections(&self) -> [(&'static str, &Vec<Field>); 3] {
        [
            ("Contact fields", &self.contact_fields),
            ("Company fields", &self.company_fields),
            ("Deal fields", &self.deal_fields),
        ]
    }
}

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or("")
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
            deal_fields: custom_fields::for_entity(&state.db.read, "deal").await?,
            errors,
            message,
        },
        status,
    )
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::ManageFields>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct NewField {
    /// contact, company or deal.
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
    user: Can<gate::ManageFields>,
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
                    custom_fields::plural(&f.entity)
                ),
            );
            Ok(see_other("/settings/fields"))
        }
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    user: Can<gate::ManageFields>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    custom_fields::delete(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "Field removed, with its values on every record.",
    );
    Ok(see_other("/settings/fields"))
}

/// One choice row of the edit form: the name it had ("" for a new one), its name and
/// order as typed, and how many records hold it.
struct Row {
    from: String,
    name: String,
    order: String,
    remove: bool,
    used: usize,
}

#[derive(Template)]
#[template(path = "settings/field_edit.html")]
struct EditPage {
    l: Layout,
    f: Field,
    version: String,
    label: String,
    required: bool,
    rows: Vec<Row>,
    errors: FieldErrors,
    message: Option<String>,
}

impl EditPage {
    fn kind_label(&self) -> &'static str {
        kind_label(&self.f.kind)
    }
}

/// Rows for new choices under the existing ones.
const BLANK_ROWS: usize = 3;

#[derive(Deserialize, Default)]
pub struct EditForm {
    /// The version the page showed.
    #[serde(default)]
    version: String,
    #[serde(default)]
    label: String,
    required: Option<String>,
    /// Per choice row, aligned: the name it had ("" for a new row), its name now, its
    /// order number.
    #[serde(default)]
    opt_from: Vec<String>,
    #[serde(default)]
    opt_name: Vec<String>,
    #[serde(default)]
    opt_order: Vec<String>,
    /// The names of the choices ticked for removal.
    #[serde(default)]
    opt_remove: Vec<String>,
}

impl EditForm {
    fn of(f: &Field) -> EditForm {
        EditForm {
            version: f.version.to_string(),
            label: f.label.clone(),
            required: f.required.then(|| "1".to_string()),
            opt_from: f.options.clone(),
            opt_name: f.options.clone(),
            opt_order: (1..=f.options.len()).map(|i| i.to_string()).collect(),
            opt_remove: Vec::new(),
        }
    }

    /// The form's rows, with blank ones to add choices.
    fn rows(&self, used: &BTreeMap<String, usize>) -> Vec<Row> {
        let mut rows: Vec<Row> = (0..self.opt_name.len())
            .map(|i| {
                let from = self.opt_from.get(i).cloned().unwrap_or_default();
                Row {
                    remove: !from.is_empty() && self.opt_remove.contains(&from),
                    used: used.get(&from).copied().unwrap_or(0),
                    name: self.opt_name[i].clone(),
                    order: self.opt_order.get(i).cloned().unwrap_or_default(),
                    from,
                }
            })
            .filter(|r| !r.from.is_empty() || !r.name.trim().is_empty())
            .collect();
        rows.extend((0..BLANK_ROWS).map(|_| Row {
            from: String::new(),
            name: String::new(),
            order: String::new(),
            remove: false,
            used: 0,
        }));
        rows
    }

    /// The choices in their new order: by order number (rows without one last), else as
    /// listed. Ticked and emptied rows are left out, which removes them.
    fn options(&self) -> Vec<OptionEdit> {
        let mut rows: Vec<(i64, usize, OptionEdit)> = Vec::new();
        for (i, name) in self.opt_name.iter().enumerate() {
            let from = self.opt_from.get(i).filter(|f| !f.is_empty()).cloned();
            let ticked = from.as_ref().is_some_and(|f| self.opt_remove.contains(f));
            if ticked || name.trim().is_empty() {
                continue;
            }
            let order = self
                .opt_order
                .get(i)
                .and_then(|o| o.trim().parse().ok())
                .unwrap_or(i64::MAX);
            let to = name.clone();
            rows.push((order, i, OptionEdit { from, to }));
        }
        rows.sort_by_key(|(order, i, _)| (*order, *i));
        rows.into_iter().map(|(_, _, o)| o).collect()
    }
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    form: Option<EditForm>,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    let f = custom_fields::for_id(&state.db.read, id).await?;
    // After a stale save the page shows the field as it is now: the rows typed against
    // the older one may name choices that are gone.
    let stale = status == StatusCode::CONFLICT && errors.contains_key("version");
    let form = match form {
        Some(form) if !stale => form,
        _ => EditForm::of(&f),
    };
    let used = if f.has_choices() {
        custom_fields::usage(&state.db, &f).await?
    } else {
        BTreeMap::new()
    };
    render(
        &EditPage {
            l: Layout::for_user(user, "settings"),
            rows: form.rows(&used),
            version: form.version,
            label: form.label,
            required: form.required.is_some(),
            f,
            errors,
            message,
        },
        status,
    )
}

pub async fn edit(
    state: web::Data<AppState>,
    user: Can<gate::ManageFields>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    edit_page(&state, &user, *id, None, None).await
}

pub async fn update(
    state: web::Data<AppState>,
    user: Can<gate::ManageFields>,
    id: web::Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    let edit = FieldEdit {
        version: form.version.trim().parse().map_err(|_| {
            AppError::field("version", "The form lost its version; reload the page.")
        })?,
        label: form.label.clone(),
        required: form.required.is_some(),
        options: form.options(),
    };
    match custom_fields::update(&state.db, &user.actor, *id, &edit).await {
        Ok(f) => {
            set_flash(&user.session, format!("Field “{}” saved.", f.label));
            Ok(see_other("/settings/fields"))
        }
        Err(e) => edit_page(&state, &user, *id, Some(form), Some(e)).await,
    }
}
