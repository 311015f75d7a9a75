//! The trash. Deleting a contact, company or deal stamps `deleted_at`/`deleted_by`; every
//! read skips such rows (lists and counts through `records::filters::live`, one-record
//! reads, search, pickers, the board). Managers and admins restore from Settings → Trash
//! for `KEEP_DAYS`; admins may delete forever; the `trash.purge` job removes what is
//! older, cascading exactly as the old hard delete did (the foreign keys do it).
//!
//! Who may delete: viewers nothing, reps what they own, managers and admins anything.
//! A trashed record keeps its email and name: they stay taken (a new record with the same
//! email is refused, naming the trash), so a restore never collides.
//!
//! A task about a trashed record is hidden with it (My tasks, the overdue count, the
//! API): `mark_tasks` flags it in the same transaction, a restore clears the flag, and a
//! purge deletes it with the record (the foreign keys cascade).
//!
//! The capability is declared once for the three record types by `trashable!`; the
//! generic functions below are the only code that trashes, restores or purges.
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::domain::{Action, Actor, Db, audit, now, webhooks};
use crate::entities::{task, user};
use crate::error::AppError;

/// What a page says after a delete.
pub const RESTORE_NOTE: &str = "A manager can restore it from the trash for 30 days.";

/// How long a trashed record can be restored.
pub const KEEP_DAYS: i64 = 30;

/// The tables whose rows can be trashed (reads joining them skip trashed rows).
pub const TABLES: [&str; 3] = ["contacts", "companies", "deals"];

/// Rows the purge job deletes per statement: a big trash empties in short transactions.
pub const PURGE_BATCH: u64 = 500;

/// A record type that goes to the trash: its entity and the columns trashing uses.
pub trait Trashable: Send + Sync + 'static {
    type Entity: EntityTrait;
    const BIN: Bin;
    const ID: <Self::Entity as EntityTrait>::Column;
    const OWNER: <Self::Entity as EntityTrait>::Column;
    /// The columns that make the name shown in the trash (one or two).
    const NAME: &'static [<Self::Entity as EntityTrait>::Column];
    const DELETED_AT: <Self::Entity as EntityTrait>::Column;
    const DELETED_BY: <Self::Entity as EntityTrait>::Column;
}

/// The three kinds of record in the trash, as URLs and forms name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bin {
    Contact,
    Company,
    Deal,
}

impl Bin {
    pub const ALL: [Bin; 3] = [Bin::Contact, Bin::Company, Bin::Deal];

    /// The audit log's entity, and the URL segment of the trash's actions.
    pub fn entity(self) -> &'static str {
        match self {
            Bin::Contact => "contact",
            Bin::Company => "company",
            Bin::Deal => "deal",
        }
    }

    /// Its table, as record-level access names it.
    pub fn table(self) -> crate::domain::access::Table {
        use crate::domain::access::Table;
        match self {
            Bin::Contact => Table::Contacts,
            Bin::Company => Table::Companies,
            Bin::Deal => Table::Deals,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Bin::Contact => "Contact",
            Bin::Company => "Company",
            Bin::Deal => "Deal",
        }
    }

    /// The record's page (`/contacts/7`).
    pub fn path(self, id: i64) -> String {
        let base = match self {
            Bin::Contact => "contacts",
            Bin::Company => "companies",
            Bin::Deal => "deals",
        };
        format!("/{base}/{id}")
    }

    pub fn parse(s: &str) -> Option<Bin> {
        Bin::ALL.into_iter().find(|b| b.entity() == s)
    }

    /// The task column naming a record of this kind.
    pub fn task_link(self) -> task::Column {
        match self {
            Bin::Contact => task::Column::ContactId,
            Bin::Company => task::Column::CompanyId,
            Bin::Deal => task::Column::DealId,
        }
    }
}

/// Hides the tasks about the records `which` names (a condition on `Bin::task_link`)
/// while they are in the trash (`trashed`), or shows them again. A task is about one
/// record at most, so its flag is that record's state. Callers then `Db::forget_task_counts`.
pub async fn mark_tasks(
    tx: &impl ConnectionTrait,
    which: SimpleExpr,
    trashed: bool,
) -> Result<(), AppError> {
    task::Entity::update_many()
        .col_expr(task::Column::RecordTrashed, Expr::value(trashed))
        .filter(which)
        .filter(task::Column::RecordTrashed.eq(!trashed))
        .exec(tx)
        .await?;
    Ok(())
}

macro_rules! trashable {
    ($name:ident, $entity:ident, $bin:ident, [$($name_col:ident),+]) => {
        pub struct $name;
        impl Trashable for $name {
            type Entity = crate::entities::$entity::Entity;
            const BIN: Bin = Bin::$bin;
            const ID: crate::entities::$entity::Column = crate::entities::$entity::Column::Id;
            const OWNER: crate::entities::$entity::Column =
                crate::entities::$entity::Column::OwnerId;
            const NAME: &'static [crate::entities::$entity::Column] =
                &[$(crate::entities::$entity::Column::$name_col),+];
            const DELETED_AT: crate::entities::$entity::Column =
                crate::entities::$entity::Column::DeletedAt;
            const DELETED_BY: crate::entities::$entity::Column =
                crate::entities::$entity::Column::DeletedBy;
        }
    };
}

trashable!(Contacts, contact, Contact, [FirstName, LastName]);
trashable!(Companies, company, Company, [Name]);
trashable!(Deals, deal, Deal, [Title]);

/// Whether `actor` may delete a record owned by `owner`: the rule the pages (to show
/// Delete or not) and every delete path follow.
pub fn may_delete(actor: &Actor, owner: Option<i64>) -> bool {
    actor.may_on(Action::DeleteRecords, owner == Some(actor.id))
}

/// The refusal for a record `actor` may not delete.
pub fn forbidden(actor: &Actor, bin: Bin) -> AppError {
    actor.require(Action::DeleteRecords).err().unwrap_or_else(|| {
        AppError::Forbidden(format!(
            "Reps can delete only their own records; this {} belongs to someone else. Ask its owner or a manager.",
            bin.entity()
        ))
    })
}

/// The live record's owner, or 404 (a trashed record is not found either).
async fn live_owner<T: Trashable>(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<i64>, AppError> {
    let row: Option<Option<i64>> = T::Entity::find()
        .select_only()
        .column(T::OWNER)
        .filter(T::ID.eq(id))
        .filter(T::DELETED_AT.is_null())
        .into_tuple()
        .one(conn)
        .await?;
    row.ok_or_else(|| AppError::not_found(T::BIN.title()))
}

/// Moves record `id` to the trash inside `tx`, if `actor` may delete it; audited, and
/// its `.deleted` webhook event queued (with the record as it was). Returns how many
/// deliveries were queued (`webhooks::wake_if` after the commit).
pub async fn trash_in<T: Trashable>(
    db: &Db,
    tx: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
    detail: Option<serde_json::Value>,
) -> Result<usize, AppError> {
    actor.require(Action::DeleteRecords)?;
    let owner = live_owner::<T>(tx, id).await?;
    if !may_delete(actor, owner) {
        return Err(forbidden(actor, T::BIN));
    }
    let hooked = webhooks::emit_record(db, tx, T::BIN.entity(), "deleted", id).await?;
    let moved = T::Entity::update_many()
        .col_expr(T::DELETED_AT, Expr::value(now()))
        .col_expr(T::DELETED_BY, Expr::value(actor.id))
        .filter(T::ID.eq(id))
        .filter(T::DELETED_AT.is_null())
        .exec(tx)
        .await?;
    if moved.rows_affected == 0 {
        return Err(AppError::not_found(T::BIN.title()));
    }
    mark_tasks(tx, T::BIN.task_link().eq(id), true).await?;
    audit::record(tx, Some(actor), "delete", T::BIN.entity(), id, detail).await?;
    rescore::<T>(db, tx, id).await?;
    Ok(hooked)
}

/// A deal or contact to or from the trash loses or gets back its score (`scoring`).
async fn rescore<T: Trashable>(
    db: &Db,
    tx: &impl ConnectionTrait,
    id: i64,
) -> Result<(), AppError> {
    match T::BIN.entity() {
        "deal" => crate::domain::scoring::scores::changed(db, tx, &[id]).await,
        "contact" => crate::domain::scoring::lead_scores::changed(db, tx, &[id]).await,
        _ => Ok(()),
    }
}

/// Moves record `id` to the trash in a transaction of its own.
pub async fn trash<T: Trashable>(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::DeleteRecords)?;
    let tx = db.begin_write().await?;
    // A record the rep may not see is "not found" here too, not "not yours".
    crate::domain::access::check(db, &tx, actor, T::BIN.table(), id, T::BIN.title()).await?;
    let hooked = trash_in::<T>(db, &tx, actor, id, None).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    db.forget_task_counts();
    Ok(())
}

/// The trashed record's time of trashing, or 404 when `id` is not in the trash.
async fn trashed_at<T: Trashable>(
    conn: &impl ConnectionTrait,
    id: i64,
) -> Result<DateTime<Utc>, AppError> {
    let row: Option<Option<DateTime<Utc>>> = T::Entity::find()
        .select_only()
        .column(T::DELETED_AT)
        .filter(T::ID.eq(id))
        .filter(T::DELETED_AT.is_not_null())
        .into_tuple()
        .one(conn)
        .await?;
    row.flatten()
        .ok_or_else(|| AppError::NotFound(format!("That {} is not in the trash.", T::BIN.entity())))
}

/// Whether record `id` is in the trash (for the record page's notice to managers).
pub async fn is_trashed<T: Trashable>(db: &Db, id: i64) -> Result<bool, AppError> {
    match trashed_at::<T>(&db.read, id).await {
        Ok(_) => Ok(true),
        Err(AppError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Brings record `id` back, as it was: its tags, custom values, activities and links
/// were never touched; its `<entity>.created` webhook event is queued. Managers and
/// admins only.
pub async fn restore<T: Trashable>(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::RestoreTrash)?;
    let tx = db.begin_write().await?;
    trashed_at::<T>(&tx, id).await?;
    let back = T::Entity::update_many()
        .col_expr(T::DELETED_AT, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(T::DELETED_BY, Expr::value(Option::<i64>::None))
        .filter(T::ID.eq(id))
        .filter(T::DELETED_AT.is_not_null())
        .exec(&tx)
        .await
        .map_err(collision::<T>)?;
    if back.rows_affected == 0 {
        return Err(AppError::NotFound(format!(
            "That {} is not in the trash.",
            T::BIN.entity()
        )));
    }
    mark_tasks(&tx, T::BIN.task_link().eq(id), false).await?;
    audit::record(&tx, Some(actor), "restore", T::BIN.entity(), id, None).await?;
    // To a receiver the record comes back into being: it removed it on `.deleted`, and
    // `.created` (the record as it is, with its old id) adds it again; an `.updated` of
    // a record it no longer holds would be dropped.
    let hooked = webhooks::emit_record(db, &tx, T::BIN.entity(), "created", id).await?;
    rescore::<T>(db, &tx, id).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    db.forget_task_counts();
    Ok(())
}

/// Trashed records keep their unique values, so this should not happen; if a schema
/// change ever lets it, the restore is refused in words rather than as a database error
/// (known by the database's error code, `sql_err`).
fn collision<T: Trashable>(e: sea_orm::DbErr) -> AppError {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict {
            message: format!(
                "This {} cannot be restored: another record now has its email or name.",
                T::BIN.entity()
            ),
            fields: Default::default(),
        },
        _ => e.into(),
    }
}

/// Deletes trashed record `id` for good (admins only): what belongs only to it goes too.
pub async fn delete_forever<T: Trashable>(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::PurgeTrash)?;
    let tx = db.begin_write().await?;
    trashed_at::<T>(&tx, id).await?;
    T::Entity::delete_many()
        .filter(T::ID.eq(id))
        .filter(T::DELETED_AT.is_not_null())
        .exec(&tx)
        .await?;
    audit::record(&tx, Some(actor), "purge", T::BIN.entity(), id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes up to `PURGE_BATCH` records of one type trashed before `before`, oldest
/// first, in one transaction; returns how many went.
pub async fn purge_batch<T: Trashable>(db: &Db, before: DateTime<Utc>) -> Result<u64, AppError> {
    let tx = db.begin_write().await?;
    let ids: Vec<i64> = T::Entity::find()
        .select_only()
        .column(T::ID)
        .filter(T::DELETED_AT.lt(before))
        .order_by_asc(T::DELETED_AT)
        .limit(PURGE_BATCH)
        .into_tuple()
        .all(&tx)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let gone = T::Entity::delete_many()
        .filter(T::ID.is_in(ids.clone()))
        .filter(T::DELETED_AT.lt(before))
        .exec(&tx)
        .await?
        .rows_affected;
    for id in ids {
        audit::record(&tx, None, "purge", T::BIN.entity(), id, None).await?;
    }
    tx.commit().await?;
    Ok(gone)
}

/// Purges everything trashed more than `KEEP_DAYS` ago, batch by batch; returns how
/// many records went.
pub async fn purge_expired(db: &Db, at: DateTime<Utc>) -> Result<u64, AppError> {
    let before = at - Duration::days(KEEP_DAYS);
    let mut total = 0;
    // Deals first: a purged company would otherwise only unlink them.
    for bin in [Bin::Deal, Bin::Contact, Bin::Company] {
        loop {
            let n = match bin {
                Bin::Contact => purge_batch::<Contacts>(db, before).await?,
                Bin::Company => purge_batch::<Companies>(db, before).await?,
                Bin::Deal => purge_batch::<Deals>(db, before).await?,
            };
            total += n;
            if n < PURGE_BATCH {
                break;
            }
        }
    }
    Ok(total)
}

/// One trashed record as Settings → Trash lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Trashed {
    pub bin: Bin,
    pub id: i64,
    pub name: String,
    pub deleted_by: Option<String>,
    pub deleted_at: DateTime<Utc>,
    /// Whole days before the purge job takes it.
    pub days_left: i64,
}

/// The trash, newest first, at most `limit` of each type. Managers and admins only.
pub async fn list(db: &Db, actor: &Actor, limit: u64) -> Result<Vec<Trashed>, AppError> {
    actor.require(Action::RestoreTrash)?;
    let mut rows = list_of::<Contacts>(db, limit).await?;
    rows.extend(list_of::<Companies>(db, limit).await?);
    rows.extend(list_of::<Deals>(db, limit).await?);
    rows.sort_by_key(|(t, _)| std::cmp::Reverse(t.deleted_at));
    let ids: Vec<i64> = rows.iter().filter_map(|(_, by)| *by).collect();
    let names: std::collections::HashMap<i64, String> = if ids.is_empty() {
        Default::default()
    } else {
        user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&db.read)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|(mut t, by)| {
            t.deleted_by = by.and_then(|id| names.get(&id).cloned());
            t
        })
        .collect())
}

/// (id, deleted_at, deleted_by, first name column, second or empty).
type TrashRow = (i64, Option<DateTime<Utc>>, Option<i64>, String, String);

/// One type's trash, newest first, each with the id of who trashed it.
async fn list_of<T: Trashable>(
    db: &Db,
    limit: u64,
) -> Result<Vec<(Trashed, Option<i64>)>, AppError> {
    let mut q = T::Entity::find()
        .select_only()
        .column(T::ID)
        .column(T::DELETED_AT)
        .column(T::DELETED_BY)
        .column_as(T::NAME[0], "n1");
    q = match T::NAME.get(1) {
        Some(c) => q.column_as(*c, "n2"),
        None => q.expr_as(Expr::val(""), "n2"),
    };
    let rows: Vec<TrashRow> = q
        .filter(T::DELETED_AT.is_not_null())
        .order_by_desc(T::DELETED_AT)
        .limit(limit)
        .into_tuple()
        .all(&db.read)
        .await?;
    let at = now();
    Ok(rows
        .into_iter()
        .filter_map(|(id, deleted_at, by, n1, n2)| {
            let deleted_at = deleted_at?;
            let hours = (deleted_at + Duration::days(KEEP_DAYS) - at).num_hours();
            let name = format!("{n1} {n2}").trim().to_string();
            Some((
                Trashed {
                    bin: T::BIN,
                    id,
                    name,
                    deleted_by: None,
                    deleted_at,
                    days_left: (Ord::max(hours, 0) + 23) / 24,
                },
                by,
            ))
        })
        .collect())
}

/// `restore` for a record named by its bin (the trash page's forms).
pub async fn restore_in_bin(db: &Db, actor: &Actor, bin: Bin, id: i64) -> Result<(), AppError> {
    match bin {
        Bin::Contact => restore::<Contacts>(db, actor, id).await,
        Bin::Company => restore::<Companies>(db, actor, id).await,
        Bin::Deal => restore::<Deals>(db, actor, id).await,
    }
}

/// `delete_forever` for a record named by its bin.
pub async fn delete_forever_in_bin(
    db: &Db,
    actor: &Actor,
    bin: Bin,
    id: i64,
) -> Result<(), AppError> {
    match bin {
        Bin::Contact => delete_forever::<Contacts>(db, actor, id).await,
        Bin::Company => delete_forever::<Companies>(db, actor, id).await,
        Bin::Deal => delete_forever::<Deals>(db, actor, id).await,
    }
}

/// `is_trashed` for a record named by its bin.
pub async fn is_trashed_in_bin(db: &Db, bin: Bin, id: i64) -> Result<bool, AppError> {
    match bin {
        Bin::Contact => is_trashed::<Contacts>(db, id).await,
        Bin::Company => is_trashed::<Companies>(db, id).await,
        Bin::Deal => is_trashed::<Deals>(db, id).await,
    }
}
