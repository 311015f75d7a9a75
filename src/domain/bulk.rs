//! Bulk actions on the contact and company lists: tag, untag, change the owner of, or
//! delete chosen records or every record matching a list's filters. Set-based statements
//! in one transaction, so ten thousand records take one round of statements, and a
//! failure anywhere changes nothing.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
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
    check(db, selection).await?;
    count_in(&db.read, target, selection).await
}

/// How many records the selection holds, on `conn` (the action's transaction when it
/// guards itself). Written with `sql::Sql` because the selection's filters are (the lists'
/// `push_filters`); it goes to sea-query with them.
async fn count_in(
    conn: &impl ConnectionTrait,
    target: Target,
    selection: &Selection,
) -> Result<u64, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(&format!("SELECT COUNT(*) AS n FROM {} t", target.table()));
    push_selection(&mut sql, selection);
    let row = conn.query_one_raw(sql.build()).await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

/// A selection by filter names only tags and custom fields that exist (a mistyped one
/// would otherwise select everything); one by ids lists some, but not too many.
async fn check(db: &Db, selection: &Selection) -> Result<(), AppError> {
    match selection {
        Selection::Contacts(q) => contacts::check_filters(db, q).await,
        Selection::Companies(q) => companies::check_filters(db, q).await,
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

/// Reps may delete up to this many records at once (a page's worth); more needs a
/// manager or an admin.
pub const REP_DELETE_MAX: u64 = crate::domain::PER_PAGE_MAX;

/// What a bulk action is asked to do.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub target: Target,
    pub selection: &'a Selection,
    pub action: Action,
    pub owner_id: Option<i64>,
    pub tag: Option<&'a str>,
    /// The count the person confirmed: when given, the action is refused unless exactly
    /// this many records are selected at the moment it runs.
    pub expected: Option<u64>,
}

/// Inside the action's transaction, before anything changes: the selection is still what
/// was confirmed, and a rep's delete is no larger than a page.
async fn guard(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    req: &Request<'_>,
) -> Result<u64, AppError> {
    let n = count_in(conn, req.target, req.selection).await?;
    if let Some(expected) = req.expected
        && expected != n
    {
        let now_matching = if n == 1 {
            "1 record matches".to_string()
        } else {
            format!("{n} records match")
        };
        return Err(AppError::Conflict {
            message: format!(
                "{now_matching} now, not the {expected} you confirmed; nothing was changed. Review the list and try again."
            ),
            fields: Default::default(),
        });
    }
    if req.action == Action::Delete && n > REP_DELETE_MAX {
        actor.require_manager().map_err(|_| {
            AppError::Forbidden(format!(
                "Deleting more than {REP_DELETE_MAX} records at once needs a manager or an admin."
            ))
        })?;
    }
    Ok(n)
}

/// Applies the action to every selected record; returns how many it touched.
pub async fn apply(db: &Db, actor: &Actor, req: Request<'_>) -> Result<u64, AppError> {
    actor.require_write()?;
    check(db, req.selection).await?;
    let Request {
        target,
        selection,
        action,
        owner_id,
        tag,
        ..
    } = req.clone();
    if matches!(action, Action::Tag | Action::Untag) {
        return apply_tag(db, actor, &req, tag).await;
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
    guard(&tx, actor, &req).await?;
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
    req: &Request<'_>,
    tag: Option<&str>,
) -> Result<u64, AppError> {
    let (target, selection, action) = (req.target, req.selection, req.action);
    let names = crate::domain::tags::clean_names(&[tag.unwrap_or("").to_string()], "tag")?;
    let Some(name) = names.into_iter().next() else {
        return Err(AppError::field("tag", "Name the tag."));
    };
    let backend = db.backend();
    let tx = db.write.begin().await?;
    guard(&tx, actor, req).await?;
    let tag = if action == Action::Tag {
        crate::domain::tags::ensure(&tx, std::slice::from_ref(&name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("tags::ensure made no tag".into()))?
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
