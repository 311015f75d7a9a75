//! The open tasks of a contact, company or deal, beside its activity.
use askama::Template;

use crate::app::AppState;
use crate::domain::activities::Subject;
use crate::domain::tasks::due::{self};
use crate::domain::tasks::{self, PRIORITIES};
use crate::domain::{now, users};
use crate::error::AppError;
use crate::web::auth::{CurrentUser, csrf_token};

use super::{Draft, Row, RowContext};
/// The open tasks of a record, beside its activity.
#[derive(Template)]
#[template(path = "tasks/_panel.html")]
pub struct Panel {
    ctx: RowContext,
    csrf: String,
    can_write: bool,
    rows: Vec<Row>,
    draft: Draft,
    people: Vec<users::Person>,
    me: i64,
    overdue: u64,
    oob_badge: bool,
    priorities: &'static [(&'static str, &'static str)],
}

pub(super) fn field_of(subject: Subject) -> (&'static str, i64, String) {
    match subject {
        Subject::Deal(id) => ("deal_id", id, format!("/deals/{id}")),
        Subject::Contact(id) => ("contact_id", id, format!("/contacts/{id}")),
        Subject::Company(id) => ("company_id", id, format!("/companies/{id}")),
    }
}

/// The panel for a record's page (or an htmx answer from it).
pub async fn panel(
    state: &AppState,
    user: &CurrentUser,
    subject: Subject,
) -> Result<Panel, AppError> {
    panel_with(state, user, subject, Draft::default(), false).await
}

pub(super) async fn panel_with(
    state: &AppState,
    user: &CurrentUser,
    subject: Subject,
    draft: Draft,
    oob_badge: bool,
) -> Result<Panel, AppError> {
    let at = now();
    let day = due::today(user.tz, at);
    let (field, subject_id, back) = field_of(subject);
    let rows = tasks::for_record(&state.db, subject)
        .await?
        .into_iter()
        .map(|t| Row::of(&t, user, at, &day))
        .collect();
    let overdue = if oob_badge {
        tasks::overdue_count(&state.db, &user.actor, user.tz, at).await?
    } else {
        user.overdue
    };
    Ok(Panel {
        ctx: RowContext {
            csrf: csrf_token(&user.session),
            view: "record",
            assignee: String::new(),
            field,
            subject_id,
            target: "#tasks-panel",
            back,
            show_assignee: true,
        },
        csrf: csrf_token(&user.session),
        can_write: user.actor.can_write(),
        rows,
        draft,
        people: if user.actor.can_write() {
            users::owner_choices(&state.db, None).await?
        } else {
            Vec::new()
        },
        me: user.actor.id,
        overdue,
        oob_badge,
        priorities: PRIORITIES,
    })
}

/// A task as the page of its record in the trash shows it: read only, its notes drawn
/// at once (it cannot be opened, ticked or edited until the record is restored).
pub struct Frozen {
    pub title: String,
    pub due: Option<String>,
    pub overdue: bool,
    pub priority_label: &'static str,
    pub assignee: String,
    pub notes: Option<String>,
}

/// The open tasks of a record in the trash, for its page's notice.
pub async fn frozen(
    state: &AppState,
    user: &CurrentUser,
    subject: Subject,
) -> Result<Vec<Frozen>, AppError> {
    let at = now();
    let day = due::today(user.tz, at);
    Ok(tasks::for_record(&state.db, subject)
        .await?
        .into_iter()
        .map(|t| {
            let row = Row::of(&t, user, at, &day);
            Frozen {
                title: row.title,
                due: row.due,
                overdue: row.overdue,
                priority_label: row.priority_label,
                assignee: row.assignee,
                notes: t.notes.filter(|n| !n.trim().is_empty()),
            }
        })
        .collect())
}
