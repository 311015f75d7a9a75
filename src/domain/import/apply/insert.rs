//! The end every kind's bulk insert shares: a chunk's new rows in one statement, read
//! back in the order they were given.
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityName, EntityTrait, IntoActiveModel};

use crate::error::AppError;

type Model<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Model;

/// Inserts `models` in one statement; the rows written, in the order of `models`: ids
/// are assigned in VALUES order (as `contacts::batch` and `stripe::timeline` rely on
/// too), so sorting by `id` puts each row back beside the one it was made from. A count
/// that differs would pair rows with the wrong records: it fails the chunk instead.
/// `models` is a `Vec`, not an iterator borrowing the rows, so the job runner's future
/// stays `Send`.
pub(super) async fn in_order<A>(
    tx: &impl ConnectionTrait,
    models: Vec<A>,
    id: impl Fn(&Model<A>) -> i64,
) -> Result<Vec<Model<A>>, AppError>
where
    A: ActiveModelTrait,
    Model<A>: IntoActiveModel<A>,
{
    let asked = models.len();
    if asked == 0 {
        return Ok(Vec::new());
    }
    let mut inserted = A::Entity::insert_many(models)
        .exec_with_returning(tx)
        .await?;
    inserted.sort_by_key(|m| id(m));
    if inserted.len() != asked {
        return Err(AppError::Internal(format!(
            "{} import: ids do not match the rows",
            A::Entity::default().table_name()
        )));
    }
    Ok(inserted)
}

/// The ids [`in_order`] gives the rows of `models`, in their order.
pub(super) async fn ids<A>(
    tx: &impl ConnectionTrait,
    models: Vec<A>,
    id: impl Fn(&Model<A>) -> i64,
) -> Result<Vec<i64>, AppError>
where
    A: ActiveModelTrait,
    Model<A>: IntoActiveModel<A>,
{
    Ok(in_order(tx, models, &id).await?.iter().map(id).collect())
}
