//! Filling the links that wait when a later import writes their records, and leaving
//! them waiting again when that import is undone.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::{Link, Waiting, holder, pending, row};
use crate::domain::Db;
use crate::domain::import::apply::{CHUNK, deal};
use crate::domain::import::{ObjectKind, System};
use crate::entities::{self, import, import_change};
use crate::error::AppError;

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
        _ => filled_kind(holder),
    }
}

/// The `import_changes` kind of the one-per-record links held by `kind` an import filled.
pub(in crate::domain::import::apply) fn filled_kind(kind: ObjectKind) -> String {
    format!("link:{}", kind.plural())
}

/// Fills the links earlier imports left waiting for the records a chunk wrote
/// (`written`: kind, source key, id), in the chunk's transaction, and deletes them.
/// Each filled link becomes a change of this import (its undo leaves it waiting again).
pub(in crate::domain::import::apply) async fn complete(
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
    let (Some((kind, id)), Some(link), Some(to)) = (
        holder(p),
        Link::from_name(&p.link),
        ObjectKind::from_plural(&p.target_kind),
    ) else {
        return Ok(None);
    };
    let filled = if link == Link::DealContact {
        let pair = match kind {
            ObjectKind::Deal => (id, target),
            _ => (target, id),
        };
        let added = deal::link(tx, vec![pair]).await?;
        crate::domain::import::apply::write::record_links(tx, import_id, &added).await?;
        !added.is_empty()
    } else {
        set_link(tx, (kind, id), to, Some(target), None).await?
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

/// Sets the one-per-record link of record `id` of `kind` to a record of `to` (its
/// company, or what it is about) to `value`: while the link is empty (`was` None: a
/// company or record set since stands), or while it is `was` (undo: a link changed
/// since stands). Whether it did.
async fn set_link(
    tx: &DatabaseTransaction,
    (kind, id): (ObjectKind, i64),
    to: ObjectKind,
    value: Option<i64>,
    was: Option<i64>,
) -> Result<bool, AppError> {
    use entities::{activity as a, contact as c, deal as d, task as t};
    let n = match kind {
        ObjectKind::Contact => {
            let cols = [c::Column::CompanyId];
            set::<c::Entity>(tx, (c::Column::Id, id), &cols, cols[0], (value, was)).await?
        }
        ObjectKind::Deal => {
            let cols = [d::Column::CompanyId];
            set::<d::Entity>(tx, (d::Column::Id, id), &cols, cols[0], (value, was)).await?
        }
        ObjectKind::Activity => {
            let cols = [
                a::Column::DealId,
                a::Column::ContactId,
                a::Column::CompanyId,
            ];
            let col = cols[about(to)];
            set::<a::Entity>(tx, (a::Column::Id, id), &cols, col, (value, was)).await?
        }
        ObjectKind::Task => {
            let cols = [
                t::Column::DealId,
                t::Column::ContactId,
                t::Column::CompanyId,
            ];
            let col = cols[about(to)];
            set::<t::Entity>(tx, (t::Column::Id, id), &cols, col, (value, was)).await?
        }
        _ => 0,
    };
    Ok(n > 0)
}

/// Which of an activity's or task's (deal, contact, company) links a record of `to` is.
fn about(to: ObjectKind) -> usize {
    match to {
        ObjectKind::Deal => 0,
        ObjectKind::Company => 2,
        _ => 1,
    }
}

/// Sets `col` of row `id` of `E` to `value` while `col` is `was`, or (`was` None) while
/// every link of `all` is empty; the rows set.
async fn set<E: EntityTrait>(
    tx: &DatabaseTransaction,
    (id_col, id): (E::Column, i64),
    all: &[E::Column],
    col: E::Column,
    (value, was): (Option<i64>, Option<i64>),
) -> Result<u64, AppError> {
    let when = match was {
        Some(v) => Condition::all().add(col.eq(v)),
        None => all.iter().fold(Condition::all(), |c, k| c.add(k.is_null())),
    };
    Ok(E::update_many()
        .col_expr(col, Expr::value(value))
        .filter(id_col.eq(id))
        .filter(when)
        .exec(tx)
        .await?
        .rows_affected)
}

/// The links import `import_id` filled.
fn filled(import_id: i64) -> sea_orm::Select<import_change::Entity> {
    import_change::Entity::find()
        .filter(import_change::Column::ImportId.eq(import_id))
        .filter(import_change::Column::Kind.starts_with("link:"))
}

/// How many links of earlier imports import `import_id` filled.
pub(in crate::domain::import::apply) async fn completed(
    conn: &impl ConnectionTrait,
    import_id: i64,
) -> Result<u64, AppError> {
    Ok(filled(import_id).count(conn).await?)
}

/// Undo of an import that filled earlier imports' links: each is emptied again (when it
/// still points where the import put it: one changed by hand since stays as it is) and
/// waits again for its record, as the import that made it left it; a chunk per
/// transaction, before the import's records go. A contact on a deal leaves it with the
/// import's `deal_contacts` change.
pub(in crate::domain::import::apply) async fn reopen(
    db: &Db,
    import_id: i64,
) -> Result<(), AppError> {
    loop {
        let tx = db.begin_write().await?;
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
        // The contact leaves the deal with the import's `deal_contacts` change; the link
        // waits again while its holder is there.
        (ObjectKind::Deal, Link::DealContact) => {
            entities::deal::Entity::find_by_id(id).count(tx).await? > 0
        }
        (_, Link::DealContact) => entities::contact::Entity::find_by_id(id).count(tx).await? > 0,
        _ => set_link(tx, (kind, id), to, None, Some(target)).await?,
    };
    // Nothing waits for an import undone since: its rows went with it.
    let origin = import::Entity::find_by_id(kept.import_id).one(tx).await?;
    if !emptied || origin.is_none_or(|i| i.status == "undone") {
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
/// The source ids of a written chunk's records, to fill the links waiting for them.
pub(in crate::domain::import::apply) fn sources_of(
    changes: &[crate::domain::import::apply::write::Change],
) -> Vec<(ObjectKind, String, i64)> {
    changes
        .iter()
        .filter_map(|c| Some((c.kind, c.source.clone()?, c.id)))
        .collect()
}
