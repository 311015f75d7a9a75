//! How long the audit log keeps its rows (Settings → Audit log, in days) and the daily job
//! that removes older ones, batch by batch so a big first purge never holds the writer
//! for long.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::domain::{Action, Actor, Db, settings};
use crate::entities::audit_log;
use crate::error::AppError;

/// The setting's key.
pub const KEY: &str = "audit_retention_days";
/// Kept for a year unless an admin says otherwise.
pub const DEFAULT_DAYS: i64 = 365;
/// Ten years: the longest an admin can ask for.
pub const MAX_DAYS: i64 = 3650;
/// Rows removed per transaction.
pub const BATCH: u64 = 5_000;

/// How many days rows are kept.
pub async fn days(conn: &impl ConnectionTrait) -> Result<i64, AppError> {
    Ok(settings::get(conn, KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| (1..=MAX_DAYS).contains(d))
        .unwrap_or(DEFAULT_DAYS))
}

/// Sets the retention (admins), audited with the old and new value.
pub async fn set_days(db: &Db, actor: &Actor, days_text: &str) -> Result<i64, AppError> {
    actor.require(Action::AuditLog)?;
    let days = days_text
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=MAX_DAYS).contains(d))
        .ok_or_else(|| {
            AppError::field(
                "retention_days",
                format!("Keep entries for 1 to {MAX_DAYS} days."),
            )
        })?;
    let tx = db.begin_write().await?;
    let old = self::days(&tx).await?;
    if old != days {
        settings::set(&tx, KEY, &days.to_string()).await?;
        super::record(
            &tx,
            Some(actor),
            "update",
            "settings",
            0,
            Some(json!({"key": KEY, "changes": {KEY: {"old": old, "new": days}}})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(days)
}

/// Removes the rows older than the retention at `now`; returns how many went. The
/// removal itself is recorded (by no one, with the last batch) when it removed anything.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> Result<u64, AppError> {
    let days = days(&db.read).await?;
    let before = now - Duration::days(days);
    let mut total = 0;
    loop {
        let tx = db.begin_write().await?;
        let ids: Vec<i64> = audit_log::Entity::find()
            .select_only()
            .column(audit_log::Column::Id)
            .filter(audit_log::Column::CreatedAt.lt(before))
            .order_by_asc(audit_log::Column::CreatedAt)
            .limit(BATCH)
            .into_tuple()
            .all(&tx)
            .await?;
        let n = ids.len() as u64;
        if n > 0 {
            audit_log::Entity::delete_many()
                .filter(audit_log::Column::Id.is_in(ids))
                .exec(&tx)
                .await?;
        }
        total += n;
        let last = n < BATCH;
        if last && total > 0 {
            super::record(
                &tx,
                None,
                "purge",
                "audit_log",
                0,
                Some(json!({"removed": total, "older_than": before, "retention_days": days})),
            )
            .await?;
        }
        tx.commit().await?;
        if last {
            return Ok(total);
        }
    }
}
