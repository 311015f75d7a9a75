//! The second step of signing in. After the right password, a user with two-factor (or
//! without it while the organisation requires it) gets a pending sign-in instead of a
//! session: a row holding the SHA-256 of a secret the browser keeps, good for ten
//! minutes and a few wrong codes, that lets its holder do nothing but finish signing in
//! with a code, a recovery code, or (set-up) the first code of a new secret.
use chrono::Duration;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set,
};

use super::{Enrolment, Verdict, confirm_in, enrolment, new_secret, reason, unix_now, use_code};
use crate::domain::auth::Attempt;
use crate::domain::sessions::{self, Client};
use crate::domain::{Db, audit, now, random_bytes, sha256_hex};
use crate::entities::{pending_sign_in, user};
use crate::error::AppError;

/// How long the second step may take.
pub const PENDING_MINUTES: i64 = 10;
/// Wrong codes one pending sign-in takes before the password is asked again.
pub const MAX_FAILURES: i32 = 5;

const CODE: &str = "code";
const SETUP: &str = "setup";

/// What follows a right password.
#[derive(Debug)]
pub enum AfterPassword {
    /// No second step: sign in.
    SignIn,
    /// A pending sign-in; the secret goes in the browser's cookie, never stored.
    Pending { secret: String },
}

/// Decides the step after `user`'s right password; `next` is where to go once signed in
/// (a path on this site, or empty for the usual landing page).
pub async fn after_password(
    db: &Db,
    user: &user::Model,
    next: &str,
) -> Result<AfterPassword, AppError> {
    let purpose = if super::is_enabled(&db.read, user.id).await? {
        CODE
    } else if super::required(&db.read).await? {
        SETUP
    } else {
        return Ok(AfterPassword::SignIn);
    };
    let secret = hex::encode(random_bytes::<32>()?);
    let t = now();
    let tx = db.begin_write().await?;
    if purpose == SETUP {
        new_secret(&tx, user.id).await?;
    }
    // Earlier unfinished ones of anyone go, so the table holds live ones only.
    pending_sign_in::Entity::delete_many()
        .filter(pending_sign_in::Column::ExpiresAt.lt(t))
        .exec(&tx)
        .await?;
    pending_sign_in::ActiveModel {
        id: NotSet,
        token_hash: Set(sha256_hex(secret.as_bytes())),
        user_id: Set(user.id),
        purpose: Set(purpose.into()),
        next: Set(next.chars().take(2048).collect()),
        failures: Set(0),
        created_at: Set(t),
        expires_at: Set(t + Duration::minutes(PENDING_MINUTES)),
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(AfterPassword::Pending { secret })
}

/// A live pending sign-in, as its page shows it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub email: String,
    /// Set-up under way (two-factor is required and this user has none yet): its secret
    /// to show. None when a code is asked for.
    pub setup: Option<Enrolment>,
}

async fn live(
    conn: &impl ConnectionTrait,
    secret: &str,
) -> Result<Option<(pending_sign_in::Model, user::Model)>, AppError> {
    let found = pending_sign_in::Entity::find()
        .find_also_related(user::Entity)
        .filter(pending_sign_in::Column::TokenHash.eq(sha256_hex(secret.as_bytes())))
        .filter(pending_sign_in::Column::ExpiresAt.gt(now()))
        .filter(user::Column::Active.eq(true))
        .one(conn)
        .await?;
    Ok(found.and_then(|(p, u)| u.map(|u| (p, u))))
}

/// The pending sign-in behind a cookie's secret, while it lasts.
pub async fn find(db: &Db, secret: &str) -> Result<Option<Pending>, AppError> {
    let Some((p, u)) = live(&db.read, secret).await? else {
        return Ok(None);
    };
    let setup = if p.purpose == SETUP {
        let shown = enrolment(&db.read, u.id, &u.email).await?;
        // Set up meanwhile elsewhere: a code is what is asked for now.
        if shown.is_none() {
            return Ok(None);
        }
        shown
    } else {
        None
    };
    Ok(Some(Pending {
        email: u.email,
        setup,
    }))
}

/// A finished sign-in.
#[derive(Debug)]
pub struct Finished {
    pub user: user::Model,
    /// The new session's secret, for the cookie.
    pub session_secret: String,
    pub next: String,
    /// Set-up at sign-in: the new recovery codes, shown once.
    pub recovery_codes: Option<Vec<String>>,
    /// Signed in with a recovery code: how many are left.
    pub recovery_left: Option<u64>,
}

fn expired() -> AppError {
    AppError::Unauthorized("This sign-in has expired: enter your password again.".into())
}

/// The second step with `code`. Throttled with the account's password failures; a
/// wrong code counts against the pending sign-in too, and is recorded in the audit log.
/// A little over the usual length: the code's check, the session and its audit rows are
/// one transaction, written out in the order they happen.
pub async fn finish(
    db: &Db,
    secret: &str,
    code: &str,
    client: &Client,
) -> Result<Finished, AppError> {
    let (pending, user) = live(&db.read, secret).await?.ok_or_else(expired)?;
    let failed = |reason: &'static str| {
        audit::record_as(
            &db.write,
            Some(user.id),
            Some(client.ip.as_str()),
            "two_factor_failed",
            "user",
            user.id,
            Some(serde_json::json!({ "reason": reason })),
        )
    };
    let attempt = match Attempt::begin(db, &user.email_norm, &client.ip).await {
        Ok(a) => a,
        Err(e) => {
            if matches!(e, AppError::TooManyRequests { .. }) {
                failed("throttled").await?;
            }
            return Err(e);
        }
    };
    let tx = db.begin_write().await?;
    let (verdict, recovery_codes) = if pending.purpose == SETUP {
        match confirm_in(&tx, user.id, code, unix_now()).await {
            Ok(codes) => (Verdict::Code, Some(codes)),
            Err(AppError::Validation { .. }) => (Verdict::Wrong, None),
            Err(e) => return Err(e),
        }
    } else {
        (use_code(&tx, user.id, code, unix_now()).await?, None)
    };
    if !verdict.accepted() {
        drop(tx);
        return Err(refused(db, &pending, verdict, failed(reason(verdict))).await?);
    }
    pending_sign_in::Entity::delete_by_id(pending.id)
        .exec(&tx)
        .await?;
    let session_secret = sessions::open(&tx, user.id, client).await?;
    let recovery_left = match verdict {
        Verdict::Recovery => {
            let left = super::recovery_left(&tx, user.id).await?;
            let detail = serde_json::json!({ "left": left });
            audit::record_as(
                &tx,
                Some(user.id),
                Some(client.ip.as_str()),
                "use_recovery_code",
                "user",
                user.id,
                Some(detail),
            )
            .await?;
            Some(left)
        }
        _ => None,
    };
    if recovery_codes.is_some() {
        audit::record_as(
            &tx,
            Some(user.id),
            Some(client.ip.as_str()),
            "enable_two_factor",
            "user",
            user.id,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    attempt.succeeded(db).await?;
    Ok(Finished {
        user,
        session_secret,
        next: pending.next,
        recovery_codes,
        recovery_left,
    })
}

/// A refused code: counted on the pending sign-in (which ends after `MAX_FAILURES`),
/// recorded by `audited`; returns the message for the form.
async fn refused(
    db: &Db,
    pending: &pending_sign_in::Model,
    verdict: Verdict,
    audited: impl std::future::Future<Output = Result<(), AppError>>,
) -> Result<AppError, AppError> {
    audited.await?;
    if pending.failures + 1 >= MAX_FAILURES {
        pending_sign_in::Entity::delete_by_id(pending.id)
            .exec(&db.write)
            .await?;
        return Ok(AppError::Unauthorized(
            "Too many wrong codes: enter your password again.".into(),
        ));
    }
    pending_sign_in::Entity::update_many()
        .col_expr(
            pending_sign_in::Column::Failures,
            Expr::col(pending_sign_in::Column::Failures).add(1),
        )
        .filter(pending_sign_in::Column::Id.eq(pending.id))
        .exec(&db.write)
        .await?;
    Ok(AppError::Unauthorized(match verdict {
        Verdict::Reused => "That code was used already: wait for the next one your app shows.",
        _ => "That code is not right: type the 6 digits your authenticator app shows now, or a recovery code.",
    }
    .into()))
}
