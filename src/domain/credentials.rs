//! Who a session cookie or an API token stands for, kept in the process between
//! requests so that a request does not look its credentials up in the database.
//!
//! Signing out, a password change, a deactivation, a role change or a revoked token must
//! take effect on the next request in every process, the command line included. What is
//! kept is therefore trusted only while the *auth generation* reads what it read before
//! the entry was looked up. Whoever commits such a change bumps the generation after the
//! commit; another process's next request reads the new value, misses, and looks the
//! credentials up again, after the commit.
//!
//! On SQLite the generation is a small file beside the database (`<database>-auth`):
//! every process sharing the database is on this machine, and reading it is one `pread`
//! (and an `fstat`, to notice the file removed), no round trip. On PostgreSQL processes may be on several machines and nothing short of
//! a round trip can tell one that another has committed (a LISTEN/NOTIFY arrives late),
//! so nothing is kept there: each request runs its one indexed lookup.
//!
//! The entries also expire after `TTL`, a safety net for a change nothing bumped for (a
//! process that died between its commit and the bump, a row edited by hand).
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long an entry is trusted at most, whatever the generation says.
pub const TTL: Duration = Duration::from_secs(5);

/// Sessions (and tokens) kept at most; beyond it the stale go, then everything.
pub const CAPACITY: usize = 10_000;

/// The generation as one read saw it: the shared value (the file's) and this process's
/// own count of changes (so a change made here is seen here even if the file could not
/// be written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    shared: u64,
    local: u64,
}

enum Shared {
    /// A file beside the SQLite database, holding 8 bytes that every change replaces.
    File(File),
    /// An in-memory SQLite database: no other process can open it.
    ThisProcessOnly,
    /// PostgreSQL, or a file that could not be opened: nothing is kept.
    Off,
}

/// The cross-process auth generation (see the module's comment).
pub struct Generation {
    shared: Shared,
    local: AtomicU64,
    /// Set once the file is found removed (so that is logged once).
    orphaned: AtomicBool,
}

impl Generation {
    /// The generation for the database at `url`: its file on SQLite (created, with the
    /// database file's owner and mode, if missing), none on PostgreSQL.
    pub fn open(url: &str) -> Generation {
        let shared = match location(url) {
            Location::Elsewhere => Shared::Off,
            Location::Memory => Shared::ThisProcessOnly,
            Location::File(path) => {
                match open_file(Path::new(&format!("{path}-auth")), Path::new(&path)) {
                    Ok(file) => Shared::File(file),
                    Err(e) => {
                        // Without it this process cannot tell others about its changes, nor
                        // learn of theirs: it keeps nothing, and its own changes reach other
                        // processes' kept entries only when those expire (`TTL`).
                        tracing::error!(path = %format!("{path}-auth"), error = %e,
                        "cannot open the auth generation file; sessions and tokens are looked up on every request");
                        Shared::Off
                    }
                }
            }
        };
        Generation {
            shared,
            local: AtomicU64::new(0),
            orphaned: AtomicBool::new(false),
        }
    }

    /// The generation now, or None when nothing may be kept (PostgreSQL, or the file
    /// cannot be read). Read it before looking credentials up.
    pub fn read(&self) -> Option<Stamp> {
        let local = self.local.load(Ordering::SeqCst);
        match &self.shared {
            Shared::Off => None,
            Shared::ThisProcessOnly => Some(Stamp { shared: 0, local }),
            Shared::File(file) => {
                let mut bytes = [0u8; 8];
                file.read_exact_at(&mut bytes, 0).ok()?;
                // A file removed (or replaced) since it was opened no longer hears the
                // bumps of processes started after that: trust nothing kept any more.
                if file.metadata().ok()?.nlink() == 0 {
                    if !self.orphaned.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "the auth generation file was removed; sessions and tokens are looked up on every request until the server restarts"
                        );
                    }
                    return None;
                }
                Some(Stamp {
                    shared: u64::from_le_bytes(bytes),
                    local,
                })
            }
        }
    }

    /// After a commit that changes who a session or token stands for: every kept entry,
    /// in every process, is stale from now on.
    pub fn bump(&self) {
        self.local.fetch_add(1, Ordering::SeqCst);
        if let Shared::File(file) = &self.shared
            && let Err(e) = file.write_all_at(&fresh_value().to_le_bytes(), 0)
        {
            tracing::error!(error = %e, ttl_seconds = TTL.as_secs(),
                "cannot write the auth generation file; other processes see this change when their kept entries expire");
        }
    }

    /// Whether entries may be kept at all.
    pub fn keeps(&self) -> bool {
        !matches!(self.shared, Shared::Off)
    }
}

/// Where a database lives, as far as the generation is concerned.
enum Location {
    File(String),
    Memory,
    /// PostgreSQL (or a URL sqlx refuses): nothing is kept.
    Elsewhere,
}

fn location(url: &str) -> Location {
    use std::str::FromStr;
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Location::Elsewhere;
    };
    // As sqlx reads it (its options keep "in memory" to themselves): `:memory:`, or a
    // `mode=memory` parameter.
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    let database = database.trim_start_matches("//");
    if database == ":memory:" || params.split('&').any(|p| p == "mode=memory") {
        return Location::Memory;
    }
    match sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url) {
        Ok(opts) => Location::File(opts.get_filename().to_string_lossy().into_owned()),
        // Connecting fails the same way; keep nothing meanwhile.
        Err(_) => Location::Elsewhere,
    }
}

/// Opens (or makes) the generation file. It gets the database file's owner and mode, so
/// that the server and a command run by another account that may write the database
/// may both write it too.
fn open_file(path: &Path, database: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let db = std::fs::metadata(database).ok();
    let mode = db.as_ref().map_or(0o600, |m| m.mode() & 0o666);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .open(path)?;
    if file.metadata()?.len() < 8 {
        if let Some(m) = &db {
            // Only root may give a file away; anyone else already owns what they make.
            let _ = std::os::unix::fs::chown(path, Some(m.uid()), Some(m.gid()));
        }
        file.write_all_at(&fresh_value().to_le_bytes(), 0)?;
    }
    Ok(file)
}

/// A value no process wrote before: random, so two processes bumping at once can never
/// bring back a value some kept entry was stamped with (a counter read and increased
/// without a lock could).
fn fresh_value() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    // No randomness: the clock's nanoseconds and the process id differ between writers.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 40)
}

struct Entry<V> {
    value: V,
    stamp: Stamp,
    at: Instant,
}

/// Entries by the hash of their secret, each good while the generation reads its stamp
/// and for `TTL` at most; never more than `capacity` of them.
pub struct Kept<V> {
    entries: Mutex<HashMap<String, Entry<V>>>,
    capacity: usize,
}

impl<V: Clone> Kept<V> {
    pub fn new(capacity: usize) -> Self {
        Kept {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub fn get(&self, key: &str, now: Stamp) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.stamp == now && e.at.elapsed() < TTL)
            .map(|e| e.value.clone())
    }

    /// Keeps `value`, looked up after the generation read `stamp`.
    pub fn insert(&self, key: String, stamp: Stamp, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, e| e.stamp == stamp && e.at.elapsed() < TTL);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                stamp,
                at: Instant::now(),
            },
        );
    }

    /// Changes a kept value in place (the time of last use), keeping its stamp and age.
    pub fn update(&self, key: &str, change: impl FnOnce(&mut V)) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get_mut(key) {
            change(&mut e.value);
        }
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The generation and what is kept under it: sessions by their secret's hash, API
/// tokens by theirs.
pub struct Credentials {
    pub generation: Generation,
    pub sessions: Kept<crate::domain::sessions::Live>,
    pub tokens: Kept<crate::domain::tokens::Owner>,
}

impl Credentials {
    pub fn open(url: &str) -> Credentials {
        Credentials {
            generation: Generation::open(url),
            sessions: Kept::new(CAPACITY),
            tokens: Kept::new(CAPACITY),
        }
    }

    /// After a commit that ends a session, revokes a token, or changes a user's
    /// password, role, active flag, name, email or time zone: every process looks its
    /// credentials up again on its next request.
    pub fn changed(&self) {
        self.generation.bump();
        self.sessions.clear();
        self.tokens.clear();
    }

    /// What `kept` holds for `key` under the generation now, or what `lookup` finds
    /// (kept for the next request when the generation allows).
    pub async fn get_or_lookup<V, E, F, Fut>(
        &self,
        kept: &Kept<V>,
        key: &str,
        lookup: F,
    ) -> Result<Option<V>, E>
    where
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<V>, E>>,
    {
        // Read before the lookup: a change committed meanwhile leaves the entry stale.
        let stamp = self.generation.read();
        if let Some(v) = stamp.and_then(|s| kept.get(key, s)) {
            return Ok(Some(v));
        }
        let found = lookup().await?;
        if let (Some(stamp), Some(v)) = (stamp, &found) {
            kept.insert(key.to_string(), stamp, v.clone());
        }
        Ok(found)
    }
}
