//! Bulk actions on a record list: tag, untag, change the owner of, or delete chosen
//! records or every record matching a list's filters. Set-based statements in one
//! transaction, so ten thousand records take one round of statements, and a failure
//! anywhere changes nothing.
use sea_orm::sea_query::{Condition, Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Kind, ListQuery, Record, filters, reads};
use crate::domain::trash::{Bin, mark_tasks};
use crate::domain::{Actor, Db, now, webhooks};
use crate::entities::{audit_log, tag, user};
use crate::error::AppError;

/// At most this many ids may be listed one by one; larger sets go by filter.
pub const MAX_IDS: usize = 10_000;

#[derive(Debug, Clone)]
pub enum Selection {
    Ids(Vec<i64>),
    /// Every record a list's filters match.
    Filter(ListQuery),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Delete,
    ChangeOwner,
    Tag,
    Untag,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "delete" => Some(Action::Delete),
            "change_owner" => Some(Action::ChangeOwner),
            "tag" => Some(Action::Tag),
            "untag" => Some(Action::Untag),
            _ => None,
        }
    }
}

/// The selection as a condition on the records aliased `t`; trashed records are never in
/// it (a filter's condition says so itself).
fn condition(conn: &impl ConnectionTrait, selection: &Selection) -> Condition {
    match selection {
        Selection::Ids(ids) => Condition::all()
            .add(filters::live("t"))
            .add(Expr::col(("t", "id")).is_in(ids.clone())),
        Selection::Filter(q) => filters::condition(conn.get_database_backend(), q),
    }
}

/// How many records the selection holds now (for the confirmation).
pub async fn count<R: Record>(
    db: &Db,
    actor: &Actor,
    selection: &Selection,
) -> Result<u64, AppError> {
    check(db, selection).await?;
    let selection = scoped::<R>(db, actor, selection).await?;
    count_in(&db.read, R::KIND, &selection).await
}

/// The selection as `actor` may act on it: a filter sees only their records; chosen ids
/// that name a record they may not see are refused whole as "not found", as a record page
/// would be, rather than quietly dropped from what was confirmed.
async fn scoped<R: Record>(
    db: &Db,
    actor: &Actor,
    selection: &Selection,
) -> Result<Selection, AppError> {
    match selection {
        Selection::Filter(q) => Ok(Selection::Filter(super::scoped(db, actor, q).await?)),
        Selection::Ids(ids) => {
            if let Some(table) = crate::domain::access::Table::of(R::KIND.table) {
                crate::domain::access::check_all(db, actor, table, ids, R::KIND.title).await?;
            }
            Ok(selection.clone())
        }
    }
}

/// How many records the selection holds, on `conn` (the action's transaction when it
/// guards itself).
async fn count_in(
    conn: &impl ConnectionTrait,
    kind: &Kind,
    selection: &Selection,
) -> Result<u64, AppError> {
    count_in_where(conn, kind, condition(conn, selection)).await
}

async fn count_in_where(
    conn: &impl ConnectionTrait,
    kind: &Kind,
    condition: Condition,
) -> Result<u64, AppError> {
    let row = conn.query_one(&reads::count(kind, condition)).await?;
    let n: i64 = row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(Ord::max(n, 0) as u64)
}

/// A selection by filter names only tags and custom fields that exist (a mistyped one
/// would otherwise select everything); one by ids lists some, but not too many.
async fn check(db: &Db, selection: &Selection) -> Result<(), AppError> {
    match selection {
        Selection::Filter(q) => super::check_filters(db, q).await,
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
    kind: &Kind,
    req: &Request<'_>,
) -> Result<u64, AppError> {
    let n = count_in(conn, kind, req.selection).await?;
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
        actor.require(crate::domain::Action::DeleteMany).map_err(|_| {
            AppError::Forbidden(format!(
                "Deleting more than {REP_DELETE_MAX} records at once needs a manager or an admin."
            ))
        })?;
    }
    // Whoever may delete a record of no one's may delete anyone's: managers and admins.
    if req.action == Action::Delete && !crate::domain::trash::may_delete(actor, None) {
        not_others(conn, actor, kind, req.selection).await?;
    }
    Ok(n)
}

/// A rep deletes only what they own: a selection holding anyone else's record is refused
/// whole, saying how many, rather than silently trashing part of what was confirmed.
async fn not_others(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    kind: &Kind,
    selection: &Selection,
) -> Result<(), AppError> {
    let theirs = Condition::any()
        .add(Expr::col(("t", "owner_id")).ne(actor.id))
        .add(Expr::col(("t", "owner_id")).is_null());
    let others = count_in_where(conn, kind, condition(conn, selection).add(theirs)).await?;
    if others == 0 {
        return Ok(());
    }
    let (n, belong) = if others == 1 {
        ("1 of them".to_string(), "belongs")
    } else {
        (format!("{others} of them"), "belong")
    };
    Err(AppError::Forbidden(format!(
        "Reps can delete only their own records, and {n} {belong} to someone else; nothing was deleted. Narrow the selection to your own records (filter by owner)."
    )))
}

/// One audit row per selected record, from the same selection (before anything changes,
/// while the rows still exist); returns how many.
async fn audit(
    tx: &DatabaseTransaction,
    actor: &Actor,
    kind: &Kind,
    selection: &Selection,
    action: &str,
    detail: SimpleExpr,
) -> Result<u64, AppError> {
    let rows = Query::select()
        .expr(Expr::val(actor.id))
        .expr(Expr::val(action))
        .expr(Expr::val(kind.entity))
        .column(("t", "id"))
        .expr(detail)
        .expr(Expr::val(now()))
        .expr(Expr::val(actor.ip.clone()))
        .from_as(kind.table, "t")
        .cond_where(condition(tx, selection))
        .to_owned();
    let insert = Query::insert()
        .into_table(audit_log::Entity)
        .columns([
            audit_log::Column::ActorId,
            audit_log::Column::Action,
            audit_log::Column::Entity,
            audit_log::Column::EntityId,
            audit_log::Column::Detail,
            audit_log::Column::CreatedAt,
            audit_log::Column::Ip,
        ])
        .select_from(rows)
        .map_err(|e| AppError::Internal(format!("bulk audit: {e}")))?
        .to_owned();
    Ok(tx.execute(&insert).await?.rows_affected())
}

/// Each row's detail for an owner change: the new owner and the change from the row's own
/// old owner, like a single update's diff. Built by the database per selected row with
/// `||` and CAST, which SQLite and PostgreSQL both read the same way (their JSON
/// functions differ), from integers only, so nothing needs escaping.
fn owner_change(new_owner: i64) -> SimpleExpr {
    Expr::cust(format!(
        r#"'{{"owner_id":{new_owner},"changes":{{"owner_id":{{"old":' || COALESCE(CAST(t.owner_id AS TEXT), 'null') || ',"new":{new_owner}}}}}}}'"#
    ))
}

/// Applies the action to every selected record; returns how many it touched.
pub async fn apply<R: Record>(db: &Db, actor: &Actor, req: Request<'_>) -> Result<u64, AppError> {
    actor.require(crate::domain::Action::WriteRecords)?;
    check(db, req.selection).await?;
    let selection = scoped::<R>(db, actor, req.selection).await?;
    let req = Request {
        selection: &selection,
        ..req
    };
    if matches!(req.action, Action::Tag | Action::Untag) {
        return apply_tag::<R>(db, actor, &req).await;
    }
    let owner = match req.action {
        Action::ChangeOwner => {
            let id = req
                .owner_id
                .ok_or_else(|| AppError::field("owner_id", "Choose the new owner."))?;
            let owner = user::Entity::find_by_id(id).one(&db.read).await?;
            if !owner.is_some_and(|u| u.active) {
                return Err(AppError::field("owner_id", "Owner must be an active user."));
            }
            Some(id)
        }
        _ => None,
    };
    let tx = db.begin_write().await?;
    guard(&tx, actor, R::KIND, &req).await?;
    let (action, detail) = match owner {
        Some(o) => ("bulk_change_owner", owner_change(o)),
        None => ("bulk_delete", Expr::val(None::<String>)),
    };
    let affected = audit(&tx, actor, R::KIND, req.selection, action, detail).await?;
    let ids = reads::ids(R::KIND, condition(&tx, req.selection));
    let what = if owner.is_some() {
        "updated"
    } else {
        "deleted"
    };
    let events = webhooks::Many::start(db, &tx, R::KIND.entity, what, &ids).await?;
    let changed = match owner {
        Some(o) => {
            R::Entity::update_many()
                .col_expr(R::OWNER, Expr::value(o))
                .col_expr(R::UPDATED_AT, Expr::value(now()))
                .filter(R::ID.in_subquery(ids))
                .exec(&tx)
                .await?
                .rows_affected
        }
        // To the trash; contacts of trashed companies keep them, shown without one. Their
        // tasks are hidden first: once trashed, the records are no longer selected.
        None => {
            if let Some(bin) = Bin::parse(R::KIND.entity) {
                mark_tasks(&tx, bin.task_link().in_subquery(ids.clone()), true).await?;
            }
            R::Entity::update_many()
                .col_expr(R::DELETED_AT, Expr::value(now()))
                .col_expr(R::DELETED_BY, Expr::value(actor.id))
                .filter(R::ID.in_subquery(ids))
                .exec(&tx)
                .await?
                .rows_affected
        }
    };
    if changed != affected {
        // Cannot happen inside one write transaction; refuse rather than half-record.
        return Err(AppError::Internal(format!(
            "bulk: audited {affected}, changed {changed}"
        )));
    }
    let hooked = match events {
        Some(events) => events.finish(db, &tx).await?,
        None => 0,
    };
    crate::domain::scoring::job::bulk_changed(db, &tx, R::KIND.entity).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    if owner.is_none() {
        db.forget_task_counts();
    }
    Ok(changed)
}

/// Adds or removes one tag on every selected record; returns how many were selected.
async fn apply_tag<R: Record>(db: &Db, actor: &Actor, req: &Request<'_>) -> Result<u64, AppError> {
    let names = crate::domain::tags::clean_names(&[req.tag.unwrap_or("").to_string()], "tag")?;
    let Some(name) = names.into_iter().next() else {
        return Err(AppError::field("tag", "Name the tag."));
    };
    let tagging = req.action == Action::Tag;
    let tx = db.begin_write().await?;
    guard(&tx, actor, R::KIND, req).await?;
    let tag = if tagging {
        crate::domain::tags::ensure(&tx, std::slice::from_ref(&name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| AppError::Internal("tags::ensure made no tag".into()))?
    } else {
        tag::Entity::find()
            .filter(tag::Column::NameNorm.eq(crate::domain::normalise(&name)))
            .one(&tx)
            .await?
            .ok_or_else(|| AppError::field("tag", format!("No tag is called {name}.")))?
    };
    let detail = Expr::val(serde_json::json!({"tag": tag.name}).to_string());
    let action = if tagging { "bulk_tag" } else { "bulk_untag" };
    let selected = audit(&tx, actor, R::KIND, req.selection, action, detail).await?;
    let ids = reads::ids(R::KIND, condition(&tx, req.selection));
    let events = webhooks::Many::start(db, &tx, R::KIND.entity, "updated", &ids).await?;
    // A record's tags are part of it, as its "updated" webhook says: its time of change
    // moves too, so lists sorted by it show the change and an import's undo sees it
    // rather than putting back the tags it found (`import::apply::undo`). First, before
    // the links: a bulk owner change locks the records and then (its triggers) their
    // links, and PostgreSQL deadlocked the two taken in the other order.
    R::Entity::update_many()
        .col_expr(R::UPDATED_AT, Expr::value(now()))
        .filter(R::ID.in_subquery(reads::ids(R::KIND, condition(&tx, req.selection))))
        .exec(&tx)
        .await?;
    if tagging {
        link_tag::<R>(&tx, tag.id, condition(&tx, req.selection)).await?;
    } else {
        let ids = reads::ids(R::KIND, condition(&tx, req.selection));
        R::TagLink::delete_many()
            .filter(R::LINK_TAG.eq(tag.id))
            .filter(R::LINK_RECORD.in_subquery(ids))
            .exec(&tx)
            .await?;
    }
    let hooked = match events {
        Some(events) => events.finish(db, &tx).await?,
        None => 0,
    };
    tx.commit().await?;
    webhooks::wake_if(hooked);
    Ok(selected)
}

/// Links tag `tag_id` to every record (aliased `t`) matching `condition`, skipping those
/// that have it already.
pub async fn link_tag<R: Record>(
    tx: &impl ConnectionTrait,
    tag_id: i64,
    condition: Condition,
) -> Result<(), AppError> {
    // `1 = 1` keeps the SELECT's WHERE present: SQLite would otherwise read the upsert's
    // ON CONFLICT as a join's ON.
    let rows = Query::select()
        .column(("t", "id"))
        .expr(Expr::val(tag_id))
        .from_as(R::KIND.table, "t")
        .cond_where(condition.add(Expr::cust("1 = 1")))
        .to_owned();
    let insert = Query::insert()
        .into_table(R::TagLink::default())
        .columns([R::LINK_RECORD, R::LINK_TAG])
        .select_from(rows)
        .map_err(|e| AppError::Internal(format!("tag links: {e}")))?
        .on_conflict(
            OnConflict::columns([R::LINK_RECORD, R::LINK_TAG])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}
