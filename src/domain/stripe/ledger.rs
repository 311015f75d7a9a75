//! The billing ledger (`billing_entries`, `mrr_changes`): the amounts the revenue report
//! sums, kept while a transaction applies its events, then written at the group's end: a
//! statement a table for the whole group, never one an event (bench case (sw)).
//!
//! The ledger records what was applied, in the transaction that applies it: a payment,
//! a refund (the part of `amount_refunded` not counted before), a subscription change
//! that was newer than the state applied (an older one is ignored and leaves no row, so
//! it can never read as the current state). An event is applied once, so each lands
//! once; `stripe_event_id` is unique in both tables all the same.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, NotSet, Set};

use crate::entities::{billing_entry, mrr_change};
use crate::error::AppError;

/// What a row records.
pub enum Kind {
    Payment {
        invoice_id: String,
    },
    Refund {
        charge_id: String,
    },
    /// A subscription's state after the change; `amount_minor` is its monthly value.
    Mrr {
        subscription_id: String,
        status: String,
    },
}

/// A row to write.
pub struct Row {
    pub kind: Kind,
    /// None: the backfill found no contact holding the event's customer or email now.
    pub contact_id: Option<i64>,
    pub amount_minor: i64,
    pub currency: Option<String>,
    /// When the money moved (a payment's `paid_at`, a refund's event) or the change took
    /// effect (its event's `created`).
    pub at: DateTime<Utc>,
    pub stripe_event_id: String,
}

/// Writes `rows` through `conn`, at `at`: one statement for the payments and refunds, one
/// for the subscription changes, each only when the group has some (a group of
/// `invoice.paid`, bench case (sw), pays one).
/// The contacts paid for or subscribed are queued to be scored again (`billing_changed`).
pub async fn write(
    db: &crate::domain::Db,
    conn: &impl ConnectionTrait,
    rows: Vec<Row>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut contacts: Vec<i64> = rows.iter().filter_map(|r| r.contact_id).collect();
    contacts.sort_unstable();
    contacts.dedup();
    crate::domain::scoring::lead_scores::billing_changed(db, conn, &contacts).await?;
    let mut entries = Vec::new();
    let mut changes = Vec::new();
    for r in rows {
        let (kind, invoice_id, charge_id) = match r.kind {
            Kind::Payment { invoice_id } => ("payment", Some(invoice_id), None),
            Kind::Refund { charge_id } => ("refund", None, Some(charge_id)),
            Kind::Mrr {
                subscription_id,
                status,
            } => {
                changes.push(mrr_change::ActiveModel {
                    id: NotSet,
                    contact_id: Set(r.contact_id),
                    subscription_id: Set(subscription_id),
                    mrr_minor: Set(r.amount_minor),
                    currency: Set(r.currency),
                    status: Set(status),
                    effective_at: Set(r.at),
                    stripe_event_id: Set(r.stripe_event_id),
                    created_at: Set(at),
                });
                continue;
            }
        };
        let currency = r.currency.ok_or_else(|| {
            AppError::Internal(format!(
                "a {kind} of event {} has no currency",
                r.stripe_event_id
            ))
        })?;
        entries.push(billing_entry::ActiveModel {
            id: NotSet,
            contact_id: Set(r.contact_id),
            kind: Set(kind.into()),
            amount_minor: Set(r.amount_minor),
            currency: Set(currency),
            occurred_at: Set(r.at),
            stripe_event_id: Set(r.stripe_event_id),
            invoice_id: Set(invoice_id),
            charge_id: Set(charge_id),
            created_at: Set(at),
        });
    }
    if !entries.is_empty() {
        billing_entry::Entity::insert_many(entries)
            .exec_without_returning(conn)
            .await?;
    }
    if !changes.is_empty() {
        mrr_change::Entity::insert_many(changes)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
