//! First-run setup: while no user exists, a one-time token (printed in the log at start)
//! lets whoever runs the server create the first admin.

use crate::domain::Db;
use crate::domain::{constant_time_eq, random_bytes, settings, sha256_hex, users};
use crate::entities::user;
use crate::error::AppError;

const KEY: &str = "setup_token_hash";

/// Issues a fresh setup token when the install has no user yet. Only its hash is kept.
pub async fn begin(db: &Db) -> Result<Option<String>, AppError> {
    if users::count(&db.read).await? > 0 {
        settings::delete(&db.write, KEY).await?;
        return Ok(None);
    }
    let token = hex::encode(random_bytes::<24>()?);
    settings::set(&db.write, KEY, &sha256_hex(token.as_bytes())).await?;
    Ok(Some(token))
}

/// 404 once any user exists (setup is over for good), 403 for a missing or wrong token.
pub async fn check(db: &Db, token: Option<&str>) -> Result<(), AppError> {
    if users::count(&db.read).await? > 0 {
        return Err(AppError::NotFound("Setup is already complete.".into()));
    }
    let stored = settings::get(&db.read, KEY).await?;
    match (token, stored) {
        (Some(t), Some(hash)) if constant_time_eq(sha256_hex(t.as_bytes()).as_bytes(), hash.as_bytes()) => Ok(()),
        _ => Err(AppError::Forbidden(
            "This setup link is missing its token or the token is wrong; use the link printed in the server log.".into(),
        )),
    }
}

/// Creates the first admin and retires the token, in one transaction.
pub async fn complete(
    db: &Db,
    token: Option<&str>,
    email: &str,
    name: &str,
    password: &str,
) -> Result<user::Model, AppError> {
    check(db, token).await?;
    let input = users::NewUser {
        email: email.into(),
        name: name.into(),
        password: password.into(),
        role: "admin".into(),
    };
    let tx = db.begin_write().await?;
    // Checked again inside the write transaction: two browsers racing on the same link
    // must not both become admin.
    if users::count(&tx).await? > 0 {
        return Err(AppError::NotFound("Setup is already complete.".into()));
    }
    let user = users::create_in(&tx, None, &input).await?;
    settings::delete(&tx, KEY).await?;
    tx.commit().await?;
    db.auth_cache.forget();
    Ok(user)
}
