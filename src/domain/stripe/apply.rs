//! The job that applies a stored event: in one transaction with its status, so an event
//! is applied once however often its job runs (the status is claimed first, under the
//! row's lock on PostgreSQL and the one writer on SQLite). Events are applied by their
//! own `created` time and their object's fields, never by arrival order: payments and
//! refunds add up in any order, the last payment is the latest paid, and a subscription
//! or customer event older than the one applied does not overwrite it.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::billing::{self, Found};
use super::events::{Charge, Customer, Event, Invoice, Subscription};
use super::implied::{self, Plan, currency};
use super::ledger;
use super::named::{charge_who, customer_who, invoice_who, subscription_who};
use super::rows::Rows;
use super::timeline::{self, Logged};
use super::{MAX_ATTEMPTS, Status};
use crate::domain::contacts::Contact;
use crate::domain::deals::money;
use crate::domain::webhooks::{self, EventType, PaymentReceived};
use crate::domain::{Db, now, records};
use crate::entities::stripe_event;
use crate::error::AppError;
use crate::jobs::{Ctx, JobError};

/// Errors are kept to this many characters.
const MAX_ERROR_CHARS: usize = 1000;

/// A job's payload: one event (`event`: a reprocess, or a job queued before groups) or
/// the events of one ingest group (`events`, up to `group::SIZE`).
#[derive(Deserialize)]
pub struct Run {
    #[serde(default)]
    event: Option<i64>,
    #[serde(default)]
    events: Vec<i64>,
}

/// What applying an event came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    Ignored(String),
    /// Cannot be applied as sent (it will not change by retrying): nothing of it is kept.
    Failed(String),
}

/// The job. A failure of the database is retried with the queue's backoff (the event
/// shows failed, then dead when the attempts are used up); a failure of the event's own
/// (`Outcome::Failed`) is final until someone reprocesses it.
/// The events of the jobs a run takes (`group::TOGETHER`, claimed at once) are applied
/// in transactions of up to `group::per_transaction` events; when one fails, each of its
/// events is run alone, so one event's failure keeps its own reason and holds up none of
/// the others. A job fails when one of its own events does.
pub(super) async fn run(jobs: Vec<(Ctx, Run)>) -> Vec<Result<(), JobError>> {
    let mut results = vec![Ok(()); jobs.len()];
    let Some(db) = jobs.first().map(|(ctx, _)| ctx.db.clone()) else {
        return results;
    };
    // Each event with the job it came in.
    let events: Vec<(i64, usize)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, (_, p))| {
            p.event
                .into_iter()
                .chain(p.events.iter().copied())
                .map(move |id| (id, j))
        })
        .collect();
    for chunk in events.chunks(super::group::per_transaction(&db)) {
        if chunk.len() > 1 {
            let ids: Vec<i64> = chunk.iter().map(|&(id, _)| id).collect();
            match super::group::process(&db, &ids).await {
                Ok(()) => continue,
                Err(e) => {
                    tracing::info!(error = %e, "a group of Stripe events failed; applying them one by one")
                }
            }
        }
        for &(id, j) in chunk {
            if let Err(e) = one(&jobs[j].0, id).await {
                results[j] = Err(e);
            }
        }
    }
    results
}

/// Runs event `id` alone, marking it failed (or dead) when the database fails it.
async fn one(ctx: &Ctx, id: i64) -> Result<(), JobError> {
    match process(&ctx.db, id).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let reason = match &e {
                AppError::Internal(detail) => detail.clone(),
                other => other.to_string(),
            };
            let status = if ctx.attempt >= MAX_ATTEMPTS {
                Status::Dead
            } else {
                Status::Failed
            };
            mark(&ctx.db.write, id, status, &reason, None).await?;
            crate::telemetry::webhook_processed("stripe", status.as_str(), 1);
            Err(JobError::Retry(reason))
        }
    }
}

/// Applies stored event `id` unless it was applied (or ignored) already; returns what
/// became of it (None: nothing to do).
pub async fn process(db: &Db, id: i64) -> Result<Option<Outcome>, AppError> {
    let at = now();
    let tx = db.begin_write().await?;
    let Some(event) = claim(&tx, &[id]).await?.into_iter().next() else {
        return Ok(None);
    };
    let mut out = Out::new(db, HashSet::new(), Rows::default());
    let outcome = apply_one(&mut out, &tx, &event, at).await?;
    out.rows.write(&tx).await?;
    timeline::write(&tx, &out.logged, at).await?;
    ledger::write(db, &tx, std::mem::take(&mut out.ledger), at).await?;
    let (status, error) = match &outcome {
        Outcome::Processed => (Status::Processed, None),
        Outcome::Ignored(why) => (Status::Ignored, Some(why.as_str())),
        Outcome::Failed(why) => (Status::Failed, Some(why.as_str())),
    };
    mark(&tx, id, status, error.unwrap_or(""), Some(at)).await?;
    tx.commit().await?;
    crate::telemetry::webhook_processed("stripe", status.as_str(), 1);
    webhooks::wake_if(out.queued);
    Ok(Some(outcome))
}

/// Claims the events `ids` not applied yet (and reads them, in the same statement): a
/// second run waits for this one's commit, then finds them done. Every named row is
/// locked and read by its primary key alone, and those applied already are left out
/// here: with the status in the statement's condition, PostgreSQL planned it from stale
/// statistics as a bitmap AND with the status index, walking every waiting event (3–5 ms
/// a group in a burst, against 0.1 by the key). A lock, not a write: the attempt is
/// counted by the status written at the end of the same transaction (`mark`,
/// `group::process`), so the claim adds no row version (an UPDATE here cost PostgreSQL a
/// new version of each event and an entry in each of its five indexes).
pub(super) async fn claim(
    tx: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<stripe_event::Model>, AppError> {
    let waiting = [
        Status::Received.as_str(),
        Status::Failed.as_str(),
        Status::Dead.as_str(),
    ];
    let rows = stripe_event::Entity::find()
        .filter(stripe_event::Column::Id.is_in(ids.iter().copied()))
        .lock_exclusive()
        .all(tx)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|e| waiting.contains(&e.status.as_str()))
        .collect())
}

/// One more attempt, for the statement that writes an event's status.
pub(super) fn attempted() -> sea_orm::sea_query::SimpleExpr {
    Expr::col(stripe_event::Column::Attempts).add(1)
}

/// Applies a claimed event in a savepoint of `tx`: a failed event leaves nothing behind
/// (its status is the caller's to write), nor any webhook it would have queued.
pub(super) async fn apply_one(
    out: &mut Out<'_>,
    tx: &DatabaseTransaction,
    event: &stripe_event::Model,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let (queued, logged, entries) = (out.queued, out.logged.len(), out.ledger.len());
    let inner = tx.begin().await?;
    let outcome = apply(out, &inner, event, at).await?;
    if matches!(outcome, Outcome::Failed(_)) {
        inner.rollback().await?;
        out.queued = queued;
        out.logged.truncate(logged);
        out.ledger.truncate(entries);
    } else {
        inner.commit().await?;
    }
    Ok(outcome)
}

/// `apply_one` without its savepoint, for a group (two statements fewer an event): an
/// event fails before it writes anything, unless it created its contact first; then the
/// group is refused (an error: the caller rolls it back and applies its events one by
/// one, each in its savepoint).
pub(super) async fn apply_unsaved(
    out: &mut Out<'_>,
    tx: &DatabaseTransaction,
    event: &stripe_event::Model,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let (queued, logged, created) = (out.queued, out.logged.len(), out.created);
    let entries = out.ledger.len();
    let outcome = apply(out, tx, event, at).await?;
    if matches!(outcome, Outcome::Failed(_)) {
        if out.created != created {
            return Err(AppError::Internal(format!(
                "Stripe event {} failed after creating its contact",
                event.event_id
            )));
        }
        out.queued = queued;
        out.logged.truncate(logged);
        out.ledger.truncate(entries);
    }
    Ok(outcome)
}

/// What an applied event tells outbound webhooks, queued in its transaction: a contact
/// it created, a payment it recorded. `queued` counts the deliveries, to wake the
/// workers after the commit.
pub(super) struct Out<'a> {
    db: &'a Db,
    pub(super) queued: usize,
    /// Payments and refunds for the timeline, written together at the end (`timeline`).
    pub(super) logged: Vec<Logged>,
    /// Payments, refunds and subscription changes for the ledger, written together at
    /// the end (`ledger`).
    pub(super) ledger: Vec<ledger::Row>,
    /// Contacts created so far (`apply_unsaved` refuses a failure after one).
    created: usize,
    /// The customers' locks the transaction holds already (`billing::lock_all`).
    held: HashSet<String>,
    /// The billing rows read and changed, written at the end (`Rows::write`).
    pub(super) rows: Rows,
    /// Per charge, the most `amount_refunded` applied in this transaction: its events
    /// are marked processed only at the end, so `refunded_before` cannot see them.
    refunded: HashMap<String, i64>,
}

impl<'a> Out<'a> {
    pub(super) fn new(db: &'a Db, held: HashSet<String>, rows: Rows) -> Out<'a> {
        Out {
            db,
            queued: 0,
            logged: Vec::new(),
            ledger: Vec::new(),
            created: 0,
            held,
            rows,
            refunded: HashMap::new(),
        }
    }

    /// A payment or refund on contact `contact_id`'s timeline, with its audit row.
    fn log(
        &mut self,
        contact_id: i64,
        kind: &'static str,
        body: String,
        occurred_at: DateTime<Utc>,
        event: &stripe_event::Model,
    ) {
        self.logged.push(Logged {
            contact_id,
            kind,
            body,
            occurred_at,
            event_id: event.event_id.clone(),
        });
    }

    async fn found(&mut self, conn: &impl ConnectionTrait, f: &Found) -> Result<(), AppError> {
        if f.created_contact {
            self.created += 1;
            self.queued +=
                webhooks::emit_record(self.db, conn, "contact", "created", f.contact_id).await?;
        }
        Ok(())
    }

    /// `payment.received` about contact `id`, made by `paid` from the contact's name
    /// when some endpoint wants it.
    async fn paid(
        &mut self,
        conn: &impl ConnectionTrait,
        id: i64,
        paid: impl FnOnce(String) -> PaymentReceived,
    ) -> Result<(), AppError> {
        let kind = EventType::PaymentReceived;
        if webhooks::wants(self.db, conn, kind).await? {
            let contact: Contact = records::get_in(conn, id).await?;
            let data = paid(contact.full_name());
            self.queued += webhooks::emit_kind(self.db, conn, kind, &data).await?;
        }
        Ok(())
    }
}

pub(super) async fn mark(
    conn: &impl ConnectionTrait,
    id: i64,
    status: Status,
    error: &str,
    at: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    let error: Option<String> =
        Some(error.chars().take(MAX_ERROR_CHARS).collect()).filter(|e: &String| !e.is_empty());
    stripe_event::Entity::update_many()
        .col_expr(stripe_event::Column::Status, Expr::value(status.as_str()))
        .col_expr(stripe_event::Column::Error, Expr::value(error))
        .col_expr(stripe_event::Column::ProcessedAt, Expr::value(at))
        .col_expr(stripe_event::Column::Attempts, attempted())
        .filter(stripe_event::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The event's object read as `T`, or the reason it cannot be.
pub(super) fn object<T: DeserializeOwned>(event: &stripe_event::Model) -> Result<T, String> {
    serde_json::from_str::<Event<T>>(&event.body)
        .map(|e| e.data.object)
        .map_err(|e| format!("The {} event's object cannot be read: {e}.", event.kind))
}

async fn apply(
    out: &mut Out<'_>,
    conn: &impl ConnectionTrait,
    event: &stripe_event::Model,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    macro_rules! with {
        ($t:ty, $f:ident) => {
            match object::<$t>(event) {
                Ok(o) => $f(out, conn, event, o, at).await,
                Err(why) => Ok(Outcome::Failed(why)),
            }
        };
    }
    match event.kind.as_str() {
        "invoice.paid" => with!(Invoice, invoice_paid),
        "customer.created" | "customer.updated" => {
            with!(Customer, customer)
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            with!(Subscription, subscription)
        }
        "charge.refunded" => with!(Charge, charge_refunded),
        other => Ok(Outcome::Ignored(format!(
            "Cairn does not handle {other} events."
        ))),
    }
}

fn mismatch(kind: &str, got: &str, has: &str) -> Outcome {
    Outcome::Failed(format!(
        "The {kind} is in {got}, but this contact's lifetime value is kept in {has}; \
         Cairn does not convert currencies, so it was not applied."
    ))
}

async fn invoice_paid(
    out: &mut Out<'_>,
    conn: &impl ConnectionTrait,
    event: &stripe_event::Model,
    inv: Invoice,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let Some(cur) = currency(&inv.currency) else {
        return Ok(Outcome::Failed(format!(
            "The invoice's currency '{}' is not an ISO 4217 code.",
            inv.currency
        )));
    };
    if inv.amount_paid < 0 {
        return Ok(Outcome::Failed(
            "The invoice's amount_paid is negative.".into(),
        ));
    }
    let who = invoice_who(&inv);
    let mut found = billing::find_or_create(conn, &who, &out.held, &out.rows, at).await?;
    out.found(conn, &found).await?;
    let b = &mut found.billing;
    if let Some(has) = &b.ltv_currency
        && *has != cur
    {
        return Ok(mismatch("invoice", &cur, has));
    }
    let row = implied::payment(event, &inv, &cur, Some(found.contact_id));
    let paid_at = row.at;
    let body = format!(
        "Payment of {} received (Stripe invoice {}).",
        money(inv.amount_paid, &cur),
        inv.id
    );
    out.log(found.contact_id, "payment", body, paid_at, event);
    out.ledger.push(row);
    b.ltv_minor = b.ltv_minor.saturating_add(inv.amount_paid);
    b.ltv_currency = Some(cur.clone());
    if b.last_payment_at.is_none_or(|t| paid_at >= t) {
        b.last_payment_at = Some(paid_at);
        b.last_payment_minor = Some(inv.amount_paid);
        b.last_payment_currency = Some(cur.clone());
    }
    let contact_id = found.contact_id;
    billing::save(&mut out.rows, found, at);
    let paid = |contact_name| PaymentReceived {
        contact_id,
        contact_name,
        amount: inv.amount_paid,
        currency: cur,
        invoice_id: Some(inv.id.clone()),
        stripe_event_id: event.event_id.clone(),
        paid_at: paid_at.timestamp(),
    };
    out.paid(conn, contact_id, paid).await?;
    Ok(Outcome::Processed)
}

/// Links (or creates) the contact; the customer's `created` time is kept so an older
/// event of the same customer is known as older.
async fn customer(
    out: &mut Out<'_>,
    conn: &impl ConnectionTrait,
    event: &stripe_event::Model,
    c: Customer,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let who = customer_who(&c);
    let mut found = billing::find_or_create(conn, &who, &out.held, &out.rows, at).await?;
    let customer_id = found.billing.stripe_customer_id.clone();
    let filled = super::fill::fill(
        conn,
        found.contact_id,
        &c,
        customer_id.as_deref(),
        &event.event_id,
    )
    .await?;
    // After the fill, so a contact's `contact.created` carries what it filled.
    out.found(conn, &found).await?;
    if filled && !found.created_contact {
        out.queued +=
            webhooks::emit_record(out.db, conn, "contact", "updated", found.contact_id).await?;
    }
    let b = &mut found.billing;
    if b.customer_at.is_none_or(|t| event.created >= t) {
        b.customer_at = Some(event.created);
    }
    billing::save(&mut out.rows, found, at);
    Ok(Outcome::Processed)
}

async fn subscription(
    out: &mut Out<'_>,
    conn: &impl ConnectionTrait,
    event: &stripe_event::Model,
    s: Subscription,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let plan = Plan::of(event, &s);
    let status = plan.status.as_str();
    let who = subscription_who(&s);
    let mut found = billing::find_or_create(conn, &who, &out.held, &out.rows, at).await?;
    out.found(conn, &found).await?;
    let b = &mut found.billing;
    // Stripe's times are whole seconds, so a creation and its first update often share
    // one: then an ended subscription stays ended unless this one ends it too.
    let newer = match b.subscription_at {
        None => true,
        Some(t) if event.created > t => true,
        Some(t) if event.created == t => {
            !(b.subscription_id.as_deref() == Some(s.id.as_str())
                && b.subscription_status.as_deref() == Some("canceled")
                && status != "canceled")
        }
        Some(_) => false,
    };
    if !newer {
        let was_new = found.is_new_billing;
        if was_new {
            billing::save(&mut out.rows, found, at);
        }
        return Ok(Outcome::Ignored(
            "Older than the subscription state already applied.".into(),
        ));
    }
    b.subscription_id = Some(s.id.clone());
    b.subscription_plan = Some(plan.names.clone());
    b.subscription_status = Some(plan.status.clone());
    b.mrr_minor = Some(if plan.counts() { plan.mrr } else { 0 });
    out.ledger
        .push(plan.change(event, &s, Some(found.contact_id)));
    b.mrr_currency = plan.currency;
    b.subscription_at = Some(event.created);
    billing::save(&mut out.rows, found, at);
    Ok(Outcome::Processed)
}

/// A refund: `amount_refunded` counts every refund of the charge so far, so only what
/// exceeds the most an earlier applied event of this charge counted is taken off.
async fn charge_refunded(
    out: &mut Out<'_>,
    conn: &impl ConnectionTrait,
    event: &stripe_event::Model,
    ch: Charge,
    at: DateTime<Utc>,
) -> Result<Outcome, AppError> {
    let Some(cur) = currency(&ch.currency) else {
        return Ok(Outcome::Failed(format!(
            "The charge's currency '{}' is not an ISO 4217 code.",
            ch.currency
        )));
    };
    let here = out.refunded.get(&ch.id).copied().unwrap_or(0);
    let before = Ord::max(
        implied::refunded_before(conn, event, &ch.id, None).await?,
        here,
    );
    let amount = ch.amount_refunded - before;
    if amount <= 0 {
        return Ok(Outcome::Ignored(
            "An event of this charge applied already counted these refunds.".into(),
        ));
    }
    let who = charge_who(&ch);
    let mut found = billing::find_or_create(conn, &who, &out.held, &out.rows, at).await?;
    out.found(conn, &found).await?;
    let b = &mut found.billing;
    if let Some(has) = &b.ltv_currency
        && *has != cur
    {
        return Ok(mismatch("refund", &cur, has));
    }
    let body = format!(
        "Refund of {} (Stripe charge {}).",
        money(amount, &cur),
        ch.id
    );
    out.log(found.contact_id, "refund", body, event.created, event);
    out.ledger.push(implied::refund(
        event,
        &ch,
        &cur,
        before,
        Some(found.contact_id),
    ));
    b.ltv_minor = b.ltv_minor.saturating_sub(amount);
    b.ltv_currency = Some(cur);
    out.refunded.insert(ch.id.clone(), ch.amount_refunded);
    billing::save(&mut out.rows, found, at);
    Ok(Outcome::Processed)
}
