//! Companies. For now a contact names its company and the row is found or created.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, Set};

use crate::domain::{normalise, now};
use crate::entities::company;
use crate::error::AppError;

pub const NAME_MAX: usize = 200;

/// The company called `name`, compared without regard to case or spacing.
pub async fn find_by_name(
    conn: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<company::Model>, AppError> {
    find_by_norm(conn, &normalise(name)).await
}

/// The company called `name` (compared without regard to case or spacing), created when
/// missing. Safe against a concurrent insert of the same name.
pub async fn find_or_create(
    conn: &impl ConnectionTrait,
    name: &str,
) -> Result<company::Model, AppError> {
    let name_norm = normalise(name);
    if let Some(c) = find_by_norm(conn, &name_norm).await? {
        return Ok(c);
    }
    let t = now();
    company::Entity::insert(company::ActiveModel {
        id: NotSet,
        name: Set(name.split_whitespace().collect::<Vec<_>>().join(" ")),
        name_norm: Set(name_norm.clone()),
        created_at: Set(t),
        updated_at: Set(t),
    })
    .on_conflict_do_nothing_on([company::Column::NameNorm])
    .exec(conn)
    .await?;
    find_by_norm(conn, &name_norm)
        .await?
        .ok_or_else(|| AppError::Internal(format!("company {name_norm} not found after insert")))
}

async fn find_by_norm(
    conn: &impl ConnectionTrait,
    name_norm: &str,
) -> Result<Option<company::Model>, AppError> {
    Ok(company::Entity::find()
        .filter(company::Column::NameNorm.eq(name_norm))
        .one(conn)
        .await?)
}
