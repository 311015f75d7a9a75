//! Outbound webhooks: admins register endpoints (Settings → Webhooks) that get a signed
//! JSON body (or, for Slack, a readable line) when records change.
//!
//! - `events`: the event types and the body every delivery carries.
//! - `emit` (here): called INSIDE the transaction of each write; it adds a delivery row
//!   per subscribed active endpoint and its job in that same transaction, so a committed
//!   change is never lost and a rolled-back one sends nothing. Which endpoints exist is
//!   cached per database handle for `cache::TTL` (5 s): a write with no endpoint costs no
//!   statement most of the time. Changes made through this process clear the cache at
//!   once; another process sharing the database sees a new, changed or removed endpoint
//!   within those 5 s.
//! - `endpoints`: what Settings → Webhooks does (admins only), and the delivery log.
//! - `deliver`: the `webhook.deliver` job: the POST, its outcome, retries with the
//!   queue's backoff, and disabling an endpoint that failed for a day.
//! - `guard`: the addresses a delivery may not reach (loopback, private, link-local,
//!   metadata…), checked on the resolved address at connect time.
//! - `slack`: the one-line message a Slack endpoint gets.
//!
//! Nothing is ever sent from a user's request: a slow or dead receiver only slows a job.
pub mod deliver;
pub mod endpoints;
pub mod events;
pub mod guard;
pub mod records;
pub mod slack;

use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};
use serde_json::json;

pub use deliver::{DELIVER, Env, register};
pub use events::{Event, EventType, FormSubmitted, PaymentReceived};
pub use records::{Many, emit_about, emit_kind, emit_record};

use crate::domain::{Db, now};
use crate::entities::{webhook_delivery, webhook_endpoint};
use crate::error::AppError;
use crate::jobs::{NewJob, queue};

/// An active endpoint as `emit` needs it: its id and what it subscribed to.
#[derive(Clone, Debug)]
pub struct Subscriber {
    pub id: i64,
    pub events: Vec<String>,
}

/// The active endpoints, from the cache or read through `conn` (the write's transaction,
/// which on SQLite is the only connection free to read while it is open).
async fn subscribers(
    db: &Db,
    conn: &impl ConnectionTrait,
) -> Result<Arc<Vec<Subscriber>>, AppError> {
    if let Some(found) = db.webhooks.get(&()) {
        return Ok(found);
    }
    let rows = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Active.eq(true))
        .all(conn)
        .await?;
    let list: Arc<Vec<Subscriber>> = Arc::new(
        rows.into_iter()
            .map(|e| Subscriber {
                id: e.id,
                events: endpoints::event_list(&e.event_types),
            })
            .collect(),
    );
    db.webhooks.insert((), list.clone());
    Ok(list)
}

/// Whether any active endpoint wants `kind`: a write checks this before it reads what
/// only the event would need (a deleted record's last state).
pub async fn wants(
    db: &Db,
    conn: &impl ConnectionTrait,
    kind: EventType,
) -> Result<bool, AppError> {
    let subs = subscribers(db, conn).await?;
    Ok(subs
        .iter()
        .any(|s| s.events.iter().any(|e| e == kind.as_str())))
}

/// Queues `event` for every active endpoint subscribed to it, through `conn` (the
/// transaction of the write it is about). Returns how many deliveries were queued: when
/// any, call `jobs::wake()` after the commit.
pub async fn emit(db: &Db, conn: &impl ConnectionTrait, event: &Event) -> Result<usize, AppError> {
    let subs = subscribers(db, conn).await?;
    let to: Vec<i64> = subs
        .iter()
        .filter(|s| s.events.iter().any(|e| e == event.kind.as_str()))
        .map(|s| s.id)
        .collect();
    for endpoint in &to {
        queue_delivery(conn, *endpoint, event).await?;
    }
    Ok(to.len())
}

/// Adds one delivery of `event` to `endpoint` and its job, through `conn`.
pub(crate) async fn queue_delivery(
    conn: &impl ConnectionTrait,
    endpoint: i64,
    event: &Event,
) -> Result<i64, AppError> {
    let id = webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
        id: NotSet,
        endpoint_id: Set(endpoint),
        event_type: Set(event.kind.as_str().into()),
        event_id: Set(event.id.clone()),
        payload: Set(event.body().to_string()),
        status: Set(deliver::PENDING.into()),
        attempts: Set(0),
        status_code: Set(None),
        latency_ms: Set(None),
        response_excerpt: Set(None),
        error: Set(None),
        created_at: Set(now()),
        delivered_at: Set(None),
    })
    .exec(conn)
    .await?
    .last_insert_id;
    enqueue(conn, id).await?;
    Ok(id)
}

/// Wakes the workers after a commit that queued deliveries.
pub fn wake_if(queued: usize) {
    if queued > 0 {
        crate::jobs::wake();
    }
}

/// The job payload of delivery `id`.
pub(crate) fn job_payload(id: i64) -> NewJob {
    NewJob::new(DELIVER, json!({ "delivery_id": id })).attempts(deliver::MAX_ATTEMPTS)
}

/// Enqueues through `conn`; kept here so `emit` and redeliver share it.
pub(crate) async fn enqueue(conn: &impl ConnectionTrait, id: i64) -> Result<i64, AppError> {
    queue::enqueue_in(conn, &job_payload(id)).await
}
