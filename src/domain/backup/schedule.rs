//! The scheduled backup (Settings → Backups, admins): on or off, a time of day in the
//! workspace's time zone, a folder on the server and how many copies to keep. A job
//! (`JOB`) planned for the next such time copies the database to
//! `<folder>/cairn-YYYY-MM-DD.db` (`copy_to`) and removes the oldest copies beyond the
//! number kept. Each run plans the next one first; saving the setting plans one too, and
//! a run planned under an older setting (another time, or switched off) does nothing.
//! SQLite only: on PostgreSQL the page says to use pg_dump.
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{PG_ADVICE, copy_to};
use crate::domain::{Action, Actor, Db, audit, organisation, settings};
use crate::error::AppError;
use crate::jobs::registry::{Ctx, JobError, Registry};
use crate::jobs::schedule::once_at;

pub const JOB: &str = "backup.scheduled";
const ENABLED: &str = "backup.enabled";
const TIME: &str = "backup.time";
const FOLDER: &str = "backup.folder";
const KEEP: &str = "backup.keep";
pub const DEFAULT_TIME: &str = "02:00";
pub const DEFAULT_KEEP: u32 = 7;
pub const MAX_KEEP: u32 = 365;
/// The copies' names: `cairn-` + the day + `.db`.
const PREFIX: &str = "cairn-";
const SUFFIX: &str = ".db";

/// The setting as stored (defaults for what was never set).
#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    pub enabled: bool,
    /// `HH:MM`, in the workspace's time zone.
    pub time: String,
    pub folder: String,
    pub keep: u32,
}

impl Schedule {
    fn at(&self) -> NaiveTime {
        NaiveTime::parse_from_str(&self.time, "%H:%M").unwrap_or(NaiveTime::MIN)
    }
}

/// What the settings form sends.
#[derive(Debug, Default, Deserialize)]
pub struct Form {
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub folder: String,
    #[serde(default)]
    pub keep: String,
}

pub async fn load(conn: &impl ConnectionTrait) -> Result<Schedule, AppError> {
    let get = |v: Option<String>, d: &str| v.unwrap_or_else(|| d.to_string());
    Ok(Schedule {
        enabled: settings::get(conn, ENABLED).await?.as_deref() == Some("true"),
        time: get(settings::get(conn, TIME).await?, DEFAULT_TIME),
        folder: settings::get(conn, FOLDER).await?.unwrap_or_default(),
        keep: settings::get(conn, KEEP)
            .await?
            .and_then(|k| k.parse().ok())
            .unwrap_or(DEFAULT_KEEP),
    })
}

/// Saves the setting (admins, SQLite only), audited, and plans the next run.
pub async fn save(db: &Db, actor: &Actor, form: &Form) -> Result<Schedule, AppError> {
    actor.require(Action::Backups)?;
    if !db.is_sqlite() {
        return Err(AppError::BadRequest(PG_ADVICE.into()));
    }
    let s = validate(form)?;
    let tx = db.begin_write().await?;
    let old = load(&tx).await?;
    settings::set(&tx, ENABLED, if s.enabled { "true" } else { "false" }).await?;
    settings::set(&tx, TIME, &s.time).await?;
    settings::set(&tx, FOLDER, &s.folder).await?;
    settings::set(&tx, KEEP, &s.keep.to_string()).await?;
    let detail = json!({"key": "backup", "changes": {"old": old, "new": s}});
    audit::record(&tx, Some(actor), "update", "settings", 0, Some(detail)).await?;
    if s.enabled {
        plan(&tx, &s, zone(&tx).await?, crate::domain::now()).await?;
    }
    tx.commit().await?;
    Ok(s)
}

fn validate(form: &Form) -> Result<Schedule, AppError> {
    let enabled = form.enabled.as_deref().is_some_and(|v| !v.is_empty());
    let time = NaiveTime::parse_from_str(form.time.trim(), "%H:%M")
        .map_err(|_| AppError::field("time", "A time of day as HH:MM, e.g. 02:30."))?;
    let keep = form
        .keep
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|k| (1..=MAX_KEEP).contains(k))
        .ok_or_else(|| AppError::field("keep", format!("Keep 1 to {MAX_KEEP} copies.")))?;
    let folder = form.folder.trim().to_string();
    if enabled && !Path::new(&folder).is_absolute() {
        return Err(AppError::field(
            "folder",
            "A folder on the server, as an absolute path (e.g. /var/backups/cairn).",
        ));
    }
    if enabled && let Err(e) = std::fs::create_dir_all(&folder) {
        return Err(AppError::field(
            "folder",
            format!("The server cannot make or use this folder: {e}."),
        ));
    }
    Ok(Schedule {
        enabled,
        time: time.format("%H:%M").to_string(),
        folder,
        keep,
    })
}

async fn zone(conn: &impl ConnectionTrait) -> Result<Tz, AppError> {
    let org = organisation::load(conn).await?;
    Ok(org.time_zone.parse().unwrap_or(Tz::UTC))
}

/// The first `time` in `tz` strictly after `now` (a time a clock change skips is taken
/// an hour later).
pub fn next_run(now: DateTime<Utc>, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    (0..3)
        .filter_map(|d| today.checked_add_days(chrono::Days::new(d)))
        .filter_map(|day| {
            let local = day.and_time(time);
            tz.from_local_datetime(&local).earliest().or_else(|| {
                tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
        })
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t > now)
        .unwrap_or(now + chrono::Duration::days(1))
}

async fn plan(
    conn: &impl ConnectionTrait,
    s: &Schedule,
    tz: Tz,
    after: DateTime<Utc>,
) -> Result<(), AppError> {
    let at = next_run(after, s.at(), tz);
    once_at(conn, JOB, json!({ "at": at }), at).await?;
    Ok(())
}

/// At start: plans the next run when the schedule is on (once per time, whoever asks).
pub async fn ensure(db: &Db) -> Result<(), AppError> {
    if !db.is_sqlite() {
        return Ok(());
    }
    let s = load(&db.read).await?;
    if s.enabled {
        plan(&db.write, &s, zone(&db.read).await?, crate::domain::now()).await?;
    }
    Ok(())
}

pub fn register(r: &mut Registry) {
    r.register(JOB, run);
}

#[derive(Deserialize)]
struct Planned {
    at: DateTime<Utc>,
}

async fn run(ctx: Ctx, p: Planned) -> Result<(), JobError> {
    let s = load(&ctx.db.read).await?;
    let tz = zone(&ctx.db.read).await?;
    let local = p.at.with_timezone(&tz);
    if !s.enabled || local.time() != s.at() {
        tracing::info!(planned = %p.at, "a backup planned under an older setting was skipped");
        return Ok(());
    }
    plan(&ctx.db.write, &s, tz, ctx.clock.now().max(p.at)).await?;
    let (file, removed) = run_now(&ctx.db, &s, local.date_naive()).await?;
    tracing::info!(file = %file.display(), removed, "scheduled backup written");
    Ok(())
}

/// Writes the copy for `day` into the folder and removes the oldest beyond `keep`;
/// the file and how many were removed.
pub async fn run_now(db: &Db, s: &Schedule, day: NaiveDate) -> Result<(PathBuf, usize), AppError> {
    let folder = Path::new(&s.folder);
    std::fs::create_dir_all(folder)
        .map_err(|e| AppError::Internal(format!("cannot make {}: {e}", folder.display())))?;
    let file = folder.join(format!("{PREFIX}{day}{SUFFIX}"));
    copy_to(db, &file).await?;
    let removed = prune(folder, s.keep)?;
    Ok((file, removed))
}

/// Removes the oldest copies (by the day in their names) beyond `keep`; other files in
/// the folder are never touched.
fn prune(folder: &Path, keep: u32) -> Result<usize, AppError> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| AppError::Internal(format!("cannot list {}: {e}", folder.display())))?;
    let mut copies: Vec<(NaiveDate, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let day = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
            let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
            Some((day, e.path()))
        })
        .collect();
    copies.sort();
    let extra = copies.len().saturating_sub(keep as usize);
    for (_, path) in &copies[..extra] {
        std::fs::remove_file(path)
            .map_err(|e| AppError::Internal(format!("cannot remove {}: {e}", path.display())))?;
    }
    Ok(extra)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_next_run_is_the_time_in_the_zone_after_now() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap();
        let two = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        let next = next_run(now, two, chrono_tz::Europe::Berlin);
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 12, 4, 1, 0, 0).unwrap());
        let later = NaiveTime::from_hms_opt(14, 30, 0).unwrap();
        let today = next_run(now, later, chrono_tz::UTC);
        assert_eq!(today, Utc.with_ymd_and_hms(2026, 12, 3, 14, 30, 0).unwrap());
    }
}
