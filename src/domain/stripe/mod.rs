//! Stripe in (issue 14): `POST /webhooks/stripe` takes Stripe's signed events, stores each
//! raw and enqueues its processing in one transaction before answering 200 (`ingest`),
//! and the job queue applies them to contacts (`apply`): payments and refunds as
//! activities, lifetime value, last payment, subscription and MRR (`billing`).
//!
//! - `secrets`: the signing secrets (the environment's and Settings → Integrations →
//!   Stripe's current and previous one, for a rotation).
//! - `events`: the shapes read from Stripe's JSON, and the settings page's event list
//!   and reprocess button.
//! - `ingest`: verify, parse the envelope, store and enqueue (group-committed).
//! - `apply`: the job: one event in one transaction with its status.
//! - `retention`: how long processed and ignored events are kept, the job that prunes
//!   older ones, and the ids pruned events leave behind for idempotency.
//! - `group`: the events of the jobs claimed together, applied in short transactions
//!   of up to `group::per_transaction` events.
//! - `timeline`: the payments and refunds applied, as activities with their audit rows.
//! - `fill`: a customer event's name, email and phone on its contact's empty fields.
//! - `billing`: the contact an event is about (by customer id, else email, else a new
//!   one) and its `contact_billing` row.
//! - `rows`: the billing rows a transaction reads in one statement and writes in one.
//! - `ledger`: the billing ledger's rows, written at a transaction's end; `implied`: the
//!   row an applied event implies; `backfill`: the job that writes them for events applied
//!   before the ledger existed.
pub mod apply;
pub mod backfill;
pub mod billing;
pub mod events;
mod fill;
pub mod group;
pub mod implied;
pub mod ingest;
pub mod ledger;
mod named;
pub mod retention;
pub mod rows;
pub mod secrets;
pub mod timeline;

/// The job kind that applies a stored event.
pub const JOB: &str = "stripe.event";
/// The hourly job that deletes events older than the retention (`retention`).
pub const PRUNE_JOB: &str = "stripe.prune";
/// Attempts a failing event gets before it is dead (the queue's backoff between them).
pub const MAX_ATTEMPTS: i32 = 8;
/// The most of a body the webhook accepts (Stripe's events are a few KiB).
pub const MAX_BODY: usize = 1024 * 1024;

/// Where a stored event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Stored, its job queued.
    Received,
    Processed,
    /// A type Cairn does not handle, or older than what was applied; kept with the reason.
    Ignored,
    /// Could not be applied (a currency mismatch, a shape it cannot read, or a run that
    /// failed and will be retried); its error says why.
    Failed,
    /// Failed on every attempt.
    Dead,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Received,
        Status::Processed,
        Status::Ignored,
        Status::Failed,
        Status::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Processed => "processed",
            Status::Ignored => "ignored",
            Status::Failed => "failed",
            Status::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }
}

/// Registers the event job with the queue.
pub fn register(r: &mut crate::jobs::Registry) {
    r.register_together(JOB, group::TOGETHER, apply::run);
    r.register(PRUNE_JOB, prune);
    r.register(backfill::JOB, backfill::run);
}

#[derive(serde::Deserialize)]
struct Prune {}

/// The next hour's run is enqueued first (idempotent), so a failing prune never ends the
/// schedule; the batches are transactions of their own, so a retry picks up where a
/// failure stopped.
async fn prune(ctx: crate::jobs::Ctx, _: Prune) -> Result<(), crate::jobs::JobError> {
    let now = ctx.clock.now();
    crate::jobs::schedule::hourly(&ctx.db.write, PRUNE_JOB, serde_json::json!({}), now).await?;
    let removed = retention::prune(&ctx.db, now).await?;
    tracing::info!(removed, "removed Stripe events older than the retention");
    Ok(())
}
