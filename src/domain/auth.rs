//! Password login with throttling: five failures for one account, or from one address,
//! within 15 minutes lock further attempts out until the window passes. Attempts are
//! kept in the database so every process of an install counts the same.
use chrono::Duration;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};

use crate::db::Db;
use crate::domain::{has_control, normalise, now, passwords, users};
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
    // Control characters never belong to an address (and PostgreSQL refuses NUL): such a
    // sign-in fails like any other, and is counted under the address without them.
    let odd = has_control(email);
    let email: String = email.chars().filter(|c| !c.is_control()).collect();
    let email = email.as_str();
    let email_norm: String = normalise(email).chars().take(254).collect();
    // The attempt is written down before the password is checked and counted with the
    // others, so a burst of parallel guesses cannot all slip in under the limit; a
    // successful sign-in takes its own attempt back out.
    let attempt = record_attempt(&db.write, &email_norm, ip).await?;
    let since = now() - Duration::minutes(WINDOW_MINUTES);
    let by_account = login_attempt::Entity::find()
        .filter(login_attempt::Column::EmailNorm.eq(&email_norm))
        .filter(login_attempt::Column::CreatedAt.gt(since))
        .count(&db.write)
        .await?;
    let by_ip = login_attempt::Entity::find()
        .filter(login_attempt::Column::Ip.eq(ip))
        .filter(login_attempt::Column::CreatedAt.gt(since))
        .count(&db.write)
        .await?;
    if by_account > MAX_FAILURES || by_ip > MAX_FAILURES {
        return Err(AppError::TooManyRequests(format!(
            "Too many failed sign-in attempts. Try again in {WINDOW_MINUTES} minutes."
        )));
    }
    let user = if odd {
        None
    } else {
        users::find_by_email(&db.read, email).await?
    };
    let ok = passwords::verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await;
    match user {
        Some(u) if ok && u.active => {
            login_attempt::Entity::delete_by_id(attempt)
                .exec(&db.write)
                .await?;
            Ok(u)
        }
        // One message whatever went wrong, so the form does not reveal which emails have
        // accounts.
        _ => Err(AppError::Unauthorized(
            "Email or password is incorrect.".into(),
        )),
    }
}

async fn record_attempt(
    conn: &impl ConnectionTrait,
    email_norm: &str,
    ip: &str,
) -> Result<i64, AppError> {
    let res = login_attempt::Entity::insert(login_attempt::ActiveModel {
        id: NotSet,
        email_norm: Set(email_norm.to_string()),
        ip: Set(ip.chars().take(64).collect()),
        created_at: Set(now()),
    })
    .exec(conn)
    .await?;
    login_attempt::Entity::delete_many()
        .filter(login_attempt::Column::CreatedAt.lt(now() - Duration::days(1)))
        .exec(conn)
        .await?;
    Ok(res.last_insert_id)
}
