//! The audit trail: who did what to which record, from which address, written in the same
//! transaction as the change itself (a refused or failed change leaves no row). Updates
//! keep each changed field's old and new value (`changes`).
//!
//! - `log`: the filtered, keyset-paged reads of Settings → Audit log and `/api/v1/audit`.
//! - `retention`: how long rows are kept (a setting) and the daily job that removes older
//!   ones.
pub mod log;
pub mod retention;

use std::collections::BTreeSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, NotSet, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::domain::{Actor, now};
use crate::entities::{audit_log, user};
use crate::error::AppError;

/// Records `action` on (`entity`, `entity_id`) by `actor`, from the actor's address.
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: Option<&Actor>,
    action: &str,
    entity: &str,
    entity_id: i64,
    detail: Option<Value>,
) -> Result<(), AppError> {
    let ip = actor.and_then(|a| a.ip.as_deref());
    record_as(
        conn,
        actor.map(|a| a.id),
        ip,
        action,
        entity,
        entity_id,
        detail,
    )
    .await
}

/// `record` for events with no `Actor` yet: a sign-in names the user it was for (or
/// none) and the address it came from.
pub async fn record_as(
    conn: &impl ConnectionTrait,
    actor_id: Option<i64>,
    ip: Option<&str>,
    action: &str,
    entity: &str,
    entity_id: i64,
    detail: Option<Value>,
) -> Result<(), AppError> {
    // Every way in (password, two-factor code, single sign-on) is audited here, so
    // sign-ins are counted for /metrics here too.
    match action {
        "sign_in" => crate::telemetry::login(true),
        "sign_in_failed" => crate::telemetry::login(false),
        _ => {}
    }
    // `Entity::insert(..).exec` rather than `ActiveModel::insert`: the latter reads the
    // row back, a second statement on every write.
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: NotSet,
        actor_id: Set(actor_id),
        action: Set(action.chars().take(32).collect()),
        entity: Set(entity.chars().take(32).collect()),
        entity_id: Set(entity_id),
        detail: Set(detail.map(|d| d.to_string())),
        created_at: Set(now()),
        ip: Set(ip.map(|ip| ip.chars().take(64).collect())),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// `record` of one `action` on many records of `entity` by the system (no actor), in
/// one statement: (`entity_id`, `detail`) each.
pub async fn record_many(
    conn: &impl ConnectionTrait,
    action: &str,
    entity: &str,
    rows: Vec<(i64, Value)>,
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let t = now();
    let rows = rows
        .into_iter()
        .map(|(entity_id, detail)| audit_log::ActiveModel {
            id: NotSet,
            actor_id: Set(None),
            action: Set(action.chars().take(32).collect()),
            entity: Set(entity.chars().take(32).collect()),
            entity_id: Set(entity_id),
            detail: Set(Some(detail.to_string())),
            created_at: Set(t),
            ip: Set(None),
        });
    audit_log::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Keys that every update changes and that say nothing about what the user changed.
const NOISE: [&str; 2] = ["updated_at", "version"];

/// What changed between two states of a record, as `{"field": {"old", "new"}}`: each
/// state is serialised as the API shows it, and nested objects (custom fields) are
/// compared key by key under dotted names (`custom_fields.budget`).
pub fn diff(before: &impl Serialize, after: &impl Serialize) -> Map<String, Value> {
    let mut out = Map::new();
    if let (Ok(b), Ok(a)) = (serde_json::to_value(before), serde_json::to_value(after)) {
        walk("", &b, &a, &mut out);
    }
    out
}

fn walk(prefix: &str, before: &Value, after: &Value, out: &mut Map<String, Value>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                if prefix.is_empty() && NOISE.contains(&key.as_str()) {
                    continue;
                }
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                let old = b.get(key).unwrap_or(&Value::Null);
                let new = a.get(key).unwrap_or(&Value::Null);
                walk(&name, old, new, out);
            }
        }
        (b, a) if b != a => {
            let name = if prefix.is_empty() { "value" } else { prefix };
            out.insert(name.to_string(), json!({"old": b, "new": a}));
        }
        _ => {}
    }
}

/// The detail of an update: `{"changes": diff(before, after)}`.
pub fn changes(before: &impl Serialize, after: &impl Serialize) -> Option<Value> {
    Some(json!({"changes": diff(before, after)}))
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
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .into_model::<Entry>()
        .all(&db.read)
        .await?)
}
