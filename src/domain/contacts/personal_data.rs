//! "Export this person's data" (GDPR access and portability): everything Cairn holds
//! about one contact, as one JSON document. Admins only; audited (the entry names the
//! contact's id, not its data).
//!
//! What refers to a contact: its row (with custom values), tags, activities, tasks, deal
//! links, Stripe billing (`contact_billing`, the `billing_entries` ledger, `mrr_changes`
//! and the raw `stripe_events` naming its customer id or email), form submissions (linked,
//! or holding its email: a rejected one links nothing) and the audit entries about it.
//! `erase` removes or scrubs the same list: keep the two in step.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use serde_json::Value;

use crate::domain::{Action, Actor, Db, audit, now};
use crate::entities::{
    activity, audit_log, billing_entry, contact, contact_billing, contact_tag, deal, deal_contact,
    form_submission, mrr_change, stripe_event, tag, task,
};
use crate::error::AppError;

/// The document's layout version: a reader can tell later changes apart.
pub const FORMAT: u32 = 1;

/// Everything about one person. Rows are the tables' own columns (`into_json`), so a
/// column added later is exported without a change here.
#[derive(Debug, Serialize)]
pub struct PersonalData {
    pub format: u32,
    pub exported_at: DateTime<Utc>,
    pub contact: Value,
    pub tags: Vec<String>,
    pub activities: Vec<Value>,
    pub tasks: Vec<Value>,
    /// The deals the person is linked to (id, title, amount, currency, status).
    pub deals: Vec<Value>,
    /// Stripe: the customer and subscription summary (`contact_billing`), or null.
    pub billing: Option<Value>,
    pub payments: Vec<Value>,
    pub subscription_changes: Vec<Value>,
    /// Stripe's events as received, with the person's customer id or email in them.
    pub stripe_events: Vec<Value>,
    pub form_submissions: Vec<Value>,
    pub audit: Vec<Value>,
}

/// What identifies the person in free text and raw events: its email (as written and
/// normalised) and its Stripe customer id. Shared with `erase`.
pub(super) struct Identity {
    pub row: contact::Model,
    pub customer_id: Option<String>,
}

impl Identity {
    pub(super) async fn load(conn: &impl ConnectionTrait, id: i64) -> Result<Identity, AppError> {
        let row = contact::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::not_found("Contact"))?;
        let customer_id = contact_billing::Entity::find_by_id(id)
            .one(conn)
            .await?
            .and_then(|b| b.stripe_customer_id);
        Ok(Identity { row, customer_id })
    }

    /// The strings whose presence ties a raw event or a submission to the person.
    pub(super) fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = [&self.row.email, &self.row.email_norm, &self.customer_id]
            .into_iter()
            .flatten()
            .filter(|k| !k.is_empty())
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// `%key%` for LIKE, with LIKE's own wildcards in `key` escaped (`\` is the escape).
pub(super) fn containing(key: &str) -> String {
    let escaped = key
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `column` contains one of `keys` (a condition that matches nothing when `keys` is empty).
pub(super) fn mentions(column: impl ColumnTrait, keys: &[String]) -> sea_orm::Condition {
    keys.iter()
        .fold(sea_orm::Condition::any(), |any, key| {
            // Lower-cased on both sides: LIKE ignores case on SQLite (ASCII) but not on
            // PostgreSQL, and people write a name or an email in any case.
            any.add(Expr::expr(Func::lower(Expr::col(column))).like(
                sea_orm::sea_query::LikeExpr::new(containing(&key.to_lowercase())).escape('\\'),
            ))
        })
        .add(Expr::val(false))
}

/// Every item of data about contact `id`, for an admin; audited.
pub async fn export(db: &Db, actor: &Actor, id: i64) -> Result<PersonalData, AppError> {
    actor.require(Action::PersonalData)?;
    let conn = &db.read;
    let who = Identity::load(conn, id).await?;
    let keys = who.keys();
    let data = PersonalData {
        format: FORMAT,
        exported_at: now(),
        contact: with_custom_parsed(
            contact::Entity::find_by_id(id)
                .into_json()
                .one(conn)
                .await?
                .unwrap_or_default(),
        ),
        tags: tags(conn, id).await?,
        activities: activity::Entity::find()
            .filter(activity::Column::ContactId.eq(id))
            .order_by_asc(activity::Column::Id)
            .into_json()
            .all(conn)
            .await?,
        tasks: task::Entity::find()
            .filter(task::Column::ContactId.eq(id))
            .order_by_asc(task::Column::Id)
            .into_json()
            .all(conn)
            .await?,
        deals: deals(conn, id).await?,
        billing: contact_billing::Entity::find_by_id(id)
            .into_json()
            .one(conn)
            .await?,
        payments: billing_entry::Entity::find()
            .filter(billing_entry::Column::ContactId.eq(id))
            .order_by_asc(billing_entry::Column::Id)
            .into_json()
            .all(conn)
            .await?,
        subscription_changes: mrr_change::Entity::find()
            .filter(mrr_change::Column::ContactId.eq(id))
            .order_by_asc(mrr_change::Column::Id)
            .into_json()
            .all(conn)
            .await?,
        stripe_events: stripe_event::Entity::find()
            .filter(mentions(stripe_event::Column::Body, &keys))
            .order_by_asc(stripe_event::Column::Id)
            .into_json()
            .all(conn)
            .await?,
        form_submissions: form_submission::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(form_submission::Column::ContactId.eq(id))
                    .add(mentions(form_submission::Column::Data, &keys)),
            )
            .order_by_asc(form_submission::Column::Id)
            .into_json()
            .all(conn)
            .await?,
        audit: audit_log::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(
                        audit_log::Column::Entity
                            .eq("contact")
                            .and(audit_log::Column::EntityId.eq(id)),
                    )
                    .add(mentions(audit_log::Column::Detail, &keys)),
            )
            .order_by_asc(audit_log::Column::Id)
            .into_json()
            .all(conn)
            .await?,
    };
    audit::record(
        &db.write,
        Some(actor),
        "export_personal_data",
        "contact",
        id,
        None,
    )
    .await?;
    Ok(data)
}

/// The row with `custom` (stored as JSON text) as an object.
fn with_custom_parsed(mut row: Value) -> Value {
    if let Some(text) = row.get("custom").and_then(Value::as_str)
        && let Ok(parsed) = serde_json::from_str::<Value>(text)
    {
        row["custom"] = parsed;
    }
    row
}

async fn tags(conn: &impl ConnectionTrait, id: i64) -> Result<Vec<String>, AppError> {
    let ids: Vec<i64> = contact_tag::Entity::find()
        .filter(contact_tag::Column::ContactId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.tag_id)
        .collect();
    Ok(tag::Entity::find()
        .filter(tag::Column::Id.is_in(ids))
        .order_by_asc(tag::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect())
}

async fn deals(conn: &impl ConnectionTrait, id: i64) -> Result<Vec<Value>, AppError> {
    let ids: Vec<i64> = deal_contact::Entity::find()
        .filter(deal_contact::Column::ContactId.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.deal_id)
        .collect();
    Ok(deal::Entity::find()
        .filter(deal::Column::Id.is_in(ids))
        .order_by_asc(deal::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|d| {
            serde_json::json!({
                "id": d.id, "title": d.title, "amount": d.amount_minor, "currency": d.currency,
                "closed_at": d.closed_at, "deleted_at": d.deleted_at, "created_at": d.created_at,
            })
        })
        .collect())
}
