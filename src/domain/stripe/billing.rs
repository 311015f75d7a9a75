//! The contact an event is about, and its billing row. A contact is found by its Stripe
//! customer id, else by email (any case), else created with source `stripe` and the
//! first admin as owner; the customer id is then kept on it, so later events (a
//! subscription, which carries no email) find it by id.
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, NotSet, QueryFilter, QueryOrder,
    Set,
};
use serde_json::json;

use super::rows::{Known, Rows};
use crate::domain::{Role, audit, normalise};
use crate::entities::{contact, contact_billing, user};
use crate::error::AppError;

/// Who an event names.
#[derive(Debug, Default, Clone)]
pub struct Who<'a> {
    pub customer: Option<&'a str>,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// The contact's id and its billing row (a new, unsaved one when it had none).
pub struct Found {
    pub contact_id: i64,
    pub billing: contact_billing::Model,
    pub is_new_billing: bool,
    /// Whether the contact was created for this event.
    pub created_contact: bool,
}

/// Finds or creates the contact `who` names, keeping the customer id on it. `held`: the
/// keys this transaction has locked already (`lock_all`); `rows`: the billing rows it
/// has read or changed.
pub async fn find_or_create(
    tx: &impl ConnectionTrait,
    who: &Who<'_>,
    held: &HashSet<String>,
    rows: &Rows,
    at: DateTime<Utc>,
) -> Result<Found, AppError> {
    lock(tx, who, held).await?;
    if let Some(customer) = who.customer {
        let row = match rows.customer(customer) {
            Known::Row(b) => Some(b.clone()),
            Known::Absent => None,
            Known::Unread => {
                contact_billing::Entity::find()
                    .filter(contact_billing::Column::StripeCustomerId.eq(customer))
                    .one(tx)
                    .await?
            }
        };
        if let Some(b) = row {
            return Ok(Found {
                contact_id: b.id,
                billing: b,
                is_new_billing: false,
                created_contact: false,
            });
        }
    }
    let email = email_of(who);
    let holder = holder(tx, email).await?;
    let created_contact = !matches!(&holder, Some(c) if c.deleted_at.is_none());
    let contact_id = match &holder {
        Some(c) if c.deleted_at.is_none() => c.id,
        // A trashed contact keeps its email: the new one goes in without it.
        Some(_) => create(tx, who, None, at).await?,
        None => create(tx, who, email, at).await?,
    };
    let existing = match rows.contact(contact_id) {
        Some(b) => Some(b.clone()),
        None => {
            contact_billing::Entity::find_by_id(contact_id)
                .one(tx)
                .await?
        }
    };
    let (mut billing, is_new_billing) = match existing {
        Some(b) => (b, false),
        None => (empty(contact_id, at), true),
    };
    // A contact found by email that has another customer id keeps it: Stripe may hold
    // two customers for one person, and the first linked stays the one shown.
    if billing.stripe_customer_id.is_none() {
        billing.stripe_customer_id = who.customer.map(str::to_string);
    }
    Ok(Found {
        contact_id,
        billing,
        is_new_billing,
        created_contact,
    })
}

/// The contact `who` names now, found as `find_or_create` finds it but creating nothing:
/// the one holding its customer id, else the one (not in the trash) holding its email.
pub async fn find(conn: &impl ConnectionTrait, who: &Who<'_>) -> Result<Option<i64>, AppError> {
    if let Some(customer) = who.customer {
        let row = contact_billing::Entity::find()
            .filter(contact_billing::Column::StripeCustomerId.eq(customer))
            .one(conn)
            .await?;
        if let Some(b) = row {
            return Ok(Some(b.id));
        }
    }
    let holder = holder(conn, email_of(who)).await?;
    Ok(holder.filter(|c| c.deleted_at.is_none()).map(|c| c.id))
}

/// The email an event names, if it looks like one.
fn email_of<'a>(who: &Who<'a>) -> Option<&'a str> {
    who.email.map(str::trim).filter(|e| e.contains('@'))
}

/// The contact holding `email` (any case), in the trash or not.
async fn holder(
    conn: &impl ConnectionTrait,
    email: Option<&str>,
) -> Result<Option<contact::Model>, AppError> {
    let Some(e) = email else {
        return Ok(None);
    };
    Ok(contact::Entity::find()
        .filter(contact::Column::EmailNorm.eq(normalise(e)))
        .one(conn)
        .await?)
}

/// What an event's lock is taken on: its customer id, else its email (normalised).
pub fn key(who: &Who<'_>) -> Option<String> {
    match (who.customer, who.email) {
        (Some(c), _) => Some(c.to_string()),
        (None, Some(e)) => Some(normalise(e)),
        (None, None) => None,
    }
}

/// Applies one customer's events one at a time across processes on PostgreSQL, until the
/// transaction ends: two workers creating the same new customer's contact, or adding two
/// payments to one lifetime value, would otherwise race (read committed). A lock
/// statement, not a query, so it is PostgreSQL's alone; SQLite's one writer already
/// runs one transaction at a time. A key in `held` is locked already.
async fn lock(
    tx: &impl ConnectionTrait,
    who: &Who<'_>,
    held: &HashSet<String>,
) -> Result<(), AppError> {
    if tx.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let Some(key) = key(who).filter(|k| !held.contains(k)) else {
        return Ok(());
    };
    let mut q = Query::select();
    q.expr(advisory_lock(key));
    tx.query_one(&q).await?;
    Ok(())
}

/// `pg_advisory_xact_lock(hashtextextended(key, 14))`: 14 keeps Stripe's locks apart from
/// any other use of advisory locks on the database.
fn advisory_lock(key: String) -> sea_orm::sea_query::FunctionCall {
    let id = Func::cust("hashtextextended").arg(key).arg(14);
    Func::cust("pg_advisory_xact_lock").arg(id)
}

/// Locks all of a group's `keys` in one statement (PostgreSQL; nothing on SQLite), in
/// the keys' order (PostgreSQL evaluates a select list left to right), so two groups
/// sharing customers wait for each other rather than deadlock.
pub async fn lock_all(tx: &impl ConnectionTrait, keys: &HashSet<String>) -> Result<(), AppError> {
    if tx.get_database_backend() != DatabaseBackend::Postgres || keys.is_empty() {
        return Ok(());
    }
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let mut q = Query::select();
    for k in sorted {
        q.expr(advisory_lock(k.clone()));
    }
    tx.query_one(&q).await?;
    Ok(())
}

fn empty(id: i64, at: DateTime<Utc>) -> contact_billing::Model {
    contact_billing::Model {
        id,
        stripe_customer_id: None,
        last_payment_at: None,
        last_payment_minor: None,
        last_payment_currency: None,
        ltv_minor: 0,
        ltv_currency: None,
        subscription_id: None,
        subscription_plan: None,
        subscription_status: None,
        mrr_minor: None,
        mrr_currency: None,
        subscription_at: None,
        customer_at: None,
        updated_at: at,
    }
}

/// A new contact from what Stripe knows: the name split at its last space, else the
/// email's local part, else the customer id.
async fn create(
    tx: &impl ConnectionTrait,
    who: &Who<'_>,
    email: Option<&str>,
    at: DateTime<Utc>,
) -> Result<i64, AppError> {
    let owner = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .one(tx)
        .await?
        .ok_or_else(|| AppError::Internal("no active admin to own a Stripe contact".into()))?;
    let (first, last) = names(who, email);
    let row = contact::ActiveModel {
        id: NotSet,
        first_name: Set(first),
        last_name: Set(last),
        email: Set(email.map(str::to_string)),
        email_norm: Set(email.map(normalise)),
        phone: Set(None),
        company_id: Set(None),
        title: Set(None),
        source: Set("stripe".into()),
        owner_id: Set(owner.id),
        custom: Set("{}".into()),
        deleted_at: Set(None),
        deleted_by: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    };
    let id = contact::Entity::insert(row).exec(tx).await?.last_insert_id;
    audit::record(
        tx,
        None,
        "create",
        "contact",
        id,
        Some(json!({"source": "stripe", "customer": who.customer})),
    )
    .await?;
    Ok(id)
}

/// The last name of a contact Stripe knows neither a name, an email nor a customer of.
pub(super) const NO_NAME: &str = "Stripe customer";

fn clip(s: &str) -> String {
    s.trim().chars().take(120).collect()
}

fn names(who: &Who<'_>, email: Option<&str>) -> (String, String) {
    if let Some(name) = who.name.map(str::trim).filter(|n| !n.is_empty()) {
        return split_name(name);
    }
    let fallback = email
        .and_then(|e| e.split('@').next())
        .or(who.customer)
        .unwrap_or(NO_NAME);
    (String::new(), clip(fallback))
}

/// Stripe's one `name` as a first and a last name: split at its last space ("Ada King
/// Lovelace" is "Ada King" "Lovelace"); one word is a last name.
pub(super) fn split_name(name: &str) -> (String, String) {
    match name.trim().rsplit_once(char::is_whitespace) {
        Some((first, last)) => (clip(first), clip(last)),
        None => (String::new(), clip(name)),
    }
}

/// Keeps the billing row as changed, written with the others at the end of the
/// transaction (`Rows::write`).
pub fn save(rows: &mut Rows, found: Found, at: DateTime<Utc>) {
    rows.keep(found.billing, at);
}

/// A contact's billing as its page shows it (amounts written out in their currency).
#[derive(Debug, Clone)]
pub struct Shown {
    pub customer: Option<String>,
    pub lifetime_value: Option<String>,
    pub last_payment: Option<String>,
    pub last_payment_at: Option<DateTime<Utc>>,
    pub plan: Option<String>,
    pub status: Option<String>,
    pub mrr: Option<String>,
}

/// Contact `id`'s billing, if Stripe ever named it; the caller has checked that the
/// asker sees the contact.
pub async fn shown(db: &crate::domain::Db, id: i64) -> Result<Option<Shown>, AppError> {
    use crate::domain::deals::money;
    let Some(b) = contact_billing::Entity::find_by_id(id)
        .one(&db.read)
        .await?
    else {
        return Ok(None);
    };
    let amount = |minor: Option<i64>, cur: &Option<String>| match (minor, cur) {
        (Some(m), Some(c)) => Some(money(m, c)),
        _ => None,
    };
    Ok(Some(Shown {
        customer: b.stripe_customer_id.clone(),
        lifetime_value: amount(Some(b.ltv_minor), &b.ltv_currency),
        last_payment: amount(b.last_payment_minor, &b.last_payment_currency),
        last_payment_at: b.last_payment_at,
        plan: b.subscription_plan.clone(),
        status: b.subscription_status.clone(),
        mrr: amount(b.mrr_minor, &b.mrr_currency),
    }))
}
