//! What an applied event puts in the billing ledger, worked out from the event (and, for
//! a refund, what the refunds of its charge applied before it counted): a payment's
//! amount and time, a subscription's state and monthly value, a refund's new part. The
//! apply (`apply`) and the backfill of events applied before the ledger existed
//! (`backfill`) both take their rows from here, so each rule is written once.
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Status;
use super::apply::object;
use super::events::{Charge, Invoice, Subscription};
use super::ledger::{Kind, Row};
use crate::entities::stripe_event;
use crate::error::AppError;

/// Stripe's lower-case ISO code, checked and upper-cased as Cairn shows currencies.
pub fn currency(code: &str) -> Option<String> {
    let c = code.trim();
    (c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic())).then(|| c.to_uppercase())
}

/// When an invoice was paid: its `paid_at`, else its event's time.
pub fn paid_at(event: &stripe_event::Model, inv: &Invoice) -> DateTime<Utc> {
    inv.status_transitions
        .as_ref()
        .and_then(|t| t.paid_at)
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
        .unwrap_or(event.created)
}

/// The payment an applied `invoice.paid` (in currency `cur`) records.
pub fn payment(
    event: &stripe_event::Model,
    inv: &Invoice,
    cur: &str,
    contact_id: Option<i64>,
) -> Row {
    Row {
        kind: Kind::Payment {
            invoice_id: inv.id.clone(),
        },
        contact_id,
        amount_minor: inv.amount_paid,
        currency: Some(cur.to_string()),
        at: paid_at(event, inv),
        stripe_event_id: event.event_id.clone(),
    }
}

/// A subscription as an event of it leaves it.
pub struct Plan {
    /// `canceled` for a deletion, else Stripe's status (at most 32 characters).
    pub status: String,
    /// The prices' nicknames (else ids), comma separated, at most 255 characters.
    pub names: String,
    /// The monthly value of its recurring prices, whatever its status.
    pub mrr: i64,
    pub currency: Option<String>,
}

impl Plan {
    pub fn of(event: &stripe_event::Model, s: &Subscription) -> Plan {
        let status = if event.kind == "customer.subscription.deleted" {
            "canceled"
        } else {
            s.status.as_str()
        };
        let items = s.items.as_ref().map(|l| l.data.as_slice()).unwrap_or(&[]);
        let mut names: Vec<String> = Vec::new();
        let mut mrr: i64 = 0;
        let mut currency = None;
        for item in items {
            let p = &item.price;
            names.push(p.nickname.clone().unwrap_or_else(|| p.id.clone()));
            if let (Some(amount), Some(r)) = (p.unit_amount, &p.recurring) {
                let m = monthly(
                    amount,
                    item.quantity.unwrap_or(1),
                    &r.interval,
                    r.interval_count,
                );
                mrr = mrr.saturating_add(m);
                currency = currency.or_else(|| self::currency(&p.currency));
            }
        }
        Plan {
            status: status.chars().take(32).collect(),
            names: names.join(", ").chars().take(255).collect(),
            mrr,
            currency,
        }
    }

    /// Whether its MRR counts (an active or past-due subscription).
    pub fn counts(&self) -> bool {
        matches!(self.status.as_str(), "active" | "past_due")
    }

    /// The change an applied subscription event records.
    pub fn change(
        &self,
        event: &stripe_event::Model,
        s: &Subscription,
        contact_id: Option<i64>,
    ) -> Row {
        Row {
            kind: Kind::Mrr {
                subscription_id: s.id.chars().take(255).collect(),
                status: self.status.clone(),
            },
            contact_id,
            amount_minor: self.mrr,
            currency: self.currency.clone(),
            at: event.created,
            stripe_event_id: event.event_id.clone(),
        }
    }
}

/// A price per `count` `interval`s of `quantity` units, as minor units a month (rounded
/// half up): a year is twelve months, a week 52/12 of one, a day 365/12.
pub fn monthly(unit_amount: i64, quantity: i64, interval: &str, count: Option<i64>) -> i64 {
    let total = i128::from(unit_amount) * i128::from(Ord::max(quantity, 0));
    let count = i128::from(Ord::max(count.unwrap_or(1), 1));
    let (num, den) = match interval {
        "year" => (total, 12 * count),
        "week" => (total * 52, 12 * count),
        "day" => (total * 365, 12 * count),
        _ => (total, count),
    };
    i64::try_from((num + den / 2) / den).unwrap_or(i64::MAX)
}

/// The refund an applied `charge.refunded` (in currency `cur`) records: the part of
/// `amount_refunded` above `before`, what earlier applied refunds of the charge counted.
pub fn refund(
    event: &stripe_event::Model,
    ch: &Charge,
    cur: &str,
    before: i64,
    contact_id: Option<i64>,
) -> Row {
    Row {
        kind: Kind::Refund {
            charge_id: ch.id.clone(),
        },
        contact_id,
        amount_minor: ch.amount_refunded - before,
        currency: Some(cur.to_string()),
        at: event.created,
        stripe_event_id: event.event_id.clone(),
    }
}

/// The most `amount_refunded` among the refund events of `charge` applied before
/// (kept or pruned), other than `event`. `below`: only those under it. An applied refund
/// counted more than every one applied before it (else it was ignored), so applied
/// refunds under an applied one's amount are exactly those applied before it: what the
/// backfill asks of an event applied long ago. The apply asks with no bound.
pub async fn refunded_before(
    conn: &impl ConnectionTrait,
    event: &stripe_event::Model,
    charge: &str,
    below: Option<i64>,
) -> Result<i64, AppError> {
    let earlier = stripe_event::Entity::find()
        .filter(stripe_event::Column::ObjectId.eq(charge))
        .filter(stripe_event::Column::Kind.eq("charge.refunded"))
        .filter(stripe_event::Column::Status.eq(Status::Processed.as_str()))
        .filter(stripe_event::Column::Id.ne(event.id))
        .all(conn)
        .await?;
    let under = |a: &i64| below.is_none_or(|b| *a < b);
    let kept = earlier
        .iter()
        .filter_map(|e| object::<Charge>(e).ok())
        .map(|c| c.amount_refunded)
        .filter(under)
        .max()
        .unwrap_or(0);
    // Refunds of this charge applied long ago may have been pruned: their counts stay.
    let pruned = super::retention::refunded_pruned(conn, charge, below).await?;
    Ok(Ord::max(kept, pruned))
}

#[cfg(test)]
mod tests {
    use super::monthly;

    #[test]
    fn intervals_and_quantities_become_a_month() {
        assert_eq!(monthly(1000, 1, "month", None), 1000);
        assert_eq!(monthly(12000, 1, "year", Some(1)), 1000);
        assert_eq!(monthly(1000, 3, "month", Some(3)), 1000);
        assert_eq!(monthly(1200, 1, "week", None), 5200);
        assert_eq!(monthly(100, 12, "day", Some(365)), 100);
        assert_eq!(monthly(1000, 1, "year", None), 83);
    }
}
