//! The shapes read from Stripe's JSON (only the fields Cairn uses; Stripe adds fields
//! freely, so the rest is ignored), and what Settings → Integrations → Stripe lists and
//! does with stored events.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use serde_json::json;

use super::{JOB, MAX_ATTEMPTS, Status};
use crate::domain::{Action, Actor, Db, audit};
use crate::entities::stripe_event;
use crate::error::AppError;
use crate::jobs::NewJob;

/// What every event has: read at the webhook, before it is stored.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub data: Option<EnvelopeData>,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeData {
    #[serde(default)]
    pub object: Option<Identified>,
}

#[derive(Debug, Deserialize)]
pub struct Identified {
    #[serde(default)]
    pub id: Option<String>,
}

/// An event with its object, as the job reads it.
#[derive(Debug, Deserialize)]
pub struct Event<T> {
    pub data: Data<T>,
}

#[derive(Debug, Deserialize)]
pub struct Data<T> {
    pub object: T,
}

/// `invoice.paid`'s object.
#[derive(Debug, Deserialize)]
pub struct Invoice {
    pub id: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    pub amount_paid: i64,
    pub currency: String,
    #[serde(default)]
    pub status_transitions: Option<Transitions>,
}

#[derive(Debug, Deserialize)]
pub struct Transitions {
    #[serde(default)]
    pub paid_at: Option<i64>,
}

/// `customer.created` / `customer.updated`'s object.
#[derive(Debug, Deserialize)]
pub struct Customer {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// `customer.subscription.*`'s object.
#[derive(Debug, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    pub status: String,
    #[serde(default)]
    pub items: Option<List<Item>>,
}

#[derive(Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct Item {
    #[serde(default)]
    pub quantity: Option<i64>,
    pub price: Price,
}

#[derive(Debug, Deserialize)]
pub struct Price {
    pub id: String,
    #[serde(default)]
    pub nickname: Option<String>,
    #[serde(default)]
    pub unit_amount: Option<i64>,
    pub currency: String,
    #[serde(default)]
    pub recurring: Option<Recurring>,
}

#[derive(Debug, Deserialize)]
pub struct Recurring {
    pub interval: String,
    #[serde(default)]
    pub interval_count: Option<i64>,
}

/// `charge.refunded`'s object; `amount_refunded` is the charge's refunds so far.
#[derive(Debug, Deserialize)]
pub struct Charge {
    pub id: String,
    #[serde(default)]
    pub customer: Option<String>,
    pub amount_refunded: i64,
    pub currency: String,
    #[serde(default)]
    pub billing_details: Option<BillingDetails>,
    #[serde(default)]
    pub receipt_email: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BillingDetails {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// One row of the settings page's list.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: i64,
    pub event_id: String,
    pub kind: String,
    pub status: String,
    pub error: Option<String>,
    pub attempts: i32,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<stripe_event::Model> for Listed {
    fn from(m: stripe_event::Model) -> Listed {
        Listed {
            id: m.id,
            event_id: m.event_id,
            kind: m.kind,
            status: m.status,
            error: m.error,
            attempts: m.attempts,
            received_at: m.received_at,
            processed_at: m.processed_at,
        }
    }
}

pub const PER_PAGE: u64 = 50;

/// A page of events, newest first (ids grow with arrival), optionally of one status;
/// `before` is the last id of the previous page. One more than a page is read to know
/// whether another follows.
pub async fn list(
    db: &Db,
    actor: &Actor,
    status: Option<Status>,
    before: Option<i64>,
) -> Result<(Vec<Listed>, Option<i64>), AppError> {
    actor.require(Action::Integrations)?;
    let mut q = stripe_event::Entity::find();
    if let Some(s) = status {
        q = q.filter(stripe_event::Column::Status.eq(s.as_str()));
    }
    if let Some(b) = before {
        q = q.filter(stripe_event::Column::Id.lt(b));
    }
    let mut rows: Vec<Listed> = q
        .order_by_desc(stripe_event::Column::Id)
        .limit(PER_PAGE + 1)
        .all(&db.read)
        .await?
        .into_iter()
        .map(Listed::from)
        .collect();
    let next = if rows.len() as u64 > PER_PAGE {
        rows.truncate(PER_PAGE as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// How many events each status holds, for the page's filter.
pub async fn count(db: &Db, status: Status) -> Result<u64, AppError> {
    Ok(stripe_event::Entity::find()
        .filter(stripe_event::Column::Status.eq(status.as_str()))
        .count(&db.read)
        .await?)
}

/// Runs an event again: back to received, its attempts reset, a new job queued. An
/// event already processed is refused (its payment would be counted twice).
pub async fn reprocess(db: &Db, actor: &Actor, id: i64) -> Result<Listed, AppError> {
    actor.require(Action::Integrations)?;
    let tx = db.begin_write().await?;
    let event = stripe_event::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Stripe event"))?;
    if event.status == Status::Processed.as_str() {
        return Err(AppError::conflict_field(
            "status",
            "This event was applied already; running it again would count it twice.",
        ));
    }
    stripe_event::Entity::update_many()
        .col_expr(
            stripe_event::Column::Status,
            Expr::value(Status::Received.as_str()),
        )
        .col_expr(
            stripe_event::Column::Error,
            Expr::value(Option::<String>::None),
        )
        .col_expr(stripe_event::Column::Attempts, Expr::value(0))
        .filter(stripe_event::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    crate::jobs::queue::enqueue_in(&tx, &job(id)).await?;
    audit::record(
        &tx,
        Some(actor),
        "reprocess",
        "stripe_event",
        id,
        Some(json!({"event": event.event_id})),
    )
    .await?;
    let again = stripe_event::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Stripe event"))?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(again.into())
}

/// The job that applies stored event `id`.
pub fn job(id: i64) -> NewJob {
    NewJob::new(JOB, json!({ "event": id })).attempts(MAX_ATTEMPTS)
}
