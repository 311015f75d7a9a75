//! Existing records looked up in bulk for a chunk of rows: by id, by email (contacts),
//! by domain or name (companies). Trashed records are included, so a row that would
//! collide with one is told so.
use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{company, contact, deal};
use crate::error::AppError;

const PART: usize = 500;

/// The records of `E` with these ids (trashed ones too), a part of the ids at a time.
pub(super) async fn by_id<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: E::Column,
    id_of: impl Fn(&E::Model) -> i64,
    ids: &HashSet<i64>,
) -> Result<HashMap<i64, E::Model>, AppError> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::new();
    for part in ids.chunks(PART) {
        let found = E::find()
            .filter(id.is_in(part.iter().copied()))
            .all(conn)
            .await?;
        out.extend(found.into_iter().map(|m| (id_of(&m), m)));
    }
    Ok(out)
}

pub(super) async fn contacts_by_id(
    conn: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> Result<HashMap<i64, contact::Model>, AppError> {
    by_id::<contact::Entity>(conn, contact::Column::Id, |m| m.id, ids).await
}

/// By normalised email.
pub(super) async fn contacts_by_email(
    conn: &impl ConnectionTrait,
    emails: &HashSet<String>,
) -> Result<HashMap<String, contact::Model>, AppError> {
    let emails: Vec<&String> = emails.iter().collect();
    let mut out = HashMap::new();
    for part in emails.chunks(PART) {
        let found = contact::Entity::find()
            .filter(contact::Column::EmailNorm.is_in(part.iter().map(|e| e.as_str())))
            .all(conn)
            .await?;
        for c in found {
            if let Some(e) = c.email_norm.clone() {
                out.insert(e, c);
            }
        }
    }
    Ok(out)
}

pub(super) async fn companies_by_id(
    conn: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> Result<HashMap<i64, company::Model>, AppError> {
    by_id::<company::Entity>(conn, company::Column::Id, |m| m.id, ids).await
}

/// By normalised name (`name_norm`) or by domain, as `column` says.
pub(super) async fn companies_by(
    conn: &impl ConnectionTrait,
    column: company::Column,
    values: &HashSet<String>,
) -> Result<HashMap<String, company::Model>, AppError> {
    let values: Vec<&String> = values.iter().collect();
    let mut out = HashMap::new();
    for part in values.chunks(PART) {
        let found = company::Entity::find()
            .filter(column.is_in(part.iter().map(|v| v.as_str())))
            .all(conn)
            .await?;
        for c in found {
            let key = match column {
                company::Column::Domain => c.domain.clone(),
                _ => Some(c.name_norm.clone()),
            };
            if let Some(k) = key {
                out.insert(k, c);
            }
        }
    }
    Ok(out)
}

pub(super) async fn deals_by_id(
    conn: &impl ConnectionTrait,
    ids: &HashSet<i64>,
) -> Result<HashMap<i64, deal::Model>, AppError> {
    by_id::<deal::Entity>(conn, deal::Column::Id, |m| m.id, ids).await
}
