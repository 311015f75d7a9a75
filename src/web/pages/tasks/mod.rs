//! My tasks (`/tasks`): the signed-in user's tasks (a manager's or admin's pick of
//! anyone's) in Overdue, Today, Upcoming and Done, with quick add and a one-click done
//! toggle; a task's edit page; and the open-tasks panel on contact, company and deal
//! pages. Dues are typed and shown in the user's time zone.
mod form;
mod panel;

pub use form::{Draft, TaskForm, edit, update};
use form::{about, back_of, due_of, form_error, record_of};
use panel::panel_with;
pub use panel::{Frozen, Panel, frozen, panel};

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::tasks::due::{self, Day, Group};
use crate::domain::tasks::{
    self, After, DONE_BATCH, GroupList, PRIORITIES, Scope, Task, TaskInput,
};
use crate::domain::{now, users};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{CurrentUser, csrf_token, set_flash};
use crate::web::filters;
use crate::web::forms::{Form, RawForm};
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, Refusal, ok, render, see_other};
/// A task as a row shows it, its due in the viewer's zone.
pub struct Row {
    pub id: i64,
    pub title: String,
    pub done: bool,
    pub due: Option<String>,
    pub overdue: bool,
    pub priority: String,
    pub priority_label: &'static str,
    pub record: Option<(String, String)>,
    pub assignee: String,
    pub can_edit: bool,
    /// Notes are loaded when opened (`notes`): rendering every row's Markdown would cost
    /// more than the rest of the page.
    pub has_notes: bool,
}

impl Row {
    fn of(t: &Task, user: &CurrentUser, at: DateTime<Utc>, day: &Day) -> Row {
        let group = due::group_of(t.done, t.due_at, t.due_date, day, at);
        Row {
            id: t.id,
            can_edit: t.editable_by(&user.actor),
            priority_label: t.priority_label(),
            record: t.record(),
            due: due::describe(user.tz, t.due_at, t.due_date, day.date.year()),
            overdue: group == Group::Overdue,
            title: t.title.clone(),
            done: t.done,
            priority: t.priority.clone(),
            assignee: t.assignee_name.clone(),
            has_notes: t.notes.as_deref().is_some_and(|n| !n.trim().is_empty()),
        }
    }
}

/// What a row's forms carry back so the answer redraws the right place.
pub struct RowContext {
    csrf: String,
    /// "mine" (My tasks) or "record" (a record's panel).
    view: &'static str,
    assignee: String,
    /// The record's field and id, on a record's panel.
    field: &'static str,
    subject_id: i64,
    /// What an htmx answer replaces.
    target: &'static str,
    /// Where the edit page returns to.
    back: String,
    show_assignee: bool,
}

impl RowContext {
    fn mine(user: &CurrentUser, assignee: &str) -> RowContext {
        RowContext {
            csrf: csrf_token(&user.session),
            view: "mine",
            assignee: assignee.to_string(),
            field: "",
            subject_id: 0,
            target: "#tasks",
            back: match assignee {
                "" => "/tasks".into(),
                a => format!("/tasks?assignee={a}"),
            },
            show_assignee: !assignee.is_empty(),
        }
    }
}

/// One group of My tasks as shown.
pub struct Section {
    pub key: &'static str,
    pub label: &'static str,
    pub rows: Vec<Row>,
    /// How many the group holds when that is more than shown.
    pub total: Option<u64>,
    /// Where "Show more" loads the next batch from, when there is one.
    pub next: Option<String>,
}

/// My tasks' assignee filter: "" is the user's own, "all" everyone's, else a user id.
fn scope_of(user: &CurrentUser, assignee: &str) -> Scope {
    let asked = match assignee.trim() {
        "all" => Scope::Everyone,
        "" => Scope::User(user.actor.id),
        id => id.parse().map_or(Scope::User(user.actor.id), Scope::User),
    };
    Scope::allowed(&user.actor, asked)
}

/// The groups and quick add, swapped as one by htmx after every change.
#[derive(Template)]
#[template(path = "tasks/_fragment.html")]
pub struct Fragment {
    ctx: RowContext,
    csrf: String,
    can_write: bool,
    sections: Vec<Section>,
    done: Section,
    done_next: Option<String>,
    draft: Draft,
    assignee: String,
    /// Who may be assigned tasks (managers and admins pick; reps may too).
    people: Vec<users::Person>,
    me: i64,
    today: String,
    tz: String,
    overdue: u64,
    oob_badge: bool,
    priorities: &'static [(&'static str, &'static str)],
}

#[derive(Template)]
#[template(path = "tasks/index.html")]
struct IndexPage {
    l: Layout,
    sees_everyone: bool,
    f: Fragment,
}

fn rows_of(list: &GroupList, user: &CurrentUser, at: DateTime<Utc>, day: &Day) -> Vec<Row> {
    list.tasks
        .iter()
        .map(|t| Row::of(t, user, at, day))
        .collect()
}

fn section(
    g: Group,
    list: &GroupList,
    assignee: &str,
    user: &CurrentUser,
    at: DateTime<Utc>,
    day: &Day,
) -> Section {
    let next = (g != Group::Done)
        .then(|| next_link(g, assignee, list))
        .flatten();
    Section {
        key: g.key(),
        label: g.label(),
        total: list.total,
        rows: rows_of(list, user, at, day),
        next,
    }
}

fn done_link(assignee: &str, offset: u64) -> String {
    format!(
        "/tasks/done?offset={offset}&assignee={}",
        crate::web::errors::url_encode(assignee)
    )
}

/// "Show more" for an open group: the batch after its last task, when more follow.
fn next_link(group: Group, assignee: &str, list: &GroupList) -> Option<String> {
    let last = list.tasks.last().filter(|_| list.more)?;
    Some(format!(
        "/tasks/more?group={}&after={}&assignee={}",
        group.key(),
        crate::web::errors::url_encode(&After::of(last).token()),
        crate::web::errors::url_encode(assignee)
    ))
}

async fn fragment(
    state: &AppState,
    user: &CurrentUser,
    assignee: &str,
    draft: Draft,
    oob_badge: bool,
) -> Result<Fragment, AppError> {
    let at = now();
    let scope = scope_of(user, assignee);
    let b = tasks::board(&state.db, &user.actor, scope, user.tz, at).await?;
    let day = b.day;
    let done_more = b.done.more;
    let sections = vec![
        section(Group::Overdue, &b.overdue, assignee, user, at, &day),
        section(Group::Today, &b.today, assignee, user, at, &day),
        section(Group::Upcoming, &b.upcoming, assignee, user, at, &day),
    ];
    let overdue = if oob_badge {
        tasks::overdue_count(&state.db, &user.actor, user.tz, at).await?
    } else {
        user.overdue
    };
    Ok(Fragment {
        ctx: RowContext::mine(user, assignee),
        csrf: csrf_token(&user.session),
        can_write: user.actor.can_write(),
        sections,
        done: section(Group::Done, &b.done, assignee, user, at, &day),
        done_next: done_more.then(|| done_link(assignee, DONE_BATCH)),
        draft,
        assignee: assignee.to_string(),
        people: users::owner_choices(&state.db, None).await?,
        me: user.actor.id,
        today: day.date.to_string(),
        tz: user.tz.name().to_string(),
        overdue,
        oob_badge,
        priorities: PRIORITIES,
    })
}

#[derive(Deserialize, Default)]
pub struct IndexQuery {
    #[serde(default)]
    assignee: String,
}

pub async fn index(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    q: web::Query<IndexQuery>,
) -> Result<HttpResponse, AppError> {
    let f = fragment(&state, &user, &q.assignee, Draft::default(), false).await?;
    if hx.fragment {
        return ok(&f);
    }
    ok(&IndexPage {
        l: Layout::for_user(&user, "tasks"),
        sees_everyone: tasks::sees_everyone(&user.actor),
        f,
    })
}

/// The next batch of a group ("Show more"): its rows, and the link to the one after.
#[derive(Template)]
#[template(path = "tasks/_batch.html")]
struct Batch {
    ctx: RowContext,
    rows: Vec<Row>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    offset: u64,
}

pub async fn done(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let at = now();
    let scope = scope_of(&user, &q.assignee);
    let offset = q.offset.min(crate::domain::PAGE_MAX);
    let list = tasks::done_batch(&state.db, &user.actor, scope, offset).await?;
    let day = due::today(user.tz, at);
    let next = list
        .more
        .then(|| done_link(&q.assignee, offset + DONE_BATCH));
    ok(&Batch {
        ctx: RowContext::mine(&user, &q.assignee),
        rows: rows_of(&list, &user, at, &day),
        next,
    })
}

#[derive(Deserialize, Default)]
pub struct MoreQuery {
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    after: String,
}

/// The next batch of an open group (overdue, today or upcoming), after the task named.
pub async fn more(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<MoreQuery>,
) -> Result<HttpResponse, AppError> {
    let group = match q.group.as_str() {
        "overdue" => Group::Overdue,
        "today" => Group::Today,
        "upcoming" => Group::Upcoming,
        _ => {
            return Err(AppError::field(
                "group",
                "group is overdue, today or upcoming.",
            ));
        }
    };
    let after = After::parse(&q.after)
        .ok_or_else(|| AppError::field("after", "after names the last task shown."))?;
    let at = now();
    let scope = scope_of(&user, &q.assignee);
    let list = tasks::group_batch(&state.db, &user.actor, scope, group, user.tz, at, after).await?;
    let day = due::today(user.tz, at);
    let next = next_link(group, &q.assignee, &list);
    ok(&Batch {
        ctx: RowContext::mine(&user, &q.assignee),
        rows: rows_of(&list, &user, at, &day),
        next,
    })
}

#[derive(Template)]
#[template(path = "tasks/_notes.html")]
struct Notes {
    notes: String,
}

/// A task's notes as Markdown made safe, for the row's "Notes" when opened.
pub async fn notes(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let t = tasks::get(&state.db, &user.actor, *id).await?;
    ok(&Notes {
        notes: t.notes.unwrap_or_default(),
    })
}

/// The answer to an htmx change: the panel or My tasks, drawn afresh, with the badge.
async fn redraw(
    state: &AppState,
    user: &CurrentUser,
    form: &TaskForm,
    draft: Draft,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    match record_of(form) {
        Some(s) => render(&panel_with(state, user, s, draft, true).await?, status),
        None => render(
            &fragment(state, user, &form.assignee, draft, true).await?,
            status,
        ),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    Form(form): Form<TaskForm>,
) -> Result<HttpResponse, AppError> {
    let result = async {
        let mut fields = FieldErrors::new();
        let (due_at, due_date) = due_of(&form, user.tz, &mut fields);
        if !fields.is_empty() {
            return Err(AppError::validation(fields));
        }
        let input = TaskInput {
            title: form.title.clone(),
            notes: Some(form.notes.clone()),
            due_at,
            due_date,
            assignee_id: form.assignee_id,
            priority: Some(form.priority.clone()),
            contact_id: about(&state, &user.actor, &form).await?,
            company_id: form.company_id,
            deal_id: form.deal_id,
            done: false,
        };
        tasks::create(&state.db, &user.actor, &input)
            .await
            .map_err(form_error)
    }
    .await;
    match result {
        Ok(_) if hx.fragment => {
            redraw(
                &state,
                &user,
                &form,
                Draft::default(),
                actix_web::http::StatusCode::OK,
            )
            .await
        }
        Ok(t) => {
            set_flash(&user.session, format!("Task “{}” added.", t.title));
            Ok(see_other(&back_of(&form)))
        }
        Err(e) => {
            let refusal = Refusal::of(Some(e))?;
            let draft = Draft {
                form: form.clone(),
                errors: refusal.fields,
                message: refusal.message,
            };
            if hx.fragment {
                return redraw(&state, &user, &form, draft, refusal.status).await;
            }
            let f = fragment(&state, &user, &form.assignee, draft, false).await?;
            render(
                &IndexPage {
                    l: Layout::for_user(&user, "tasks"),
                    sees_everyone: tasks::sees_everyone(&user.actor),
                    f,
                },
                refusal.status,
            )
        }
    }
}

/// The toggle's own field; the rest of its form is a `TaskForm`'s (where it was). Read
/// twice rather than flattened: flattening loses the numbers' types in form bodies.
#[derive(Deserialize, Default)]
pub struct DoneForm {
    #[serde(default)]
    done: String,
}

/// The one-click toggle: `done=true` completes, `done=false` reopens.
pub async fn toggle(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
    raw: RawForm,
) -> Result<HttpResponse, AppError> {
    let f: DoneForm = raw.parse()?;
    let form: TaskForm = raw.parse()?;
    let done = match f.done.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::field("done", "done is true or false.")),
    };
    let t = tasks::set_done(&state.db, &user.actor, *id, done).await?;
    if hx.fragment {
        return redraw(
            &state,
            &user,
            &form,
            Draft::default(),
            actix_web::http::StatusCode::OK,
        )
        .await;
    }
    let said = if t.done { "done" } else { "reopened" };
    set_flash(&user.session, format!("“{}” {said}.", t.title));
    Ok(see_other(&back_of(&form)))
}

pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    id: web::Path<i64>,
    Form(form): Form<TaskForm>,
) -> Result<HttpResponse, AppError> {
    let t = tasks::delete(&state.db, &user.actor, *id).await?;
    if hx.fragment {
        return redraw(
            &state,
            &user,
            &form,
            Draft::default(),
            actix_web::http::StatusCode::OK,
        )
        .await;
    }
    set_flash(&user.session, format!("Task “{}” deleted.", t.title));
    Ok(see_other(&back_of(&form)))
}
