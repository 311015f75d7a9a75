//! The webhook's work: verify the signature, read the envelope, then store the raw event
//! and enqueue its job in one transaction, group-committed with the other events that
//! arrive meanwhile (`group_commit`), before the sender is answered. A refused signature
//! stores nothing; it is counted in this process (`rejected`) and shown on the settings
//! page. A repeated event id is answered as received and changes nothing (the unique
//! index decides, so two deliveries racing each other cannot both go in; an event pruned
//! since is known by the id it left behind, `retention`).
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, NotSet, QueryFilter, Set,
    TryInsertResult,
};

use super::events::Envelope;
use super::group;
use super::{MAX_BODY, Status, secrets};
use crate::config::Secret;
use crate::domain::group_commit::{self, Batch, Written};
use crate::domain::signature;
use crate::domain::{Db, now};
use crate::entities::stripe_event;
use crate::error::AppError;

/// Signatures refused since this process started.
static REJECTED: AtomicU64 = AtomicU64::new(0);

pub fn rejected() -> u64 {
    REJECTED.load(Ordering::Relaxed)
}

/// What the sender is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored now (its row id).
    New(i64),
    /// Stored before: nothing changed.
    Duplicate,
}

/// Takes one delivery: `header` is `Stripe-Signature`, `body` the raw body.
pub async fn receive(
    db: &Db,
    env: Option<&Secret>,
    header: Option<&str>,
    body: &[u8],
) -> Result<Received, AppError> {
    if body.len() > MAX_BODY {
        return Err(AppError::PayloadTooLarge(
            "The body is larger than 1 MiB.".into(),
        ));
    }
    let at = now();
    let active = secrets::active(db, env).await?;
    let keys: Vec<&str> = active.iter().map(String::as_str).collect();
    if let Err(refusal) = signature::verify(header, body, &keys, at.timestamp()) {
        REJECTED.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::webhook_received("stripe", "rejected");
        tracing::warn!(
            reason = refusal.code(),
            "refused a Stripe webhook signature"
        );
        return Err(AppError::BadRequest(refusal.message().into()));
    }
    let incoming = parse(body, at)?;
    let received = group_commit::submit::<Events>(db, incoming).await?;
    let outcome = match received {
        Received::New(_) => "stored",
        Received::Duplicate => "duplicate",
    };
    crate::telemetry::webhook_received("stripe", outcome);
    Ok(received)
}

/// The envelope checked: a signed body that is not an event is refused with the reason
/// (logged; nothing is stored for it, as there is no event id to store it under).
fn parse(body: &[u8], at: DateTime<Utc>) -> Result<Incoming, AppError> {
    let refuse = |reason: String| {
        tracing::warn!(%reason, "refused a signed Stripe webhook body");
        AppError::BadRequest(reason)
    };
    let text =
        std::str::from_utf8(body).map_err(|_| refuse("The body is not UTF-8 text.".into()))?;
    let envelope: Envelope = serde_json::from_str(text)
        .map_err(|e| refuse(format!("The body is not a Stripe event: {e}.")))?;
    let id = envelope.id.trim();
    if id.is_empty() || id.len() > 255 {
        return Err(refuse("The event's id is empty or too long.".into()));
    }
    let kind = envelope.kind.trim();
    if kind.is_empty() || kind.len() > 100 {
        return Err(refuse("The event's type is empty or too long.".into()));
    }
    let created = envelope
        .created
        .and_then(|t| Utc.timestamp_opt(t, 0).single())
        .unwrap_or(at);
    let object_id = envelope
        .data
        .and_then(|d| d.object)
        .and_then(|o| o.id)
        .map(|id| id.chars().take(255).collect());
    Ok(Incoming {
        event_id: id.to_string(),
        kind: kind.to_string(),
        object_id,
        created,
        body: text.to_string(),
        at,
    })
}

/// A verified event waiting for its group's commit.
pub(crate) struct Incoming {
    event_id: String,
    kind: String,
    object_id: Option<String>,
    created: DateTime<Utc>,
    body: String,
    at: DateTime<Utc>,
}

/// Received events, committed in groups: many webhooks a second cost one transaction
/// per group on SQLite's one writer.
pub(crate) struct Events;

pub(crate) type Queue = group_commit::Queue<Events>;

impl Batch for Events {
    type Job = Incoming;
    type Out = Received;
    const MAX: usize = 256;
    const WRITER: &'static str = "Stripe event";

    fn slot(db: &Db) -> &Mutex<Option<Queue>> {
        &db.stripe_queue
    }

    fn write<'a>(
        _db: &'a Db,
        tx: &'a DatabaseTransaction,
        jobs: &'a [Incoming],
    ) -> impl Future<Output = Result<Written<Received>, AppError>> + Send + 'a {
        store(tx, jobs)
    }
}

/// One INSERT of the group's events (ids already stored are skipped) and one of their
/// jobs (a job per `group::SIZE` events), in the group's transaction.
async fn store(
    tx: &DatabaseTransaction,
    events: &[Incoming],
) -> Result<Written<Received>, AppError> {
    let rows = events.iter().map(|e| stripe_event::ActiveModel {
        id: NotSet,
        event_id: Set(e.event_id.clone()),
        kind: Set(e.kind.clone()),
        object_id: Set(e.object_id.clone()),
        created: Set(e.created),
        body: Set(e.body.clone()),
        status: Set(Status::Received.as_str().into()),
        error: Set(None),
        attempts: Set(0),
        received_at: Set(e.at),
        processed_at: Set(None),
    });
    let inserted = match stripe_event::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([stripe_event::Column::EventId])
        .exec_with_returning_many(tx)
        .await?
    {
        TryInsertResult::Inserted(rows) => rows,
        TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
    };
    let inserted = drop_pruned(tx, inserted).await?;
    let mut ids: HashMap<&str, i64> = inserted
        .iter()
        .map(|r| (r.event_id.as_str(), r.id))
        .collect();
    // One job per `group::SIZE` events stored together, applied together (`group`).
    let stored: Vec<i64> = inserted.iter().map(|r| r.id).collect();
    let jobs: Vec<_> = stored.chunks(group::SIZE).map(group::job).collect();
    crate::jobs::enqueue_many(tx, &jobs).await?;
    // The first of the group with an id is the one stored; a repeat in the same group
    // is a duplicate like any other.
    let answers = events
        .iter()
        .map(|e| {
            Ok(match ids.remove(e.event_id.as_str()) {
                Some(id) => Received::New(id),
                None => Received::Duplicate,
            })
        })
        .collect();
    Ok((answers, jobs.len()))
}

/// `inserted` without the events that were applied and pruned before (their rows, just
/// inserted, deleted again): a redelivery of a pruned event is a repeat like any other.
/// Read after the insert, which on PostgreSQL waits for a prune deleting the same id to
/// commit, so a prune racing a redelivery is seen too.
async fn drop_pruned(
    tx: &impl ConnectionTrait,
    inserted: Vec<stripe_event::Model>,
) -> Result<Vec<stripe_event::Model>, AppError> {
    // Events are kept a day at least, so a pruned one was made a day ago or more (twelve
    // hours allow for Stripe's clock): the events of the moment cost no lookup.
    let kept_at_least = chrono::Duration::hours(12);
    let event_ids: Vec<String> = inserted
        .iter()
        .filter(|r| r.created < r.received_at - kept_at_least)
        .map(|r| r.event_id.clone())
        .collect();
    if event_ids.is_empty() {
        return Ok(inserted);
    }
    let pruned = super::retention::pruned_among(tx, event_ids).await?;
    if pruned.is_empty() {
        return Ok(inserted);
    }
    let (again, new): (Vec<_>, Vec<_>) = inserted
        .into_iter()
        .partition(|r| pruned.contains(&r.event_id));
    stripe_event::Entity::delete_many()
        .filter(stripe_event::Column::Id.is_in(again.iter().map(|r| r.id)))
        .exec(tx)
        .await?;
    Ok(new)
}
