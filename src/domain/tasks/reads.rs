//! My tasks' index ranges read as one JSON value each: sqlx hands SQLite rows across a
//! thread one at a time, and a board is up to ~300 rows in six ranges (measured with
//! 10 000 tasks, release build: ~16 ms a page row by row). The statement is the
//! builder's own (`mod::select` with its filters); raw SQL only wraps it in the
//! aggregate of `domain::sql::json_array`.
use sea_orm::{ConnectionTrait, FromQueryResult, QueryTrait, Select, Statement};

use super::{Row, Task};
use crate::domain::sql::json_array;
use crate::entities::task;
use crate::error::AppError;

/// The columns `mod::select` names, as the JSON object's keys.
const FIELDS: &[&str] = &[
    "id",
    "title",
    "notes",
    "due_at",
    "due_date",
    "priority",
    "assignee_id",
    "assignee_name",
    "created_by",
    "contact_id",
    "contact_first",
    "contact_last",
    "company_id",
    "company_name",
    "deal_id",
    "deal_title",
    "done",
    "done_at",
    "version",
    "created_at",
    "updated_at",
];

#[derive(FromQueryResult)]
struct Items {
    items: String,
}

/// The tasks `q` selects (in no particular order: callers sort).
pub(super) async fn rows(
    conn: &impl ConnectionTrait,
    q: Select<task::Entity>,
) -> Result<Vec<Task>, AppError> {
    let backend = conn.get_database_backend();
    let inner = q.build(backend);
    let columns: Vec<String> = FIELDS.iter().map(|f| format!("s.{f}")).collect();
    let fields: Vec<(&str, &str)> = FIELDS
        .iter()
        .zip(&columns)
        .map(|(k, c)| (*k, c.as_str()))
        .collect();
    let sql = format!(
        "SELECT {} AS items FROM ({}) s",
        json_array(backend, &fields, ""),
        inner.sql
    );
    let stmt =
        Statement::from_sql_and_values(backend, sql, inner.values.map(|v| v.0).unwrap_or_default());
    let Some(found) = Items::find_by_statement(stmt).one(conn).await? else {
        return Ok(Vec::new());
    };
    let rows: Vec<Row> = serde_json::from_str(&found.items)
        .map_err(|e| AppError::Internal(format!("task JSON: {e}")))?;
    Ok(rows.into_iter().map(Task::from).collect())
}

/// A flag as either engine's JSON gives it: true/false, or SQLite's 1/0.
pub(super) fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match <Flag as serde::Deserialize>::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(n) => n != 0,
    })
}
