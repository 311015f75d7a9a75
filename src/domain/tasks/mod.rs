//! Tasks: a to-do with a title, optional notes, a due (a time or a date, see `due`), an
//! assignee, a priority, and optionally the contact, company or deal it is about.
//!
//! Who may do what:
//! - viewers read only (403 on every write);
//! - reps create tasks (for themselves or any active non-viewer), and change, complete
//!   or delete tasks assigned to them or created by them;
//! - managers and admins change any task.
//!
//! Reading: My tasks shows a rep (or viewer) their own; managers and admins choose
//! anyone's or everyone's. A record's open tasks show on its page to everyone who can
//! see the record, so a task about a record is visible to all; a task about no record is
//! visible to its assignee, its creator, managers and admins (others get 404). A task
//! about a record in the trash is hidden with it (404, and left out of every list and
//! count) until the record is restored; purging the record deletes it.
//!
//! Completing a task about a record logs a note on that record's timeline.
//!
//! For work done later (reminders, "assigned to you" emails): `create`, `update` and
//! `set_done` return the task as saved, with its `version`; a job can read
//! `reminder_state` when it runs and skip a task whose version, assignee, due or done
//! state has moved on since it was scheduled.
mod after;
pub mod due;
mod mine;
pub mod notices;
mod reads;
mod write;

pub use after::After;
pub use mine::{
    Board, DONE_BATCH, GROUP_LIMIT, GroupList, ListParams, ListQuery, Scope, board, done_batch,
    for_record, group_batch, list, overdue_count, overdue_visible_count,
};
pub use write::{TaskInput, TaskPatch, create, delete, set_done, update};
pub(crate) use write::{
    Valid, active_model, check_assignee, check_due, check_notes, check_priority, check_title,
};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QuerySelect, RelationTrait, Select,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{Action, Actor, Db, access};
use crate::entities::{company, contact, deal, task, user};
use crate::error::AppError;

/// Priorities, lowest first, and how pages name them.
pub const PRIORITIES: &[(&str, &str)] = &[("low", "Low"), ("normal", "Normal"), ("high", "High")];

pub const TITLE_MAX: usize = 200;
pub const NOTES_MAX: usize = 20_000;

/// A task as pages and the API show it, with the names of its assignee and record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub notes: Option<String>,
    /// Due at this time (UTC); absent for a task due on a date or not due.
    pub due_at: Option<DateTime<Utc>>,
    /// Due on this date, at no particular time; absent for a timed task or none.
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = crate::domain::schema::TaskPriority)]
    pub priority: String,
    pub assignee_id: i64,
    pub assignee_name: String,
    pub created_by: Option<i64>,
    pub contact_id: Option<i64>,
    pub contact_name: Option<String>,
    pub company_id: Option<i64>,
    pub company_name: Option<String>,
    pub deal_id: Option<i64>,
    pub deal_title: Option<String>,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    /// Raised by every change; a PATCH may name the version it was made from.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult, serde::Deserialize)]
struct Row {
    id: i64,
    title: String,
    notes: Option<String>,
    #[serde(default, deserialize_with = "reads::maybe_instant")]
    due_at: Option<DateTime<Utc>>,
    due_date: Option<NaiveDate>,
    priority: String,
    assignee_id: i64,
    #[serde(default)]
    assignee_name: Option<String>,
    created_by: Option<i64>,
    contact_id: Option<i64>,
    contact_first: Option<String>,
    contact_last: Option<String>,
    company_id: Option<i64>,
    company_name: Option<String>,
    deal_id: Option<i64>,
    deal_title: Option<String>,
    #[serde(deserialize_with = "reads::flag")]
    done: bool,
    #[serde(default, deserialize_with = "reads::maybe_instant")]
    done_at: Option<DateTime<Utc>>,
    version: i32,
    #[serde(deserialize_with = "reads::instant")]
    created_at: DateTime<Utc>,
    #[serde(deserialize_with = "reads::instant")]
    updated_at: DateTime<Utc>,
}

impl From<Row> for Task {
    fn from(r: Row) -> Task {
        let contact_name = match (r.contact_first, r.contact_last) {
            (None, None) => None,
            (f, l) => Some(
                format!("{} {}", f.unwrap_or_default(), l.unwrap_or_default())
                    .trim()
                    .to_string(),
            ),
        };
        Task {
            id: r.id,
            title: r.title,
            notes: r.notes,
            due_at: r.due_at,
            due_date: r.due_date,
            priority: r.priority,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name.unwrap_or_default(),
            created_by: r.created_by,
            contact_id: r.contact_id,
            contact_name,
            company_id: r.company_id,
            company_name: r.company_name,
            deal_id: r.deal_id,
            deal_title: r.deal_title,
            done: r.done,
            done_at: r.done_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Task {
    /// Reps change tasks assigned to them or created by them; managers and admins any;
    /// viewers none.
    pub fn editable_by(&self, actor: &Actor) -> bool {
        may_edit(actor, self.assignee_id, self.created_by)
    }

    pub fn priority_label(&self) -> &'static str {
        PRIORITIES
            .iter()
            .find(|(k, _)| *k == self.priority)
            .map_or("Normal", |(_, label)| label)
    }

    /// The record it is about, as a page link and a name.
    pub fn record(&self) -> Option<(String, String)> {
        let name = |n: &Option<String>| n.clone().unwrap_or_default();
        match (self.deal_id, self.contact_id, self.company_id) {
            (Some(id), _, _) => Some((format!("/deals/{id}"), name(&self.deal_title))),
            (_, Some(id), _) => Some((format!("/contacts/{id}"), name(&self.contact_name))),
            (_, _, Some(id)) => Some((format!("/companies/{id}"), name(&self.company_name))),
            _ => None,
        }
    }
}

fn may_edit(actor: &Actor, assignee_id: i64, created_by: Option<i64>) -> bool {
    let theirs = assignee_id == actor.id || created_by == Some(actor.id);
    actor.may_on(Action::EditEntries, theirs)
}

pub fn sees_everyone(actor: &Actor) -> bool {
    actor.reaches_all(Action::ReadTasks)
}

/// The tasks `actor` may read (see the module's comment). Under "reps see only their
/// own records" (`visible` is an owner) a rep's tasks are those about records they may
/// see, or about none and assigned to or created by them.
fn visible_to(actor: &Actor, visible: access::Visible) -> Condition {
    if sees_everyone(actor) {
        return Condition::all();
    }
    if !visible.is_all() {
        return visible_on_records(visible);
    }
    Condition::any()
        .add(task::Column::AssigneeId.eq(actor.id))
        .add(task::Column::CreatedBy.eq(actor.id))
        .add(task::Column::ContactId.is_not_null())
        .add(task::Column::CompanyId.is_not_null())
        .add(task::Column::DealId.is_not_null())
}

/// Tasks about records `visible` sees, or about none and the owner's own.
fn visible_on_records(visible: access::Visible) -> Condition {
    use task::Column as T;
    visible.linked(
        (task::Entity, T::DealId),
        (task::Entity, T::ContactId),
        (task::Entity, T::CompanyId),
        &[(task::Entity, T::AssigneeId), (task::Entity, T::CreatedBy)],
    )
}

/// Whether user `user_id` may see task `task_id` (its record is one they see, `access`):
/// mail about a task goes to its assignee only then, so no email names a record of
/// another rep's.
pub(crate) async fn seen_by(
    conn: &impl ConnectionTrait,
    task_id: i64,
    user_id: i64,
) -> Result<bool, AppError> {
    let visible = access::visible_to_user(conn, user_id).await?;
    if visible.is_all() {
        return Ok(true);
    }
    Ok(sea_orm::PaginatorTrait::count(
        task::Entity::find_by_id(task_id).filter(visible_on_records(visible)),
        conn,
    )
    .await?
        > 0)
}

/// Tasks without the names of their assignee and record (`reads::name` adds them to a
/// page of them at once).
fn bare() -> Select<task::Entity> {
    use task::Column as T;
    task::Entity::find()
        .select_only()
        .columns([T::Id, T::Title, T::Notes, T::DueAt, T::DueDate, T::Priority])
        .columns([
            T::AssigneeId,
            T::CreatedBy,
            T::ContactId,
            T::CompanyId,
            T::DealId,
        ])
        .columns([T::Done, T::DoneAt, T::Version, T::CreatedAt, T::UpdatedAt])
}

/// Tasks with the names pages show beside them, joined by primary key (no query per row).
fn select() -> Select<task::Entity> {
    bare()
        .column_as(user::Column::Name, "assignee_name")
        .column_as(contact::Column::FirstName, "contact_first")
        .column_as(contact::Column::LastName, "contact_last")
        .column_as(company::Column::Name, "company_name")
        .column_as(deal::Column::Title, "deal_title")
        .join(JoinType::LeftJoin, task::Relation::Assignee.def())
        .join(JoinType::LeftJoin, task::Relation::Contact.def())
        .join(JoinType::LeftJoin, task::Relation::Company.def())
        .join(JoinType::LeftJoin, task::Relation::Deal.def())
}

async fn all(conn: &impl ConnectionTrait, q: Select<task::Entity>) -> Result<Vec<Task>, AppError> {
    Ok(q.into_model::<Row>()
        .all(conn)
        .await?
        .into_iter()
        .map(Task::from)
        .collect())
}

async fn get_in(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Task>, AppError> {
    Ok(select()
        .filter(task::Column::Id.eq(id))
        .into_model::<Row>()
        .one(conn)
        .await?
        .map(Task::from))
}

/// Task `id` unless it is hidden with its record in the trash (then it is neither shown
/// nor changed until the record is restored).
async fn shown_in(conn: &impl ConnectionTrait, id: i64) -> Result<Option<Task>, AppError> {
    Ok(select()
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::RecordTrashed.eq(false))
        .into_model::<Row>()
        .one(conn)
        .await?
        .map(Task::from))
}

/// One task `actor` may see; 404 otherwise (also while its record is in the trash).
pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Task, AppError> {
    let task = shown_in(&db.read, id)
        .await?
        .ok_or_else(|| AppError::not_found("Task"))?;
    let visible = sees_everyone(actor)
        || task.assignee_id == actor.id
        || task.created_by == Some(actor.id)
        || task.record().is_some();
    if !visible {
        return Err(AppError::not_found("Task"));
    }
    check_record(db, &db.read, actor, &task).await?;
    Ok(task)
}

/// Refuses, as "not found", a task about a record `actor` may not see (`access`).
async fn check_record(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    task: &Task,
) -> Result<(), AppError> {
    let linked = [
        (access::Table::Deals, task.deal_id),
        (access::Table::Contacts, task.contact_id),
        (access::Table::Companies, task.company_id),
    ];
    match linked.into_iter().find(|(_, id)| id.is_some()) {
        Some((table, Some(id))) => access::check(db, conn, actor, table, id, "Task").await,
        _ => Ok(()),
    }
}

/// What a reminder or notification job needs to decide whether it is still wanted.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct ReminderState {
    pub id: i64,
    pub title: String,
    pub assignee_id: i64,
    pub created_by: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub done: bool,
    pub version: i32,
}

/// A task as a job sees it when it runs; None once the task is deleted, or while it is
/// hidden with its record in the trash (no reminder for what the user cannot see).
pub async fn reminder_state(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<ReminderState>, AppError> {
    use task::Column as T;
    Ok(task::Entity::find()
        .select_only()
        .columns([
            T::Id,
            T::Title,
            T::AssigneeId,
            T::CreatedBy,
            T::DueAt,
            T::DueDate,
        ])
        .columns([T::Done, T::Version])
        .filter(T::Id.eq(id))
        .filter(T::RecordTrashed.eq(false))
        .into_model::<ReminderState>()
        .one(conn)
        .await?)
}
