//! Undoing an import as a whole: the records it created removed, the ones it updated
//! put back as they were, its source ids, custom fields, what its `workspace.json` made
//! and the users it created (unless taken up or used since: `delete_unreferenced`)
//! removed; the links of earlier imports it filled wait again, and those it left
//! waiting are dropped (`pending`). Refused when a
//! record it wrote was changed since (its `updated_at` is no longer the import's): undo
//! would silently lose that change; and when records it did not write were added to
//! the ones it created since (`dependents`): undo would silently delete or unlink them.
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PrimaryKeyTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};

use super::write::Before;
use super::{CHUNK, activity, company, contact, deal, dependents, pending, task};
use crate::domain::import::ObjectKind;
use crate::domain::tags::{self, Tagged};
use crate::domain::{Action, Actor, Db, audit, users};
use crate::entities::{self, custom_field, import, import_change, import_source, tag};
use crate::error::AppError;

/// The kinds an import writes, in the order they are reverted: what links to a record
/// before it (a task to a contact the import created).
const REVERTED: [ObjectKind; 6] = [
    ObjectKind::Task,
    ObjectKind::Activity,
    ObjectKind::DealContact,
    ObjectKind::Deal,
    ObjectKind::Contact,
    ObjectKind::Company,
];

/// Undoes finished import `import_id` (admins).
pub async fn undo(db: &Db, actor: &Actor, import_id: i64) -> Result<(), AppError> {
    actor.require(Action::OrgSettings)?;
    let imp = import::Entity::find_by_id(import_id)
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::not_found("Import"))?;
    if imp.status != "done" {
        return Err(AppError::BadRequest(format!(
            "Only a finished import can be undone; this one is {}.",
            imp.status
        )));
    }
    // Both checks on the writer, in one transaction: SQLite has one, so nothing is
    // written to the import's records between them.
    let tx = db.begin_write().await?;
    if let Some(message) = refusal(&tx, import_id, imp.written_at).await? {
        return Err(AppError::Conflict {
            message,
            fields: Default::default(),
        });
    }
    tx.commit().await?;
    revert(db, import_id, true).await?;
    crate::domain::scoring::job::rescore_all(db).await?;
    let tx = db.begin_write().await?;
    import::Entity::update_many()
        .col_expr(import::Column::Status, "undone".into())
        .col_expr(import::Column::UpdatedAt, crate::domain::now().into())
        .filter(import::Column::Id.eq(import_id))
        .exec(&tx)
        .await?;
    audit::record(&tx, Some(actor), "undo", "import", import_id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Why import `import_id` cannot be undone, if it cannot: a record it wrote was changed
/// since (undo would lose that change), or records it did not write now depend on
/// records it created (undo would delete or unlink them: `dependents`).
async fn refusal(
    conn: &impl ConnectionTrait,
    import_id: i64,
    written_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<String>, AppError> {
    if let Some(at) = written_at {
        for kind in REVERTED {
            if let Some(id) = changed_since(conn, import_id, kind, at).await? {
                return Ok(Some(format!(
                    "The import cannot be undone: {} #{id} (and perhaps others) was changed after it; undoing would lose that change.",
                    kind.plural()
                )));
            }
        }
    }
    let added = dependents::added(conn, dependents::Scope::Import(import_id)).await?;
    Ok(added.map(|what| {
        format!(
            "The import cannot be undone: {what}, and undoing would delete or unlink them. Delete or unlink them first, or keep the import."
        )
    }))
}

/// The first record of `kind` the import wrote whose `updated_at` is not `at`.
async fn changed_since(
    conn: &impl ConnectionTrait,
    import_id: i64,
    kind: ObjectKind,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<i64>, AppError> {
    // A link has no time of its own: its deal's tells.
    if kind == ObjectKind::DealContact {
        return Ok(None);
    }
    let mut after = 0;
    loop {
        let ids: Vec<i64> = import_change::Entity::find()
            .select_only()
            .column(import_change::Column::RecordId)
            .filter(import_change::Column::ImportId.eq(import_id))
            .filter(import_change::Column::Kind.eq(kind.plural()))
            .filter(import_change::Column::RecordId.gt(after))
            .order_by_asc(import_change::Column::RecordId)
            .limit(CHUNK as u64)
            .into_tuple()
            .all(conn)
            .await?;
        let Some(&last) = ids.last() else {
            return Ok(None);
        };
        after = last;
        let found = match kind {
            ObjectKind::Deal => {
                entities::deal::Entity::find()
                    .select_only()
                    .column(entities::deal::Column::Id)
                    .filter(entities::deal::Column::Id.is_in(ids))
                    .filter(entities::deal::Column::UpdatedAt.ne(at))
                    .into_tuple::<i64>()
                    .one(conn)
                    .await?
            }
            ObjectKind::Task => {
                entities::task::Entity::find()
                    .select_only()
                    .column(entities::task::Column::Id)
                    .filter(entities::task::Column::Id.is_in(ids))
                    .filter(entities::task::Column::UpdatedAt.ne(at))
                    .into_tuple::<i64>()
                    .one(conn)
                    .await?
            }
            // An activity keeps no updated_at: an edit since marks it edited later.
            ObjectKind::Activity => {
                entities::activity::Entity::find()
                    .select_only()
                    .column(entities::activity::Column::Id)
                    .filter(entities::activity::Column::Id.is_in(ids))
                    .filter(entities::activity::Column::EditedAt.is_not_null())
                    .filter(entities::activity::Column::EditedAt.ne(at))
                    .into_tuple::<i64>()
                    .one(conn)
                    .await?
            }
            ObjectKind::Contact => {
                entities::contact::Entity::find()
                    .select_only()
                    .column(entities::contact::Column::Id)
                    .filter(entities::contact::Column::Id.is_in(ids))
                    .filter(entities::contact::Column::UpdatedAt.ne(at))
                    .into_tuple::<i64>()
                    .one(conn)
                    .await?
            }
            _ => {
                entities::company::Entity::find()
                    .select_only()
                    .column(entities::company::Column::Id)
                    .filter(entities::company::Column::Id.is_in(ids))
                    .filter(entities::company::Column::UpdatedAt.ne(at))
                    .into_tuple::<i64>()
                    .one(conn)
                    .await?
            }
        };
        if found.is_some() {
            return Ok(found);
        }
    }
}

/// Reverts what import `import_id` wrote, a chunk per transaction (each removes the
/// change rows it reverted, so an interrupted revert continues where it stopped).
/// Kinds go in `REVERTED` order: a contact may link to a company the import created.
/// `guarded` (undo): a chunk whose records something else came to depend on after
/// undo's check is not deleted; the revert stops there, to be run again once resolved.
pub(crate) async fn revert(db: &Db, import_id: i64, guarded: bool) -> Result<(), AppError> {
    let written_at = import::Entity::find_by_id(import_id)
        .one(&db.read)
        .await?
        .and_then(|i| i.written_at);
    // Links of earlier imports it filled wait again, before the records they point at go.
    pending::reopen(db, import_id).await?;
    for kind in REVERTED {
        loop {
            let tx = db.begin_write().await?;
            let changes = import_change::Entity::find()
                .filter(import_change::Column::ImportId.eq(import_id))
                .filter(import_change::Column::Kind.eq(kind.plural()))
                .order_by_asc(import_change::Column::Id)
                .limit(CHUNK as u64)
                .all(&tx)
                .await?;
            if changes.is_empty() {
                break;
            }
            let created: Vec<i64> = changes
                .iter()
                .filter(|c| c.before.is_none())
                .map(|c| c.record_id)
                .collect();
            if guarded {
                let scope = dependents::Scope::Chunk(kind, &created);
                if let Some(what) = dependents::added(&tx, scope).await? {
                    return Err(AppError::Conflict {
                        message: format!(
                            "The undo stopped part-way: {what}. Delete or unlink them, then undo the import again to finish."
                        ),
                        fields: Default::default(),
                    });
                }
            }
            for c in changes.iter().filter(|c| c.before.is_some()) {
                restore(&tx, kind, c).await?;
            }
            match kind {
                ObjectKind::DealContact => deal::unlink(&tx, &changes).await?,
                ObjectKind::Deal => deal::remove(&tx, created, &changes, written_at).await?,
                ObjectKind::Task => {
                    entities::task::Entity::delete_many()
                        .filter(entities::task::Column::Id.is_in(created))
                        .exec(&tx)
                        .await?;
                }
                ObjectKind::Activity => {
                    entities::activity::Entity::delete_many()
                        .filter(entities::activity::Column::Id.is_in(created))
                        .exec(&tx)
                        .await?;
                }
                ObjectKind::Contact => {
                    entities::contact::Entity::delete_many()
                        .filter(entities::contact::Column::Id.is_in(created))
                        .exec(&tx)
                        .await?;
                }
                _ => {
                    entities::company::Entity::delete_many()
                        .filter(entities::company::Column::Id.is_in(created))
                        .exec(&tx)
                        .await?;
                }
            }
            import_change::Entity::delete_many()
                .filter(import_change::Column::Id.is_in(changes.iter().map(|c| c.id)))
                .exec(&tx)
                .await?;
            tx.commit().await?;
        }
    }
    let users: Vec<i64> = import_change::Entity::find()
        .filter(import_change::Column::ImportId.eq(import_id))
        .filter(import_change::Column::Kind.eq(ObjectKind::User.plural()))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|c| c.record_id)
        .collect();
    drop_users(db, &users).await?;
    let made = super::workspace::made_by(db, import_id).await?;
    super::workspace::remove(db, &made).await?;
    let fields: Vec<i64> = import_change::Entity::find()
        .filter(import_change::Column::ImportId.eq(import_id))
        .filter(import_change::Column::Kind.eq("custom_field"))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|c| c.record_id)
        .collect();
    drop_fields(db, &fields).await?;
    db.forget_task_counts();
    let tx = db.begin_write().await?;
    import_change::Entity::delete_many()
        .filter(import_change::Column::ImportId.eq(import_id))
        .exec(&tx)
        .await?;
    import_source::Entity::delete_many()
        .filter(import_source::Column::ImportId.eq(import_id))
        .exec(&tx)
        .await?;
    pending::drop_held(&tx, import_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes custom fields an import created (their values went with its records).
pub(super) async fn drop_fields(db: &Db, ids: &[i64]) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    custom_field::Entity::delete_many()
        .filter(custom_field::Column::Id.is_in(ids.iter().copied()))
        .exec(&db.write)
        .await?;
    db.auth_cache.forget();
    Ok(())
}

/// Removes users an import created, once its records are gone, unless someone took
/// them up since (activated, invited: `users::is_unclaimed` no longer holds) or they
/// own or wrote something else (`delete_unreferenced`). Those stay, as the user list
/// shows them.
pub(super) async fn drop_users(db: &Db, ids: &[i64]) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let tx = db.begin_write().await?;
    let unclaimed: Vec<i64> = entities::user::Entity::find()
        .filter(entities::user::Column::Id.is_in(ids.iter().copied()))
        .all(&tx)
        .await?
        .into_iter()
        .filter(users::is_unclaimed)
        .map(|u| u.id)
        .collect();
    delete_unreferenced::<entities::user::Entity>(&tx, &unclaimed).await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(())
}

/// Deletes the rows `ids` of `E` that nothing points at: a row still referenced (a user
/// given records since, a stage holding deals) stays, its delete failing on that
/// reference and rolled back to its savepoint, on both engines alike.
pub(super) async fn delete_unreferenced<E>(
    tx: &DatabaseTransaction,
    ids: &[i64],
) -> Result<(), AppError>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    for id in ids {
        let point = tx.begin().await?;
        match E::delete_by_id(*id).exec(&point).await {
            Ok(_) => point.commit().await?,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                point.rollback().await?
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Puts an updated record back as it was, with its tags when the import set them.
async fn restore(
    tx: &impl ConnectionTrait,
    kind: ObjectKind,
    change: &import_change::Model,
) -> Result<(), AppError> {
    let text = change.before.as_deref().unwrap_or("{}");
    let bad = |e: serde_json::Error| AppError::Internal(format!("import undo: {e}"));
    let (tagged, tags) = match kind {
        ObjectKind::Deal => {
            let b: Before<deal::Before> = serde_json::from_str(text).map_err(bad)?;
            entities::deal::Entity::update_many()
                .set(b.row.restore())
                .filter(entities::deal::Column::Id.eq(change.record_id))
                .exec(tx)
                .await?;
            return Ok(());
        }
        ObjectKind::Task => {
            let b: Before<task::Before> = serde_json::from_str(text).map_err(bad)?;
            entities::task::Entity::update_many()
                .set(b.row.restore())
                .filter(entities::task::Column::Id.eq(change.record_id))
                .exec(tx)
                .await?;
            return Ok(());
        }
        ObjectKind::Activity => {
            let b: Before<activity::Before> = serde_json::from_str(text).map_err(bad)?;
            entities::activity::Entity::update_many()
                .set(b.row.restore())
                .filter(entities::activity::Column::Id.eq(change.record_id))
                .exec(tx)
                .await?;
            return Ok(());
        }
        ObjectKind::Contact => {
            let b: Before<contact::Before> = serde_json::from_str(text).map_err(bad)?;
            entities::contact::Entity::update_many()
                .set(b.row.restore())
                .filter(entities::contact::Column::Id.eq(change.record_id))
                .exec(tx)
                .await?;
            (Tagged::Contact, b.tags)
        }
        _ => {
            let b: Before<company::Before> = serde_json::from_str(text).map_err(bad)?;
            entities::company::Entity::update_many()
                .set(b.row.restore())
                .filter(entities::company::Column::Id.eq(change.record_id))
                .exec(tx)
                .await?;
            (Tagged::Company, b.tags)
        }
    };
    if let Some(ids) = tags {
        let models = tag::Entity::find()
            .filter(tag::Column::Id.is_in(ids))
            .all(tx)
            .await?;
        tags::set_links(tx, tagged, change.record_id, &models).await?;
    }
    Ok(())
}
