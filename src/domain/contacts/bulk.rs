//! Bulk actions on contacts: change the owner of, or delete, chosen contacts or every
//! contact matching a list's filters. Set-based statements in one transaction, so ten
//! thousand contacts take one round of statements, and a failure anywhere changes nothing.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ListQuery, push_filters};
use crate::db::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, now};
use crate::entities::user;
use crate::error::AppError;

/// At most this many ids may be listed one by one; larger sets go by filter.
pub const MAX_IDS: usize = 10_000;

#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<i64>),
    Matching(ListQuery),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
    ChangeOwner,
    Tag,
    Untag,
}

/// `WHERE id IN (…)` for the selection, on contacts aliased `t`.
fn push_selection(sql: &mut Sql, selection: &Selection) {
    match selection {
        Selection::Ids(ids) => {
            sql.push(" WHERE t.id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
        }
        Selection::Matching(q) => push_filters(sql, q, "t"),
    }
}

/// How many contacts the selection holds now (for the confirmation).
pub async fn count(db: &Db, _actor: &Actor, selection: &Selection) -> Result<u64, AppError> {
    check(selection)?;
    let mut sql = Sql::new(db.backend());
    sql.push("SELECT COUNT(*) AS n FROM contacts t");
    push_selection(&mut sql, selection);
    let row = db.read.query_one_raw(sql.build()).await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

fn check(selection: &Selection) -> Result<(), AppError> {
    match selection {
        Selection::Ids(ids) if ids.is_empty() => {
            Err(AppError::field("ids", "Choose at least one contact."))
        }
        Selection::Ids(ids) if ids.len() > MAX_IDS => Err(AppError::field(
            "ids",
            format!("List at most {MAX_IDS} ids; select by filter for more."),
        )),
        _ => Ok(()),
    }
}

/// Applies `action` to every selected contact; returns how many it touched.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    selection: &Selection,
    action: Action,
    owner_id: Option<i64>,
    tag: Option<&str>,
) -> Result<u64, AppError> {
    actor.require_write()?;
    check(selection)?;
    if matches!(action, Action::Tag | Action::Untag) {
        return apply_tag(db, actor, selection, action, tag).await;
    }
    let backend = db.backend();
    let t = now();
    let owner = match action {
        Action::ChangeOwner => {
            let id =
                owner_id.ok_or_else(|| AppError::field("owner_id", "Choose the new owner."))?;
            let owner = user::Entity::find_by_id(id).one(&db.read).await?;
            if !owner.is_some_and(|u| u.active) {
                return Err(AppError::field("owner_id", "Owner must be an active user."));
            }
            Some(id)
        }
        _ => None,
    };
    let tx = db.write.begin().await?;
    // The audit rows first, from the same selection, while the rows still exist.
    let mut audit = Sql::new(backend);
    audit
        .push("INSERT INTO audit_log (actor_id, action, entity, entity_id, detail, created_at) SELECT ")
        .bind(actor.id)
        .push(", ")
        .bind(match action {
            Action::Delete => "bulk_delete",
            _ => "bulk_change_owner",
        })
        .push(", 'contact', t.id, ")
        .bind(owner.map(|o| serde_json::json!({"owner_id": o}).to_string()))
        .push(", ")
        .bind(t)
        .push(" FROM contacts t");
    push_selection(&mut audit, selection);
    let affected = tx.execute_raw(audit.build()).await?.rows_affected();

    let mut change = Sql::new(backend);
    match owner {
        Some(o) => {
            change
                .push("UPDATE contacts SET owner_id = ")
                .bind(o)
                .push(", updated_at = ")
                .bind(t)
                .push(" WHERE id IN (SELECT t.id FROM contacts t");
        }
        None => {
            change.push("DELETE FROM contacts WHERE id IN (SELECT t.id FROM contacts t");
        }
    }
    push_selection(&mut change, selection);
    change.push(")");
    let changed = tx.execute_raw(change.build()).await?.rows_affected();
    if changed != affected {
        // Cannot happen inside one write transaction; refuse rather than half-record.
        return Err(AppError::Internal(format!(
            "bulk: audited {affected}, changed {changed}"
        )));
    }
    tx.commit().await?;
    Ok(changed)
}

/// Adds or removes one tag on every selected contact; returns how many were selected.
async fn apply_tag(
    db: &Db,
    actor: &Actor,
    selection: &Selection,
    action: Action,
    tag: Option<&str>,
) -> Result<u64, AppError> {
    let names = crate::domain::tags::clean_names(&[tag.unwrap_or("").to_string()], "tag")?;
    let Some(name) = names.into_iter().next() else {
        return Err(AppError::field("tag", "Name the tag."));
    };
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let tag = if action == Action::Tag {
        crate::domain::tags::ensure(&tx, std::slice::from_ref(&name))
            .await?
            .remove(0)
    } else {
        crate::entities::tag::Entity::find()
            .filter(crate::entities::tag::Column::NameNorm.eq(crate::domain::normalise(&name)))
            .one(&tx)
            .await?
            .ok_or_else(|| AppError::field("tag", format!("No tag is called {name}.")))?
    };
    let mut audit = Sql::new(backend);
    audit
        .push("INSERT INTO audit_log (actor_id, action, entity, entity_id, detail, created_at) SELECT ")
        .bind(actor.id)
        .push(", ")
        .bind(if action == Action::Tag { "bulk_tag" } else { "bulk_untag" })
        .push(", 'contact', t.id, ")
        .bind(serde_json::json!({"tag": tag.name}).to_string())
        .push(", ")
        .bind(now())
        .push(" FROM contacts t");
    push_selection(&mut audit, selection);
    let selected = tx.execute_raw(audit.build()).await?.rows_affected();
    let mut change = Sql::new(backend);
    if action == Action::Tag {
        change
            .push("INSERT INTO contact_tags (contact_id, tag_id) SELECT t.id, ")
            .bind(tag.id)
            .push(" FROM contacts t");
        push_selection(&mut change, selection);
        change.push(" ON CONFLICT DO NOTHING");
    } else {
        change
            .push("DELETE FROM contact_tags WHERE tag_id = ")
            .bind(tag.id)
            .push(" AND contact_id IN (SELECT t.id FROM contacts t");
        push_selection(&mut change, selection);
        change.push(")");
    }
    tx.execute_raw(change.build()).await?;
    tx.commit().await?;
    Ok(selected)
}
