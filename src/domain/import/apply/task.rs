//! Task rows: matched by source id only; due dates and times in the import's zone, done
//! from a flag or a status (Salesforce's `Completed`, HubSpot's `COMPLETED`), the
//! assignee by the owner column, the record they are about (`about`); checked by the
//! tasks domain's own rules; written in bulk.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::plan::{Ctx, Plan, Ref};
use super::rows::{Kind, Verdict, refused};
use super::{about, insert, matching};
use crate::domain::import::{ObjectKind, presets, values};
use crate::domain::{Db, tasks};
use crate::entities::task;
use crate::error::{AppError, FieldErrors};

/// Tasks as planning knows them (`rows::Kind`).
pub(super) struct Task;

#[derive(Serialize, Deserialize)]
pub(in crate::domain::import) struct Row {
    /// Checked by the tasks domain; its links are left empty, set when written from
    /// `about` (whose record may be one this import has yet to write).
    pub valid: tasks::Valid,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub about: Option<(ObjectKind, Ref)>,
    pub created_at: Option<DateTime<Utc>>,
    /// Boxed: only an update has one, and every planned row carries the field.
    pub before: Option<Box<Before>>,
}

/// An updated task's columns as they were, for undo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(in crate::domain::import) struct Before {
    title: String,
    notes: Option<String>,
    due_at: Option<DateTime<Utc>>,
    due_date: Option<NaiveDate>,
    priority: String,
    assignee_id: i64,
    contact_id: Option<i64>,
    company_id: Option<i64>,
    deal_id: Option<i64>,
    done: bool,
    done_at: Option<DateTime<Utc>>,
    version: i32,
    updated_at: DateTime<Utc>,
}

impl Before {
    fn of(m: &task::Model) -> Before {
        Before {
            title: m.title.clone(),
            notes: m.notes.clone(),
            due_at: m.due_at,
            due_date: m.due_date,
            priority: m.priority.clone(),
            assignee_id: m.assignee_id,
            contact_id: m.contact_id,
            company_id: m.company_id,
            deal_id: m.deal_id,
            done: m.done,
            done_at: m.done_at,
            version: m.version,
            updated_at: m.updated_at,
        }
    }

    pub fn restore(self) -> task::ActiveModel {
        task::ActiveModel {
            title: Set(self.title),
            notes: Set(self.notes),
            due_at: Set(self.due_at),
            due_date: Set(self.due_date),
            priority: Set(self.priority),
            assignee_id: Set(self.assignee_id),
            contact_id: Set(self.contact_id),
            company_id: Set(self.company_id),
            deal_id: Set(self.deal_id),
            done: Set(self.done),
            done_at: Set(self.done_at),
            version: Set(self.version),
            updated_at: Set(self.updated_at),
            ..Default::default()
        }
    }
}

/// Whether a task is done, from a flag (`true`, Pipedrive's `done`) or a status.
fn done(value: &str) -> Result<bool, String> {
    match presets::norm(value).as_str() {
        "completed" | "complete" | "closed" => Ok(true),
        "notstarted" | "inprogress" | "open" | "deferred" | "waiting" | "waitingonsomeoneelse" => {
            Ok(false)
        }
        _ => values::boolean(value).map_err(|_| {
            format!(
                "“{value}” is neither a yes or no nor a status such as Completed or Not Started."
            )
        }),
    }
}

/// The notes, with the source's type of activity (Pipedrive's call or meeting, which a
/// task has no field for) on their first line.
fn notes(c: &Cells) -> Option<String> {
    let kind = c
        .field("kind")
        .filter(|k| !matches!(presets::norm(k).as_str(), "task" | "todo"));
    match (kind, c.lines("notes")) {
        (Some(k), Some(n)) => Some(format!("Type: {k}\n{n}")),
        (Some(k), None) => Some(format!("Type: {k}")),
        (None, n) => n,
    }
}

/// The priority in Cairn's words: HubSpot's MEDIUM and NONE are normal.
fn priority(value: Option<&str>) -> Option<String> {
    value.map(|v| match presets::norm(v).as_str() {
        "medium" | "none" => "normal".to_string(),
        _ => v.to_string(),
    })
}

/// What a chunk of tasks looks up: the records they are about, and for each assignee
/// they name, the domain's verdict on them (once, not per row).
pub(super) struct Known {
    about: about::Known,
    assignees: HashMap<i64, Vec<String>>,
}

impl Kind for Task {
    const KIND: ObjectKind = ObjectKind::Task;
    type Existing = task::Model;
    type Known = Known;
    type Row = Row;

    async fn by_id(db: &Db, ids: &HashSet<i64>) -> Result<HashMap<i64, task::Model>, AppError> {
        matching::by_id::<task::Entity>(&db.read, task::Column::Id, |m| m.id, ids).await
    }

    async fn known(ctx: &Ctx<'_>, plan: &mut Plan, cells: &[Cells<'_>]) -> Result<Known, AppError> {
        let mut ids: HashSet<i64> = cells
            .iter()
            .filter_map(|c| c.owner().and_then(|o| ctx.owners.find(o).ok()))
            // A user this import creates (deactivated until an admin takes them up; in a
            // dry run a stand-in below zero) is assigned what the source assigned them.
            .filter(|id| *id > 0 && !ctx.owners.created(*id))
            .collect();
        ids.insert(ctx.actor.id);
        let mut assignees = HashMap::new();
        for id in ids {
            let mut fields = FieldErrors::new();
            tasks::check_assignee(&ctx.db.read, id, &mut fields).await?;
            assignees.insert(id, fields.into_values().collect());
        }
        Ok(Known {
            about: about::known(ctx, plan, cells).await?,
            assignees,
        })
    }

    fn id(e: &task::Model) -> i64 {
        e.id
    }

    fn noun() -> &'static str {
        "task"
    }

    fn skipped(e: &task::Model) -> String {
        format!(
            "Matches the task “{}” an earlier import made of it.",
            e.title
        )
    }

    async fn check(
        ctx: &Ctx<'_>,
        known: &Known,
        c: &Cells<'_>,
        current: Option<&task::Model>,
        _beside: bool,
        _dry: bool,
        verdict: &mut Verdict,
    ) -> Result<Option<Row>, AppError> {
        let mut fields = FieldErrors::new();
        let reasons = &mut verdict.reasons;
        // An update keeps what the file has no column for.
        let title = match (c.has_field("title"), current) {
            (false, Some(m)) => m.title.clone(),
            _ => c.field("title").unwrap_or_default().to_string(),
        };
        let title = tasks::check_title(&title, &mut fields);
        let notes = match (c.has_field("notes") || c.has_field("kind"), current) {
            (false, Some(m)) => m.notes.clone(),
            _ => notes(c),
        };
        let notes = tasks::check_notes(notes.as_deref(), &mut fields);
        let priority =
            priority(c.field("priority")).or_else(|| current.map(|m| m.priority.clone()));
        let priority = tasks::check_priority(priority.as_deref(), &mut fields);
        // A due day with its time of day in another column is due at that time.
        let timed = match (c.field("due_date"), c.field("due_time")) {
            (Some(day), Some(time)) => match ctx.dates().datetime(&format!("{day} {time}")) {
                Ok(t) => Some(t),
                Err(why) => {
                    reasons.push(why);
                    None
                }
            },
            _ => None,
        };
        let due_at = timed
            .or_else(|| ctx.time(c, "due_at", reasons))
            .map(|t| t.to_rfc3339());
        let due_date = c
            .field("due_date")
            .filter(|_| timed.is_none())
            .and_then(|v| {
                ctx.dates()
                    .date(v)
                    .map_err(|why| reasons.push(why))
                    .ok()
                    .map(|d| d.format("%Y-%m-%d").to_string())
            });
        let (due_at, due_date) = match (&due_at, &due_date, current) {
            (None, None, Some(m)) => (m.due_at, m.due_date),
            _ => tasks::check_due(due_at.as_deref(), due_date.as_deref(), &mut fields),
        };
        let mut is_done = current.is_some_and(|m| m.done);
        let flags = c.all("done");
        if !flags.is_empty() {
            is_done = false;
            for f in flags {
                match done(f) {
                    Ok(d) => is_done |= d,
                    Err(why) => reasons.push(why),
                }
            }
        }
        let created_at = ctx.time(c, "created_at", reasons);
        // When it was done, if the file does not say: its due, else its creation.
        let given = ctx.time(c, "done_at", reasons);
        let due = due_at.or_else(|| due_date.map(|d| tasks::due::day_start(ctx.zone(), d)));
        let done_at = is_done.then(|| {
            given
                .or(current.and_then(|m| m.done_at))
                .or(due.filter(|d| *d <= crate::domain::now()))
                .or(created_at)
                .unwrap_or_else(crate::domain::now)
        });
        let assignee_id = match c.owner() {
            Some(owner) => ctx.owners.find(owner).map_err(|why| reasons.push(why)).ok(),
            None => Some(current.map_or(ctx.actor.id, |m| m.assignee_id)),
        };
        if let Some(why) = assignee_id.and_then(|id| known.assignees.get(&id)) {
            reasons.extend(why.iter().cloned());
        }
        let about = match about::about(ctx, &known.about, c, &mut verdict.notes) {
            Ok(found) => about::one(found, &mut verdict.notes),
            Err(why) => {
                verdict.reasons.extend(why);
                return Ok(None);
            }
        };
        let about = about::or_current(
            about,
            current.and_then(|m| about::of(m.deal_id, m.contact_id, m.company_id)),
        );
        if !fields.is_empty() {
            refused(AppError::validation(fields), verdict)?;
        }
        let Some(assignee_id) = assignee_id else {
            return Ok(None);
        };
        Ok(Some(Row {
            valid: tasks::Valid {
                title,
                notes,
                due_at,
                due_date,
                assignee_id,
                priority,
                contact_id: None,
                company_id: None,
                deal_id: None,
            },
            done: is_done,
            done_at,
            about,
            created_at,
            before: current.map(|m| Box::new(Before::of(m))),
        }))
    }
}

/// The task's three links (contact, company, deal) once its record has an id.
fn links(about: Option<(ObjectKind, i64)>) -> (Option<i64>, Option<i64>, Option<i64>) {
    match about {
        Some((ObjectKind::Contact, id)) => (Some(id), None, None),
        Some((ObjectKind::Company, id)) => (None, Some(id), None),
        Some((_, id)) => (None, None, Some(id)),
        None => (None, None, None),
    }
}

/// Inserts new tasks in one statement, made by `actor_id`; their ids, in order. No
/// "assigned to you" emails, reminders or webhooks per row: an import brings in history
/// by the thousand, not new work handed to someone (and the reminder job reads tasks
/// when it runs, so those still due are reminded of as any other).
pub(super) async fn insert(
    tx: &impl ConnectionTrait,
    rows: &[(&Row, Option<(ObjectKind, i64)>)],
    actor_id: i64,
    at: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let models: Vec<_> = rows
        .iter()
        .map(|(r, about)| task::ActiveModel {
            id: NotSet,
            created_by: Set(Some(actor_id)),
            record_trashed: Set(false),
            version: Set(1),
            created_at: Set(r.created_at.unwrap_or(at)),
            ..columns(r, *about, at)
        })
        .collect();
    insert::ids(tx, models, |t| t.id).await
}

/// The columns a task takes from its row (and `about`, the record it is about, by id),
/// whether the import creates it or writes over it at `at`: as the tasks domain builds
/// them, with the links set here.
fn columns(r: &Row, about: Option<(ObjectKind, i64)>, at: DateTime<Utc>) -> task::ActiveModel {
    let (contact_id, company_id, deal_id) = links(about);
    task::ActiveModel {
        contact_id: Set(contact_id),
        company_id: Set(company_id),
        deal_id: Set(deal_id),
        ..tasks::active_model(&r.valid, r.done, r.done_at, at)
    }
}

/// Writes an update over task `id`, its version raised as any change does.
pub(super) async fn update(
    tx: &impl ConnectionTrait,
    id: i64,
    row: &Row,
    about: Option<(ObjectKind, i64)>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let version = row.before.as_ref().map_or(1, |b| b.version + 1);
    task::Entity::update_many()
        .set(task::ActiveModel {
            version: Set(version),
            ..columns(row, about, at)
        })
        .filter(task::Column::Id.eq(id))
        .exec(tx)
        .await?;
    Ok(())
}
