//! The record an activity or a task is about: a contact, a company or a deal, named by
//! its source id (of this import's files or an earlier import) or by its name. Cairn
//! keeps an activity on one record and a task on one at most (the domains' rule), so of
//! several links the most specific holds (deal, then contact, then company, the order
//! the timeline and access read them in) and the others are named in the report.
use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

use super::cells::Cells;
use super::links;
use super::matching;
use super::plan::{Ctx, Plan, Ref};
use super::{contact as planned_contact, deal as planned_deal};
use crate::domain::import::{ObjectKind, System, Target, values};
use crate::domain::normalise;
use crate::entities::{company, contact, deal};
use crate::error::AppError;

/// The kinds a row may be about, in the order the one it is kept on is chosen.
const ABOUT: [ObjectKind; 3] = [ObjectKind::Deal, ObjectKind::Contact, ObjectKind::Company];

fn noun(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Deal => "Deal",
        ObjectKind::Company => "Company",
        _ => "Contact",
    }
}

/// What a chunk's rows name, looked up at once: live records by source key and by
/// normalised name, and the contacts this import plans, by name.
pub(super) struct Known {
    by_source: HashMap<(ObjectKind, String), i64>,
    by_name: HashMap<(ObjectKind, String), Vec<i64>>,
    /// Contacts by full name and deals by title, of this import's plan: those the
    /// chunk's rows name.
    planned: HashMap<(ObjectKind, String), Vec<usize>>,
}

/// The import's planned contacts by full name and deals by title (normalised), read
/// back from the plan's file the first time a row names one, and again when more of
/// that kind were planned since: held only by an import whose rows link by name.
#[derive(Default)]
pub(super) struct PlannedNames {
    /// By kind: how many of its planned rows are indexed, and their indexes by name.
    kinds: HashMap<ObjectKind, (usize, HashMap<String, Vec<usize>>)>,
}

impl PlannedNames {
    /// The planned rows of `kind` named `norm` (normalised).
    fn get(&self, kind: ObjectKind, norm: &str) -> Option<&Vec<usize>> {
        self.kinds.get(&kind).and_then(|(_, by)| by.get(norm))
    }
}

/// Brings `plan.names` up to the rows of `kind` planned so far.
fn index(plan: &mut Plan, kind: ObjectKind) -> Result<(), AppError> {
    let count = plan.rows.count(kind);
    if plan
        .names
        .kinds
        .get(&kind)
        .is_some_and(|(n, _)| *n == count)
    {
        return Ok(());
    }
    let mut by: HashMap<String, Vec<usize>> = HashMap::new();
    let mut i = 0;
    if kind == ObjectKind::Contact {
        let mut rows = plan.rows.chunks::<planned_contact::Row>(kind)?;
        while let Some(chunk) = rows.next_chunk()? {
            for p in chunk {
                by.entry(p.data.valid.name_norm()).or_default().push(i);
                i += 1;
            }
        }
    } else {
        let mut rows = plan.rows.chunks::<planned_deal::Row>(kind)?;
        while let Some(chunk) = rows.next_chunk()? {
            for p in chunk {
                by.entry(normalise(p.data.valid.title()))
                    .or_default()
                    .push(i);
                i += 1;
            }
        }
    }
    plan.names.kinds.insert(kind, (count, by));
    Ok(())
}

/// A row's links as (kind, source id) pairs: a Salesforce `WhatId` (mapped as a deal)
/// goes by its prefix to a company or a deal; ids of objects Cairn does not import are
/// left out with a note.
fn ids<'c>(ctx: &Ctx, c: &'c Cells, notes: &mut Vec<String>) -> Vec<(ObjectKind, &'c str)> {
    let mut out = Vec::new();
    for kind in ABOUT {
        let mut list: Vec<&str> = Vec::new();
        for (t, v) in &c.0.values {
            match t {
                Target::LinkId(k) if *k == kind => list.push(v.trim()),
                Target::LinkIds(k) if *k == kind => list.extend(v.split(';').map(str::trim)),
                _ => {}
            }
        }
        list.retain(|v| !v.is_empty());
        if list.len() > 1 {
            notes.push(format!(
                "Names {} {}s; it is kept on the first ({}).",
                list.len(),
                noun(kind).to_lowercase(),
                list[0]
            ));
        }
        let Some(first) = list.first().copied() else {
            continue;
        };
        if ctx.options.system == System::Salesforce && kind == ObjectKind::Deal {
            match values::salesforce_kind(first) {
                Some(k @ (ObjectKind::Company | ObjectKind::Deal)) => out.push((k, first)),
                _ => notes.push(format!(
                    "Its WhatId {first} names a Salesforce object Cairn does not import; left out."
                )),
            }
            continue;
        }
        out.push((kind, first));
    }
    out
}

fn name<'c>(c: &'c Cells, kind: ObjectKind) -> Option<&'c str> {
    c.link_name(kind)
}

/// Looks up what the chunk's rows name.
pub(super) async fn known(
    ctx: &Ctx<'_>,
    plan: &mut Plan,
    cells: &[Cells<'_>],
) -> Result<Known, AppError> {
    let conn = &ctx.db.read;
    let system = ctx.options.system;
    let mut keys: HashMap<ObjectKind, HashSet<String>> = HashMap::new();
    let mut names: HashMap<ObjectKind, HashSet<String>> = HashMap::new();
    for c in cells {
        for (kind, raw) in ids(ctx, c, &mut Vec::new()) {
            keys.entry(kind).or_default().insert(ctx.key(raw));
        }
        for kind in ABOUT {
            if let Some(n) = name(c, kind) {
                names.entry(kind).or_default().insert(n.to_string());
            }
        }
    }
    let mut by_source = HashMap::new();
    for (kind, keys) in &keys {
        let mapped = links::sources(conn, system, *kind, keys).await?;
        let ids: HashSet<i64> = mapped.values().copied().collect();
        let live = live(ctx, *kind, &ids).await?;
        by_source.extend(
            mapped
                .into_iter()
                .filter(|(_, id)| live.contains(id))
                .map(|(k, id)| ((*kind, k), id)),
        );
    }
    let mut by_name: HashMap<(ObjectKind, String), Vec<i64>> = HashMap::new();
    for (kind, found) in named(ctx, &names).await? {
        for (n, id) in found {
            by_name.entry((kind, n)).or_default().push(id);
        }
    }
    let mut planned: HashMap<(ObjectKind, String), Vec<usize>> = HashMap::new();
    for kind in [ObjectKind::Contact, ObjectKind::Deal] {
        let Some(asked) = names.get(&kind) else {
            continue;
        };
        index(plan, kind)?;
        for n in asked {
            let norm = normalise(n);
            if let Some(found) = plan.names.get(kind, &norm) {
                planned.insert((kind, norm), found.clone());
            }
        }
    }
    Ok(Known {
        by_source,
        by_name,
        planned,
    })
}

/// Which of `ids` (of `kind`) are live records.
async fn live(
    ctx: &Ctx<'_>,
    kind: ObjectKind,
    ids: &HashSet<i64>,
) -> Result<HashSet<i64>, AppError> {
    let conn = &ctx.db.read;
    Ok(match kind {
        ObjectKind::Company => matching::companies_by_id(conn, ids)
            .await?
            .into_values()
            .filter(|m| m.deleted_at.is_none())
            .map(|m| m.id)
            .collect(),
        ObjectKind::Contact => matching::contacts_by_id(conn, ids)
            .await?
            .into_values()
            .filter(|m| m.deleted_at.is_none())
            .map(|m| m.id)
            .collect(),
        _ => {
            let ids: Vec<i64> = ids.iter().copied().collect();
            let mut out = HashSet::new();
            for part in ids.chunks(500) {
                let found = deal::Entity::find()
                    .filter(deal::Column::Id.is_in(part.iter().copied()))
                    .filter(deal::Column::DeletedAt.is_null())
                    .all(conn)
                    .await?;
                out.extend(found.into_iter().map(|d| d.id));
            }
            out
        }
    })
}

/// Live records by the names rows give them, normalised: companies by name, deals by
/// title, contacts by full name (looked up by the name's possible last names, as
/// written, then compared whole).
async fn named(
    ctx: &Ctx<'_>,
    names: &HashMap<ObjectKind, HashSet<String>>,
) -> Result<Vec<(ObjectKind, Vec<(String, i64)>)>, AppError> {
    let conn = &ctx.db.read;
    let mut out = Vec::new();
    if let Some(n) = names.get(&ObjectKind::Company) {
        let norm: HashSet<String> = n.iter().map(|x| normalise(x)).collect();
        let found = matching::companies_by(conn, company::Column::NameNorm, &norm).await?;
        let live = found
            .into_iter()
            .filter(|(_, m)| m.deleted_at.is_none())
            .map(|(k, m)| (k, m.id));
        out.push((ObjectKind::Company, live.collect()));
    }
    if let Some(n) = names.get(&ObjectKind::Deal) {
        let titles: Vec<&String> = n.iter().collect();
        let mut found = Vec::new();
        // As written, or in other capitals (SQLite's lower() folds ASCII only, so both).
        for part in titles.chunks(500) {
            let lower = Func::lower(Expr::col((deal::Entity, deal::Column::Title)));
            let cased = Condition::any()
                .add(deal::Column::Title.is_in(part.iter().map(|t| t.as_str())))
                .add(Expr::expr(lower).is_in(part.iter().map(|t| t.to_lowercase())));
            for d in deal::Entity::find()
                .filter(cased)
                .filter(deal::Column::DeletedAt.is_null())
                .all(conn)
                .await?
            {
                found.push((normalise(&d.title), d.id));
            }
        }
        out.push((ObjectKind::Deal, found));
    }
    if let Some(n) = names.get(&ObjectKind::Contact) {
        let mut last: Vec<String> = Vec::new();
        for full in n {
            let words: Vec<&str> = full.split_whitespace().collect();
            last.extend((1..words.len()).map(|i| words[i..].join(" ")));
        }
        let mut found = Vec::new();
        for part in last.chunks(500) {
            for c in contact::Entity::find()
                .filter(contact::Column::LastName.is_in(part.iter().map(|t| t.as_str())))
                .filter(contact::Column::DeletedAt.is_null())
                .all(conn)
                .await?
            {
                found.push((
                    normalise(&format!("{} {}", c.first_name, c.last_name)),
                    c.id,
                ));
            }
        }
        found.sort_unstable();
        found.dedup();
        out.push((ObjectKind::Contact, found));
    }
    Ok(out)
}

/// Every record a row is about, most specific first (one named by a source id not in
/// Cairn yet waits for it: the order holds whichever file comes first), or why one of its
/// links holds nothing. `notes` gets what was left out.
pub(super) fn about(
    ctx: &Ctx,
    known: &Known,
    c: &Cells,
    notes: &mut Vec<String>,
) -> Result<Vec<(ObjectKind, Ref)>, Vec<String>> {
    let mut found = Vec::new();
    let mut reasons = Vec::new();
    let by_id = ids(ctx, c, notes);
    for kind in ABOUT {
        if let Some((k, raw)) = by_id.iter().find(|(k, _)| *k == kind) {
            let key = ctx.key(raw);
            let planned = ctx.by_source.get(&(*k, key.clone())).copied();
            let found_now = planned
                .map(Ref::Planned)
                .or_else(|| known.by_source.get(&(*k, key)).map(|&id| Ref::Id(id)));
            match found_now.map_or_else(|| ctx.later(*k, noun(*k), raw), Ok) {
                Ok(r) => found.push((*k, r)),
                Err(why) => reasons.push(why),
            }
            continue;
        }
        let Some(n) = name(c, kind) else { continue };
        match named_one(ctx, known, kind, n) {
            Ok(r) => found.push((kind, r)),
            Err(why) => reasons.push(why),
        }
    }
    if reasons.is_empty() {
        Ok(found)
    } else {
        Err(reasons)
    }
}

/// The one record of `kind` named `n`: planned in this import, else live in Cairn.
pub(super) fn named_one(
    ctx: &Ctx,
    known: &Known,
    kind: ObjectKind,
    n: &str,
) -> Result<Ref, String> {
    let norm = normalise(n);
    let planned: Vec<usize> = match kind {
        ObjectKind::Company => ctx
            .by_name
            .get(&(kind, norm.clone()))
            .map(|&i| vec![i])
            .unwrap_or_default(),
        _ => known
            .planned
            .get(&(kind, norm.clone()))
            .cloned()
            .unwrap_or_default(),
    };
    let stored = known
        .by_name
        .get(&(kind, norm))
        .cloned()
        .unwrap_or_default();
    let noun = noun(kind);
    match (planned.as_slice(), stored.as_slice()) {
        ([i], _) => Ok(Ref::Planned(*i)),
        ([], [id]) => Ok(Ref::Id(*id)),
        ([], []) => Err(format!(
            "{noun} “{n}” is in no file of this import and not in Cairn."
        )),
        _ => Err(format!(
            "Several {}s are named “{n}”; link it by id.",
            noun.to_lowercase()
        )),
    }
}

/// The one record a row is kept on (the first of `about`), the others named in `notes`.
pub(super) fn one(
    mut about: Vec<(ObjectKind, Ref)>,
    notes: &mut Vec<String>,
) -> Option<(ObjectKind, Ref)> {
    if about.len() > 1 {
        let kept = noun(about[0].0).to_lowercase();
        let rest: Vec<&str> = about[1..].iter().map(|(k, _)| noun(*k)).collect();
        notes.push(format!(
            "Kept on its {kept}; Cairn keeps it on one record, so its link to the {} is left out.",
            rest.join(" and ").to_lowercase()
        ));
    }
    (!about.is_empty()).then(|| about.remove(0))
}

/// What an updated activity or task is about: the row's record, else (the file names
/// none, or one not in Cairn yet) the one it has.
pub(super) fn or_current(
    about: Option<(ObjectKind, Ref)>,
    current: Option<(ObjectKind, Ref)>,
) -> Option<(ObjectKind, Ref)> {
    match about {
        Some((_, Ref::Later(_))) if current.is_some() => current,
        None => current,
        given => given,
    }
}

/// The record a stored activity or task is about, in the same order.
pub(super) fn of(
    deal: Option<i64>,
    contact: Option<i64>,
    company: Option<i64>,
) -> Option<(ObjectKind, Ref)> {
    [
        (ObjectKind::Deal, deal),
        (ObjectKind::Contact, contact),
        (ObjectKind::Company, company),
    ]
    .into_iter()
    .find_map(|(k, id)| id.map(|id| (k, Ref::Id(id))))
}
