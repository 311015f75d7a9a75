//! Events about records, for the write paths: one record in hand (`emit_about`), one by
//! id (`emit_record`), or a bulk action's selection (`Many`). Each checks first that some
//! endpoint wants the event, so a write costs nothing more when none does.
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::SelectStatement;
use serde::Serialize;
use serde_json::Value;

use super::events::{Event, EventType};
use super::{emit, wants};
use crate::domain::companies::Company;
use crate::domain::contacts::Contact;
use crate::domain::{Db, records, sql};
use crate::error::AppError;

/// The event type `<entity>.<what>` (`contact`, `updated`), if there is one.
fn kind_of(entity: &str, what: &str) -> Option<EventType> {
    EventType::parse(&format!("{entity}.{what}"))
}

/// The record as the API shows it (an admin's view), read through `conn`.
pub async fn record_data(
    conn: &impl ConnectionTrait,
    entity: &str,
    id: i64,
) -> Result<Option<Value>, AppError> {
    let value = match entity {
        "contact" => to_value(&records::get_in::<Contact>(conn, id).await?)?,
        "company" => to_value(&records::get_in::<Company>(conn, id).await?)?,
        "deal" => match crate::domain::deals::get_in(conn, id).await? {
            Some(d) => to_value(&d)?,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(value))
}

fn to_value(record: &impl Serialize) -> Result<Value, AppError> {
    serde_json::to_value(record).map_err(|e| AppError::Internal(format!("webhook data: {e}")))
}

/// Emits `<entity>.<what>` about `record`, in hand.
pub async fn emit_about(
    db: &Db,
    conn: &impl ConnectionTrait,
    entity: &str,
    what: &str,
    record: &impl Serialize,
) -> Result<usize, AppError> {
    let Some(kind) = kind_of(entity, what) else {
        return Ok(0);
    };
    emit_kind(db, conn, kind, record).await
}

/// Emits `kind` about `record` when some endpoint wants it.
pub async fn emit_kind(
    db: &Db,
    conn: &impl ConnectionTrait,
    kind: EventType,
    record: &impl Serialize,
) -> Result<usize, AppError> {
    if !wants(db, conn, kind).await? {
        return Ok(0);
    }
    emit(db, conn, &Event::new(kind, record)?).await
}

/// Emits `<entity>.<what>` about record `id`, read through `conn` (for a delete: before
/// the record goes).
pub async fn emit_record(
    db: &Db,
    conn: &impl ConnectionTrait,
    entity: &str,
    what: &str,
    id: i64,
) -> Result<usize, AppError> {
    let Some(kind) = kind_of(entity, what) else {
        return Ok(0);
    };
    if !wants(db, conn, kind).await? {
        return Ok(0);
    }
    match record_data(conn, entity, id).await? {
        Some(data) => emit(db, conn, &Event::of_value(kind, data)).await,
        None => Ok(0),
    }
}

/// The events of a bulk action, when wanted: the selected ids read before the change
/// (and, for a delete, the records as they were); `finish` emits after it.
pub struct Many {
    kind: EventType,
    entity: &'static str,
    ids: Vec<i64>,
    before: Vec<Value>,
}

impl Many {
    /// `ids` selects the records (a statement of one `id` column).
    pub async fn start(
        db: &Db,
        conn: &impl ConnectionTrait,
        entity: &'static str,
        what: &str,
        ids: &SelectStatement,
    ) -> Result<Option<Many>, AppError> {
        let Some(kind) = kind_of(entity, what) else {
            return Ok(None);
        };
        if !wants(db, conn, kind).await? {
            return Ok(None);
        }
        let backend = conn.get_database_backend();
        let rows = conn.query_all_raw(sql::build(backend, ids)).await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| {
                r.try_get_by_index::<i64>(0)
                    .map_err(|e| AppError::Internal(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut before = Vec::new();
        if what == "deleted" {
            for id in &ids {
                before.extend(record_data(conn, entity, *id).await?);
            }
        }
        Ok(Some(Many {
            kind,
            entity,
            ids,
            before,
        }))
    }

    /// Emits one event per record (inside the same transaction, after the change).
    pub async fn finish(self, db: &Db, conn: &impl ConnectionTrait) -> Result<usize, AppError> {
        let mut data = self.before;
        if !self.kind.as_str().ends_with(".deleted") {
            for id in &self.ids {
                data.extend(record_data(conn, self.entity, *id).await?);
            }
        }
        let mut queued = 0;
        for d in data {
            queued += emit(db, conn, &Event::of_value(self.kind, d)).await?;
        }
        Ok(queued)
    }
}
