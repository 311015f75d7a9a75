//! How `cairn restore` knows no server is running on the database: every `cairn serve`
//! on a SQLite file holds a shared advisory lock (flock) on `<db>.lock` for as long as
//! it runs, and restore takes it exclusively, without waiting. The kernel drops a lock
//! when its process ends, even by a crash or `kill -9`, so a stale lock cannot refuse a
//! restore for ever (a PID file could). Shared, because the lock stands for "someone is
//! using the file", not "one owner". A lock on the database file itself would clash with
//! SQLite's own POSIX locks on it.
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::AppError;

/// The lock file beside database `db`.
pub fn path_for(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

fn open(db: &Path) -> Result<File, AppError> {
    let path = path_for(db);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| AppError::Internal(format!("cannot open {}: {e}", path.display())))
}

/// Held by a running server (drop it to let go): refused while a restore replaces the
/// database.
pub struct Held(#[allow(dead_code)] File);

/// The server's lock: shared with other servers, refused during a restore.
pub fn shared(db: &Path) -> Result<Held, AppError> {
    let file = open(db)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Held(file)),
        Err(TryLockError::WouldBlock) => Err(AppError::Unavailable(format!(
            "{} is being restored (cairn restore holds {}); start the server when it is done",
            db.display(),
            path_for(db).display()
        ))),
        Err(TryLockError::Error(e)) => Err(AppError::Internal(format!("cannot lock: {e}"))),
    }
}

/// The restore's lock: refused while any server holds the shared one.
pub fn exclusive(db: &Path) -> Result<Held, AppError> {
    let file = open(db)?;
    match file.try_lock() {
        Ok(()) => Ok(Held(file)),
        Err(TryLockError::WouldBlock) => Err(AppError::Conflict {
            message: format!(
                "a Cairn server is running on {} (it holds {}): stop it before restoring",
                db.display(),
                path_for(db).display()
            ),
            fields: Default::default(),
        }),
        Err(TryLockError::Error(e)) => Err(AppError::Internal(format!("cannot lock: {e}"))),
    }
}
