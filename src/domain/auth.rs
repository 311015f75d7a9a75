//! Password login with throttling: five failures for one account, or from one address,
//! within 15 minutes lock further attempts out until the window passes. Failures are
//! kept in the database so every process of an install counts the same.
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, Set,
};

use crate::db::Db;
use crate::domain::{normalise, now, passwords, users};
use crate::entities::{login_attempt, user};
use crate::error::AppError;

pub const MAX_FAILURES: u64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

pub async fn login(
    db: &Db,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<user::Model, AppError> {
    let email_norm = normalise(email);
    let since = now() - Duration::minutes(WINDOW_MINUTES);
    let by_account = login_attempt::Entity::find()
        .filter(login_attempt::Column::EmailNorm.eq(&email_norm))
        .filter(login_attempt::Column::CreatedAt.gt(since))
        .count(&db.read)
        .await?;
    let by_ip = login_attempt::Entity::find()
        .filter(login_attempt::Column::Ip.eq(ip))
        .filter(login_attempt::Column::CreatedAt.gt(since))
        .count(&db.read)
        .await?;
    if by_account >= MAX_FAILURES || by_ip >= MAX_FAILURES {
        return Err(AppError::TooManyRequests(format!(
            "Too many failed sign-in attempts. Try again in {WINDOW_MINUTES} minutes."
        )));
    }
    let user = users::find_by_email(&db.read, email).await?;
    let ok = passwords::verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await;
    match user {
        Some(u) if ok && u.active => Ok(u),
        _ => {
            record_failure(&db.write, &email_norm, ip).await?;
            // One message whatever went wrong, so the form does not reveal which emails
            // have accounts.
            Err(AppError::Unauthorized(
                "Email or password is incorrect.".into(),
            ))
        }
    }
}

async fn record_failure(
    conn: &impl ConnectionTrait,
    email_norm: &str,
    ip: &str,
) -> Result<(), AppError> {
    login_attempt::ActiveModel {
        id: NotSet,
        email_norm: Set(email_norm.chars().take(254).collect()),
        ip: Set(ip.chars().take(64).collect()),
        created_at: Set(now()),
    }
    .insert(conn)
    .await?;
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::CreatedAt.lt(now() - Duration::days(1)))
        .exec(conn)
        .await?;
    Ok(())
}
