//! Connecting to the database: SQLite pragmas, the read/write pool split, migrations.
//! Connections only: what the product keeps beside them (caches, the contact write queue)
//! is `domain::Db`.
use std::str::FromStr;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, SqlxPostgresConnector,
    SqlxSqliteConnector,
};

use crate::config::redact_url;

/// The two handles every domain function gets. On SQLite, `write` is a pool of exactly one
/// connection: every write goes through it, so writers queue in the process instead of
/// failing with "database is locked", while `read` serves many readers at once (WAL).
/// On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Pools {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
}

pub async fn connect(url: &str) -> Result<Pools, DbErr> {
    let mut pools = open(url).await?;
    // With traces on, each statement becomes a span (`traces::statement`); off, sea-orm
    // does not even read the clock.
    if crate::traces::on() {
        pools.read.set_metric_callback(crate::traces::statement);
        pools.write.set_metric_callback(crate::traces::statement);
    }
    Ok(pools)
}

async fn open(url: &str) -> Result<Pools, DbErr> {
    if url.starts_with("sqlite:") {
        return connect_sqlite(url).await;
    }
    let pool = PgPoolOptions::new()
        .max_connections(pg_connections())
        // sqlx pings every connection it hands out by default: a round trip per query. A
        // broken connection fails its query instead, which we map to 503.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot connect to {}: {e}", redact_url(url))))?;
    let conn = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
    Ok(Pools {
        read: conn.clone(),
        write: conn,
    })
}

/// Applies pending migrations through the writer.
pub async fn migrate(write: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(write, None).await?;
    optimize(write).await
}

/// Refreshes SQLite's planner statistics where they are missing or stale (cheap when they
/// are fine); without them SQLite guesses which index filters best. At every start and
/// nightly (`jobs.cleanup`): nothing else runs ANALYZE while a server runs, and statistics
/// taken when a table was small (the audit log at install) would stay in the file while
/// it grows a thousandfold. PostgreSQL's autovacuum keeps its own.
pub async fn optimize(write: &DatabaseConnection) -> Result<(), DbErr> {
    if write.get_database_backend() == DatabaseBackend::Sqlite {
        write.execute_unprepared("PRAGMA optimize=0x10002").await?;
    }
    Ok(())
}

/// Fresh planner statistics after a bulk load (`cairn seed`, the demo data): a full
/// ANALYZE, which takes about two seconds at a million contacts. (A sampled one,
/// `analysis_limit`, misjudged how many rows a source has by ten times, and the planner
/// then sorted 100 000 rows.) On PostgreSQL a VACUUM too: until one sets the visibility
/// map of the loaded pages an index-only scan reads every row's page as well, so the
/// planner scans the table instead (a rep's "about" count of their own contacts, case
/// (x) of the bench), and autovacuum may come minutes later.
pub async fn refresh_statistics(write: &DatabaseConnection) -> Result<(), DbErr> {
    let sql = match write.get_database_backend() {
        DatabaseBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    write.execute_unprepared(sql).await?;
    Ok(())
}

/// SQLite's page cache per connection, in KiB. The cache is per connection (one writer and
/// `readers()` readers), so this bounds the server's memory for it; pages not cached come
/// from the operating system's file cache, which costs a copy, not a disk read. 8 000 KiB
/// let the five connections of a two-core machine hold 40 MB between them, most of the
/// 10 000-contact bench's 86 MB peak RSS (issue 11 asks for at most 60); 2 MiB each still
/// held 10 MB. 1 MiB each holds the pages every request walks (the indexes' upper levels,
/// the hot lists): at 512 KiB and 1 MiB the bench's cases ran as fast as at 2 MiB, within
/// the noise of a shared machine, and the memory held before a sign-in fell by 3–4 MB.
const CACHE_KIB: u32 = 1024;

/// Prepared statements each SQLite connection keeps (sqlx's default is 100). A prepared
/// statement holds its compiled program, some tens of KiB for the JSON list statements;
/// the pages of the product use fewer distinct statements than this per connection.
const STATEMENT_CACHE: usize = 64;

/// For `cairn seed` only: a large page cache on SQLite's writer, so that inserting a
/// million rows into a dozen indexes does not reread their pages for every batch. The
/// server keeps the small one (`CACHE_KIB`).
pub async fn bulk_load(write: &DatabaseConnection) -> Result<(), DbErr> {
    if write.get_database_backend() == DatabaseBackend::Sqlite {
        write
            .execute_unprepared("PRAGMA cache_size = -262144")
            .await?;
    }
    Ok(())
}

async fn connect_sqlite(url: &str) -> Result<Pools, DbErr> {
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Custom(format!("bad SQLite URL {url}: {e}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .pragma("cache_size", format!("-{CACHE_KIB}"))
        .pragma("temp_store", "memory")
        .statement_cache_capacity(STATEMENT_CACHE);
    private_file(opts.get_filename())?;
    let writer = SqlitePoolOptions::new()
        .after_connect(|conn, _| Box::pin(configure(conn)))
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts.clone())
        .await
        .map_err(|e| DbErr::Custom(format!("cannot open {url}: {e}")))?;
    let reader = SqlitePoolOptions::new()
        .after_connect(|conn, _| Box::pin(configure(conn)))
        .max_connections(readers())
        .max_lifetime(READER_LIFETIME)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot open {url}: {e}")))?;
    Ok(Pools {
        read: SqlxSqliteConnector::from_sqlx_sqlite_pool(reader),
        write: SqlxSqliteConnector::from_sqlx_sqlite_pool(writer),
    })
}

/// What every SQLite connection gets once opened: stable plans and a prompt busy wait.
async fn configure(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    stable_plans(conn).await?;
    prompt_busy_wait(conn).await
}

/// How long a connection waits for another process's write lock (`cairn import`, `cairn
/// restore` beside a running server) before its statement fails busy.
const BUSY_WAIT_MS: i32 = 5_000;

/// Waits for another process's lock by trying again every millisecond. SQLite's own
/// busy timeout sleeps longer and longer between tries (up to 100 ms), so while
/// `cairn import` wrote its chunks one after another, a create through the API found the
/// file locked at each try and waited several chunks: p99 331 ms, 1.6 s at most
/// (`scripts/bench.d/import_100k.sh`). Tried every millisecond, it gets the lock in the
/// gap between two chunks.
async fn prompt_busy_wait(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    unsafe extern "C" fn try_again(
        _: *mut std::os::raw::c_void,
        tries: std::os::raw::c_int,
    ) -> std::os::raw::c_int {
        if tries >= BUSY_WAIT_MS {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(1));
        1
    }
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is this connection's open handle, held exclusively through the lock;
    // the handler takes no data and only sleeps on the connection's own thread.
    let rc =
        unsafe { libsqlite3_sys::sqlite3_busy_handler(db, Some(try_again), std::ptr::null_mut()) };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused the busy handler (code {rc})").into(),
        ));
    }
    Ok(())
}

/// Turns on SQLite's query planner stability guarantee for the connection. Without it,
/// SQLite 3.51 plans `LIMIT ?` (and STAT4 ranges, and `LIKE ?`) from the bound value, so
/// every new binding of such a statement throws its plan away and parses the SQL again:
/// measured on My tasks, re-preparing was 14–29 % of each request's instructions, and
/// every list pays it (sea-query always binds LIMIT). Plans then depend on the SQL and
/// the statistics only, as PostgreSQL's generic plans do.
async fn stable_plans(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now_on: std::os::raw::c_int = 0;
    // SAFETY: `db` is this connection's open handle, held exclusively through the lock
    // for the call; SQLITE_DBCONFIG_ENABLE_QPSG takes (int, int*) as passed here.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::os::raw::c_int,
            &mut now_on as *mut std::os::raw::c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK || now_on != 1 {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability setting (code {rc})").into(),
        ));
    }
    Ok(())
}

/// The database holds password and token hashes and, unless `CAIRN_SECRET_KEY` is set,
/// the cookie secret: its folder is created 0700 and the file 0600 (tightened if an older
/// install left it readable), before SQLite opens it. SQLite gives its `-wal` and `-shm`
/// files the database file's permissions.
fn private_file(path: &std::path::Path) -> Result<(), DbErr> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if path.as_os_str() == ":memory:" || path.as_os_str().is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                DbErr::Custom(format!("cannot create the folder {}: {e}", dir.display()))
            })?;
    }
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", path.display())))?;
    } else if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
        && let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    {
        tracing::warn!(path = %path.display(), error = %e, "could not make the database file private (0600)");
    }
    Ok(())
}

/// How long a SQLite reader lives before it is replaced. A connection reads the planner
/// statistics when it opens and never again (ANALYZE changes no schema), so readers
/// opened on a small audit log kept "two rows" after `cairn seed` had loaded and analysed
/// a million, planned the unfiltered log page as a scan of the whole log and a sort, and
/// answered it in 2 s (the bench's case (z1)) until the server restarted. Within a minute
/// of any ANALYZE, by this process or another, every reader plans with it; reopening one
/// costs a few milliseconds a minute (its statements are prepared again).
const READER_LIFETIME: Duration = Duration::from_secs(60);

/// PostgreSQL connections per process: four per core. Each busy connection is a server
/// process competing with this one for the cores; on two cores 16 connections served the
/// contact list no faster than 6 and with twice the p99 (90 against 54 ms, wrk -c32),
/// as the extra backends only queued for the CPU. But a request answered from a cache
/// holds its connection only for round trips (the session, a change counter), and with
/// 6 the pool, not the CPU, bounded those: 8 served the contact list, one contact, the
/// board and the deal list 8–13 % faster than 6 in each of 12 paired runs (wrk -c32);
/// 12 beat 8 in only 6 of 12, and this process's CPU per request was the same from 4
/// to 16 (`scripts/bench.d/pg-time.md`).
fn pg_connections() -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2) as u32;
    (cores * 4).clamp(8, 32)
}

/// Readers for SQLite: each connection is a thread doing CPU work, so more than about two
/// per core only adds context switches.
fn readers() -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2) as u32;
    (cores * 2).clamp(2, 16)
}
