//! `cairn doctor`: checks a deployment with the settings `cairn serve` would start with,
//! and prints one line per check: `ok`, `warn` (works, but someone should look) or
//! `FAIL` (the server would not start, or something users rely on is broken). Exits 1
//! when anything failed. It changes nothing: no migration runs, nothing is sent.
use std::path::{Path, PathBuf};

use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter};

use crate::config::Config;
use crate::domain::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's finding.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    pub said: String,
}

fn found(level: Level, check: &'static str, said: impl Into<String>) -> Finding {
    Finding {
        level,
        check,
        said: said.into(),
    }
}

/// Free space below which the disk is a failure (SQLite needs room for its WAL and a
/// backup's copy), and below which it is a warning.
const DISK_FAIL_BYTES: u64 = 100 << 20;
const DISK_WARN_BYTES: u64 = 1 << 30;

/// Every check, in the order a person fixing things would go.
pub async fn examine(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(folder(config));
    // Opening a SQLite file that is not there would create it: doctor changes nothing.
    if let Some(file) = crate::domain::backup::sqlite_path(&config.database_url)
        && !file.exists()
    {
        out.push(found(
            Level::Warn,
            "database",
            format!(
                "{} does not exist yet: cairn serve creates it",
                file.display()
            ),
        ));
        out.extend(settings(config, false));
        return out;
    }
    let db = match Db::connect(&config.database_url).await {
        Ok(db) => db,
        Err(e) => {
            out.push(found(
                Level::Fail,
                "database",
                format!("cannot be opened: {e}"),
            ));
            out.extend(settings(config, false));
            return out;
        }
    };
    let migrated = match db.ping().await {
        Err(e) => {
            out.push(found(
                Level::Fail,
                "database",
                format!("does not answer: {e}"),
            ));
            false
        }
        Ok(()) => {
            let shown = crate::config::redact_url(&config.database_url);
            out.push(found(Level::Ok, "database", format!("{shown} answers")));
            let m = migrations(&db).await;
            let ok = m.level != Level::Fail && !m.said.contains("pending");
            out.push(m);
            ok
        }
    };
    out.extend(settings(config, !db.is_sqlite()));
    if migrated {
        out.extend(workspace(&db, config).await);
    }
    out
}

/// The SQLite file's folder can be written (or, missing, created: `cairn serve` makes
/// it); the disk under it has room.
fn folder(config: &Config) -> Vec<Finding> {
    let Some(file) = crate::domain::backup::sqlite_path(&config.database_url) else {
        return vec![disk(Path::new("."))];
    };
    let dir: PathBuf = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The folder, or the nearest one above it that exists: where serve would write.
    let existing = dir
        .ancestors()
        .find(|a| a.is_dir())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let probe = existing.join(format!(".cairn-doctor-{}", std::process::id()));
    let writable = std::fs::write(&probe, b"probe").and_then(|()| std::fs::remove_file(&probe));
    let said = match (existing == dir, &writable) {
        (true, Ok(())) => format!("{} is writable", dir.display()),
        (false, Ok(())) => format!(
            "{} does not exist; cairn serve creates it in {}",
            dir.display(),
            existing.display()
        ),
        (_, Err(e)) => format!(
            "{} cannot be written by this user (nor created in {}): {e}",
            dir.display(),
            existing.display()
        ),
    };
    let level = match writable {
        Ok(()) => Level::Ok,
        Err(_) => Level::Fail,
    };
    vec![found(level, "data folder", said), disk(&existing)]
}

fn disk(dir: &Path) -> Finding {
    match free_bytes(dir) {
        None => found(
            Level::Warn,
            "disk",
            format!("free space under {} is unknown", dir.display()),
        ),
        Some(free) => {
            let mib = free >> 20;
            let level = match free {
                f if f < DISK_FAIL_BYTES => Level::Fail,
                f if f < DISK_WARN_BYTES => Level::Warn,
                _ => Level::Ok,
            };
            found(
                level,
                "disk",
                format!("{mib} MiB free under {}", dir.display()),
            )
        }
    }
}

#[cfg(unix)]
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a NUL-terminated string and `stat` is written by statvfs before
    // it is read (only when it returns 0).
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

#[cfg(not(unix))]
fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

#[derive(FromQueryResult)]
struct Applied {
    version: String,
}

/// The migrations applied to the database, or None when it has no migrations table (an
/// empty database, migrated at the first start).
async fn applied(db: &Db) -> Option<Vec<String>> {
    let read = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new("seaql_migrations"))
        .to_owned();
    let rows = Applied::find_by_statement(db.backend().build(&read))
        .all(&db.read)
        .await
        .ok()?;
    Some(rows.into_iter().map(|a| a.version).collect())
}

fn known() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

/// Why this binary must not migrate or serve the database, if a newer Cairn migrated it:
/// `cairn serve` refuses to start with this message.
pub async fn newer_database(db: &Db) -> Option<String> {
    let known = known();
    let unknown: Vec<String> = applied(db)
        .await?
        .into_iter()
        .filter(|v| !known.contains(v))
        .collect();
    let first = unknown.first()?;
    Some(format!(
        "the database was migrated by a newer Cairn ({} migration(s) this binary does not know, e.g. {first}): run that version, or restore a backup made before the upgrade",
        unknown.len()
    ))
}

/// Every migration this binary knows applied, none it does not know.
async fn migrations(db: &Db) -> Finding {
    if let Some(why) = newer_database(db).await {
        return found(Level::Fail, "migrations", why);
    }
    let known = known();
    let Some(applied) = applied(db).await else {
        return found(
            Level::Warn,
            "migrations",
            "none applied yet (an empty database): cairn serve or cairn migrate applies them",
        );
    };
    let pending = known.len().saturating_sub(applied.len());
    match pending {
        0 => found(
            Level::Ok,
            "migrations",
            format!("all {} applied", known.len()),
        ),
        n => found(
            Level::Warn,
            "migrations",
            format!("{n} pending: they run when cairn serve starts (or cairn migrate)"),
        ),
    }
}

/// What the environment says, without the database.
fn settings(config: &Config, shared_database: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let https = config.base_url.starts_with("https://");
    out.push(match (config.behind_proxy, https) {
        (true, false) => found(
            Level::Fail,
            "base URL",
            format!(
                "{} is not https behind a proxy: cookies are sent without Secure and emailed links say http (set CAIRN_BASE_URL=https://…)",
                config.base_url
            ),
        ),
        (false, false) if !config.bind.ip().is_loopback() => found(
            Level::Warn,
            "base URL",
            format!(
                "{} on a public address without https: put a TLS proxy in front (contrib/Caddyfile) and set CAIRN_BASE_URL and CAIRN_BEHIND_PROXY",
                config.base_url
            ),
        ),
        _ => found(Level::Ok, "base URL", config.base_url.clone()),
    });
    out.push(match (shared_database, config.secret_key.is_some()) {
        (true, true) => found(
            Level::Ok,
            "secret key",
            "CAIRN_SECRET_KEY is set: every process sharing the database must have the same",
        ),
        (true, false) => found(
            Level::Ok,
            "secret key",
            "kept in the database, so every process sharing it signs cookies alike",
        ),
        (false, _) => found(Level::Ok, "secret key", "kept in the database"),
    });
    if config.job_workers == 0 {
        out.push(found(
            Level::Warn,
            "jobs",
            "CAIRN_JOB_WORKERS=0: this process runs no background jobs (email, webhooks, imports); another process must",
        ));
    }
    out
}

/// What the migrated database says: users, email, backups, dead jobs.
async fn workspace(db: &Db, config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    match crate::entities::user::Entity::find().count(&db.read).await {
        Ok(0) => out.push(found(
            Level::Warn,
            "users",
            "none yet: start cairn serve and open the setup link it logs",
        )),
        Ok(n) => out.push(found(Level::Ok, "users", format!("{n}"))),
        Err(e) => out.push(found(Level::Fail, "users", format!("cannot be read: {e}"))),
    }
    out.push(match crate::mail::settings::effective(&db.read, &config.mail).await {
        Err(e) => found(Level::Fail, "email", format!("the settings cannot be read: {e}")),
        Ok(mail) => match &mail.smtp {
            None => found(
                Level::Warn,
                "email",
                "no SMTP server (CAIRN_SMTP_URL or Settings → Email): email waits in the outbox",
            ),
            Some(server) => match crate::mail::smtp::reachable(server).await {
                Ok(()) => found(Level::Ok, "email", format!("{} answers", server.shown())),
                Err(e) => found(Level::Fail, "email", e),
            },
        },
    });
    if db.is_sqlite() {
        out.push(
            match crate::domain::backup::schedule::load(&db.read).await {
                Ok(s) if s.enabled => found(
                    Level::Ok,
                    "backups",
                    format!("every day at {} into {}", s.time, s.folder),
                ),
                Ok(_) => found(
                    Level::Warn,
                    "backups",
                    "none scheduled: Settings → Backups (or cairn backup from cron)",
                ),
                Err(e) => found(
                    Level::Fail,
                    "backups",
                    format!("the schedule cannot be read: {e}"),
                ),
            },
        );
    }
    let dead = crate::entities::job::Entity::find()
        .filter(crate::entities::job::Column::State.eq(crate::jobs::State::Dead.as_str()))
        .count(&db.read)
        .await;
    out.push(match dead {
        Ok(0) => found(Level::Ok, "jobs", "none dead"),
        Ok(n) => found(
            Level::Warn,
            "jobs",
            format!("{n} dead (failed for good): Settings → Jobs shows why and runs them again"),
        ),
        Err(e) => found(Level::Fail, "jobs", format!("cannot be read: {e}")),
    });
    out
}

/// Prints the findings; true when none failed.
pub fn report(findings: &[Finding]) -> bool {
    for f in findings {
        let mark = match f.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("{mark}  {:<12} {}", f.check, f.said);
    }
    findings.iter().all(|f| f.level != Level::Fail)
}
