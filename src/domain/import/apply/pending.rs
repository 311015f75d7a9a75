//! Pending links: a row that names a record by its source id (a contact's company, a
//! deal's contacts, a deal contact's deal or contact, the record an activity or task is
//! about) when that record is in neither this import nor Cairn is imported with the link
//! empty, and the link waits (`import_pending_links`) for a later import of the same
//! system to write a record of that source id. That import fills it in the transaction
//! of the chunk that wrote the record (`complete`, called from `write::record`, which
//! keeps every source id any import writes), so files imported one by one link up in
//! any order, as files imported together do.
//!
//! One mechanism for every link: planning marks a link [`Ref::Later`], each planned row
//! says which of its links wait ([`Waits`]), writing keeps them (`hold`), and the later
//! import fills each the way its own kind of link is written (`fill`). Undo of that
//! import leaves them waiting again (`reopen`); undo of the import that made them drops
//! them with its rows, and deleting the record holding one drops it (foreign keys).
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::plan::{Ctx, Plan, Ref};
use super::{CHUNK, activity, company, contact, deal, deal_contact, task};
use crate::domain::Db;
use crate::domain::import::{ObjectKind, System};
use crate::entities::{self, import, import_change, import_pending_link as pending};
use crate::error::AppError;

/// Which link of the record holding it a pending link is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(in crate::domain::import) enum Link {
    /// A contact's or a deal's company: one per record.
    Company,
    /// A contact on a deal, held by whichever end is in Cairn: one of many.
    DealContact,
    /// The record an activity or a task is about: one per record.
    About,
}

impl Link {
    fn name(self) -> &'static str {
        match self {
            Link::Company => "company",
            Link::DealContact => "deal_contact",
            Link::About => "about",
        }
    }

    fn from_name(name: &str) -> Option<Link> {
        [Link::Company, Link::DealContact, Link::About]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

/// A link of a planned row that waits for the record of `target` that source id `key`
/// becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::domain::import) struct Waiting {
    pub link: Link,
    pub target: ObjectKind,
    pub key: String,
}

/// The links a planned row leaves waiting.
pub(super) trait Waits {
    fn waiting(&self) -> Vec<Waiting> {
        Vec::new()
    }
}

fn later(link: Link, target: ObjectKind, r: Option<&Ref>) -> Option<Waiting> {
    match r {
        Some(Ref::Later(key)) => Some(Waiting {
            link,
            target,
            key: key.clone(),
        }),
        _ => None,
    }
}

impl Waits for company::Row {}

impl Waits for contact::Row {
    fn waiting(&self) -> Vec<Waiting> {
        let company = self.company.as_ref();
        later(Link::Company, ObjectKind::Company, company)
            .into_iter()
            .collect()
    }
}

impl Waits for deal::Row {
    fn waiting(&self) -> Vec<Waiting> {
        let company = later(Link::Company, ObjectKind::Company, self.company.as_ref());
        let contacts = self
            .contacts
            .iter()
            .filter_map(|c| later(Link::DealContact, ObjectKind::Contact, Some(c)));
        company.into_iter().chain(contacts).collect()
    }
}

impl Waits for activity::Row {
    fn waiting(&self) -> Vec<Waiting> {
        later(Link::About, self.about.0, Some(&self.about.1))
            .into_iter()
            .collect()
    }
}

impl Waits for task::Row {
    fn waiting(&self) -> Vec<Waiting> {
        self.about
            .as_ref()
            .and_then(|(kind, r)| later(Link::About, *kind, Some(r)))
            .into_iter()
            .collect()
    }
}

impl Waits for deal_contact::Link {
    fn waiting(&self) -> Vec<Waiting> {
        let deal = later(Link::DealContact, ObjectKind::Deal, Some(&self.deal));
        let contact = later(Link::DealContact, ObjectKind::Contact, Some(&self.contact));
        deal.into_iter().chain(contact).collect()
    }
}

fn noun(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Company => "Company",
        ObjectKind::Deal => "Deal",
        _ => "Contact",
    }
}

impl Ctx<'_> {
    /// A link by source id `raw` to a record of `kind` in neither this import's plan nor
    /// Cairn: it waits for a later import. Unless this import has that record's row and
    /// the row failed or was skipped: the record is not coming later, and that row says
    /// why (`no_source`).
    pub fn later(&self, kind: ObjectKind, noun: &str, raw: &str) -> Result<Ref, String> {
        let key = self.key(raw);
        if self.not_planned.contains_key(&(kind, key.clone())) {
            return Err(self.no_source(kind, noun, raw));
        }
        Ok(Ref::Later(key))
    }

    /// What a row's report says of a link that waits.
    pub fn waiting_note(&self, w: &Waiting) -> String {
        let (noun, key) = (noun(w.target), &w.key);
        if self.dry {
            format!("{noun} {key} is not in Cairn yet: would link later, when it is imported.")
        } else {
            format!("{noun} {key} is not in Cairn yet: linked when it is imported.")
        }
    }
}

/// A pending row for a link of record `id` of `kind` (None for a kind that holds none).
fn row(
    (import_id, system): (i64, &str),
    (kind, id): (ObjectKind, i64),
    w: &Waiting,
    at: DateTime<Utc>,
) -> Option<pending::ActiveModel> {
    let mut m = pending::ActiveModel {
        import_id: Set(import_id),
        system: Set(system.to_string()),
        target_kind: Set(w.target.plural().to_string()),
        source_key: Set(w.key.clone()),
        link: Set(w.link.name().to_string()),
        contact_id: Set(None),
        deal_id: Set(None),
        activity_id: Set(None),
        task_id: Set(None),
        created_at: Set(at),
        ..Default::default()
    };
    match kind {
        ObjectKind::Contact => m.contact_id = Set(Some(id)),
        ObjectKind::Deal => m.deal_id = Set(Some(id)),
        ObjectKind::Activity => m.activity_id = Set(Some(id)),
        ObjectKind::Task => m.task_id = Set(Some(id)),
        _ => return None,
    }
    Some(m)
}

/// The record holding a pending link.
fn holder(p: &pending::Model) -> Option<(ObjectKind, i64)> {
    [
        (ObjectKind::Contact, p.contact_id),
        (ObjectKind::Deal, p.deal_id),
        (ObjectKind::Activity, p.activity_id),
        (ObjectKind::Task, p.task_id),
    ]
    .into_iter()
    .find_map(|(k, id)| Some((k, id?)))
}

/// The pending rows of the links that wait of a chunk's records.
pub(super) fn held<'w>(
    import_id: i64,
    system: System,
    held: impl Iterator<Item = ((ObjectKind, i64), &'w Waiting)>,
) -> Vec<pending::ActiveModel> {
    let at = crate::domain::now();
    held.filter_map(|(holder, w)| row((import_id, system.name()), holder, w, at))
        .collect()
}

/// Keeps the links that wait (`held`) of the records a chunk wrote, in its transaction.
pub(super) async fn hold(
    tx: &DatabaseTransaction,
    rows: Vec<pending::ActiveModel>,
) -> Result<(), AppError> {
    pending::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// A filled link as its import keeps it (`import_changes.before`), to leave it waiting
/// again on undo.
#[derive(Serialize, Deserialize)]
struct Kept {
    import_id: i64,
    system: String,
    target_kind: String,
    source_key: String,
    link: String,
    holder: String,
    created_at: DateTime<Utc>,
}

/// The `import_changes` kind of a filled link: by the kind holding it, so undo's check
/// of what depends on an import's records knows these links as the import's own. A
/// contact on a deal is also a `deal_contacts` change, as every link an import adds.
fn change_kind(holder: ObjectKind, link: Link) -> String {
    match link {
        Link::DealContact => "link:roles".into(),
        _ => format!("link:{}", holder.plural()),
    }
}

/// The `import_changes` kind under which import rows filled links held by `kind`.
pub(super) fn filled_kind(kind: ObjectKind) -> String {
    change_kind(kind, Link::Company)
}

/// Fills the links earlier imports left waiting for the records a chunk wrote
/// (`written`: kind, source key, id), in the chunk's transaction, and deletes them.
/// Each filled link becomes a change of this import (its undo leaves it waiting again).
pub(super) async fn complete(
    tx: &DatabaseTransaction,
    import_id: i64,
    system: System,
    written: Vec<(ObjectKind, String, i64)>,
) -> Result<(), AppError> {
    let mut by_kind: HashMap<ObjectKind, HashMap<String, i64>> = HashMap::new();
    for (kind, key, id) in written {
        if matches!(
            kind,
            ObjectKind::Company | ObjectKind::Contact | ObjectKind::Deal
        ) {
            by_kind.entry(kind).or_default().insert(key, id);
        }
    }
    for (kind, ids) in by_kind {
        let keys: Vec<String> = ids.keys().cloned().collect();
        for part in keys.chunks(500) {
            let found = pending::Entity::find()
                .filter(pending::Column::System.eq(system.name()))
                .filter(pending::Column::TargetKind.eq(kind.plural()))
                .filter(pending::Column::SourceKey.is_in(part.to_vec()))
                .all(tx)
                .await?;
            if found.is_empty() {
                continue;
            }
            let mut filled = Vec::new();
            for p in &found {
                let Some(&target) = ids.get(&p.source_key) else {
                    continue;
                };
                if let Some(change) = fill(tx, import_id, p, target).await? {
                    filled.push(change);
                }
            }
            import_change::Entity::insert_many(filled)
                .exec_without_returning(tx)
                .await?;
            pending::Entity::delete_many()
                .filter(pending::Column::Id.is_in(found.iter().map(|p| p.id)))
                .exec(tx)
                .await?;
        }
    }
    Ok(())
}

/// Fills pending link `p` with record `target`, written as its kind of link is: the
/// change that keeps it, or None when it was not filled.
///
/// A company and the record an activity or task is about are one per record: filled
/// only while still empty. Someone may have set one by hand since the earlier import,
/// and what a person chose stands over what a source said. A contact on a deal is one
/// of many: added unless there. The holder's `updated_at` is left as it was: the link
/// completes what its own import wrote, and that import's undo reads a later
/// `updated_at` as a change by someone that undoing would lose.
async fn fill(
    tx: &DatabaseTransaction,
    import_id: i64,
    p: &pending::Model,
    target: i64,
) -> Result<Option<import_change::ActiveModel>, AppError> {
    let (Some((kind, id)), Some(link)) = (holder(p), Link::from_name(&p.link)) else {
        return Ok(None);
    };
    let to = ObjectKind::from_plural(&p.target_kind);
    let filled = match (kind, link) {
        (ObjectKind::Contact, Link::Company) => {
            use entities::contact::{Column, Entity};
            Entity::update_many()
                .col_expr(Column::CompanyId, Expr::value(target))
                .filter(Column::Id.eq(id))
                .filter(Column::CompanyId.is_null())
                .exec(tx)
                .await?
                .rows_affected
                > 0
        }
        (ObjectKind::Deal, Link::Company) => {
            use entities::deal::{Column, Entity};
            Entity::update_many()
                .col_expr(Column::CompanyId, Expr::value(target))
                .filter(Column::Id.eq(id))
                .filter(Column::CompanyId.is_null())
                .exec(tx)
                .await?
                .rows_affected
                > 0
        }
        (ObjectKind::Activity, Link::About) => {
            use entities::activity::{Column, Entity};
            let col = match to {
                Some(ObjectKind::Deal) => Column::DealId,
                Some(ObjectKind::Company) => Column::CompanyId,
                _ => Column::ContactId,
            };
            Entity::update_many()
                .col_expr(col, Expr::value(target))
                .filter(Column::Id.eq(id))
                .filter(Column::DealId.is_null())
                .filter(Column::ContactId.is_null())
                .filter(Column::CompanyId.is_null())
                .exec(tx)
                .await?
                .rows_affected
                > 0
        }
        (ObjectKind::Task, Link::About) => {
            use entities::task::{Column, Entity};
            let col = match to {
                Some(ObjectKind::Deal) => Column::DealId,
                Some(ObjectKind::Company) => Column::CompanyId,
                _ => Column::ContactId,
            };
            Entity::update_many()
                .col_expr(col, Expr::value(target))
                .filter(Column::Id.eq(id))
                .filter(Column::DealId.is_null())
                .filter(Column::ContactId.is_null())
                .filter(Column::CompanyId.is_null())
                .exec(tx)
                .await?
                .rows_affected
                > 0
        }
        (ObjectKind::Deal | ObjectKind::Contact, Link::DealContact) => {
            let pair = if kind == ObjectKind::Deal {
                (id, target)
            } else {
                (target, id)
            };
            let added = deal::link(tx, vec![pair]).await?;
            import_change::Entity::insert_many(added.iter().map(|(d, c)| {
                import_change::ActiveModel {
                    import_id: Set(import_id),
                    kind: Set(ObjectKind::DealContact.plural().to_string()),
                    record_id: Set(*d),
                    other_id: Set(Some(*c)),
                    change: Set("created".into()),
                    before: Set(None),
                    ..Default::default()
                }
            }))
            .exec_without_returning(tx)
            .await?;
            !added.is_empty()
        }
        _ => false,
    };
    if !filled {
        return Ok(None);
    }
    let kept = Kept {
        import_id: p.import_id,
        system: p.system.clone(),
        target_kind: p.target_kind.clone(),
        source_key: p.source_key.clone(),
        link: p.link.clone(),
        holder: kind.plural().to_string(),
        created_at: p.created_at,
    };
    let before = serde_json::to_string(&kept).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(import_change::ActiveModel {
        import_id: Set(import_id),
        kind: Set(change_kind(kind, link)),
        record_id: Set(id),
        other_id: Set(Some(target)),
        change: Set("linked".into()),
        before: Set(Some(before)),
        ..Default::default()
    }))
}

/// The links import `import_id` filled.
fn filled(import_id: i64) -> sea_orm::Select<import_change::Entity> {
    import_change::Entity::find()
        .filter(import_change::Column::ImportId.eq(import_id))
        .filter(import_change::Column::Kind.starts_with("link:"))
}

/// How many links of earlier imports import `import_id` filled.
pub(super) async fn completed(
    conn: &impl ConnectionTrait,
    import_id: i64,
) -> Result<u64, AppError> {
    Ok(filled(import_id).count(conn).await?)
}

/// How many links of earlier imports wait for the records a plan writes (a dry run's
/// figure: those set by hand since are counted too, though they would stay).
pub(super) async fn waiting_for(db: &Db, plan: &Plan) -> Result<u64, AppError> {
    fn keys<T>(rows: &[super::plan::Planned<T>]) -> Vec<String> {
        rows.iter().filter_map(|p| p.source.clone()).collect()
    }
    let all: [(ObjectKind, Vec<String>); 3] = [
        (ObjectKind::Company, keys(&plan.companies)),
        (ObjectKind::Contact, keys(&plan.contacts)),
        (ObjectKind::Deal, keys(&plan.deals)),
    ];
    let mut n = 0;
    for (kind, keys) in all {
        for part in keys.chunks(500) {
            n += pending::Entity::find()
                .filter(pending::Column::System.eq(plan.system.name()))
                .filter(pending::Column::TargetKind.eq(kind.plural()))
                .filter(pending::Column::SourceKey.is_in(part.to_vec()))
                .count(&db.read)
                .await?;
        }
    }
    Ok(n)
}

/// Undo of an import that filled earlier imports' links: each is emptied again (when it
/// still points where the import put it: one changed by hand since stays as it is) and
/// waits again for its record, as the import that made it left it; a chunk per
/// transaction, before the import's records go. A contact on a deal leaves it with the
/// import's `deal_contacts` change.
pub(super) async fn reopen(db: &Db, import_id: i64) -> Result<(), AppError> {
    loop {
        let tx = db.write.begin().await?;
        let changes = filled(import_id)
            .order_by_asc(import_change::Column::Id)
            .limit(CHUNK as u64)
            .all(&tx)
            .await?;
        if changes.is_empty() {
            break;
        }
        for c in &changes {
            reopen_one(&tx, c).await?;
        }
        import_change::Entity::delete_many()
            .filter(import_change::Column::Id.is_in(changes.iter().map(|c| c.id)))
            .exec(&tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn reopen_one(tx: &DatabaseTransaction, c: &import_change::Model) -> Result<(), AppError> {
    let kept: Kept = serde_json::from_str(c.before.as_deref().unwrap_or_default())
        .map_err(|e| AppError::Internal(format!("import undo: a filled link: {e}")))?;
    let (Some(kind), Some(link), Some(to), Some(target)) = (
        ObjectKind::from_plural(&kept.holder),
        Link::from_name(&kept.link),
        ObjectKind::from_plural(&kept.target_kind),
        c.other_id,
    ) else {
        return Ok(());
    };
    let id = c.record_id;
    let emptied = match (kind, link) {
        (ObjectKind::Contact, Link::Company) => {
            use entities::contact::{Column, Entity};
            Entity::update_many()
                .col_expr(Column::CompanyId, Expr::value(Option::<i64>::None))
                .filter(Column::Id.eq(id))
                .filter(Column::CompanyId.eq(target))
                .exec(tx)
                .await?
                .rows_affected
        }
        (ObjectKind::Deal, Link::Company) => {
            use entities::deal::{Column, Entity};
            Entity::update_many()
                .col_expr(Column::CompanyId, Expr::value(Option::<i64>::None))
                .filter(Column::Id.eq(id))
                .filter(Column::CompanyId.eq(target))
                .exec(tx)
                .await?
                .rows_affected
        }
        (ObjectKind::Activity, Link::About) => {
            use entities::activity::{Column, Entity};
            let col = match to {
                ObjectKind::Deal => Column::DealId,
                ObjectKind::Company => Column::CompanyId,
                _ => Column::ContactId,
            };
            Entity::update_many()
                .col_expr(col, Expr::value(Option::<i64>::None))
                .filter(Column::Id.eq(id))
                .filter(col.eq(target))
                .exec(tx)
                .await?
                .rows_affected
        }
        (ObjectKind::Task, Link::About) => {
            use entities::task::{Column, Entity};
            let col = match to {
                ObjectKind::Deal => Column::DealId,
                ObjectKind::Company => Column::CompanyId,
                _ => Column::ContactId,
            };
            Entity::update_many()
                .col_expr(col, Expr::value(Option::<i64>::None))
                .filter(Column::Id.eq(id))
                .filter(col.eq(target))
                .exec(tx)
                .await?
                .rows_affected
        }
        (ObjectKind::Deal, Link::DealContact) => {
            entities::deal::Entity::find_by_id(id).count(tx).await?
        }
        (ObjectKind::Contact, Link::DealContact) => {
            entities::contact::Entity::find_by_id(id).count(tx).await?
        }
        _ => 0,
    };
    // Nothing waits for an import undone since: its rows went with it.
    let origin = import::Entity::find_by_id(kept.import_id).one(tx).await?;
    if emptied == 0 || origin.is_none_or(|i| i.status == "undone") {
        return Ok(());
    }
    let waiting = Waiting {
        link,
        target: to,
        key: kept.source_key,
    };
    let m = row(
        (kept.import_id, &kept.system),
        (kind, id),
        &waiting,
        kept.created_at,
    )
    .ok_or_else(|| AppError::Internal("import undo: a link of no holder".into()))?;
    pending::Entity::insert(m)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// Undo of an import: drops the links it left waiting (those of the records it created
/// went with them; those of records it updated go now).
pub(super) async fn drop_held(tx: &DatabaseTransaction, import_id: i64) -> Result<(), AppError> {
    pending::Entity::delete_many()
        .filter(pending::Column::ImportId.eq(import_id))
        .exec(tx)
        .await?;
    Ok(())
}

/// A link an import left waiting, as its integrity report lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The record holding the link.
    pub kind: ObjectKind,
    pub record_id: i64,
    /// Which link (`company`, `deal_contact`, `about`).
    pub link: String,
    /// The kind and source id of the record it waits for.
    pub waits_for: String,
    pub source_id: String,
}

/// The links import `import_id` left waiting (the first `limit`), and how many there are.
pub(super) async fn of_import(
    conn: &impl ConnectionTrait,
    import_id: i64,
    limit: u64,
) -> Result<(Vec<Pending>, u64), AppError> {
    let find = pending::Entity::find().filter(pending::Column::ImportId.eq(import_id));
    let total = find.clone().count(conn).await?;
    let list = find
        .order_by_asc(pending::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|p| {
            let (kind, record_id) = holder(&p)?;
            Some(Pending {
                kind,
                record_id,
                link: p.link,
                waits_for: p.target_kind,
                source_id: p.source_key,
            })
        })
        .collect();
    Ok((list, total))
}

/// The source ids of a written chunk's records, to fill the links waiting for them.
pub(super) fn sources_of(changes: &[super::write::Change]) -> Vec<(ObjectKind, String, i64)> {
    changes
        .iter()
        .filter_map(|c| Some((c.kind, c.source.clone()?, c.id)))
        .collect()
}
