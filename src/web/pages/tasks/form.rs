//! The task form as typed (quick add, a record's "Add task", the edit page) turned into
//! what the domain takes, and the edit page.
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::activities::Subject;
use crate::domain::tasks::due::{self};
use crate::domain::tasks::{self, PRIORITIES, Task, TaskPatch};
use crate::domain::{FieldErrorsExt, pick, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

use super::panel::field_of;
/// What the quick-add and edit forms hold, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct TaskForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub notes: String,
    /// The due day and (optionally) time, local to the user.
    #[serde(default)]
    pub due_date: String,
    #[serde(default)]
    pub due_time: String,
    pub assignee_id: Option<i64>,
    #[serde(default)]
    pub priority: String,
    /// A contact typed or picked on My tasks ("Ann Lee (#42)"), named as the contact
    /// picker's suggestions (`/pick/options`) expect.
    #[serde(default, rename = "add_contact")]
    pub about: String,
    pub contact_id: Option<i64>,
    pub company_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub version: Option<i32>,
    /// Where the form was: "record" (a record page's panel) or My tasks.
    #[serde(default)]
    pub view: String,
    /// My tasks' assignee filter, kept across the answer.
    #[serde(default)]
    pub assignee: String,
    #[serde(default)]
    pub return_to: String,
}

/// The user's local due as the domain takes it: a date alone, or a date and time made
/// an instant in the user's zone.
pub(super) fn due_of(
    form: &TaskForm,
    tz: Tz,
    fields: &mut FieldErrors,
) -> (Option<String>, Option<String>) {
    let date = form.due_date.trim();
    let time = form.due_time.trim();
    if date.is_empty() {
        if !time.is_empty() {
            fields.set("due_date", "Give the day the time is on.");
        }
        return (None, None);
    }
    let Some(d) = due::parse_date(date, "due_date", fields) else {
        return (None, None);
    };
    if time.is_empty() {
        return (None, Some(d.to_string()));
    }
    let Some(t) = due::parse_time(time, "due_time", fields) else {
        return (None, None);
    };
    let at = due::local_instant(tz, d, t);
    (Some(at.to_rfc3339()), None)
}

/// The domain's message on `due_at` belongs to the form's date field.
pub(super) fn form_error(e: AppError) -> AppError {
    match e {
        AppError::Validation {
            message,
            mut fields,
        } => {
            if let Some(m) = fields.remove("due_at") {
                fields.insert("due_date".into(), m);
            }
            AppError::Validation { message, fields }
        }
        other => other,
    }
}

/// The picked contact of My tasks' "About" field, if any.
pub(super) async fn about(
    state: &AppState,
    actor: &crate::domain::Actor,
    form: &TaskForm,
) -> Result<Option<i64>, AppError> {
    if form.about.trim().is_empty() {
        return Ok(form.contact_id);
    }
    let picked = pick::resolve(&state.db, actor, "", &[], &form.about).await?;
    Ok(picked.contact_ids.first().copied())
}

/// The quick-add form as shown again (values and messages).
#[derive(Default)]
pub struct Draft {
    pub form: TaskForm,
    pub errors: FieldErrors,
    pub message: Option<String>,
}

field_messages!(Draft);

impl Draft {
    /// Whether the assignee picker shows `id` chosen (`me` when the form names no one).
    pub fn assigns(&self, id: &i64, me: &i64) -> bool {
        self.form.assignee_id.unwrap_or(*me) == *id
    }
}

/// The record a form came from, when it came from a record's panel.
pub(super) fn record_of(form: &TaskForm) -> Option<Subject> {
    if form.view != "record" {
        return None;
    }
    match (form.deal_id, form.contact_id, form.company_id) {
        (Some(id), _, _) => Some(Subject::Deal(id)),
        (_, Some(id), _) => Some(Subject::Contact(id)),
        (_, _, Some(id)) => Some(Subject::Company(id)),
        _ => None,
    }
}

/// Where a browser without htmx goes after a change: the page the form was on.
pub(super) fn back_of(form: &TaskForm) -> String {
    if let Some(s) = record_of(form) {
        return format!("{}#tasks-panel", field_of(s).2);
    }
    let r = form.return_to.trim();
    let local = ["/contacts/", "/companies/", "/deals/"].iter().any(|p| {
        r.strip_prefix(p)
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    });
    if local {
        return r.to_string();
    }
    match form.assignee.trim() {
        "" => "/tasks".into(),
        a => format!("/tasks?assignee={}", crate::web::errors::url_encode(a)),
    }
}

#[derive(Template)]
#[template(path = "tasks/edit.html")]
struct EditPage {
    l: Layout,
    id: i64,
    done: bool,
    draft: Draft,
    record: Option<(String, String)>,
    people: Vec<users::Person>,
    priorities: &'static [(&'static str, &'static str)],
    tz: String,
}

/// The form filled from a task, its due in the user's zone.
fn form_of(t: &Task, tz: Tz) -> TaskForm {
    let (due_date, due_time) = match (t.due_at, t.due_date) {
        (Some(at), _) => {
            let local = at.with_timezone(&tz);
            (
                local.date_naive().to_string(),
                local.format("%H:%M").to_string(),
            )
        }
        (None, Some(d)) => (d.to_string(), String::new()),
        (None, None) => (String::new(), String::new()),
    };
    TaskForm {
        title: t.title.clone(),
        notes: t.notes.clone().unwrap_or_default(),
        due_date,
        due_time,
        assignee_id: Some(t.assignee_id),
        priority: t.priority.clone(),
        contact_id: t.contact_id,
        company_id: t.company_id,
        deal_id: t.deal_id,
        version: Some(t.version),
        ..TaskForm::default()
    }
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    #[serde(default)]
    return_to: String,
}

async fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    t: &Task,
    draft: Draft,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    if !t.editable_by(&user.actor) {
        return Err(AppError::Forbidden(
            "Only its assignee, its creator, a manager or an admin can change this task.".into(),
        ));
    }
    render(
        &EditPage {
            l: Layout::for_user(user, "tasks"),
            id: t.id,
            done: t.done,
            draft,
            record: t.record(),
            people: users::owner_choices(&state.db, Some(t.assignee_id)).await?,
            priorities: PRIORITIES,
            tz: user.tz.name().to_string(),
        },
        status,
    )
}

pub async fn edit(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    q: web::Query<EditQuery>,
) -> Result<HttpResponse, AppError> {
    let t = tasks::get(&state.db, &user.actor, *id).await?;
    let mut form = form_of(&t, user.tz);
    form.return_to = q.return_to.clone();
    let draft = Draft {
        form,
        ..Draft::default()
    };
    edit_page(&state, &user, &t, draft, actix_web::http::StatusCode::OK).await
}

pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(form): Form<TaskForm>,
) -> Result<HttpResponse, AppError> {
    let t = tasks::get(&state.db, &user.actor, *id).await?;
    let result = async {
        let mut fields = FieldErrors::new();
        let (due_at, due_date) = due_of(&form, user.tz, &mut fields);
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        let patch = TaskPatch {
            title: Some(form.title.clone()),
            notes: Some(Some(form.notes.clone())),
            due_at: Some(due_at),
            due_date: Some(due_date),
            assignee_id: form.assignee_id,
            priority: Some(form.priority.clone()),
            version: form.version,
            ..TaskPatch::default()
        };
        tasks::update(&state.db, &user.actor, *id, patch)
            .await
            .map_err(form_error)
    }
    .await;
    match result {
        Ok(t) => {
            set_flash(&user.session, format!("Task “{}” saved.", t.title));
            Ok(see_other(&back_of(&form)))
        }
        Err(e) => {
            let refusal = Refusal::of(Some(e))?;
            let draft = Draft {
                form,
                errors: refusal.fields,
                message: refusal.message,
            };
            edit_page(&state, &user, &t, draft, refusal.status).await
        }
    }
}
