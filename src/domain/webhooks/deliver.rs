//! The `webhook.deliver` job: one POST of one delivery, its outcome written to the
//! delivery log. A 2xx is delivered; anything else (another status, a redirect, a timeout,
//! a refused address) is a failed attempt that runs again after the queue's backoff
//! (`jobs::backoff`) until `MAX_ATTEMPTS`, except a refused address, which is dead at
//! once. An endpoint whose deliveries have failed without a success for `DISABLE_AFTER`
//! is disabled and its creator (or, without one, every admin) is emailed; a success
//! clears its failing time.
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};
use tracing::Instrument;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{events::EventType, guard, slack};
use crate::domain::signature;
use crate::entities::{user, webhook_delivery, webhook_endpoint};
use crate::error::AppError;
use crate::jobs::{Ctx, JobError, Registry};
use crate::mail::content::{Content, Letter};
use crate::mail::outbox::{self, NewEmail};

pub const DELIVER: &str = "webhook.deliver";
/// Attempts per delivery: with the queue's backoff they span about four days, so an
/// endpoint down for a day is disabled before its first deliveries give up.
pub const MAX_ATTEMPTS: i32 = 10;
/// An endpoint failing for this long without a success is disabled.
pub const DISABLE_AFTER: Duration = Duration::hours(24);
/// The whole request, connect to last byte.
pub const TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// What the log keeps of a response body.
pub const EXCERPT_BYTES: usize = 1024;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const DEAD: &str = "dead";

/// What deliveries are sent with: the HTTP client (no proxy, no redirects, a resolver
/// that refuses private addresses unless `allow_private`), and the base URL Slack
/// messages link to.
pub struct Env {
    pub allow_private: bool,
    pub base_url: String,
    client: Result<reqwest::Client, String>,
}

impl Env {
    pub fn new(allow_private: bool, base_url: &str) -> Env {
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(StdDuration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Cairn/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(guard::Resolver));
        }
        Env {
            allow_private,
            base_url: base_url.trim_end_matches('/').to_string(),
            client: builder.build().map_err(|e| e.to_string()),
        }
    }
}

impl Default for Env {
    fn default() -> Env {
        Env::new(false, "http://localhost")
    }
}

/// Registers the delivery job with `env`.
pub fn register(r: &mut Registry, env: Arc<Env>) {
    r.register(DELIVER, move |ctx: Ctx, p: Deliver| {
        let env = env.clone();
        async move { run(&env, ctx, p).await }
    });
}

#[derive(Deserialize)]
pub struct Deliver {
    delivery_id: i64,
}

/// What one attempt came to.
struct Attempt {
    code: Option<i32>,
    latency_ms: Option<i64>,
    excerpt: Option<String>,
    /// None when delivered.
    error: Option<String>,
    /// Refused before sending (SSRF): trying again cannot help.
    refused: bool,
}

async fn run(env: &Env, ctx: Ctx, p: Deliver) -> Result<(), JobError> {
    let db = &ctx.db;
    let Some(d) = webhook_delivery::Entity::find_by_id(p.delivery_id)
        .one(&db.write)
        .await?
    else {
        return Ok(()); // its endpoint was deleted, and its log with it
    };
    if d.status == DELIVERED {
        return Ok(());
    }
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(d.endpoint_id)
        .one(&db.write)
        .await?
    else {
        return Ok(());
    };
    if !endpoint.active {
        let why = "Not sent: the endpoint is disabled.";
        write_attempt(&db.write, &d, DEAD, &unsent(why), false).await?;
        return Ok(());
    }
    let span = crate::traces::span(|| {
        let host = crate::traces::host_of(&endpoint.url);
        tracing::info_span!("webhook.deliver", %host, delivery = d.id)
    });
    let attempt = send(env, &endpoint, &d).instrument(span).await;
    let now = ctx.clock.now();
    let status = match (&attempt.error, attempt.refused) {
        (None, _) => DELIVERED,
        (Some(_), true) => DEAD,
        (Some(_), false) if ctx.attempt >= MAX_ATTEMPTS => DEAD,
        (Some(_), false) => FAILED,
    };
    crate::telemetry::webhook_delivered(status);
    let tx = db.begin_write().await?;
    write_attempt(&tx, &d, status, &attempt, true).await?;
    let disabled = endpoint_outcome(&tx, &endpoint, attempt.error.as_deref(), now).await?;
    tx.commit().await?;
    if disabled {
        db.webhooks.remove(&());
        crate::jobs::wake();
    }
    match (attempt.error, attempt.refused) {
        (None, _) => Ok(()),
        (Some(e), true) => Err(JobError::Permanent(e)),
        (Some(e), false) => Err(JobError::Retry(e)),
    }
}

fn unsent(why: &str) -> Attempt {
    Attempt {
        code: None,
        latency_ms: None,
        excerpt: None,
        error: Some(why.into()),
        refused: false,
    }
}

/// Sends delivery `d` to `endpoint` once.
async fn send(
    env: &Env,
    endpoint: &webhook_endpoint::Model,
    d: &webhook_delivery::Model,
) -> Attempt {
    let client = match &env.client {
        Ok(c) => c,
        Err(e) => return unsent(&format!("The HTTP client could not start: {e}")),
    };
    let url = match url::Url::parse(&endpoint.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => return unsent("The endpoint's URL is not an http(s) URL."),
    };
    if !env.allow_private
        && let Err(refusal) = guard::check_url(&url)
    {
        return Attempt {
            refused: true,
            ..unsent(&refusal.0)
        };
    }
    let body = match body_for(env, endpoint, d) {
        Ok(b) => b,
        Err(e) => return unsent(&e),
    };
    let t = crate::domain::now().timestamp();
    let started = Instant::now();
    let sent = client
        .post(url)
        .header("Content-Type", "application/json")
        .header(
            "Cairn-Signature",
            signature::header(&endpoint.secret, t, body.as_bytes()),
        )
        .header("Cairn-Event-Id", &d.event_id)
        .body(body)
        .send()
        .await;
    let latency_ms = Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => return failed_request(&e, latency_ms),
    };
    let code = response.status();
    let excerpt = excerpt(&mut response).await;
    let error = if code.is_success() {
        None
    } else if code.is_redirection() {
        let to = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?");
        Some(format!(
            "The receiver answered {code} (a redirect to {to}); webhooks do not follow redirects: give the final URL."
        ))
    } else {
        Some(format!("The receiver answered {code}."))
    };
    Attempt {
        code: Some(i32::from(code.as_u16())),
        latency_ms,
        excerpt,
        error,
        refused: false,
    }
}

/// A request that got no response: refused by the address guard, timed out, or could not
/// connect; the reason is the whole error chain (reqwest's own message is only the URL).
fn failed_request(e: &reqwest::Error, latency_ms: Option<i64>) -> Attempt {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut parts = Vec::new();
    let mut refused = None;
    while let Some(err) = source {
        if let Some(r) = err.downcast_ref::<guard::Refused>() {
            refused = Some(r.0.clone());
        }
        parts.push(err.to_string());
        source = err.source();
    }
    if let Some(why) = refused {
        return Attempt {
            refused: true,
            ..unsent(&why)
        };
    }
    let what = if e.is_timeout() {
        "The receiver did not answer within 10 seconds"
    } else {
        "The request failed"
    };
    Attempt {
        latency_ms,
        ..unsent(&format!("{what}: {}", parts.join(": ")))
    }
}

/// The first `EXCERPT_BYTES` of the response body (the rest is not read).
async fn excerpt(response: &mut reqwest::Response) -> Option<String> {
    let mut bytes: Vec<u8> = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    while text.len() > EXCERPT_BYTES {
        text.pop();
    }
    (!text.is_empty()).then_some(text)
}

/// The body an endpoint gets: the event as stored, or Slack's readable line.
fn body_for(
    env: &Env,
    endpoint: &webhook_endpoint::Model,
    d: &webhook_delivery::Model,
) -> Result<String, String> {
    if endpoint.kind != super::endpoints::SLACK {
        return Ok(d.payload.clone());
    }
    let event: serde_json::Value = serde_json::from_str(&d.payload)
        .map_err(|e| format!("The stored event is not JSON: {e}"))?;
    let kind = EventType::parse(&d.event_type).unwrap_or(EventType::WebhookTest);
    let text = slack::text(kind, &event["data"], &env.base_url);
    Ok(serde_json::json!({ "text": text }).to_string())
}

/// Writes an attempt's outcome on the delivery (`counted`: it was a real attempt).
async fn write_attempt(
    conn: &impl ConnectionTrait,
    d: &webhook_delivery::Model,
    status: &str,
    a: &Attempt,
    counted: bool,
) -> Result<(), AppError> {
    let delivered_at: Option<DateTime<Utc>> = (status == DELIVERED).then(crate::domain::now);
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::value(d.attempts + i32::from(counted)),
        )
        .col_expr(webhook_delivery::Column::StatusCode, Expr::value(a.code))
        .col_expr(
            webhook_delivery::Column::LatencyMs,
            Expr::value(a.latency_ms),
        )
        .col_expr(
            webhook_delivery::Column::ResponseExcerpt,
            Expr::value(a.excerpt.clone()),
        )
        .col_expr(
            webhook_delivery::Column::Error,
            Expr::value(a.error.clone()),
        )
        .col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(delivered_at),
        )
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The endpoint after an attempt: a success clears its failing time; a failure starts
/// it, and one that has lasted `DISABLE_AFTER` disables the endpoint and emails whom it
/// concerns. True when it was disabled now.
async fn endpoint_outcome(
    conn: &impl ConnectionTrait,
    e: &webhook_endpoint::Model,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let update =
        webhook_endpoint::Entity::update_many().filter(webhook_endpoint::Column::Id.eq(e.id));
    let Some(error) = error else {
        if e.failing_since.is_some() {
            update
                .col_expr(
                    webhook_endpoint::Column::FailingSince,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .exec(conn)
                .await?;
        }
        return Ok(false);
    };
    let Some(since) = e.failing_since else {
        update
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(Some(now)),
            )
            .filter(webhook_endpoint::Column::FailingSince.is_null())
            .exec(conn)
            .await?;
        return Ok(false);
    };
    if now - since < DISABLE_AFTER {
        return Ok(false);
    }
    let reason = format!(
        "Disabled automatically: every delivery failed for 24 hours (since {}). Last error: {}",
        since.format("%Y-%m-%d %H:%M UTC"),
        error.chars().take(300).collect::<String>()
    );
    let done = update
        .col_expr(webhook_endpoint::Column::Active, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(Some(reason.clone())),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Active.eq(true))
        .exec(conn)
        .await?;
    if done.rows_affected == 0 {
        return Ok(false);
    }
    crate::domain::audit::record(conn, None, "disable", "webhook_endpoint", e.id, None).await?;
    tell(conn, e, &reason, since).await?;
    Ok(true)
}

/// Emails the endpoint's creator, or every active admin when it has none (or they left).
async fn tell(
    conn: &impl ConnectionTrait,
    e: &webhook_endpoint::Model,
    reason: &str,
    since: DateTime<Utc>,
) -> Result<(), AppError> {
    let creator = match e.created_by {
        Some(id) => user::Entity::find_by_id(id)
            .one(conn)
            .await?
            .filter(|u| u.active),
        None => None,
    };
    let to: Vec<user::Model> = match creator {
        Some(u) => vec![u],
        None => {
            user::Entity::find()
                .filter(user::Column::Role.eq("admin"))
                .filter(user::Column::Active.eq(true))
                .all(conn)
                .await?
        }
    };
    let org = crate::mail::settings::org_name(conn).await?;
    for u in to {
        let content = Content::WebhookDisabled {
            endpoint_id: e.id,
            url: e.url.clone(),
            reason: reason.to_string(),
        };
        let email = NewEmail {
            user_id: Some(u.id),
            to: u.email,
            subject: content.subject(&org),
            letter: Letter {
                to_name: u.name,
                content,
            },
            key: format!("webhook-disabled-{}-{}-{}", e.id, since.timestamp(), u.id),
        };
        outbox::enqueue(conn, &email).await?;
    }
    Ok(())
}
