//! Creating, changing, completing and deleting tasks: each one transaction with its audit
//! line (and, on completion, the note on the task's record).
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{NOTES_MAX, PRIORITIES, TITLE_MAX, Task, due, get_in, may_edit, notices, shown_in};
use crate::domain::{
    Action, Actor, Db, FieldErrorsExt, access, audit, double_option, now, webhooks,
};
use crate::entities::{activity, company, contact, deal, task, user};
use crate::error::{AppError, FieldErrors};

/// A new task, from the API or a page (which fills `due_at`/`due_date` from the user's
/// local date and time).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000)]
    pub notes: Option<String>,
    /// Due at this time (RFC 3339). Give this or due_date, not both.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    /// Due on this date, at no particular time (YYYY-MM-DD).
    #[schema(format = Date)]
    pub due_date: Option<String>,
    /// Who does it: an active user who is not a viewer; yourself when absent.
    pub assignee_id: Option<i64>,
    /// low, normal (when absent) or high.
    #[schema(value_type = Option<crate::domain::schema::TaskPriority>)]
    pub priority: Option<String>,
    /// At most one of contact_id, company_id and deal_id: the record it is about.
    pub contact_id: Option<i64>,
    pub company_id: Option<i64>,
    pub deal_id: Option<i64>,
    #[serde(default)]
    pub done: bool,
}

/// A change to a task: absent fields stay as they are; `null` clears a field that may
/// be empty. Giving a due of one kind clears the other; giving a record replaces the one
/// the task was about.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<Option<String>>,
    pub assignee_id: Option<i64>,
    #[schema(value_type = Option<crate::domain::schema::TaskPriority>)]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub contact_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub deal_id: Option<Option<i64>>,
    pub done: Option<bool>,
    /// The version the change was made from: refused with 409 if the task changed since.
    pub version: Option<i32>,
}

/// The fields of a task as they will be saved.
/// Serde: an import keeps its planned rows in a file until it writes them
/// (`import::apply::spill`), and reads back only what it wrote there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Valid {
    pub title: String,
    pub notes: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: i64,
    pub priority: String,
    pub contact_id: Option<i64>,
    pub company_id: Option<i64>,
    pub deal_id: Option<i64>,
}

/// The columns a task takes from its checked fields and whether (and when) it is done,
/// written at `at`: a new task's here, and the importer's new and updated ones.
pub(crate) fn active_model(
    v: &Valid,
    done: bool,
    done_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> task::ActiveModel {
    task::ActiveModel {
        title: Set(v.title.clone()),
        notes: Set(v.notes.clone()),
        due_at: Set(v.due_at),
        due_date: Set(v.due_date),
        priority: Set(v.priority.clone()),
        assignee_id: Set(v.assignee_id),
        contact_id: Set(v.contact_id),
        company_id: Set(v.company_id),
        deal_id: Set(v.deal_id),
        done: Set(done),
        done_at: Set(done_at),
        updated_at: Set(at),
        ..Default::default()
    }
}

pub(crate) fn check_title(title: &str, fields: &mut FieldErrors) -> String {
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        fields.set("title", "Say what is to be done.");
    } else if title.chars().count() > TITLE_MAX {
        fields.set("title", format!("At most {TITLE_MAX} characters."));
    } else if crate::domain::has_control(&title) {
        fields.set("title", "The title holds control characters.");
    }
    title
}

pub(crate) fn check_notes(notes: Option<&str>, fields: &mut FieldErrors) -> Option<String> {
    let notes = notes.map(str::trim).filter(|n| !n.is_empty())?;
    if notes.chars().count() > NOTES_MAX {
        fields.set("notes", format!("At most {NOTES_MAX} characters."));
    } else if notes
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        fields.set("notes", "The notes hold control characters.");
    }
    Some(notes.to_string())
}

pub(crate) fn check_priority(priority: Option<&str>, fields: &mut FieldErrors) -> String {
    let p = priority
        .map(|p| p.trim().to_lowercase())
        .unwrap_or_default();
    if p.is_empty() {
        return "normal".into();
    }
    if !PRIORITIES.iter().any(|(k, _)| *k == p) {
        fields.set("priority", "Priority must be low, normal or high.");
    }
    p
}

/// The due of a task: at most one of a time and a date, each read strictly.
pub(crate) fn check_due(
    due_at: Option<&str>,
    due_date: Option<&str>,
    fields: &mut FieldErrors,
) -> (Option<DateTime<Utc>>, Option<NaiveDate>) {
    fn given(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    match (given(due_at), given(due_date)) {
        (Some(_), Some(_)) => {
            fields.set(
                "due_at",
                "Give due_at (a time) or due_date (a day), not both.",
            );
            (None, None)
        }
        (Some(at), None) => (due::parse_instant(at, "due_at", fields), None),
        (None, Some(d)) => (None, due::parse_date(d, "due_date", fields)),
        (None, None) => (None, None),
    }
}

/// The record a task is about: at most one.
fn check_links(
    contact_id: Option<i64>,
    company_id: Option<i64>,
    deal_id: Option<i64>,
    fields: &mut FieldErrors,
) {
    if [contact_id, company_id, deal_id].iter().flatten().count() > 1 {
        fields.set(
            "deal_id",
            "A task is about one record at most: give only one of contact_id, company_id and deal_id.",
        );
    }
}

/// The assignee exists, is active and may act; each linked record exists.
/// Whether a row of `E` has this id (reading the key only).
async fn exists<E>(conn: &impl ConnectionTrait, id: i64) -> Result<bool, AppError>
where
    E: EntityTrait,
    E::Model: Sync,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    Ok(E::find_by_id(id).count(conn).await? > 0)
}

/// The assignee exists, is active and is not a viewer (imports check theirs too).
pub(crate) async fn check_assignee(
    conn: &impl ConnectionTrait,
    assignee_id: i64,
    fields: &mut FieldErrors,
) -> Result<(), AppError> {
    let assignee = user::Entity::find_by_id(assignee_id)
        .select_only()
        .columns([user::Column::Active, user::Column::Role])
        .into_tuple::<(bool, String)>()
        .one(conn)
        .await?;
    match assignee {
        None => fields.set("assignee_id", "No user has this id."),
        Some((false, _)) => fields.set(
            "assignee_id",
            "This user is deactivated: assign the task to someone active.",
        ),
        Some((true, role)) if !crate::domain::users::may_own(&role) => fields.set(
            "assignee_id",
            "Viewers only read: assign the task to someone who can act on it.",
        ),
        Some(_) => {}
    }
    Ok(())
}

async fn check_references(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    v: &Valid,
    fields: &mut FieldErrors,
) -> Result<(), AppError> {
    // A record the rep may not see (`access`) is "not found", as its page would be.
    for (table, id, what) in [
        (access::Table::Contacts, v.contact_id, "Contact"),
        (access::Table::Companies, v.company_id, "Company"),
        (access::Table::Deals, v.deal_id, "Deal"),
    ] {
        if let Some(id) = id {
            access::check(db, conn, actor, table, id, what).await?;
        }
    }
    check_assignee(conn, v.assignee_id, fields).await?;
    if let Some(id) = v.contact_id
        && !exists::<contact::Entity>(conn, id).await?
    {
        fields.set("contact_id", "No contact has this id.");
    }
    if let Some(id) = v.company_id
        && !exists::<company::Entity>(conn, id).await?
    {
        fields.set("company_id", "No company has this id.");
    }
    if let Some(id) = v.deal_id
        && !exists::<deal::Entity>(conn, id).await?
    {
        fields.set("deal_id", "No deal has this id.");
    }
    Ok(())
}

fn detail(v: &Valid) -> serde_json::Value {
    serde_json::json!({
        "title": v.title,
        "assignee_id": v.assignee_id,
        "due_at": v.due_at,
        "due_date": v.due_date,
        "contact_id": v.contact_id,
        "company_id": v.company_id,
        "deal_id": v.deal_id,
    })
}

/// The note a completed task leaves on its record's timeline, in the same transaction.
async fn log_completion(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    title: &str,
    links: (Option<i64>, Option<i64>, Option<i64>),
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let (contact_id, company_id, deal_id) = links;
    if contact_id.is_none() && company_id.is_none() && deal_id.is_none() {
        return Ok(());
    }
    activity::Entity::insert(activity::ActiveModel {
        id: NotSet,
        kind: Set("note".into()),
        body: Set(format!("Completed task: {title}")),
        occurred_at: Set(at),
        deal_id: Set(deal_id),
        contact_id: Set(contact_id),
        company_id: Set(company_id),
        author_id: Set(Some(actor.id)),
        created_at: Set(at),
        version: Set(1),
        edited_at: Set(None),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Creates a task (assigned to `actor` unless it names someone else). A little over the
/// usual length: the checks, then one insert, its audit and maybe its completion note.
pub async fn create(db: &Db, actor: &Actor, input: &TaskInput) -> Result<Task, AppError> {
    actor.require(Action::WriteRecords)?;
    let mut fields = FieldErrors::new();
    let (due_at, due_date) = check_due(
        input.due_at.as_deref(),
        input.due_date.as_deref(),
        &mut fields,
    );
    let v = Valid {
        title: check_title(&input.title, &mut fields),
        notes: check_notes(input.notes.as_deref(), &mut fields),
        due_at,
        due_date,
        assignee_id: input.assignee_id.unwrap_or(actor.id),
        priority: check_priority(input.priority.as_deref(), &mut fields),
        contact_id: input.contact_id,
        company_id: input.company_id,
        deal_id: input.deal_id,
    };
    check_links(v.contact_id, v.company_id, v.deal_id, &mut fields);
    let tx = db.begin_write().await?;
    check_references(db, &tx, actor, &v, &mut fields).await?;
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let t = now();
    let id = task::Entity::insert(task::ActiveModel {
        id: NotSet,
        created_by: Set(Some(actor.id)),
        record_trashed: Set(false),
        version: Set(1),
        created_at: Set(t),
        ..active_model(&v, input.done, input.done.then_some(t), t)
    })
    .exec(&tx)
    .await?
    .last_insert_id;
    audit::record(&tx, Some(actor), "create", "task", id, Some(detail(&v))).await?;
    if input.done {
        log_completion(
            &tx,
            actor,
            &v.title,
            (v.contact_id, v.company_id, v.deal_id),
            t,
        )
        .await?;
    }
    let task = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("the new task vanished".into()))?;
    let queued = notices::on_save(&tx, actor, None, &task).await?;
    let hooked = webhooks::emit_about(db, &tx, "task", "created", &task).await?;
    rescore(db, &tx, [&task]).await?;
    tx.commit().await?;
    wake_if(queued || hooked > 0);
    db.forget_task_counts();
    Ok(task)
}

/// Wakes the workers after a commit that enqueued an email or reminder.
fn wake_if(queued: bool) {
    if queued {
        crate::jobs::wake();
    }
}

/// The task as it stands, for a change by `actor`: 404 if there is none (or it is hidden
/// with its record in the trash), 403 if they may not change it, 409 if it moved on since
/// `version`.
async fn current(
    db: &Db,
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    version: Option<i32>,
) -> Result<Task, AppError> {
    actor.require(Action::WriteRecords)?;
    let Some(task) = shown_in(conn, id).await? else {
        return Err(hidden(conn, actor, id).await?);
    };
    super::check_record(db, conn, actor, &task).await?;
    if !may_edit(actor, task.assignee_id, task.created_by) {
        return Err(AppError::Forbidden(
            "Only its assignee, its creator, a manager or an admin can change this task.".into(),
        ));
    }
    if version.is_some_and(|v| v != task.version) {
        return Err(stale());
    }
    Ok(task)
}

/// Why task `id` cannot be changed when it is not shown: for those who see the trash
/// (and so the record's page, where its tasks are listed), that its record is in the
/// trash (409, it comes back with the record); for everyone else, and when there is no
/// such task, 404.
async fn hidden(conn: &impl ConnectionTrait, actor: &Actor, id: i64) -> Result<AppError, AppError> {
    let not_found = AppError::not_found("Task");
    if !actor.can(Action::RestoreTrash) {
        return Ok(not_found);
    }
    let Some(task) = get_in(conn, id).await? else {
        return Ok(not_found);
    };
    let what = match (task.deal_id, task.contact_id, task.company_id) {
        (Some(_), _, _) => "deal",
        (_, Some(_), _) => "contact",
        (_, _, Some(_)) => "company",
        _ => return Ok(not_found),
    };
    Ok(AppError::Conflict {
        message: format!(
            "This task's {what} is in the trash: restore the {what} to change its tasks."
        ),
        fields: FieldErrors::new(),
    })
}

fn stale() -> AppError {
    AppError::conflict_field(
        "version",
        "This task was changed meanwhile; reload it and try again.",
    )
}

/// What a patch makes of the task's fields.
fn patched(task: &Task, p: &TaskPatch, fields: &mut FieldErrors) -> Valid {
    let (due_at, due_date) = match (&p.due_at, &p.due_date) {
        (None, None) => (task.due_at, task.due_date),
        (at, date) => {
            let at = at.as_ref().and_then(|a| a.as_deref());
            let date = date.as_ref().and_then(|d| d.as_deref());
            check_due(at, date, fields)
        }
    };
    let links_given = p.contact_id.is_some() || p.company_id.is_some() || p.deal_id.is_some();
    let (contact_id, company_id, deal_id) = if links_given {
        (
            p.contact_id.flatten(),
            p.company_id.flatten(),
            p.deal_id.flatten(),
        )
    } else {
        (task.contact_id, task.company_id, task.deal_id)
    };
    check_links(contact_id, company_id, deal_id, fields);
    Valid {
        title: check_title(p.title.as_deref().unwrap_or(&task.title), fields),
        notes: match &p.notes {
            Some(n) => check_notes(n.as_deref(), fields),
            None => task.notes.clone(),
        },
        due_at,
        due_date,
        assignee_id: p.assignee_id.unwrap_or(task.assignee_id),
        priority: check_priority(
            Some(p.priority.as_deref().unwrap_or(&task.priority)),
            fields,
        ),
        contact_id,
        company_id,
        deal_id,
    }
}

/// Changes a task; `done` in the patch completes or reopens it as `set_done` does.
pub async fn update(db: &Db, actor: &Actor, id: i64, p: TaskPatch) -> Result<Task, AppError> {
    let tx = db.begin_write().await?;
    let task = current(db, &tx, actor, id, p.version).await?;
    let mut fields = FieldErrors::new();
    let v = patched(&task, &p, &mut fields);
    check_references(db, &tx, actor, &v, &mut fields).await?;
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let t = now();
    let done = p.done.unwrap_or(task.done);
    let done_at = match (task.done, done) {
        (false, true) => Some(t),
        (_, false) => None,
        (true, true) => task.done_at,
    };
    let changed = task::Entity::update_many()
        .col_expr(task::Column::Title, Expr::value(v.title.clone()))
        .col_expr(task::Column::Notes, Expr::value(v.notes.clone()))
        .col_expr(task::Column::DueAt, Expr::value(v.due_at))
        .col_expr(task::Column::DueDate, Expr::value(v.due_date))
        .col_expr(task::Column::Priority, Expr::value(v.priority.clone()))
        .col_expr(task::Column::AssigneeId, Expr::value(v.assignee_id))
        .col_expr(task::Column::ContactId, Expr::value(v.contact_id))
        .col_expr(task::Column::CompanyId, Expr::value(v.company_id))
        .col_expr(task::Column::DealId, Expr::value(v.deal_id))
        .col_expr(task::Column::Done, Expr::value(done))
        .col_expr(task::Column::DoneAt, Expr::value(done_at))
        .col_expr(task::Column::Version, Expr::value(task.version + 1))
        .col_expr(task::Column::UpdatedAt, Expr::value(t))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Version.eq(task.version))
        .exec(&tx)
        .await?;
    if changed.rows_affected == 0 {
        return Err(stale());
    }
    if done && !task.done {
        log_completion(
            &tx,
            actor,
            &v.title,
            (v.contact_id, v.company_id, v.deal_id),
            t,
        )
        .await?;
    }
    let saved = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("the task vanished".into()))?;
    let detail = audit::changes(&task, &saved);
    audit::record(&tx, Some(actor), "update", "task", id, detail).await?;
    let queued = notices::on_save(&tx, actor, Some(&task), &saved).await?;
    let hooked = webhooks::emit_about(db, &tx, "task", "updated", &saved).await?;
    rescore(db, &tx, [&task, &saved]).await?;
    tx.commit().await?;
    wake_if(queued || hooked > 0);
    db.forget_task_counts();
    Ok(saved)
}

/// Completes (`done`) or reopens a task: the one-click toggle. Completing a task about a
/// record logs it on that record's timeline; asking for the state it is already in
/// changes nothing (a double click logs once).
pub async fn set_done(db: &Db, actor: &Actor, id: i64, done: bool) -> Result<Task, AppError> {
    let tx = db.begin_write().await?;
    let task = current(db, &tx, actor, id, None).await?;
    if task.done == done {
        return Ok(task);
    }
    let t = now();
    let changed = task::Entity::update_many()
        .col_expr(task::Column::Done, Expr::value(done))
        .col_expr(task::Column::DoneAt, Expr::value(done.then_some(t)))
        .col_expr(task::Column::Version, Expr::value(task.version + 1))
        .col_expr(task::Column::UpdatedAt, Expr::value(t))
        .filter(task::Column::Id.eq(id))
        .filter(task::Column::Version.eq(task.version))
        .exec(&tx)
        .await?;
    if changed.rows_affected == 0 {
        return Err(stale());
    }
    let action = if done { "complete" } else { "reopen" };
    audit::record(&tx, Some(actor), action, "task", id, None).await?;
    if done {
        let links = (task.contact_id, task.company_id, task.deal_id);
        log_completion(&tx, actor, &task.title, links, t).await?;
    }
    let saved = get_in(&tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("the task vanished".into()))?;
    // A reopened task's reminder, if its due is still ahead (completing needs nothing:
    // the reminder sees the task done when it runs).
    let queued = !done && notices::on_save(&tx, actor, Some(&task), &saved).await?;
    let hooked = webhooks::emit_about(db, &tx, "task", "updated", &saved).await?;
    rescore(db, &tx, [&task, &saved]).await?;
    tx.commit().await?;
    wake_if(queued || hooked > 0);
    db.forget_task_counts();
    Ok(saved)
}

/// Deletes a task (same rule as changing it).
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<Task, AppError> {
    let tx = db.begin_write().await?;
    let task = current(db, &tx, actor, id, None).await?;
    task::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "task",
        id,
        Some(serde_json::json!({"title": task.title, "assignee_id": task.assignee_id})),
    )
    .await?;
    let hooked = webhooks::emit_about(db, &tx, "task", "deleted", &task).await?;
    rescore(db, &tx, [&task]).await?;
    tx.commit().await?;
    wake_if(hooked > 0);
    db.forget_task_counts();
    Ok(task)
}

/// Queues the deals and contacts a task is (or was) on to be scored again: their tasks
/// are among their scores' features.
async fn rescore<const N: usize>(
    db: &Db,
    tx: &sea_orm::DatabaseTransaction,
    tasks: [&Task; N],
) -> Result<(), AppError> {
    let mut deals: Vec<i64> = tasks.iter().filter_map(|t| t.deal_id).collect();
    deals.dedup();
    crate::domain::scoring::scores::changed(db, tx, &deals).await?;
    let mut contacts: Vec<i64> = tasks.iter().filter_map(|t| t.contact_id).collect();
    contacts.dedup();
    crate::domain::scoring::lead_scores::changed(db, tx, &contacts).await
}
