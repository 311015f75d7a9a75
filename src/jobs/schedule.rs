//! Work that recurs: a recurring job enqueues its next run itself. The next run's
//! idempotency key is its time, so whoever enqueues it (each process at start, and the
//! run before it, however often that run is retried) makes one job.
use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use sea_orm::ConnectionTrait;

use super::queue::{NewJob, enqueue_in};
use crate::error::AppError;

/// The first `hour`:00 UTC strictly after `now`.
pub fn next_daily(now: DateTime<Utc>, hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    let today = now.date_naive().and_time(time).and_utc();
    if today > now {
        today
    } else {
        today + Duration::days(1)
    }
}

/// Enqueues `kind` with `payload` to run at `at`, once for that time.
pub async fn once_at(
    conn: &impl ConnectionTrait,
    kind: &str,
    payload: serde_json::Value,
    at: DateTime<Utc>,
) -> Result<i64, AppError> {
    let key = format!("at {}", at.format("%Y-%m-%dT%H:%M:%SZ"));
    enqueue_in(conn, &NewJob::new(kind, payload).at(at).key(key)).await
}

/// Enqueues `kind` for the next `hour`:00 UTC after `now`, once.
pub async fn daily(
    conn: &impl ConnectionTrait,
    kind: &str,
    payload: serde_json::Value,
    hour: u32,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    once_at(conn, kind, payload, next_daily(now, hour)).await
}

/// The first whole hour (UTC) strictly after `now`.
pub fn next_hourly(now: DateTime<Utc>) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(now.hour(), 0, 0).unwrap_or(NaiveTime::MIN);
    now.date_naive().and_time(time).and_utc() + Duration::hours(1)
}

/// Enqueues `kind` for the next whole hour after `now`, once.
pub async fn hourly(
    conn: &impl ConnectionTrait,
    kind: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    once_at(conn, kind, payload, next_hourly(now)).await
}
