//! A contact written by something other than a signed-in user (a web form): created, or
//! the one holding the email updated, inside the caller's transaction, through the same
//! validation as every other write (lengths, formats, owner, tags, custom fields) and
//! with an audit row naming no user. The caller's transaction also holds what the write
//! is about (a submission, its note), so everything lands or nothing does.
use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde_json::Value;

use super::validate::validate;
use super::{Contact, ContactInput, active_model, lookup_company, map_unique, write_update};
use crate::domain::{Actor, Db, audit, normalise, now, records};
use crate::entities::contact;
use crate::error::AppError;

/// The contact holding `email` (case and spacing ignored), trashed or not.
pub(crate) async fn holder(
    conn: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<contact::Model>, AppError> {
    Ok(contact::Entity::find()
        .filter(contact::Column::EmailNorm.eq(normalise(email)))
        .one(conn)
        .await?)
}

/// The whole contact `id` as the API shows it.
pub(crate) async fn read(conn: &impl ConnectionTrait, id: i64) -> Result<Contact, AppError> {
    records::get_in(conn, id).await
}

/// Validates `input` and creates the contact in `tx`; its id, and how many deliveries
/// the `company.created` of a company it named anew queued (`webhooks::wake_if` after
/// the commit). `actor` stands for the writer in validation (reads with its rights),
/// `ip` and `detail` go on the audit row.
pub(crate) async fn create_in(
    db: &Db,
    tx: &impl ConnectionTrait,
    actor: &Actor,
    input: &ContactInput,
    detail: Value,
) -> Result<(i64, usize), AppError> {
    let v = validate(db, actor, input, None, &BTreeMap::new()).await?;
    let known = lookup_company(db, actor, &v).await?;
    let (company, created) = super::company_in(tx, &v, known).await?;
    let new_company = company.as_ref().filter(|_| created).map(|c| c.id);
    let hooked = super::company_created(db, tx, (None, actor.ip.as_deref()), new_company).await?;
    let t = now();
    let id = contact::Entity::insert(contact::ActiveModel {
        id: NotSet,
        deleted_at: Set(None),
        deleted_by: Set(None),
        created_at: Set(t),
        ..active_model(&v, company.as_ref().map(|c| c.id), t)
    })
    .exec(tx)
    .await
    .map_err(|e| map_unique(e.into()))?
    .last_insert_id;
    if let Some(names) = &v.tags {
        records::set_tags::<Contact>(tx, id, names).await?;
    }
    let ip = actor.ip.as_deref();
    audit::record_as(tx, None, ip, "create", "contact", id, Some(detail)).await?;
    crate::domain::scoring::lead_scores::changed(db, tx, &[id]).await?;
    Ok((id, hooked))
}

/// Validates `input` (the whole contact as it should be) over `current` and stores it in
/// `tx`, with an audit row of what changed plus `detail`; how many deliveries the
/// `company.created` of a company it named anew queued.
pub(crate) async fn update_in(
    db: &Db,
    tx: &impl ConnectionTrait,
    actor: &Actor,
    current: &Contact,
    input: &ContactInput,
    detail: Value,
) -> Result<usize, AppError> {
    let v = validate(
        db,
        actor,
        input,
        Some(current.owner_id),
        &current.custom_fields,
    )
    .await?;
    let known = lookup_company(db, actor, &v).await?;
    let new_company = write_update(tx, current.id, &v, known).await?;
    let hooked = super::company_created(db, tx, (None, actor.ip.as_deref()), new_company).await?;
    let after: Contact = records::get_in(tx, current.id).await?;
    let mut row = audit::changes(current, &after).unwrap_or_else(|| serde_json::json!({}));
    if let (Some(row), Value::Object(extra)) = (row.as_object_mut(), detail) {
        row.extend(extra);
    }
    let ip = actor.ip.as_deref();
    audit::record_as(tx, None, ip, "update", "contact", current.id, Some(row)).await?;
    Ok(hooked)
}
