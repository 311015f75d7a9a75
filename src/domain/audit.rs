//! The audit trail: who did what to which record, written in the same transaction as the
//! change itself.
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, NotSet, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};

use crate::domain::{Actor, now};
use crate::entities::{audit_log, user};
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
    limit: u64,
) -> Result<Vec<Entry>, AppError> {
    Ok(audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Action)
        .column_as(user::Column::Name, "actor_name")
        .column(audit_log::Column::Detail)
        .column(audit_log::Column::CreatedAt)
        .join(JoinType::LeftJoin, audit_log::Relation::Actor.def())
        .filter(audit_log::Column::Entity.eq(entity))
        .filter(audit_log::Column::EntityId.eq(entity_id))
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .into_model::<Entry>()
        .all(&db.read)
        .await?)
}
