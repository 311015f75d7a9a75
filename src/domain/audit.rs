//! The audit trail: who did what to which record, written in the same transaction as the
//! change itself.
use sea_orm::{ConnectionTrait, EntityTrait, NotSet, Set};

use crate::domain::{Actor, now};
use crate::entities::audit_log;
use crate::error::AppError;

pub async fn record(
    conn: &impl ConnectionTrait,
    actor: Option<&Actor>,
    action: &str,
    entity: &str,
    entity_id: i64,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    // `Entity::insert(..).exec` rather than `ActiveModel::insert`: the latter reads the
    // row back, a second statement on every write.
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: NotSet,
        actor_id: Set(actor.map(|a| a.id)),
        action: Set(action.to_string()),
        entity: Set(entity.to_string()),
        entity_id: Set(entity_id),
        detail: Set(detail.map(|d| d.to_string())),
        created_at: Set(now()),
    })
    .exec(conn)
    .await?;
    Ok(())
}
