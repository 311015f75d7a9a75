//! The billing ledger (`billing_entries`, `mrr_changes`): the amounts the revenue report
//! sums, kept while a transaction applies its events, then written in ONE statement for
//! the whole group (bench case (sw) allows one more statement a group, not one an
//! event): an `INSERT` of every row into the view `billing_ledger_in`, whose trigger puts
//! each in its table (migration 000044).
//!
//! The ledger records what was applied, in the transaction that applies it: a payment,
//! a refund (the part of `amount_refunded` not counted before), a subscription change
//! that was newer than the state applied (an older one is ignored and leaves no row, so
//! it can never read as the current state). An event is applied once, so each lands
//! once; `stripe_event_id` is unique in both tables all the same.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::entities::billing_ledger_in;
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
    pub contact_id: i64,
    pub amount_minor: i64,
    pub currency: Option<String>,
    /// When the money moved (a payment's `paid_at`, a refund's event) or the change took
    /// effect (its event's `created`).
    pub at: DateTime<Utc>,
    pub stripe_event_id: String,
}

/// Writes `rows` through `conn` in one statement, at `at`.
pub async fn write(
    conn: &impl ConnectionTrait,
    rows: Vec<Row>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let models = rows.into_iter().map(|r| {
        let (kind, invoice, charge, subscription, status) = match r.kind {
            Kind::Payment { invoice_id } => ("payment", Some(invoice_id), None, None, None),
            Kind::Refund { charge_id } => ("refund", None, Some(charge_id), None, None),
            Kind::Mrr {
                subscription_id,
                status,
            } => ("mrr", None, None, Some(subscription_id), Some(status)),
        };
        billing_ledger_in::ActiveModel {
            kind: Set(kind.into()),
            contact_id: Set(Some(r.contact_id)),
            amount_minor: Set(r.amount_minor),
            currency: Set(r.currency),
            at: Set(r.at),
            stripe_event_id: Set(r.stripe_event_id),
            invoice_id: Set(invoice),
            charge_id: Set(charge),
            subscription_id: Set(subscription),
            status: Set(status),
            created_at: Set(at),
        }
    });
    billing_ledger_in::Entity::insert_many(models)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
