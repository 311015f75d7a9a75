//! How long stored Stripe events are kept (Settings → Integrations → Stripe, in days; 0
//! keeps them forever) and the job that deletes the processed and ignored ones older than
//! that, batch by batch, each batch its own short transaction, so a first prune of a big
//! table never holds the writer (and the webhook's acknowledgements behind it) for long.
//! Failed and dead events stay until someone reprocesses them.
//!
//! Idempotency outlives the events: each pruned event leaves its id behind
//! (`stripe_pruned_event`), in the same transaction that deletes it, and the webhook
//! answers a redelivery of such an id as a repeat (`pruned_among`); a pruned refund keeps
//! its charge's `amount_refunded`, which a later refund of that charge subtracts
//! (`refunded_pruned`).
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::Status;
use super::events::{Charge, Event};
use crate::domain::{Action, Actor, Db, audit, settings};
use crate::entities::{stripe_event, stripe_pruned_event};
use crate::error::AppError;

/// The setting's key.
pub const KEY: &str = "stripe.retention_days";
/// Kept 90 days unless an admin says otherwise.
pub const DEFAULT_DAYS: i64 = 90;
/// Ten years: the longest an admin can ask for short of forever (0).
pub const MAX_DAYS: i64 = 3650;
/// Events deleted per statement and transaction.
pub const BATCH: u64 = 1_000;

/// How many days processed and ignored events are kept; 0: forever.
pub async fn days(conn: &impl ConnectionTrait) -> Result<i64, AppError> {
    Ok(settings::get(conn, KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| (0..=MAX_DAYS).contains(d))
        .unwrap_or(DEFAULT_DAYS))
}

/// Sets the retention (admins), audited with the old and new value.
pub async fn set_days(db: &Db, actor: &Actor, days_text: &str) -> Result<i64, AppError> {
    actor.require(Action::Integrations)?;
    let days = days_text
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (0..=MAX_DAYS).contains(d))
        .ok_or_else(|| {
            AppError::field(
                "retention_days",
                format!("Keep events for 0 (forever) to {MAX_DAYS} days."),
            )
        })?;
    let tx = db.begin_write().await?;
    let old = self::days(&tx).await?;
    if old != days {
        settings::set(&tx, KEY, &days.to_string()).await?;
        let changes = json!({KEY: {"old": old, "new": days}});
        let detail = json!({"key": KEY, "changes": changes});
        audit::record(&tx, Some(actor), "update", "settings", 0, Some(detail)).await?;
    }
    tx.commit().await?;
    Ok(days)
}

/// Deletes the processed and ignored events received before the retention at `now`;
/// returns how many went (none when the retention is forever).
pub async fn prune(db: &Db, now: DateTime<Utc>) -> Result<u64, AppError> {
    let days = days(&db.read).await?;
    if days == 0 {
        return Ok(0);
    }
    let before = now - Duration::days(days);
    let mut total = 0;
    loop {
        let n = prune_batch(db, before, now).await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

/// One batch: the oldest `BATCH` prunable events, their ids kept, the rows deleted. Only
/// the ids are read (a body is a few KiB), and the bodies of processed refunds alone.
async fn prune_batch(db: &Db, before: DateTime<Utc>, now: DateTime<Utc>) -> Result<u64, AppError> {
    let tx = db.begin_write().await?;
    let rows: Vec<(i64, String, String, String)> = stripe_event::Entity::find()
        .select_only()
        .columns([
            stripe_event::Column::Id,
            stripe_event::Column::EventId,
            stripe_event::Column::Kind,
            stripe_event::Column::Status,
        ])
        .filter(stripe_event::Column::ReceivedAt.lt(before))
        .filter(
            stripe_event::Column::Status
                .is_in([Status::Processed.as_str(), Status::Ignored.as_str()]),
        )
        .order_by_asc(stripe_event::Column::ReceivedAt)
        .limit(BATCH)
        .into_tuple()
        .all(&tx)
        .await?;
    let n = rows.len() as u64;
    if n == 0 {
        return Ok(0);
    }
    let refunds: Vec<i64> = rows
        .iter()
        .filter(|(_, _, kind, status)| kind == REFUND && status == Status::Processed.as_str())
        .map(|(id, ..)| *id)
        .collect();
    let refunded = refunds_of(&tx, refunds).await?;
    let kept = rows.iter().map(|(id, event_id, ..)| {
        let charge = refunded.get(id);
        stripe_pruned_event::ActiveModel {
            event_id: Set(event_id.clone()),
            charge_id: Set(charge.map(|(c, _)| c.clone())),
            refunded: Set(charge.map(|(_, amount)| *amount)),
            pruned_at: Set(now),
        }
    });
    stripe_pruned_event::Entity::insert_many(kept)
        .on_conflict_do_nothing_on([stripe_pruned_event::Column::EventId])
        .exec_without_returning(&tx)
        .await?;
    stripe_event::Entity::delete_many()
        .filter(stripe_event::Column::Id.is_in(rows.into_iter().map(|(id, ..)| id)))
        .exec(&tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

const REFUND: &str = "charge.refunded";

/// Processed refunds `ids`' charges and `amount_refunded` (what a later refund of the
/// charge subtracts), by event row id.
async fn refunds_of(
    conn: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<HashMap<i64, (String, i64)>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let bodies: Vec<(i64, String)> = stripe_event::Entity::find()
        .select_only()
        .columns([stripe_event::Column::Id, stripe_event::Column::Body])
        .filter(stripe_event::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(bodies
        .into_iter()
        .filter_map(|(id, body)| {
            let charge = serde_json::from_str::<Event<Charge>>(&body)
                .ok()?
                .data
                .object;
            Some((id, (charge.id, charge.amount_refunded)))
        })
        .collect())
}

/// Those of `event_ids` that were stored, applied and pruned before.
pub(super) async fn pruned_among(
    conn: &impl ConnectionTrait,
    event_ids: Vec<String>,
) -> Result<HashSet<String>, AppError> {
    if event_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<String> = stripe_pruned_event::Entity::find()
        .select_only()
        .column(stripe_pruned_event::Column::EventId)
        .filter(stripe_pruned_event::Column::EventId.is_in(event_ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// The most `amount_refunded` that pruned refunds of `charge` had counted (`below`: of
/// those that counted less than it).
pub(super) async fn refunded_pruned(
    conn: &impl ConnectionTrait,
    charge: &str,
    below: Option<i64>,
) -> Result<i64, AppError> {
    let mut q = stripe_pruned_event::Entity::find()
        .select_only()
        .expr(Func::max(Expr::col(stripe_pruned_event::Column::Refunded)))
        .filter(stripe_pruned_event::Column::ChargeId.eq(charge));
    if let Some(b) = below {
        q = q.filter(stripe_pruned_event::Column::Refunded.lt(b));
    }
    let most: Option<Option<i64>> = q.into_tuple().one(conn).await?;
    Ok(most.flatten().unwrap_or(0))
}
