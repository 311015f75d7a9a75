//! The payments and refunds applied events put on contacts' timelines: kept while a
//! transaction applies its events, then written with their audit rows in two statements
//! (an activity and an audit row each), rather than two per event.
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, NotSet, Set};
use serde_json::json;

use crate::domain::audit;
use crate::entities::activity;
use crate::error::AppError;

/// An activity to write.
pub struct Logged {
    pub contact_id: i64,
    /// `payment` or `refund`.
    pub kind: &'static str,
    pub body: String,
    pub occurred_at: DateTime<Utc>,
    /// The Stripe event it came from, for the audit row.
    pub event_id: String,
}

/// Writes `logged` through `conn`, at `at`.
pub async fn write(
    conn: &impl ConnectionTrait,
    logged: &[Logged],
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    if logged.is_empty() {
        return Ok(());
    }
    let rows = logged.iter().map(|l| activity::ActiveModel {
        id: NotSet,
        kind: Set(l.kind.into()),
        body: Set(l.body.clone()),
        occurred_at: Set(l.occurred_at),
        deal_id: Set(None),
        contact_id: Set(Some(l.contact_id)),
        company_id: Set(None),
        author_id: Set(None),
        created_at: Set(at),
        version: Set(1),
        edited_at: Set(None),
    });
    let mut made = activity::Entity::insert_many(rows)
        .exec_with_returning(conn)
        .await?;
    // Ids are given in the order of the rows inserted (one statement, one writer of
    // the table's sequence per row), whatever order RETURNING lists them in.
    made.sort_by_key(|a| a.id);
    if made.len() != logged.len() {
        return Err(AppError::Internal(format!(
            "{} timeline rows written for {} payments and refunds",
            made.len(),
            logged.len()
        )));
    }
    let audits = made
        .iter()
        .zip(logged)
        .map(|(a, l)| {
            let detail =
                json!({"kind": l.kind, "contact": l.contact_id, "stripe_event": l.event_id});
            (a.id, detail)
        })
        .collect();
    audit::record_many(conn, "create", "activity", audits).await
}
