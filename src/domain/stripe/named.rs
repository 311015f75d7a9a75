//! Whom a stored event names, read before it is applied: the customer lock its group
//! takes (`billing::lock_all`) and the billing row it reads (`rows`), the same `Who` its
//! handler in `apply` finds the contact by.
use serde::de::DeserializeOwned;

use super::apply::object;
use super::billing::{self, Who};
use super::events::{Charge, Customer, Invoice, Subscription};
use crate::entities::stripe_event;

/// Whom event `event` names, read as its handler reads it: the key of the customer lock
/// it takes (`billing::key`) and its customer id; None for an event that names no one or
/// cannot be read.
pub(super) fn named(event: &stripe_event::Model) -> Option<Named> {
    fn with<T: DeserializeOwned>(
        event: &stripe_event::Model,
        who: impl FnOnce(&T) -> Who<'_>,
    ) -> Option<Named> {
        let o = object::<T>(event).ok()?;
        let who = who(&o);
        Some(Named {
            key: billing::key(&who)?,
            customer: who.customer.map(str::to_string),
        })
    }
    match event.kind.as_str() {
        "invoice.paid" => with(event, invoice_who),
        "customer.created" | "customer.updated" => with(event, customer_who),
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => with(event, subscription_who),
        "charge.refunded" => with(event, charge_who),
        _ => None,
    }
}

pub(super) struct Named {
    pub key: String,
    pub customer: Option<String>,
}

pub(super) fn invoice_who(inv: &Invoice) -> Who<'_> {
    Who {
        customer: inv.customer.as_deref(),
        email: inv.customer_email.as_deref(),
        name: inv.customer_name.as_deref(),
    }
}

pub(super) fn customer_who(c: &Customer) -> Who<'_> {
    Who {
        customer: Some(&c.id),
        email: c.email.as_deref(),
        name: c.name.as_deref(),
    }
}

pub(super) fn subscription_who(s: &Subscription) -> Who<'_> {
    Who {
        customer: Some(&s.customer),
        ..Who::default()
    }
}

pub(super) fn charge_who(ch: &Charge) -> Who<'_> {
    let details = ch.billing_details.as_ref();
    Who {
        customer: ch.customer.as_deref(),
        email: details
            .and_then(|d| d.email.as_deref())
            .or(ch.receipt_email.as_deref()),
        name: details.and_then(|d| d.name.as_deref()),
    }
}
