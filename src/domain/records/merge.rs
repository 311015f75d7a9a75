//! Merging two records of a kind into one: the fields chosen from the other, tags and
//! custom values combined, links moved, the other deleted, the merge recorded. One
//! transaction. What differs per record type is the `Mergeable` trait.
use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use serde::de::DeserializeOwned;

use super::{Fields, OwnedInput, Record, get, get_in};
use crate::domain::{Action, Actor, Db, audit, webhooks};
use crate::error::AppError;

/// A record type that can be merged.
#[allow(async_fn_in_trait)]
/// Its input is the form of the record that validation takes: the record as input
/// (`from`), its fields taken by name (the field table's merge choices are its keys as
/// JSON).
pub trait Mergeable:
    Fields<Input: for<'a> From<&'a Self> + serde::Serialize + DeserializeOwned>
{
    /// Validated input, ready to store.
    type Valid;

    /// Validates the merged input; `current_owner` may be an inactive user.
    async fn check(
        db: &Db,
        actor: &Actor,
        input: &Self::Input,
        current_owner: Option<i64>,
        custom: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Self::Valid, AppError>;
    /// Moves what links to `lose` (besides tags) to `keep`.
    async fn move_links(tx: &DatabaseTransaction, keep: i64, lose: i64) -> Result<(), AppError>;
    /// Stores the merged values on `keep`, once `lose` is gone.
    async fn write(tx: &DatabaseTransaction, keep: i64, valid: Self::Valid)
    -> Result<(), AppError>;
    /// What the audit row says beyond the merged id and what was taken.
    fn detail(other: &Self) -> serde_json::Map<String, serde_json::Value>;
}

/// Merges `lose` into `keep`: `take` names the fields whose value comes from `lose`.
pub async fn merge<R: Mergeable>(
    db: &Db,
    actor: &Actor,
    keep: i64,
    lose: i64,
    take: &[String],
) -> Result<R, AppError> {
    actor.require(Action::WriteRecords)?;
    let entity = R::KIND.entity;
    if keep == lose {
        return Err(AppError::field(
            "merge_id",
            format!("A {entity} cannot be merged with itself."),
        ));
    }
    let fields = R::merge_keys();
    if let Some(unknown) = take.iter().find(|f| !fields.contains(&f.as_str())) {
        return Err(AppError::field(
            "take",
            format!("Unknown field {unknown}; fields are {}.", fields.join(", ")),
        ));
    }
    // Both seen by the actor, then read whole: what the actor is shown of a link they
    // may not see ("another rep's company") is no value to merge, and would be stored
    // as a new company of that name.
    get::<R>(db, actor, keep).await?;
    get::<R>(db, actor, lose)
        .await
        .map_err(|_| AppError::field("merge_id", format!("No {entity} has this id.")))?;
    let survivor: R = get_in(&db.read, keep).await?;
    let other: R = get_in(&db.read, lose).await?;
    let mut input = taken(R::Input::from(&survivor), R::Input::from(&other), take)?;
    input.set_tags(
        survivor
            .tags()
            .iter()
            .chain(other.tags())
            .cloned()
            .collect(),
    );
    // The survivor keeps its owner even if deactivated; the other one's counts as kept too.
    let current_owner = input.owner_id();
    // Custom values: the survivor's, with the other's filling the gaps.
    let mut custom = other.custom().clone();
    custom.extend(survivor.custom().clone());
    let valid = R::check(db, actor, &input, current_owner, &custom).await?;
    let tx = db.begin_write().await?;
    // The other record's `.deleted` event carries it as it was, read before it goes.
    let mut hooked = webhooks::emit_record(db, &tx, entity, "deleted", lose).await?;
    // Links move first, then the other record goes (which frees its unique values).
    move_tags::<R>(&tx, keep, lose).await?;
    R::move_links(&tx, keep, lose).await?;
    R::Entity::delete_many()
        .filter(R::ID.eq(lose))
        .exec(&tx)
        .await?;
    R::write(&tx, keep, valid).await?;
    match entity {
        // Its deals and the other's now carry its industry and size, features of their
        // scores.
        "company" => crate::domain::companies::rescore_deals(db, &tx, keep).await?,
        // The other's activities, deals and tasks are now its: its lead score's.
        "contact" => crate::domain::scoring::lead_scores::changed(db, &tx, &[keep]).await?,
        _ => {}
    }
    let mut detail = R::detail(&other);
    detail.insert("merged_id".into(), lose.into());
    detail.insert("took".into(), take.into());
    audit::record(
        &tx,
        Some(actor),
        "merge",
        entity,
        keep,
        Some(serde_json::Value::Object(detail)),
    )
    .await?;
    hooked += webhooks::emit_record(db, &tx, entity, "updated", keep).await?;
    tx.commit().await?;
    webhooks::wake_if(hooked);
    // Read as the actor sees it: a link they may not see stays unnamed.
    get(db, actor, keep).await
}

/// `input` with the fields named in `take` copied from `from`: the input's fields by the
/// names its JSON has, so each record type only lists them (its field table).
fn taken<I: serde::Serialize + DeserializeOwned>(
    input: I,
    from: I,
    take: &[String],
) -> Result<I, AppError> {
    let as_json = |i: &I| match serde_json::to_value(i) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(AppError::Internal(
            "a record's input is not a JSON object".into(),
        )),
    };
    let (mut fields, from) = (as_json(&input)?, as_json(&from)?);
    for field in take {
        if let Some(value) = from.get(field) {
            fields.insert(field.clone(), value.clone());
        }
    }
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| AppError::Internal(format!("merging inputs: {e}")))
}

/// Gives `keep` the tags of `lose` it does not have.
async fn move_tags<R: Record>(
    tx: &impl ConnectionTrait,
    keep: i64,
    lose: i64,
) -> Result<(), AppError> {
    let rows = Query::select()
        .expr(Expr::val(keep))
        .column(R::LINK_TAG)
        .from(R::TagLink::default())
        .and_where(Expr::col(R::LINK_RECORD).eq(lose))
        .to_owned();
    move_rows(
        tx,
        R::TagLink::default(),
        [R::LINK_RECORD, R::LINK_TAG],
        rows,
    )
    .await
}

/// Points every row of `E` whose `column` names the merged record `lose` at `keep`.
pub async fn relink<E: EntityTrait>(
    tx: &DatabaseTransaction,
    column: E::Column,
    keep: i64,
    lose: i64,
) -> Result<(), AppError> {
    E::update_many()
        .col_expr(column, Expr::value(keep))
        .filter(column.eq(lose))
        .exec(tx)
        .await?;
    Ok(())
}

/// `INSERT INTO <table> (<columns>) SELECT … ON CONFLICT (<columns>) DO NOTHING`: copies
/// link rows to another record, skipping those it has.
pub async fn move_rows<E: EntityTrait>(
    tx: &impl ConnectionTrait,
    table: E,
    columns: [E::Column; 2],
    rows: sea_orm::sea_query::SelectStatement,
) -> Result<(), AppError> {
    let insert = Query::insert()
        .into_table(table)
        .columns(columns)
        .select_from(rows)
        .map_err(|e| AppError::Internal(format!("moving links: {e}")))?
        .on_conflict(OnConflict::columns(columns).do_nothing().to_owned())
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}
