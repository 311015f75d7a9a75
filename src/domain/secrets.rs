//! The key that encrypts session cookies: from `CAIRN_SECRET_KEY`, or generated once and
//! kept in the database so sessions survive restarts and are shared by every process.
use sha2::{Digest, Sha512};

use crate::domain::Db;
use crate::domain::{random_bytes, settings};
use crate::error::AppError;

/// 64 bytes of key material.
pub async fn session_key(db: &Db, configured: Option<&str>) -> Result<[u8; 64], AppError> {
    let secret = match configured {
        Some(s) => s.to_string(),
        None => {
            let fresh = hex::encode(random_bytes::<64>()?);
            settings::get_or_insert(&db.write, "secret_key", &fresh).await?
        }
    };
    let mut key = [0u8; 64];
    key.copy_from_slice(&Sha512::digest(secret.as_bytes()));
    Ok(key)
}
