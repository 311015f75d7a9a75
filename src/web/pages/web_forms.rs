//! Settings → Forms (admins): the list, a form's settings with its copy-paste HTML
//! snippet, and its submission log. Templates: `templates/settings/forms.html`,
//! `form_edit.html`, `form_log.html`. The public endpoint is `form_post`.
use crate::web::filters;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::contacts::SOURCES;
use crate::domain::forms::{self, Form, FormField, FormInput, HONEYPOT, log};
use crate::domain::users::Person;
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, CurrentUser, gate, set_flash};
use crate::web::forms::{Form as Posted, parse_query};
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, ok, render, see_other};

type Admin = Can<gate::ManageForms>;

#[derive(Template)]
#[template(path = "settings/forms.html")]
struct ListPage {
    l: Layout,
    forms: Vec<Form>,
}

pub async fn index(state: web::Data<AppState>, user: Admin) -> Result<HttpResponse, AppError> {
    let forms = forms::list(&state.db, &user.actor).await?;
    ok(&ListPage {
        l: Layout::for_user(&user, "settings"),
        forms,
    })
}

/// One row of the fields table: a field the form may ask for, whether it does, its
/// label and whether it is required.
struct Row {
    key: String,
    usual: String,
    label: String,
    on: bool,
    required: bool,
}

#[derive(Template)]
#[template(path = "settings/form_edit.html")]
struct EditPage {
    l: Layout,
    /// None for a new form.
    id: Option<i64>,
    v: Posting,
    rows: Vec<Row>,
    owners: Vec<Person>,
    /// The endpoint and the HTML to paste, for a saved form.
    endpoint: Option<String>,
    snippet: Option<String>,
    errors: FieldErrors,
    message: Option<String>,
}

field_messages!(EditPage);

impl EditPage {
    fn sources(&self) -> [&'static str; 7] {
        SOURCES
    }
}

/// The settings form as posted (and as shown again).
#[derive(Deserialize, Default)]
pub struct Posting {
    #[serde(default)]
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    owner_id: String,
    /// Comma-separated.
    #[serde(default)]
    tags: String,
    #[serde(default)]
    thank_you_url: String,
    #[serde(default)]
    thank_you_message: String,
    /// One origin per line.
    #[serde(default)]
    allowed_origins: String,
    notify_owner: Option<String>,
    active: Option<String>,
    /// Every field the form may ask for, in order, with its label (aligned).
    #[serde(default)]
    field_key: Vec<String>,
    #[serde(default)]
    field_label: Vec<String>,
    /// The keys ticked "on the form" and "required".
    #[serde(default)]
    field_on: Vec<String>,
    #[serde(default)]
    field_required: Vec<String>,
}

impl Posting {
    fn of(f: &Form) -> Posting {
        Posting {
            name: f.name.clone(),
            source: f.source.clone(),
            owner_id: f.owner_id.to_string(),
            tags: f.tags.join(", "),
            thank_you_url: f.thank_you_url.clone().unwrap_or_default(),
            thank_you_message: f.thank_you_message.clone().unwrap_or_default(),
            allowed_origins: f.allowed_origins.join("\n"),
            notify_owner: f.notify_owner.then(|| "1".into()),
            active: f.active.then(|| "1".into()),
            field_key: f.fields.iter().map(|x| x.key.clone()).collect(),
            field_label: f.fields.iter().map(|x| x.label.clone()).collect(),
            field_on: f.fields.iter().map(|x| x.key.clone()).collect(),
            field_required: f
                .fields
                .iter()
                .filter(|x| x.required)
                .map(|x| x.key.clone())
                .collect(),
        }
    }

    fn fresh(owner: i64) -> Posting {
        let on: Vec<String> = ["first_name", "last_name", "email"]
            .map(String::from)
            .into();
        Posting {
            source: "organic".into(),
            owner_id: owner.to_string(),
            active: Some("1".into()),
            field_required: on.clone(),
            field_on: on,
            ..Posting::default()
        }
    }

    fn label_of(&self, key: &str) -> Option<&String> {
        let at = self.field_key.iter().position(|k| k == key)?;
        self.field_label.get(at)
    }

    /// The ticked fields, in the table's order.
    fn fields(&self) -> Vec<FormField> {
        self.field_key
            .iter()
            .filter(|k| self.field_on.contains(k))
            .map(|k| FormField {
                key: k.clone(),
                label: self.label_of(k).cloned().unwrap_or_default(),
                required: self.field_required.contains(k),
            })
            .collect()
    }

    fn input(&self) -> FormInput {
        FormInput {
            name: self.name.clone(),
            fields: self.fields(),
            source: self.source.clone(),
            owner_id: self.owner_id.trim().parse().unwrap_or(0),
            tags: crate::domain::tags::split(&self.tags)
                .into_iter()
                .filter(|t| !t.trim().is_empty())
                .collect(),
            thank_you_url: self.thank_you_url.clone(),
            thank_you_message: self.thank_you_message.clone(),
            allowed_origins: self.allowed_origins.lines().map(str::to_string).collect(),
            notify_owner: self.notify_owner.is_some(),
            active: self.active.is_some(),
        }
    }

    /// Every available field as a row: ticked ones with what was typed.
    fn rows(&self, available: Vec<(String, String)>) -> Vec<Row> {
        available
            .into_iter()
            .map(|(key, usual)| Row {
                label: self
                    .label_of(&key)
                    .cloned()
                    .unwrap_or_else(|| usual.clone()),
                on: self.field_on.contains(&key),
                required: self.field_required.contains(&key) || key == "email",
                key,
                usual,
            })
            .collect()
    }
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    saved: Option<&Form>,
    v: Posting,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status,
        message,
        fields: errors,
    } = Refusal::of(error)?;
    let base = state.config.base_url.trim_end_matches('/');
    let available = forms::available_fields(&state.db).await?;
    render(
        &EditPage {
            l: Layout::for_user(user, "settings"),
            id: saved.map(|f| f.id),
            rows: v.rows(available),
            owners: forms::owner_choices(&state.db, saved.map(|f| f.owner_id)).await?,
            endpoint: saved.map(|f| format!("{base}/f/{}", f.public_key)),
            snippet: saved.map(|f| snippet(f, base)),
            v,
            errors,
            message,
        },
        status,
    )
}

pub async fn new(state: web::Data<AppState>, user: Admin) -> Result<HttpResponse, AppError> {
    let v = Posting::fresh(user.actor.id);
    edit_page(&state, &user, None, v, None).await
}

pub async fn create(
    state: web::Data<AppState>,
    user: Admin,
    Posted(v): Posted<Posting>,
) -> Result<HttpResponse, AppError> {
    match forms::create(&state.db, &user.actor, &v.input()).await {
        Ok(f) => {
            set_flash(
                &user.session,
                format!("Form “{}” added: paste its snippet into your site.", f.name),
            );
            Ok(see_other(&format!("/settings/forms/{}", f.id)))
        }
        Err(e) => edit_page(&state, &user, None, v, Some(e)).await,
    }
}

pub async fn edit(
    state: web::Data<AppState>,
    user: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let f = forms::get(&state.db, &user.actor, *id).await?;
    edit_page(&state, &user, Some(&f), Posting::of(&f), None).await
}

pub async fn update(
    state: web::Data<AppState>,
    user: Admin,
    id: web::Path<i64>,
    Posted(v): Posted<Posting>,
) -> Result<HttpResponse, AppError> {
    let before = forms::get(&state.db, &user.actor, *id).await?;
    match forms::update(&state.db, &user.actor, *id, &v.input()).await {
        Ok(f) => {
            set_flash(&user.session, format!("Form “{}” saved.", f.name));
            Ok(see_other(&format!("/settings/forms/{}", f.id)))
        }
        Err(e) => edit_page(&state, &user, Some(&before), v, Some(e)).await,
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    user: Admin,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let f = forms::delete(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        format!("Form “{}” removed; its contacts stay.", f.name),
    );
    Ok(see_other("/settings/forms"))
}

#[derive(Template)]
#[template(path = "settings/form_log.html")]
struct LogPage {
    l: Layout,
    f: Form,
    rows: Vec<log::Submission>,
    /// The next (older) page's link.
    older: Option<String>,
}

#[derive(Deserialize)]
struct LogQuery {
    before: Option<i64>,
}

pub async fn submissions(
    state: web::Data<AppState>,
    user: Admin,
    id: web::Path<i64>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let q: LogQuery = parse_query(req.query_string())?;
    let f = forms::get(&state.db, &user.actor, *id).await?;
    let (rows, more) = log::page(&state.db, &user.actor, f.id, q.before).await?;
    let older = match rows.last() {
        Some(last) if more => Some(format!(
            "/settings/forms/{}/submissions?before={}",
            f.id, last.id
        )),
        _ => None,
    };
    ok(&LogPage {
        l: Layout::for_user(&user, "settings"),
        f,
        rows,
        older,
    })
}

/// Text fit for an HTML attribute or element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML a site pastes: a plain form posting to the endpoint, an input per field and
/// the honeypot, hidden from people (and screen readers) but not from bots.
pub fn snippet(f: &Form, base: &str) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{}/f/{}\">\n",
        escape(base),
        f.public_key
    );
    for field in &f.fields {
        let kind = match field.key.as_str() {
            "email" => "email",
            "phone" => "tel",
            _ => "text",
        };
        let required = if field.required { " required" } else { "" };
        out.push_str(&format!(
            "  <p><label>{} <input type=\"{kind}\" name=\"{}\"{required}></label></p>\n",
            escape(&field.label),
            escape(&field.key)
        ));
    }
    out.push_str(&format!(
        "  <p style=\"position:absolute;left:-10000px\" aria-hidden=\"true\"><label>Leave this empty <input type=\"text\" name=\"{HONEYPOT}\" tabindex=\"-1\" autocomplete=\"off\"></label></p>\n"
    ));
    out.push_str("  <p><button type=\"submit\">Send</button></p>\n</form>\n");
    out
}
