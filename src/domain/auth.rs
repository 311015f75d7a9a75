//! Password checks with throttling. Failures are counted per (account, client address)
//! and per address, never per account alone, so someone elsewhere cannot lock a user out
//! by guessing. Past a few free failures each further one doubles the wait before the
//! next try, up to 15 minutes; a try refused while waiting is not counted. Failures are
//! kept in the database so every process of an install counts the same. Sign-in and the
//! account page's current-password check share the count, and so do two-factor codes
//! (`throttled`): a right password of an account with two-factor clears nothing until
//! its code is right too.
use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::domain::Db;
use crate::domain::{audit, has_control, normalise, now, passwords, sso, two_factor, users};
use crate::entities::{login_attempt, user};
use crate::error::AppError;

/// Failures of one account from one address before waits begin.
pub const FREE_PER_ACCOUNT: u64 = 5;
/// Failures from one address (over all accounts) before waits begin: an office behind one
/// address may hold several people who mistype.
pub const FREE_PER_ADDRESS: u64 = 20;
/// Failures older than this are forgotten.
pub const WINDOW_MINUTES: i64 = 60;
/// The longest wait between two tries.
pub const MAX_WAIT_SECONDS: i64 = 15 * 60;

/// The wait after `failures` failures, `free` of which cost nothing: 2 s, 4 s, 8 s, …
pub fn wait_after(failures: u64, free: u64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(20) as u32;
    (2i64 << doublings).min(MAX_WAIT_SECONDS)
}

pub async fn login(
    db: &Db,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<user::Model, AppError> {
    // Control characters never belong to an address (and PostgreSQL refuses NUL): such a
    // sign-in fails like any other, and is counted under the address without them.
    let odd = has_control(email);
    let email: String = email.chars().filter(|c| !c.is_control()).collect();
    let email_norm: String = normalise(&email).chars().take(254).collect();
    let user = if odd {
        None
    } else {
        users::find_by_email(&db.read, &email).await?
    };
    let failed = |reason: &'static str| {
        let shown: String = email.chars().take(254).collect();
        let uid = user.as_ref().map(|u| u.id);
        async move {
            audit::record_as(
                &db.write,
                uid,
                Some(ip),
                "sign_in_failed",
                "user",
                uid.unwrap_or(0),
                Some(serde_json::json!({"email": shown, "reason": reason})),
            )
            .await
        }
    };
    let attempt = match Attempt::begin(db, &email_norm, ip).await {
        Ok(a) => a,
        Err(e) => {
            if matches!(e, AppError::TooManyRequests { .. }) {
                failed("throttled").await?;
            }
            return Err(e);
        }
    };
    let ok = passwords::verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await;
    match &user {
        Some(u) if ok && u.active => {
            password_allowed(db, u, ip).await?;
            if passwords::outdated(&u.password_hash) {
                rehash(db, u, password).await?;
            }
            if two_factor::is_enabled(&db.read, u.id).await? {
                // Not signed in yet: the code still has to come, so earlier failures
                // stay counted (else the password would reset the count of wrong codes).
                attempt.forget(&db.write).await?;
            } else {
                attempt.succeeded(db).await?;
            }
            Ok(u.clone())
        }
        // One message whatever went wrong, so the form does not reveal which emails have
        // accounts (the audit log, for admins, says which).
        _ => {
            failed(match &user {
                None => "unknown account",
                Some(u) if !u.active => "deactivated",
                Some(_) => "wrong password",
            })
            .await?;
            Err(AppError::Unauthorized(
                "Email or password is incorrect.".into(),
            ))
        }
    }
}

/// Stores the password just proven with today's hash settings. Only the hash changes:
/// sessions stay, and nothing is audited (the user changed nothing). A reset link sent
/// before is bound to the old hash and stops working, as after a password change.
async fn rehash(db: &Db, user: &user::Model, password: &str) -> Result<(), AppError> {
    let hash = passwords::hash(password).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .filter(user::Column::Id.eq(user.id))
        .filter(user::Column::PasswordHash.eq(user.password_hash.as_str()))
        .exec(&db.write)
        .await?;
    Ok(())
}

/// With single sign-on set to "password sign-in only for admins", anyone else is told
/// to use the provider's button (only once the password was right, so the message does
/// not tell a stranger which emails have accounts), recorded like any failure.
async fn password_allowed(db: &Db, user: &user::Model, ip: &str) -> Result<(), AppError> {
    let Some(refusal) = sso::config::password_refusal(&db.read, &user.role).await? else {
        return Ok(());
    };
    audit::record_as(
        &db.write,
        Some(user.id),
        Some(ip),
        "sign_in_failed",
        "user",
        user.id,
        Some(serde_json::json!({"email": user.email, "reason": "password sign-in off"})),
    )
    .await?;
    Err(AppError::Forbidden(refusal))
}

/// Checks a signed-in user's password again (before a change that needs it), counted
/// with the sign-in failures of the same account and address.
pub async fn confirm_password(
    db: &Db,
    user: &user::Model,
    password: &str,
    ip: &str,
) -> Result<bool, AppError> {
    let attempt = Attempt::begin(db, &user.email_norm, ip).await?;
    let ok = passwords::verify(password, Some(&user.password_hash)).await;
    if ok {
        attempt.succeeded(db).await?;
    }
    Ok(ok)
}

/// Runs `check` (a second factor, or another secret than the password) as one try
/// counted with the password failures of the account `email_norm` from `ip`: refused
/// while a wait runs, and a failure unless `accepted` says its answer was right.
pub async fn throttled<T>(
    db: &Db,
    email_norm: &str,
    ip: &str,
    check: impl std::future::Future<Output = Result<T, AppError>>,
    accepted: impl Fn(&T) -> bool,
) -> Result<T, AppError> {
    let attempt = Attempt::begin(db, email_norm, ip).await?;
    let answer = check.await?;
    if accepted(&answer) {
        attempt.succeeded(db).await?;
    }
    Ok(answer)
}

/// One try, written down before the password is checked so that a burst of parallel
/// guesses sees itself and cannot all slip in under the limit. It stays as a failure
/// unless `succeeded` is called.
pub(crate) struct Attempt {
    id: i64,
    email_norm: String,
    ip: String,
}

impl Attempt {
    pub(crate) async fn begin(db: &Db, email_norm: &str, ip: &str) -> Result<Attempt, AppError> {
        let ip: String = ip.chars().take(64).collect();
        let id = login_attempt::Entity::insert(login_attempt::ActiveModel {
            id: NotSet,
            email_norm: Set(email_norm.to_string()),
            ip: Set(ip.clone()),
            created_at: Set(now()),
        })
        .exec(&db.write)
        .await?
        .last_insert_id;
        let attempt = Attempt {
            id,
            email_norm: email_norm.to_string(),
            ip,
        };
        if let Some(wait) = attempt.wait(&db.write).await? {
            // A refused try is not a guess: it leaves no trace, so hammering a throttled
            // account does not lengthen the wait.
            attempt.forget(&db.write).await?;
            return Err(AppError::TooManyRequests {
                message: format!(
                    "Too many failed attempts from your address. Try again in {}.",
                    in_words(wait)
                ),
                retry_after: wait as u64,
            });
        }
        Ok(attempt)
    }

    /// Seconds still to wait, judged by the failures recorded before this try.
    async fn wait(&self, conn: &impl ConnectionTrait) -> Result<Option<i64>, AppError> {
        let t = now();
        let since = t - Duration::minutes(WINDOW_MINUTES);
        let earlier = || {
            login_attempt::Entity::find()
                .filter(login_attempt::Column::Ip.eq(&self.ip))
                .filter(login_attempt::Column::CreatedAt.gt(since))
                .filter(login_attempt::Column::Id.lt(self.id))
        };
        let mut longest = 0;
        for (query, free) in [
            (
                earlier().filter(login_attempt::Column::EmailNorm.eq(&self.email_norm)),
                FREE_PER_ACCOUNT,
            ),
            (earlier(), FREE_PER_ADDRESS),
        ] {
            let failures = query.clone().count(conn).await?;
            let wait = wait_after(failures, free);
            if wait == 0 {
                continue;
            }
            if let Some(last) = query
                .order_by_desc(login_attempt::Column::Id)
                .one(conn)
                .await?
            {
                let left = wait - (t - last.created_at).num_seconds();
                longest = longest.max(left);
            }
        }
        Ok((longest > 0).then_some(longest))
    }

    async fn forget(&self, conn: &impl ConnectionTrait) -> Result<(), AppError> {
        login_attempt::Entity::delete_by_id(self.id)
            .exec(conn)
            .await?;
        Ok(())
    }

    /// The right password: this try and the earlier failures of the same account from
    /// the same address are forgotten, and so is everything past the window.
    pub(crate) async fn succeeded(self, db: &Db) -> Result<(), AppError> {
        login_attempt::Entity::delete_many()
            .filter(login_attempt::Column::EmailNorm.eq(&self.email_norm))
            .filter(login_attempt::Column::Ip.eq(&self.ip))
            .exec(&db.write)
            .await?;
        login_attempt::Entity::delete_many()
            .filter(login_attempt::Column::CreatedAt.lt(now() - Duration::minutes(WINDOW_MINUTES)))
            .exec(&db.write)
            .await?;
        Ok(())
    }
}

fn in_words(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} second{}", if s == 1 { "" } else { "s" }),
        s => {
            let m = (s + 59) / 60;
            format!("{m} minute{}", if m == 1 { "" } else { "s" })
        }
    }
}
