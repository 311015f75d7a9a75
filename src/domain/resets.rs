//! Password reset by email. Asking answers the same, in about the same time, whether the
//! address has an account or not; asking is throttled per address and per client, counted
//! in the database so every process counts the same. A link works once, for
//! `VALID_MINUTES`, and only while the password is the one it was issued against (a
//! stamp of its hash is kept with it). Resetting ends every session of the user.
use std::time::Duration as StdDuration;

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::domain::{
    Actor, Db, audit, has_control, normalise, now, passwords, random_bytes, sessions, sha256_hex,
    users,
};
use crate::entities::{password_reset, reset_request, user};
use crate::error::{AppError, FieldErrors};
use crate::mail::content::{Content, Letter};
use crate::mail::outbox::{self, NewEmail};

pub const VALID_MINUTES: i64 = 60;
/// Requests for one address in `WINDOW_MINUTES`, and from one client address.
pub const PER_ADDRESS: u64 = 3;
pub const PER_CLIENT: u64 = 10;
pub const WINDOW_MINUTES: i64 = 60;
/// Every answer takes at least this long, so a known address (which writes a link and
/// queues an email) cannot be told from an unknown one by the time the answer takes.
pub const MIN_ANSWER: StdDuration = StdDuration::from_millis(200);

/// Asks for a reset link for `email`, from client address `ip`. Ok whether or not the
/// address has an account; 429 past the limits (for any address alike).
pub async fn request(db: &Db, email: &str, ip: &str) -> Result<(), AppError> {
    let started = tokio::time::Instant::now();
    let result = request_now(db, email, ip).await;
    tokio::time::sleep_until(started + MIN_ANSWER).await;
    result
}

async fn request_now(db: &Db, email: &str, ip: &str) -> Result<(), AppError> {
    let email: String = email.chars().filter(|c| !c.is_control()).collect();
    let email_norm: String = normalise(&email).chars().take(254).collect();
    throttle(db, &email_norm, ip).await?;
    let Some(user) = users::find_by_email(&db.read, &email)
        .await?
        .filter(|u| u.active)
    else {
        return Ok(());
    };
    let secret = hex::encode(random_bytes::<32>()?);
    let t = now();
    let tx = db.begin_write().await?;
    let reset = password_reset::ActiveModel {
        id: NotSet,
        user_id: Set(user.id),
        token_hash: Set(sha256_hex(secret.as_bytes())),
        password_stamp: Set(stamp(&user)),
        created_at: Set(t),
        expires_at: Set(t + Duration::minutes(VALID_MINUTES)),
        used_at: Set(None),
    }
    .insert(&tx)
    .await?;
    let org = crate::mail::settings::org_name(&tx).await?;
    let content = Content::PasswordReset {
        token: secret,
        minutes: VALID_MINUTES,
    };
    let mail = NewEmail {
        user_id: Some(user.id),
        to: user.email.clone(),
        subject: content.subject(&org),
        letter: Letter {
            to_name: user.name.clone(),
            content,
        },
        key: format!("password-reset:{}", reset.id),
    };
    outbox::enqueue(&tx, &mail).await?;
    audit::record(
        &tx,
        None,
        "request_password_reset",
        "user",
        user.id,
        Some(serde_json::json!({"ip": ip})),
    )
    .await?;
    tx.commit().await?;
    crate::jobs::wake();
    Ok(())
}

/// A stamp of the password a link may replace: any change of it makes the link worthless.
fn stamp(user: &user::Model) -> String {
    sha256_hex(user.password_hash.as_bytes())
}

/// Records this request, then refuses it (and forgets it, so hammering does not lengthen
/// the wait) when the address or the client asked too often within the window. Written
/// before it is counted so that parallel requests see each other.
async fn throttle(db: &Db, email_norm: &str, ip: &str) -> Result<(), AppError> {
    let ip: String = ip.chars().take(64).collect();
    let t = now();
    let since = t - Duration::minutes(WINDOW_MINUTES);
    reset_request::Entity::delete_many()
        .filter(reset_request::Column::CreatedAt.lt(since))
        .exec(&db.write)
        .await?;
    let id = reset_request::Entity::insert(reset_request::ActiveModel {
        id: NotSet,
        email_norm: Set(email_norm.to_string()),
        ip: Set(ip.clone()),
        created_at: Set(t),
    })
    .exec(&db.write)
    .await?
    .last_insert_id;
    let upto = || {
        reset_request::Entity::find()
            .filter(reset_request::Column::CreatedAt.gt(since))
            .filter(reset_request::Column::Id.lte(id))
    };
    for (query, limit) in [
        (
            upto().filter(reset_request::Column::EmailNorm.eq(email_norm)),
            PER_ADDRESS,
        ),
        (upto().filter(reset_request::Column::Ip.eq(&ip)), PER_CLIENT),
    ] {
        if query.clone().count(&db.write).await? <= limit {
            continue;
        }
        let oldest = query
            .order_by_asc(reset_request::Column::Id)
            .one(&db.write)
            .await?
            .map_or(t, |r| r.created_at);
        reset_request::Entity::delete_by_id(id)
            .exec(&db.write)
            .await?;
        let wait = (oldest + Duration::minutes(WINDOW_MINUTES) - t)
            .num_seconds()
            .max(1);
        return Err(AppError::TooManyRequests {
            message: format!(
                "Too many password reset requests. Try again in {} minutes.",
                (wait + 59) / 60
            ),
            retry_after: wait as u64,
        });
    }
    Ok(())
}

/// The reset and its user behind a link's secret, while the link may be used; otherwise
/// a 404 that says why.
pub async fn open(
    conn: &impl ConnectionTrait,
    secret: &str,
) -> Result<(password_reset::Model, user::Model), AppError> {
    let refused = |why: &str| {
        AppError::NotFound(format!(
            "This password reset link {why}. Ask for a new one from the sign-in page."
        ))
    };
    if secret.len() > 128 || has_control(secret) {
        return Err(refused("is not valid"));
    }
    let found = password_reset::Entity::find()
        .filter(password_reset::Column::TokenHash.eq(sha256_hex(secret.as_bytes())))
        .find_also_related(user::Entity)
        .one(conn)
        .await?;
    let Some((reset, Some(user))) = found else {
        return Err(refused("is not valid"));
    };
    if reset.used_at.is_some() {
        return Err(refused("was used already"));
    }
    if reset.expires_at <= now() {
        return Err(refused("has expired"));
    }
    if !user.active {
        return Err(refused("is not valid"));
    }
    if reset.password_stamp != stamp(&user) {
        return Err(refused("no longer works: the password was changed since"));
    }
    Ok((reset, user))
}

/// Sets the password of the link's user to `password`, uses the link up and ends every
/// session of the user.
pub async fn complete(db: &Db, secret: &str, password: &str) -> Result<user::Model, AppError> {
    let (reset, _) = open(&db.read, secret).await?;
    let mut fields = FieldErrors::new();
    users::validate_password(password, &mut fields);
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    let hash = passwords::hash(password).await?;
    let tx = db.begin_write().await?;
    // Checked again inside the transaction: the link may have been used, or the password
    // changed, while the new one was being hashed.
    let (_, user) = open(&tx, secret).await?;
    let used = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(Some(now())))
        .filter(password_reset::Column::Id.eq(reset.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&tx)
        .await?;
    if used.rows_affected == 0 {
        return Err(AppError::NotFound(
            "This password reset link was used already. Ask for a new one from the sign-in page."
                .into(),
        ));
    }
    let mut am: user::ActiveModel = user.into();
    am.password_hash = Set(hash);
    am.updated_at = Set(now());
    let user = am.update(&tx).await?;
    let ended = sessions::end_all_of(&tx, user.id, None).await?;
    let actor = Actor::from(&user);
    audit::record(
        &tx,
        Some(&actor),
        "reset_password",
        "user",
        user.id,
        Some(serde_json::json!({"sessions_ended": ended})),
    )
    .await?;
    tx.commit().await?;
    db.auth_cache.forget();
    db.credentials.changed();
    Ok(user)
}
