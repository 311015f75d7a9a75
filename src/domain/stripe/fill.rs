//! What a `customer.created` / `customer.updated` fills in on its contact. A contact
//! Stripe created from a payment or a subscription of a customer it did not know yet
//! holds only an email or only a customer id (its name a placeholder made from them,
//! `billing::names`); the customer's own event then brings the name, email and phone.
//! Only empty fields are filled, so nothing a salesperson typed is overwritten, and an
//! older customer event than the one applied cannot undo a newer one's values either.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::billing;
use super::events::Customer;
use crate::domain::contacts::{Contact, NAME_MAX, PHONE_MAX};
use crate::domain::{audit, normalise, now, records, valid_email, valid_phone};
use crate::entities::contact;
use crate::error::AppError;

/// What the customer brings that contact `c` lacks.
#[derive(Debug, Default, PartialEq, Eq)]
struct Missing {
    name: Option<(String, String)>,
    email: Option<String>,
    phone: Option<String>,
}

impl Missing {
    fn is_empty(&self) -> bool {
        *self == Missing::default()
    }
}

/// Fills contact `id`'s empty fields from customer `cus` (`customer_id`: the one linked
/// to it), with an audit row of what changed; whether anything was filled.
pub(super) async fn fill(
    conn: &impl ConnectionTrait,
    id: i64,
    cus: &Customer,
    customer_id: Option<&str>,
    event_id: &str,
) -> Result<bool, AppError> {
    let Some(c) = contact::Entity::find_by_id(id).one(conn).await? else {
        return Ok(false);
    };
    let mut missing = missing(&c, cus, customer_id);
    if let Some(email) = &missing.email
        && email_taken(conn, email).await?
    {
        // Another contact holds it (emails are unique): this one stays without.
        missing.email = None;
    }
    if missing.is_empty() {
        return Ok(false);
    }
    let before: Contact = records::get_in(conn, id).await?;
    let mut q = contact::Entity::update_many()
        .col_expr(contact::Column::UpdatedAt, Expr::value(now()))
        .filter(contact::Column::Id.eq(id));
    if let Some((first, last)) = missing.name {
        q = q
            .col_expr(contact::Column::FirstName, Expr::value(first))
            .col_expr(contact::Column::LastName, Expr::value(last));
    }
    if let Some(email) = missing.email {
        q = q
            .col_expr(contact::Column::EmailNorm, Expr::value(normalise(&email)))
            .col_expr(contact::Column::Email, Expr::value(email));
    }
    if let Some(phone) = missing.phone {
        q = q.col_expr(contact::Column::Phone, Expr::value(phone));
    }
    q.exec(conn).await?;
    let after: Contact = records::get_in(conn, id).await?;
    let mut detail = audit::changes(&before, &after).unwrap_or_else(|| json!({}));
    if let Value::Object(row) = &mut detail {
        row.insert("source".into(), json!("stripe"));
        row.insert("event".into(), json!(event_id));
    }
    audit::record_as(conn, None, None, "update", "contact", id, Some(detail)).await?;
    Ok(true)
}

/// A field Stripe sent, trimmed; None when empty.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The customer's fields that `c` has empty (and that are valid as a contact's).
fn missing(c: &contact::Model, cus: &Customer, customer_id: Option<&str>) -> Missing {
    let name = given(&cus.name)
        .filter(|_| placeholder_name(c, customer_id))
        .map(billing::split_name)
        .filter(|(first, last)| {
            first.chars().count() <= NAME_MAX && last.chars().count() <= NAME_MAX
        });
    let email = given(&cus.email)
        .filter(|e| c.email.is_none() && valid_email(e))
        .map(str::to_string);
    let phone = given(&cus.phone)
        .filter(|p| c.phone.is_none() && p.chars().count() <= PHONE_MAX && valid_phone(p))
        .map(str::to_string);
    Missing { name, email, phone }
}

/// Whether `c`'s name is the placeholder Stripe gave a contact it knew only by an email
/// or a customer id. A name typed in a form or the API has a first name (both are
/// required there), and a name Stripe sent is kept as sent.
fn placeholder_name(c: &contact::Model, customer_id: Option<&str>) -> bool {
    if c.source != "stripe" || !c.first_name.is_empty() {
        return false;
    }
    let local = c.email.as_deref().and_then(|e| e.split('@').next());
    [local, customer_id, Some(billing::NO_NAME)]
        .into_iter()
        .flatten()
        .any(|p| p == c.last_name)
}

async fn email_taken(conn: &impl ConnectionTrait, email: &str) -> Result<bool, AppError> {
    Ok(contact::Entity::find()
        .filter(contact::Column::EmailNorm.eq(normalise(email)))
        .one(conn)
        .await?
        .is_some())
}
