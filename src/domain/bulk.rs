//! Bulk actions on the contact and company lists: tag, untag, change the owner of, or
//! delete chosen records or every record matching a list's filters. Set-based statements
//! in one transaction, so ten thousand records take one round of statements, and a
//! failure anywhere changes nothing.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, now};
use crate::domain::{companies, contacts};
use crate::entities::user;
use crate::error::AppError;

/// At most this many ids may be listed one by one; larger sets go by filter.
pub const MAX_IDS: usize = 10_000;

/// Which list a bulk action works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Contacts,
    Companies,
}

impl Target {
    fn table(self) -> &'static str {
        match self {
            Target::Contacts => "contacts",
            Target::Companies => "companies",
        }
    }
    fn entity(self) -> &'static str {
        match self {
            Target::Contacts => "contact",
            Target::Companies => "company",
        }
    }
    fn tag_table(self) -> (&'static str, &'static str) {
        match self {
            Target::Contacts => ("contact_tags", "contact_id"),
            Target::Companies => ("company_tags", "company_id"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<i64>),
    Contacts(contacts::ListQuery),
    Companies(companies::ListQuery),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
    ChangeOwner,
    Tag,
    Untag,
}

/// `WHERE …` for the selection, on the list's table aliased `t`.
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
        Selection::Contacts(q) => contacts::push_filters(sql, q, "t"),
        Selection::Companies(q) => companies::push_filters(sql, q, "t"),
    }
}

/// How many records the selection holds now (for the confirmation).
pub async fn count(
    db: &Db,
    _actor: &Actor,
    target: Target,
    selection: &Selection,
) -> Result<u64, AppError> {
    check(selection)?;
    let mut sql = Sql::new(db.backend());
    sql.push(&format!("SELECT COUNT(*) AS n FROM {} t", target.table()));
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
            Err(AppError::field("ids", "Choose at least one record."))
        }
        Selection::Ids(ids) if ids.len() > MAX_IDS => Err(AppError::field(
            "ids",
            format!("List at most {MAX_IDS} ids; select by filter for more."),
        )),
        _ => Ok(()),
    }
}

/// Applies `action` to every selected record; returns how many it touched.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    target: Target,
    selection: &Selection,
    action: Action,
    owner_id: Option<i64>,
    tag: Option<&str>,
) -> Result<u64, AppError> {
    actor.require_write()?;
    check(selection)?;
    if matches!(action, Action::Tag | Action::Untag) {
        return apply_tag(db, actor, target, selection, action, tag).await;
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
        .push(&format!(", '{}', t.id, ", target.entity()))
        .bind(owner.map(|o| serde_json::json!({"owner_id": o}).to_string()))
        .push(", ")
        .bind(t)
        .push(&format!(" FROM {} t", target.table()));
    push_selection(&mut audit, selection);
    let affected = tx.execute_raw(audit.build()).await?.rows_affected();

    let mut change = Sql::new(backend);
    match owner {
        Some(o) => {
            change
                .push(&format!("UPDATE {} SET owner_id = ", target.table()))
                .bind(o)
                .push(", updated_at = ")
                .bind(t)
                .push(&format!(
                    " WHERE id IN (SELECT t.id FROM {} t",
                    target.table()
                ));
        }
        None => {
            // Contacts of deleted companies stay, without a company (ON DELETE SET NULL).
            let table = target.table();
            change.push(&format!(
                "DELETE FROM {table} WHERE id IN (SELECT t.id FROM {table} t"
            ));
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

/// Adds or removes one tag on every selected record; returns how many were selected.
async fn apply_tag(
    db: &Db,
    actor: &Actor,
    target: Target,
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
        .push(&format!(", '{}', t.id, ", target.entity()))
        .bind(serde_json::json!({"tag": tag.name}).to_string())
        .push(", ")
        .bind(now())
        .push(&format!(" FROM {} t", target.table()));
    push_selection(&mut audit, selection);
    let selected = tx.execute_raw(audit.build()).await?.rows_affected();
    let (tag_table, column) = target.tag_table();
    let table = target.table();
    let mut change = Sql::new(backend);
    if action == Action::Tag {
        change
            .push(&format!(
                "INSERT INTO {tag_table} ({column}, tag_id) SELECT t.id, "
            ))
            .bind(tag.id)
            .push(&format!(" FROM {table} t"));
        push_selection(&mut change, selection);
        change.push(" ON CONFLICT DO NOTHING");
    } else {
        change
            .push(&format!("DELETE FROM {tag_table} WHERE tag_id = "))
            .bind(tag.id)
            .push(&format!(" AND {column} IN (SELECT t.id FROM {table} t"));
        push_selection(&mut change, selection);
        change.push(")");
    }
    tx.execute_raw(change.build()).await?;
    tx.commit().await?;
    Ok(selected)
}
