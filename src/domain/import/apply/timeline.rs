//! Writes the planned activities and tasks after the records they are about, a chunk
//! per transaction as `write` does the others. The roll-ups of both tables (activities
//! per hour, contacts' first interaction, the My tasks counter) are kept by their
//! triggers in the same transactions; the task counts each process caches are dropped
//! once the tasks are in.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;

use super::plan::{Action, Plan, Planned, Ref};
use super::write::{Change, Written, changes, record};
use super::{activity, task};
use crate::domain::Db;
use crate::domain::import::ObjectKind;
use crate::error::AppError;

impl Written for activity::Row {
    type Before = activity::Before;
    fn tags(&self) -> Option<&[String]> {
        None
    }
    fn before(&self) -> Option<&activity::Before> {
        self.before.as_deref()
    }
}

impl Written for task::Row {
    type Before = task::Before;
    fn tags(&self) -> Option<&[String]> {
        None
    }
    fn before(&self) -> Option<&task::Before> {
        self.before.as_deref()
    }
}

/// The ids the import's contacts, companies and deals were written as, to resolve links.
struct Ids {
    contacts: Vec<Option<i64>>,
    companies: Vec<Option<i64>>,
    deals: Vec<Option<i64>>,
}

impl Ids {
    /// The record a link comes to (None: it waits for a later import).
    fn id(&self, (kind, r): &(ObjectKind, Ref)) -> Result<Option<(ObjectKind, i64)>, AppError> {
        let planned = |list: &Vec<Option<i64>>, i: usize| list.get(i).copied().flatten();
        let id = match (kind, r) {
            (_, Ref::Later(_)) => return Ok(None),
            (_, Ref::Id(id)) => Some(*id),
            (ObjectKind::Contact, Ref::Planned(i)) => planned(&self.contacts, *i),
            (ObjectKind::Company, Ref::Planned(i)) => planned(&self.companies, *i),
            (ObjectKind::Deal, Ref::Planned(i)) => planned(&self.deals, *i),
            _ => None,
        };
        id.map(|id| Some((*kind, id))).ok_or_else(|| {
            AppError::Internal(format!(
                "activity or task import: its {} was not written",
                kind.plural()
            ))
        })
    }
}

/// Writes the plan's activities, then its tasks (made by `actor`); `done` counts the rows
/// written.
pub(super) async fn write(
    db: &Db,
    actor: i64,
    import_id: i64,
    plan: &mut Plan,
    at: DateTime<Utc>,
    done: &mut u64,
) -> Result<(), AppError> {
    let ids = Ids {
        contacts: plan.rows.ids(ObjectKind::Contact).to_vec(),
        companies: plan.rows.ids(ObjectKind::Company).to_vec(),
        deals: plan.rows.ids(ObjectKind::Deal).to_vec(),
    };
    let system = plan.system;
    let mut rows = plan.rows.chunks::<activity::Row>(ObjectKind::Activity)?;
    while let Some(mut chunk) = rows.next_chunk()? {
        let tx = db.begin_write().await?;
        let changes = activities(&tx, &mut chunk, &ids, at).await?;
        *done += chunk.len() as u64;
        record(&tx, import_id, system, changes, *done).await?;
        tx.commit().await?;
        plan.rows
            .written(ObjectKind::Activity, &chunk, &mut plan.report);
    }
    let mut rows = plan.rows.chunks::<task::Row>(ObjectKind::Task)?;
    while let Some(mut chunk) = rows.next_chunk()? {
        let tx = db.begin_write().await?;
        let changes = tasks(&tx, &mut chunk, &ids, actor, at).await?;
        *done += chunk.len() as u64;
        record(&tx, import_id, system, changes, *done).await?;
        tx.commit().await?;
        plan.rows
            .written(ObjectKind::Task, &chunk, &mut plan.report);
    }
    if plan.rows.count(ObjectKind::Task) > 0 {
        db.forget_task_counts();
    }
    Ok(())
}

/// Gives the created rows of a chunk the ids `inserted` returned, in order.
fn created<T>(rows: &mut [Planned<T>], inserted: Vec<i64>) {
    let mut ids = inserted.into_iter();
    for p in rows
        .iter_mut()
        .filter(|p| matches!(p.action, Action::Create))
    {
        p.id = ids.next();
    }
}

async fn activities(
    tx: &DatabaseTransaction,
    rows: &mut [Planned<activity::Row>],
    ids: &Ids,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, AppError> {
    let mut new = Vec::new();
    for p in rows.iter().filter(|p| matches!(p.action, Action::Create)) {
        new.push((&p.data, ids.id(&p.data.about)?.map(|a| a.1)));
    }
    let inserted = activity::insert(tx, &new, at).await?;
    created(rows, inserted);
    for p in rows.iter() {
        if let Action::Update(id) = p.action {
            let record = ids.id(&p.data.about)?.map(|a| a.1);
            activity::update(tx, id, &p.data, record, at).await?;
        }
    }
    changes(rows, ObjectKind::Activity, &HashMap::new())
}

async fn tasks(
    tx: &DatabaseTransaction,
    rows: &mut [Planned<task::Row>],
    ids: &Ids,
    actor: i64,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, AppError> {
    let about = |r: &task::Row| {
        r.about
            .as_ref()
            .map(|a| ids.id(a))
            .transpose()
            .map(Option::flatten)
    };
    let mut new = Vec::new();
    for p in rows.iter().filter(|p| matches!(p.action, Action::Create)) {
        new.push((&p.data, about(&p.data)?));
    }
    let inserted = task::insert(tx, &new, actor, at).await?;
    created(rows, inserted);
    for p in rows.iter() {
        if let Action::Update(id) = p.action {
            task::update(tx, id, &p.data, about(&p.data)?, at).await?;
        }
    }
    changes(rows, ObjectKind::Task, &HashMap::new())
}
