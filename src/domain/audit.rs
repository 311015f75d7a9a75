//! The audit trail: who did what to which record, written in the same transaction as the
//! change itself.
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, NotSet, Set};

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

/// One line of a record's history, with who did it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Entry {
    pub action: String,
    pub actor_name: Option<String>,
    pub detail: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The latest `limit` changes to one record, newest first.
pub async fn for_record(
    db: &crate::domain::Db,
    entity: &str,
    entity_id: i64,
    limit: i64,
) -> Result<Vec<Entry>, AppError> {
    let mut sql = crate::domain::sql::Sql::new(db.backend());
    sql.push(
        "SELECT a.action, u.name AS actor_name, a.detail, a.created_at FROM audit_log a \
         LEFT JOIN users u ON u.id = a.actor_id WHERE a.entity = ",
    )
    .bind(entity)
    .push(" AND a.entity_id = ")
    .bind(entity_id)
    .push(" ORDER BY a.id DESC LIMIT ")
    .bind(limit);
    Ok(Entry::find_by_statement(sql.build()).all(&db.read).await?)
}
