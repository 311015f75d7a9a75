//! The billing ledger (migration 000044) is written as events are applied, so the events
//! applied before it existed have no rows and their money was missing from the revenue
//! report. This job writes the rows they imply: it reads the applied `invoice.paid`,
//! `charge.refunded` and `customer.subscription.*` events in batches (by id), leaves out
//! those that have a row, and writes what `implied` says the apply writes for each, with
//! the contact the event names now (`billing::find`). Idempotent: an event with a row is
//! skipped, and `stripe_event_id` is unique in both tables besides.
//!
//! `cairn serve` queues it at start-up (once however many processes start: an
//! idempotency key) until a run has finished, which a setting records.
//!
//! Left out: events pruned before it ran (their bodies are gone; only a refund's count is
//! kept) and, of a payment or refund made to a contact that was created for it and holds
//! neither a customer id nor an email, the contact (the row is written without one).
use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;

use super::Status;
use super::apply::object;
use super::billing;
use super::events::{Charge, Invoice, Subscription};
use super::implied::{self, Plan, currency};
use super::ledger::{self, Row};
use super::named::{charge_who, invoice_who, subscription_who};
use crate::domain::{Db, now, settings};
use crate::entities::{billing_entry, mrr_change, stripe_event};
use crate::error::AppError;
use crate::jobs::queue::{NewJob, enqueue_in};
use crate::jobs::{Ctx, JobError};

/// The job's kind.
pub const JOB: &str = "stripe.ledger_backfill";
/// The setting a finished run leaves (its time), after which start-up queues no more.
pub const DONE: &str = "stripe.ledger_backfilled";
/// Events read per batch; each batch's rows are written in one short transaction.
pub const BATCH: u64 = 500;

/// The kinds of event that write to the ledger.
const KINDS: [&str; 5] = [
    "invoice.paid",
    "charge.refunded",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
];

/// Queues the job unless a run has finished (at every start).
pub async fn ensure(db: &Db) -> Result<(), AppError> {
    if settings::get(&db.read, DONE).await?.is_some() {
        return Ok(());
    }
    enqueue_in(&db.write, &NewJob::new(JOB, json!({})).key("once")).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct Run {}

/// The job: every batch, then the setting that says it is done. A failure is retried
/// with the queue's backoff; the batches written stay written.
pub(super) async fn run(ctx: Ctx, _: Run) -> Result<(), JobError> {
    let written = backfill(&ctx.db).await?;
    let at = ctx.clock.now().to_rfc3339();
    settings::set(&ctx.db.write, DONE, &at).await?;
    tracing::info!(
        written,
        "billing ledger rows written for events applied before it"
    );
    Ok(())
}

/// Writes the ledger rows of the applied events that have none; returns how many.
pub async fn backfill(db: &Db) -> Result<u64, AppError> {
    let (mut after, mut written) = (0, 0);
    loop {
        let Some((n, last)) = batch(db, after).await? else {
            return Ok(written);
        };
        written += n;
        after = last;
    }
}

/// The batch of applied events after id `after`: how many rows it wrote and its last
/// id, or None when no event is left. Read on the read pool (an applied event does not
/// change), written in one transaction.
async fn batch(db: &Db, after: i64) -> Result<Option<(u64, i64)>, AppError> {
    let events = stripe_event::Entity::find()
        .filter(stripe_event::Column::Status.eq(Status::Processed.as_str()))
        .filter(stripe_event::Column::Kind.is_in(KINDS))
        .filter(stripe_event::Column::Id.gt(after))
        .order_by_asc(stripe_event::Column::Id)
        .limit(BATCH)
        .all(&db.read)
        .await?;
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok(None);
    };
    let ids = events.iter().map(|e| e.event_id.clone()).collect();
    let have = recorded(&db.read, ids).await?;
    let mut rows = Vec::new();
    for e in events.iter().filter(|e| !have.contains(&e.event_id)) {
        rows.extend(row(&db.read, e).await?);
    }
    let n = rows.len() as u64;
    if n > 0 {
        let tx = db.begin_write().await?;
        ledger::write(db, &tx, rows, now()).await?;
        tx.commit().await?;
    }
    Ok(Some((n, last)))
}

/// Those of `event_ids` that have a ledger row.
async fn recorded(
    conn: &impl ConnectionTrait,
    event_ids: Vec<String>,
) -> Result<HashSet<String>, AppError> {
    let mut have: HashSet<String> = billing_entry::Entity::find()
        .select_only()
        .column(billing_entry::Column::StripeEventId)
        .filter(billing_entry::Column::StripeEventId.is_in(event_ids.clone()))
        .into_tuple::<String>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let changes: Vec<String> = mrr_change::Entity::find()
        .select_only()
        .column(mrr_change::Column::StripeEventId)
        .filter(mrr_change::Column::StripeEventId.is_in(event_ids))
        .into_tuple()
        .all(conn)
        .await?;
    have.extend(changes);
    Ok(have)
}

/// The row applied event `e` implies (None for one that cannot be read, which the apply
/// would not have applied).
async fn row(
    conn: &impl ConnectionTrait,
    e: &stripe_event::Model,
) -> Result<Option<Row>, AppError> {
    Ok(match e.kind.as_str() {
        "invoice.paid" => {
            let Ok(inv) = object::<Invoice>(e) else {
                return Ok(None);
            };
            let Some(cur) = currency(&inv.currency) else {
                return Ok(None);
            };
            let contact = billing::find(conn, &invoice_who(&inv)).await?;
            Some(implied::payment(e, &inv, &cur, contact))
        }
        "charge.refunded" => {
            let Ok(ch) = object::<Charge>(e) else {
                return Ok(None);
            };
            let Some(cur) = currency(&ch.currency) else {
                return Ok(None);
            };
            let own = Some(ch.amount_refunded);
            let before = implied::refunded_before(conn, e, &ch.id, own).await?;
            if ch.amount_refunded <= before {
                return Ok(None);
            }
            let contact = billing::find(conn, &charge_who(&ch)).await?;
            Some(implied::refund(e, &ch, &cur, before, contact))
        }
        _ => {
            let Ok(s) = object::<Subscription>(e) else {
                return Ok(None);
            };
            let contact = billing::find(conn, &subscription_who(&s)).await?;
            Some(Plan::of(e, &s).change(e, &s, contact))
        }
    })
}
