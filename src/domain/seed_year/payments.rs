//! A year's Stripe payments, made the way real ones arrive: events stored as the webhook
//! stores them (`stripe_events`, status received) and applied by the Stripe job's own
//! code (`stripe::group::process`), oldest first. Whatever that path writes (billing,
//! the timeline's payment and refund activities, their audit rows, and any ledger added
//! to it later) is filled exactly as in use.
//!
//! Subscribers are seeded contacts: a `customer.created` with the contact's email (so
//! the job links the customer to it), a monthly subscription, an `invoice.paid` each
//! month from a few days after the contact arrived until today; a quarter cancel after
//! a few months; one invoice in forty is refunded, in full or in half, some days later.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ColumnTrait, EntityTrait, NotSet, QueryFilter, QuerySelect, Set};
use serde_json::{Value, json};

use super::Person;
use crate::domain::Db;
use crate::domain::seed::Rng;
use crate::domain::stripe::{Status, group};
use crate::entities::{contact, stripe_event};
use crate::error::AppError;

/// (plan, monthly price in minor units).
const PLANS: &[(&str, i64)] = &[("Starter", 2_900), ("Team", 9_900), ("Business", 29_900)];
/// Events stored per statement, and applied per transaction.
const STORED: usize = 1_000;
const APPLIED: usize = 250;

pub(super) struct Paid {
    pub invoices: u64,
    pub events: u64,
}

/// An event to store: when, its type, its object's id and its object.
struct Ev {
    at: i64,
    kind: &'static str,
    object_id: String,
    object: Value,
}

/// One subscriber's plan.
struct Sub {
    contact: i64,
    start: DateTime<Utc>,
    plan: (&'static str, i64),
    currency: &'static str,
    /// Invoices paid before cancelling (None: still subscribed).
    cancel_after: Option<u32>,
}

/// Subscribers drawn from `people` until their invoices up to `end` reach `target`.
fn subscribers(people: &[Person], target: u64, end: DateTime<Utc>, rng: &mut Rng) -> Vec<Sub> {
    let mut chosen = HashSet::new();
    let mut subs = Vec::new();
    let mut invoices = 0u64;
    let mut tries = 0usize;
    while invoices < target && tries < people.len() * 4 && !people.is_empty() {
        tries += 1;
        let p = people[rng.below(people.len())];
        let start = p.created + Duration::hours(1 + rng.below(20 * 24) as i64);
        if start >= end || !chosen.insert(p.id) {
            continue;
        }
        let months = 1 + ((end - start).num_days() / 30) as u32;
        let cancel_after = (rng.below(4) == 0).then(|| 1 + rng.below(6) as u32);
        invoices += u64::from(cancel_after.map_or(months, |c| c.min(months)));
        let currency = if rng.below(7) == 0 { "eur" } else { "usd" };
        subs.push(Sub {
            contact: p.id,
            start,
            plan: PLANS[rng.below(PLANS.len())],
            currency,
            cancel_after,
        });
    }
    subs
}

fn subscription(s: &Sub, customer: &str, status: &str) -> Value {
    json!({
        "id": format!("sub_seed_{}", s.contact),
        "customer": customer,
        "status": status,
        "items": {"data": [{"quantity": 1, "price": {
            "id": format!("price_seed_{}", s.plan.0.to_lowercase()),
            "nickname": s.plan.0,
            "unit_amount": s.plan.1,
            "currency": s.currency,
            "recurring": {"interval": "month"}
        }}]}
    })
}

/// The events of every subscriber, oldest first, at most `target` invoices.
fn events(
    subs: &[Sub],
    emails: &HashMap<i64, String>,
    target: u64,
    end: DateTime<Utc>,
    rng: &mut Rng,
) -> (Vec<Ev>, u64) {
    let mut out = Vec::new();
    let mut invoices = 0u64;
    for s in subs {
        if invoices >= target {
            break;
        }
        let Some(email) = emails.get(&s.contact) else {
            continue;
        };
        let customer = format!("cus_seed_{}", s.contact);
        let t0 = s.start.timestamp();
        out.push(Ev {
            at: t0 - 60,
            kind: "customer.created",
            object_id: customer.clone(),
            object: json!({"id": customer, "email": email}),
        });
        out.push(Ev {
            at: t0,
            kind: "customer.subscription.created",
            object_id: format!("sub_seed_{}", s.contact),
            object: subscription(s, &customer, "active"),
        });
        let mut k = 0u32;
        loop {
            let paid = s.start + Duration::days(30 * i64::from(k)) + Duration::seconds(30);
            if paid > end || s.cancel_after.is_some_and(|c| k >= c) || invoices >= target {
                break;
            }
            invoices += 1;
            // Named by contact and month: unique however many runs share the database.
            let n = format!("{}_{k}", s.contact);
            out.push(Ev {
                at: paid.timestamp(),
                kind: "invoice.paid",
                object_id: format!("in_seed_{n}"),
                object: json!({
                    "id": format!("in_seed_{n}"), "customer": customer,
                    "customer_email": email, "amount_paid": s.plan.1, "currency": s.currency,
                    "status_transitions": {"paid_at": paid.timestamp()}
                }),
            });
            let refunded = paid + Duration::hours(1 + rng.below(10 * 24) as i64);
            if rng.below(40) == 0 && refunded < end {
                let amount = if rng.below(2) == 0 {
                    s.plan.1
                } else {
                    s.plan.1 / 2
                };
                out.push(Ev {
                    at: refunded.timestamp(),
                    kind: "charge.refunded",
                    object_id: format!("ch_seed_{n}"),
                    object: json!({
                        "id": format!("ch_seed_{n}"), "customer": customer,
                        "amount_refunded": amount, "currency": s.currency
                    }),
                });
            }
            k += 1;
        }
        if let Some(c) = s.cancel_after {
            let at = s.start + Duration::days(30 * i64::from(c)) + Duration::hours(2);
            if at < end {
                out.push(Ev {
                    at: at.timestamp(),
                    kind: "customer.subscription.deleted",
                    object_id: format!("sub_seed_{}", s.contact),
                    object: subscription(s, &customer, "canceled"),
                });
            }
        }
    }
    out.sort_by_key(|e| e.at);
    (out, invoices)
}

/// The emails of contacts `ids`.
async fn emails(db: &Db, ids: &[i64]) -> Result<HashMap<i64, String>, AppError> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, Option<String>)> = contact::Entity::find()
            .select_only()
            .columns([contact::Column::Id, contact::Column::Email])
            .filter(contact::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&db.write)
            .await?;
        out.extend(rows.into_iter().filter_map(|(id, e)| Some((id, e?))));
    }
    Ok(out)
}

/// About `target` paid invoices (and their customers, subscriptions, refunds and
/// cancellations) applied through the Stripe job.
pub(super) async fn run(
    db: &Db,
    people: &[Person],
    target: u64,
    end: DateTime<Utc>,
    rng: &mut Rng,
) -> Result<Paid, AppError> {
    let subs = subscribers(people, target, end, rng);
    let ids: Vec<i64> = subs.iter().map(|s| s.contact).collect();
    let emails = emails(db, &ids).await?;
    let (events, invoices) = events(&subs, &emails, target, end, rng);
    // Event ids unique to this run (a second run into the same database adds its own).
    let run = people.first().map_or(0, |p| p.id);
    let mut n = 0usize;
    for chunk in events.chunks(STORED) {
        let rows = chunk.iter().map(|e| {
            n += 1;
            let at = Utc.timestamp_opt(e.at, 0).single().unwrap_or(end);
            let body = json!({
                "id": format!("evt_seed_{run}_{n}"), "type": e.kind, "created": e.at,
                "data": {"object": e.object}
            });
            stripe_event::ActiveModel {
                id: NotSet,
                event_id: Set(format!("evt_seed_{run}_{n}")),
                kind: Set(e.kind.to_string()),
                object_id: Set(Some(e.object_id.clone())),
                created: Set(at),
                body: Set(body.to_string()),
                status: Set(Status::Received.as_str().to_string()),
                error: Set(None),
                attempts: Set(0),
                received_at: Set(at),
                processed_at: Set(None),
            }
        });
        let mut stored: Vec<i64> = stripe_event::Entity::insert_many(rows.collect::<Vec<_>>())
            .exec_with_returning(&db.write)
            .await?
            .into_iter()
            .map(|e| e.id)
            .collect();
        stored.sort();
        for ids in stored.chunks(APPLIED) {
            group::process(db, ids).await?;
        }
    }
    Ok(Paid {
        invoices,
        events: events.len() as u64,
    })
}
