//! argon2id hashing off the async threads, one at a time: each costs 12 MiB (`PARAMS`) and
//! ~18 ms, and a burst of logins must not balloon memory (nor a sign-in flood take a small
//! server's every core). The 12 MiB are the server's memory peak, so memory the process
//! holds free is given back to the system just before (`give_back_free_memory`).
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// One hash at a time: two at once were 38 MiB above the server's working memory.
static SLOTS: Semaphore = Semaphore::const_new(1);

/// argon2id with 12 MiB, 3 passes, 1 lane: of the settings the OWASP Password Storage
/// Cheat Sheet lists as equal defences (19 MiB and 2 passes, the crate's default, among
/// them), the one that fits issue 11's memory bound. A sign-in's hash is the server's
/// largest allocation and sets its peak RSS: 19 MiB made the 10 000-contact bench peak at
/// 64–68 MB, against the 60 asked. It costs about the same time (3 passes over 12 MiB
/// against 2 over 19). A stored hash names its own settings and is checked with them, so
/// older hashes keep working (at their 19 MiB) until their password is next set.
const PARAMS: (u32, u32, u32) = (12 * 1024, 3, 1);

fn argon2id() -> Argon2<'static> {
    let (m, t, p) = PARAMS;
    // Valid constants; should they ever be refused, the crate's default is no weaker.
    let params = Params::new(m, t, p, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

/// 19 641 common passwords (the 20 000 most common, lowercased and deduplicated), one a
/// line: the list Django ships as `django/contrib/auth/common-passwords.txt.gz` (Django
/// 5.2, BSD-3-Clause, Copyright (c) Django Software Foundation and individual
/// contributors), made by Royce Williams from breach corpora
/// (https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce). Embedded
/// uncompressed, ~160 kB: no decompression crate for one file.
const COMMON: &str = include_str!("common-passwords.txt");

/// Whether `password` is on the common list, compared in lower case as the list is.
pub fn is_common(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| COMMON.lines().map(str::trim).collect());
    set.contains(password.trim().to_lowercase().as_str())
}

/// A hash that no password matches: for accounts that cannot log in (demo data).
pub const DISABLED: &str = "!";

pub async fn hash(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        give_back_free_memory();
        argon2id()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// True when `password` matches `hash`. A disabled or malformed hash never matches, but
/// still costs the same time, so a missing account cannot be told from a wrong password.
pub async fn verify(password: &str, hash: Option<&str>) -> bool {
    let password = password.to_owned();
    let hash = hash
        .filter(|h| h.starts_with("$argon2"))
        .unwrap_or(DUMMY_HASH)
        .to_owned();
    let real = hash != DUMMY_HASH;
    let Ok(_slot) = SLOTS.acquire().await else {
        return false;
    };
    let ok = tokio::task::spawn_blocking(move || {
        give_back_free_memory();
        argon2id()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false);
    ok && real
}

/// Whether `hash` was made with other settings than `PARAMS` (the 19 MiB ones of before):
/// checking it costs their memory at every sign-in, so a sign-in that proves the password
/// stores it again with `PARAMS`. A hash that is not argon2 (a disabled account's) is
/// never outdated: there is no password to store again.
pub fn outdated(hash: &str) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (m, t, p) = PARAMS;
    parsed.algorithm != Algorithm::Argon2id.ident()
        || (params.m_cost(), params.t_cost(), params.p_cost()) != (m, t, p)
}

/// Returns the pages malloc holds free (in every arena, not only above each heap's top)
/// to the system, so that argon2id's memory comes on top of the memory in use rather than
/// of the most the process ever used: on the 10 000-contact bench a sign-in after the
/// other cases found ~6 MB free in the heaps. It walks the free lists, little beside
/// the hash's 18 ms, and sign-ins are rare.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_back_free_memory() {
    // SAFETY: malloc_trim only releases free memory; any thread may call it.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_free_memory() {}

// The hash of a random password nobody knows, with `PARAMS` (so that checking it costs
// what checking a real one does).
const DUMMY_HASH: &str = "$argon2id$v=19$m=12288,t=3,p=1$WTRuVVV0ak5jR3M1b0RkUQ$+hUvcKehnmpiZ9lF7ovUHYdRGJbZhqeBpjxquVKsuNM";
