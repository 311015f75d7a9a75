//! Settings → Webhooks (admins only): the endpoints, their delivery log, a test event,
//! redelivery. Every change clears this process's endpoint cache (other processes see
//! it within `cache::TTL`) and is audited.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::{Event, EventType};
use super::{deliver, enqueue, queue_delivery};
use crate::domain::{Action, Actor, Db, FieldErrorsExt, Page, audit, now};
use crate::entities::{webhook_delivery, webhook_endpoint};
use crate::error::{AppError, FieldErrors};

pub const JSON: &str = "json";
pub const SLACK: &str = "slack";
pub const MAX_URL: usize = 2048;
/// Delivery log rows per page.
pub const LOG_PAGE: u64 = 50;

/// What the form and `POST /api/v1/webhooks` send.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// Where deliveries are POSTed: http(s), at most 2048 characters. Loopback, private
    /// and link-local addresses are refused at delivery time.
    #[serde(default)]
    #[schema(required = true, max_length = 2048)]
    pub url: String,
    /// `json` (default: a signed JSON body) or `slack` (an incoming-webhook URL that gets
    /// a readable message).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub kind: String,
    /// The event types to send, at least one: contact.created, contact.updated,
    /// contact.deleted, the same for company, deal and task, deal.stage_changed, deal.won,
    /// deal.lost, payment.received, form.submitted.
    #[serde(default)]
    #[schema(required = true, min_items = 1)]
    pub events: Vec<String>,
}

/// A partial change of an endpoint: absent fields are kept (the secret always is).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// `json` or `slack`.
    pub kind: Option<String>,
    /// The whole set of event types (replaces the current ones).
    #[schema(min_items = 1)]
    pub events: Option<Vec<String>>,
}

/// An endpoint as Settings and the API show it: the secret masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub kind: String,
    pub secret_hint: String,
    pub events: Vec<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// A new endpoint and its signing secret, which is shown in full this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewEndpoint {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: verify `Cairn-Signature` with it. Never shown again.
    pub secret: String,
}

/// One delivery of the log as the API shows it (its body is not repeated).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_type: String,
    /// The same for every endpoint the event went to, and on every redelivery.
    pub event_id: String,
    /// pending, delivered, failed (retried) or dead.
    pub status: String,
    pub attempts: i32,
    /// The receiver's last HTTP status.
    pub status_code: Option<i32>,
    pub latency_ms: Option<i64>,
    /// The start of the receiver's last answer (at most 1 KiB).
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<webhook_delivery::Model> for Delivery {
    fn from(d: webhook_delivery::Model) -> Delivery {
        Delivery {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_type: d.event_type,
            event_id: d.event_id,
            status: d.status,
            attempts: d.attempts,
            status_code: d.status_code,
            latency_ms: d.latency_ms,
            response_excerpt: d.response_excerpt,
            error: d.error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

impl From<webhook_endpoint::Model> for Endpoint {
    fn from(e: webhook_endpoint::Model) -> Endpoint {
        Endpoint {
            id: e.id,
            secret_hint: mask(&e.secret),
            events: event_list(&e.event_types),
            url: e.url,
            kind: e.kind,
            active: e.active,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
        }
    }
}

/// `whsec_…1a2b`: enough to tell two secrets apart, nothing to sign with.
pub fn mask(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("whsec_…{tail}")
}

/// The subscribed types as stored (a JSON array); a bad value subscribes to nothing.
pub fn event_list(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// A new signing secret, as Stripe's look.
fn new_secret() -> Result<String, AppError> {
    Ok(format!(
        "whsec_{}",
        hex::encode(crate::domain::random_bytes::<24>()?)
    ))
}

/// The input checked: the URL, the kind, the event types (known, at least one).
fn check(input: &EndpointInput) -> Result<(String, String, Vec<String>), AppError> {
    let mut fields = FieldErrors::new();
    let url = input.url.trim().to_string();
    match url::Url::parse(&url) {
        _ if url.is_empty() => fields.set("url", "Give the URL deliveries are sent to."),
        _ if url.len() > MAX_URL => fields.set("url", "A URL is at most 2048 characters."),
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
        _ => fields.set(
            "url",
            "The URL must start with http:// or https:// and name a host.",
        ),
    }
    let kind = match input.kind.trim() {
        "" | JSON => JSON,
        SLACK => SLACK,
        _ => {
            fields.set("kind", "The kind is json or slack.");
            JSON
        }
    };
    let mut events: Vec<String> = Vec::new();
    for e in &input.events {
        match EventType::parse(e.trim()) {
            Some(t) if !events.iter().any(|x| x == t.as_str()) => events.push(t.as_str().into()),
            Some(_) => {}
            None => fields.set("events", format!("“{e}” is not an event type.")),
        }
    }
    if events.is_empty() && !fields.contains_key("events") {
        fields.set("events", "Choose at least one event type.");
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok((url, kind.to_string(), events))
}

fn events_json(events: &[String]) -> String {
    serde_json::Value::from(events.to_vec()).to_string()
}

pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Endpoint>, AppError> {
    actor.require(Action::Webhooks)?;
    let rows = webhook_endpoint::Entity::find()
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().map(Endpoint::from).collect())
}

pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Endpoint, AppError> {
    actor.require(Action::Webhooks)?;
    Ok(row(&db.read, id).await?.into())
}

async fn row(
    conn: &impl sea_orm::ConnectionTrait,
    id: i64,
) -> Result<webhook_endpoint::Model, AppError> {
    webhook_endpoint::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Webhook endpoint"))
}

/// Adds an endpoint; returns it and its secret, in full this once.
pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &EndpointInput,
) -> Result<(Endpoint, String), AppError> {
    actor.require(Action::Webhooks)?;
    let (url, kind, events) = check(input)?;
    let secret = new_secret()?;
    let t = now();
    let tx = db.begin_write().await?;
    let saved = webhook_endpoint::Entity::insert(webhook_endpoint::ActiveModel {
        id: NotSet,
        url: Set(url.clone()),
        kind: Set(kind),
        secret: Set(secret.clone()),
        event_types: Set(events_json(&events)),
        active: Set(true),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_by: Set(Some(actor.id)),
        created_at: Set(t),
        updated_at: Set(t),
    })
    .exec_with_returning(&tx)
    .await?;
    let detail = serde_json::json!({ "url": url, "events": events });
    audit::record(
        &tx,
        Some(actor),
        "create",
        "webhook_endpoint",
        saved.id,
        Some(detail),
    )
    .await?;
    tx.commit().await?;
    db.webhooks.remove(&());
    Ok((saved.into(), secret))
}

/// Changes an endpoint's URL, kind and event types (the secret stays).
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &EndpointInput,
) -> Result<Endpoint, AppError> {
    actor.require(Action::Webhooks)?;
    let checked = check(input)?;
    let tx = db.begin_write().await?;
    row(&tx, id).await?;
    let saved = store(&tx, actor, id, checked).await?;
    tx.commit().await?;
    db.webhooks.remove(&());
    Ok(saved.into())
}

/// Changes what `patch` gives of an endpoint, keeping the rest as stored.
pub async fn patch(
    db: &Db,
    actor: &Actor,
    id: i64,
    patch: &EndpointPatch,
) -> Result<Endpoint, AppError> {
    actor.require(Action::Webhooks)?;
    let tx = db.begin_write().await?;
    let current = row(&tx, id).await?;
    let input = EndpointInput {
        url: patch.url.clone().unwrap_or(current.url),
        kind: patch.kind.clone().unwrap_or(current.kind),
        events: match &patch.events {
            Some(e) => e.clone(),
            None => event_list(&current.event_types),
        },
    };
    let checked = check(&input)?;
    let saved = store(&tx, actor, id, checked).await?;
    tx.commit().await?;
    db.webhooks.remove(&());
    Ok(saved.into())
}

/// Writes endpoint `id`'s checked URL, kind and events and audits it, inside `tx`.
async fn store(
    tx: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    id: i64,
    (url, kind, events): (String, String, Vec<String>),
) -> Result<webhook_endpoint::Model, AppError> {
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Url, Expr::value(url.clone()))
        .col_expr(webhook_endpoint::Column::Kind, Expr::value(kind))
        .col_expr(
            webhook_endpoint::Column::EventTypes,
            Expr::value(events_json(&events)),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now()))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(tx)
        .await?;
    let detail = serde_json::json!({ "url": url, "events": events });
    audit::record(
        tx,
        Some(actor),
        "update",
        "webhook_endpoint",
        id,
        Some(detail),
    )
    .await?;
    row(tx, id).await
}

/// Removes an endpoint and its delivery log (queued deliveries are then skipped).
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::Webhooks)?;
    let tx = db.begin_write().await?;
    let e = row(&tx, id).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .exec(&tx)
        .await?;
    webhook_endpoint::Entity::delete_by_id(id).exec(&tx).await?;
    let detail = serde_json::json!({ "url": e.url });
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "webhook_endpoint",
        id,
        Some(detail),
    )
    .await?;
    tx.commit().await?;
    db.webhooks.remove(&());
    Ok(())
}

/// Turns a disabled endpoint on again, its failing time cleared.
pub async fn enable(db: &Db, actor: &Actor, id: i64) -> Result<Endpoint, AppError> {
    actor.require(Action::Webhooks)?;
    let tx = db.begin_write().await?;
    row(&tx, id).await?;
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Active, Expr::value(true))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            webhook_endpoint::Column::FailingSince,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now()))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    audit::record(&tx, Some(actor), "enable", "webhook_endpoint", id, None).await?;
    let saved = row(&tx, id).await?;
    tx.commit().await?;
    db.webhooks.remove(&());
    Ok(saved.into())
}

/// Queues a `webhook.test` event to endpoint `id` alone; the delivery's id.
pub async fn send_test(db: &Db, actor: &Actor, id: i64) -> Result<i64, AppError> {
    actor.require(Action::Webhooks)?;
    let tx = db.begin_write().await?;
    let e = row(&tx, id).await?;
    if !e.active {
        return Err(disabled());
    }
    let event = Event::of_value(
        EventType::WebhookTest,
        serde_json::json!({ "endpoint_id": id, "sent_by": actor.id }),
    );
    let delivery = queue_delivery(&tx, id, &event).await?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(delivery)
}

fn disabled() -> AppError {
    AppError::Conflict {
        message: "This endpoint is disabled: enable it first.".into(),
        fields: FieldErrors::new(),
    }
}

/// Endpoint `id`'s deliveries, newest first.
pub async fn deliveries(
    db: &Db,
    actor: &Actor,
    id: i64,
    page: u64,
) -> Result<Page<webhook_delivery::Model>, AppError> {
    actor.require(Action::Webhooks)?;
    row(&db.read, id).await?;
    let q = webhook_delivery::Entity::find().filter(webhook_delivery::Column::EndpointId.eq(id));
    let total = q.clone().count(&db.read).await?;
    let items = q
        .order_by_desc(webhook_delivery::Column::Id)
        .offset((page.max(1) - 1) * LOG_PAGE)
        .limit(LOG_PAGE)
        .all(&db.read)
        .await?;
    Ok(Page {
        total,
        total_is_estimate: false,
        page: page.max(1),
        per_page: LOG_PAGE,
        items,
    })
}

/// Sends delivery `id` again (same event id, so a receiver that got it already can tell),
/// as a new job with a fresh set of attempts. Its endpoint must be active.
pub async fn redeliver(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> Result<webhook_delivery::Model, AppError> {
    actor.require(Action::Webhooks)?;
    let tx = db.begin_write().await?;
    let d = webhook_delivery::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Delivery"))?;
    if !row(&tx, d.endpoint_id).await?.active {
        return Err(disabled());
    }
    if d.status == deliver::PENDING {
        return Err(AppError::Conflict {
            message: "This delivery is queued already.".into(),
            fields: FieldErrors::new(),
        });
    }
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(deliver::PENDING),
        )
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    enqueue(&tx, id).await?;
    audit::record(&tx, Some(actor), "redeliver", "webhook_delivery", id, None).await?;
    let saved = webhook_delivery::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::not_found("Delivery"))?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(saved)
}
