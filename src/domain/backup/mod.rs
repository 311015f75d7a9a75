//! Backup and restore of a SQLite database (`cairn backup`, `cairn restore`, the
//! scheduled copy of `schedule`). PostgreSQL has its own tools: `PG_ADVICE` says which.
//!
//! - `copy_to`: `VACUUM INTO` on a read connection: SQLite writes a consistent snapshot
//!   (one read transaction; under WAL, writers go on meanwhile) into a new file, which
//!   is then fsynced and renamed into place, so a file of that name is always whole.
//! - `restore`: the file is checked (`check`) before anything changes; the live
//!   database is replaced only under the exclusive lock (`lock`) no running server holds.
pub mod lock;
mod read;
pub mod schedule;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use migrations::seaql_migrations;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::{DatabaseConnection, EntityTrait, SqlxSqliteConnector};

use crate::domain::Db;
use crate::error::AppError;

/// What `cairn backup` and `cairn restore` say on PostgreSQL, with the exact commands.
pub const PG_ADVICE: &str = "cairn backup and cairn restore copy a SQLite database; this one is PostgreSQL. Use PostgreSQL's own tools:
  back up:  pg_dump --format=custom --file=cairn.dump \"$CAIRN_DATABASE_URL\"
  restore:  stop every cairn serve, then
            pg_restore --clean --if-exists --no-owner --dbname=\"$CAIRN_DATABASE_URL\" cairn.dump
pg_dump takes a consistent snapshot while the server runs.";

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The database file a `sqlite:` URL names; None for PostgreSQL (or an in-memory one).
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    (!path.as_os_str().is_empty() && path != Path::new(":memory:")).then(|| path.to_path_buf())
}

/// Writes a consistent copy of the live database to `target` (replacing a file of that
/// name only once the copy is whole); returns its size in bytes. SQLite only.
pub async fn copy_to(db: &Db, target: &Path) -> Result<u64, AppError> {
    if !db.is_sqlite() {
        return Err(AppError::BadRequest(PG_ADVICE.into()));
    }
    let partial = beside(target, "partial");
    remove_if_there(&partial)?;
    read::vacuum_into(&db.read, &partial.to_string_lossy()).await?;
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot flush the copy", &partial, e))?;
    std::fs::rename(&partial, target).map_err(|e| io("cannot move the copy to", target, e))?;
    sync_folder(target)?;
    let size = std::fs::metadata(target)
        .map_err(|e| io("cannot read", target, e))?
        .len();
    Ok(size)
}

/// What `check` found in a backup file.
#[derive(Debug)]
pub struct Checked {
    /// Migrations applied in it (all known to this binary).
    pub migrations: usize,
}

/// Whether `file` is a whole SQLite database that this Cairn can run: the header, the
/// integrity check, the migrations table, and no migration this binary does not know.
pub async fn check(file: &Path) -> Result<Checked, AppError> {
    let refuse = |why: String| AppError::BadRequest(format!("{}: {why}", file.display()));
    let mut header = [0u8; 16];
    let read = File::open(file).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(refuse("not a SQLite database file (too short)".into()));
        }
        Err(e) => return Err(refuse(format!("cannot read it ({e})"))),
        Ok(()) => {}
    }
    if &header != SQLITE_HEADER {
        return Err(refuse("not a SQLite database file".into()));
    }
    let conn = open_read_only(file)
        .await
        .map_err(|e| refuse(e.to_string()))?;
    let result = check_open(&conn).await.map_err(|e| refuse(e.to_string()));
    conn.close().await.ok();
    result
}

async fn open_read_only(file: &Path) -> Result<DatabaseConnection, AppError> {
    let options = SqliteConnectOptions::new().filename(file).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| AppError::BadRequest(format!("cannot open it ({e})")))?;
    Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

async fn check_open(conn: &DatabaseConnection) -> Result<Checked, AppError> {
    let verdict = read::integrity_check(conn)
        .await
        .map_err(|e| AppError::BadRequest(format!("the integrity check failed to run ({e})")))?;
    if verdict != ["ok"] {
        return Err(AppError::BadRequest(format!(
            "the integrity check failed: {}",
            verdict.join("; ")
        )));
    }
    let applied = seaql_migrations::Entity::find()
        .all(conn)
        .await
        .map_err(|_| AppError::BadRequest("not a Cairn database (no migrations table)".into()))?;
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let mut count = 0;
    for row in applied {
        let version = row.version;
        if !known.contains(&version) {
            return Err(AppError::BadRequest(format!(
                "made by a newer Cairn (migration {version} is unknown to this one): upgrade cairn first"
            )));
        }
        count += 1;
    }
    if count == 0 {
        return Err(AppError::BadRequest(
            "not a Cairn database (no migration applied)".into(),
        ));
    }
    Ok(Checked { migrations: count })
}

/// Replaces the database at `live` with backup `file`: checked first; refused without
/// `force`, and while a server holds the lock. Atomic: the copy is written beside the
/// database, fsynced, and renamed over it.
pub async fn restore(file: &Path, live: &Path, force: bool) -> Result<Checked, AppError> {
    let checked = check(file).await?;
    if !force {
        return Err(AppError::BadRequest(format!(
            "{} is a good Cairn database; restoring replaces {} and everything in it. Stop the server and run again with --force.",
            file.display(),
            live.display()
        )));
    }
    let _held = lock::exclusive(live)?;
    let incoming = beside(live, "restoring");
    remove_if_there(&incoming)?;
    std::fs::copy(file, &incoming).map_err(|e| io("cannot copy the backup to", &incoming, e))?;
    File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot flush", &incoming, e))?;
    // The old database's WAL, shared-memory and rollback-journal files go first: left
    // beside the new file, SQLite would replay them into it. (Their unsaved pages are
    // the old database's, which is being replaced.)
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_there(&with_suffix(live, suffix))?;
    }
    std::fs::rename(&incoming, live).map_err(|e| io("cannot move the backup to", live, e))?;
    sync_folder(live)?;
    Ok(checked)
}

/// `<path>.<tag>` in the same folder (so a rename stays on one file system).
fn beside(path: &Path, tag: &str) -> PathBuf {
    with_suffix(path, &format!(".{tag}"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_there(path: &Path) -> Result<(), AppError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", path, e)),
        _ => Ok(()),
    }
}

/// Makes a rename in `path`'s folder durable.
fn sync_folder(path: &Path) -> Result<(), AppError> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot flush the folder", folder, e))
}

fn io(what: &str, path: &Path, e: std::io::Error) -> AppError {
    AppError::Internal(format!("{what} {}: {e}", path.display()))
}
