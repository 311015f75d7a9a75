//! Key/value settings kept in the database (shared by every process of one install).
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::entities::setting;
use crate::error::AppError;

pub async fn get(conn: &impl ConnectionTrait, key: &str) -> Result<Option<String>, AppError> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(conn)
        .await?
        .map(|s| s.value))
}

pub async fn set(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), AppError> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .update_column(setting::Column::Value)
            .to_owned(),
    )
    .exec(conn)
    .await?;
    crate::domain::access::settings_changed();
    Ok(())
}

/// Stores `value` unless the key already has one; returns whichever value is kept, so
/// two processes starting at once agree.
pub async fn get_or_insert(
    conn: &impl ConnectionTrait,
    key: &str,
    value: &str,
) -> Result<String, AppError> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
    })
    .on_conflict_do_nothing_on([setting::Column::Key])
    .exec(conn)
    .await?;
    get(conn, key)
        .await?
        .ok_or_else(|| AppError::Internal(format!("setting {key} vanished")))
}

pub async fn delete(conn: &impl ConnectionTrait, key: &str) -> Result<(), AppError> {
    setting::Entity::delete_by_id(key.to_string())
        .exec(conn)
        .await?;
    crate::domain::access::settings_changed();
    Ok(())
}
