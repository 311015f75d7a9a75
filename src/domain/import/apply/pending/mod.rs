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
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

mod filled;

pub(in crate::domain::import::apply) use filled::{
    complete, completed, filled_kind, reopen, sources_of,
};

use super::plan::{Ctx, Plan, Ref};
use super::{activity, company, contact, deal, deal_contact, links, matching, task};
use crate::domain::Db;
use crate::domain::import::{MappedRow, ObjectKind, System, Target};
use crate::entities::import_pending_link as pending;
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
        // In Cairn, though in the trash: no import brings it again.
        if self.trashed.contains(&(kind, key.clone())) {
            return Err(format!("{noun} {raw} is in the trash; restore it first."));
        }
        Ok(Ref::Later(key))
    }

    /// Notes which of the source ids a chunk's rows link by earlier imports made records
    /// now in the trash (`later` fails those). The kinds' own look-ups keep live records
    /// only; this asks once for every kind, whatever the file.
    pub async fn see_trashed(&mut self, chunk: &[MappedRow]) -> Result<(), AppError> {
        let salesforce = self.options.system == System::Salesforce;
        let mut keys: HashMap<ObjectKind, HashSet<String>> = HashMap::new();
        for row in chunk {
            for (t, v) in &row.values {
                let (kind, list) = match t {
                    Target::LinkId(k) => (*k, vec![v.as_str()]),
                    Target::LinkIds(k) => (*k, v.split(';').collect()),
                    _ => continue,
                };
                for v in list.into_iter().map(str::trim).filter(|v| !v.is_empty()) {
                    keys.entry(kind).or_default().insert(self.key(v));
                    // A Salesforce WhatId, mapped as a deal, may name a company.
                    if salesforce && kind == ObjectKind::Deal {
                        let company = keys.entry(ObjectKind::Company).or_default();
                        company.insert(self.key(v));
                    }
                }
            }
        }
        let conn = &self.db.read;
        for (kind, keys) in keys {
            let mapped = links::sources(conn, self.options.system, kind, &keys).await?;
            let ids: HashSet<i64> = mapped.values().copied().collect();
            let trashed: HashSet<i64> = match kind {
                ObjectKind::Company => matching::companies_by_id(conn, &ids)
                    .await?
                    .into_values()
                    .filter_map(|m| m.deleted_at.map(|_| m.id))
                    .collect(),
                ObjectKind::Contact => matching::contacts_by_id(conn, &ids)
                    .await?
                    .into_values()
                    .filter_map(|m| m.deleted_at.map(|_| m.id))
                    .collect(),
                ObjectKind::Deal => matching::deals_by_id(conn, &ids)
                    .await?
                    .into_values()
                    .filter_map(|m| m.deleted_at.map(|_| m.id))
                    .collect(),
                _ => continue,
            };
            let found = mapped.into_iter().filter(|(_, id)| trashed.contains(id));
            self.trashed.extend(found.map(|(key, _)| (kind, key)));
        }
        Ok(())
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
/// How many links of earlier imports wait for the records a plan writes (a dry run's
/// figure: those set by hand since are counted too, though they would stay).
pub(super) async fn waiting_for(db: &Db, plan: &Plan) -> Result<u64, AppError> {
    let mut by_kind: HashMap<ObjectKind, Vec<String>> = HashMap::new();
    for (kind, key) in &plan.sources {
        by_kind.entry(*kind).or_default().push(key.clone());
    }
    let mut n = 0;
    for (kind, keys) in by_kind {
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
