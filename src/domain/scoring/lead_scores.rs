//! The leads' stored scores (contacts without a won deal), from the lead model scoring
//! now: all of them written a chunk at a time by the scoring job (after training,
//! nightly as contacts age, after a switch), a few after a change to them; read with
//! each contact (`contacts::KIND`'s `score` and `score_factors`) by its page, the
//! contact list and the API.
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::Kind;
use super::leads::{self, LeadFacts};
use super::model::Model;
use super::scores::explain;
use crate::domain::{Db, now};
use crate::entities::contact_score;
use crate::error::AppError;
use crate::jobs::queue::{NewJob, enqueue_in};

/// Rows written per statement.
const CHUNK: usize = 500;

/// Scores every lead with the lead model scoring now, a chunk of contacts at a time,
/// then drops the scores of contacts no longer leads (a won deal, the trash), however
/// their rows came to be; with no model, drops them all. How many were scored.
pub async fn score_all(db: &Db) -> Result<usize, AppError> {
    let Some((version, model)) = super::train::active(db, Kind::Lead).await? else {
        contact_score::Entity::delete_many().exec(&db.write).await?;
        return Ok(0);
    };
    let at = now();
    let marked = super::features::of_model(db, Kind::Lead, &model).await?;
    let mut reader = leads::now_reader(at, None, marked);
    let mut scored = 0;
    while let Some(chunk) = reader.next(db).await? {
        let rows = rows(&model, version, at, &chunk)?;
        scored += rows.len();
        for rows in rows.chunks(CHUNK) {
            upsert(&db.write, rows).await?;
        }
    }
    drop_unleads(&db.write, None).await?;
    Ok(scored)
}

/// Scores contacts `ids` again after they changed (`changed`), in one transaction: the
/// leads among them get a new score, the others (a won deal, in the trash) lose theirs.
pub async fn score_contacts(db: &Db, ids: &[i64]) -> Result<usize, AppError> {
    let Some((version, model)) = super::train::active(db, Kind::Lead).await? else {
        return Ok(0);
    };
    let at = now();
    let marked = super::features::of_model(db, Kind::Lead, &model).await?;
    let mut scored = 0;
    for ids in ids.chunks(CHUNK) {
        let mut reader = leads::now_reader(at, Some(ids.to_vec()), marked.clone());
        let mut facts = Vec::new();
        while let Some(chunk) = reader.next(db).await? {
            facts.extend(chunk);
        }
        let rows = rows(&model, version, at, &facts)?;
        let tx = db.begin_write().await?;
        upsert(&tx, &rows).await?;
        // Checked in this transaction: a contact whose deal was won after its facts were
        // read (and whose own rescoring ran first) keeps no score.
        drop_unleads(&tx, Some(ids)).await?;
        tx.commit().await?;
        scored += rows.len();
    }
    Ok(scored)
}

/// Queues contacts `ids` to be scored again within seconds, in the transaction that
/// changed them, when a lead model scores (read at most every 5 s).
pub async fn changed(db: &Db, conn: &impl ConnectionTrait, ids: &[i64]) -> Result<(), AppError> {
    if ids.is_empty() || !super::train::scoring(db, conn, Kind::Lead).await? {
        return Ok(());
    }
    let job = NewJob::new(super::job::CHANGED, serde_json::json!({ "contacts": ids }))
        .at(now() + chrono::Duration::milliseconds(super::job::CHANGED_AFTER_MS));
    enqueue_in(conn, &job).await?;
    Ok(())
}

/// Queues the contacts of deals `deals` to be scored again (a deal won or lost, added
/// or gone changes what its contacts are), when a lead model scores.
pub async fn deals_changed(
    db: &Db,
    conn: &impl ConnectionTrait,
    deals: &[i64],
) -> Result<(), AppError> {
    if deals.is_empty() || !super::train::scoring(db, conn, Kind::Lead).await? {
        return Ok(());
    }
    let contacts: Vec<i64> = crate::entities::deal_contact::Entity::find()
        .select_only()
        .column(crate::entities::deal_contact::Column::ContactId)
        .filter(crate::entities::deal_contact::Column::DealId.is_in(deals.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    changed(db, conn, &contacts).await
}

/// Queues contacts `ids` whose Stripe payments or subscription changed, and their deals
/// (their contacts' payments are a deal score feature too), when a model scores them.
pub async fn billing_changed(
    db: &Db,
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<(), AppError> {
    changed(db, conn, ids).await?;
    if ids.is_empty() || !super::train::scoring(db, conn, Kind::Deal).await? {
        return Ok(());
    }
    let deals: Vec<i64> = crate::entities::deal_contact::Entity::find()
        .select_only()
        .column(crate::entities::deal_contact::Column::DealId)
        .filter(crate::entities::deal_contact::Column::ContactId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    super::scores::changed(db, conn, &deals).await
}

fn rows(
    model: &Model,
    version: i32,
    at: chrono::DateTime<chrono::Utc>,
    leads: &[LeadFacts],
) -> Result<Vec<contact_score::ActiveModel>, AppError> {
    leads
        .iter()
        .map(|f| {
            let (probability, factors) = explain(model, f)?;
            Ok(contact_score::ActiveModel {
                id: Set(f.id),
                model_version: Set(version),
                probability: Set(probability),
                factors: Set(factors),
                scored_at: Set(at),
            })
        })
        .collect()
}

/// Stores `rows`, each over a stored score only if that one is not newer: the full run's
/// chunk read before a change must not undo the change's own rescoring.
async fn upsert(
    conn: &impl ConnectionTrait,
    rows: &[contact_score::ActiveModel],
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    let stored = Expr::col((contact_score::Entity, contact_score::Column::ScoredAt));
    contact_score::Entity::insert_many(rows.to_vec())
        .on_conflict(
            OnConflict::column(contact_score::Column::Id)
                .update_columns([
                    contact_score::Column::ModelVersion,
                    contact_score::Column::Probability,
                    contact_score::Column::Factors,
                    contact_score::Column::ScoredAt,
                ])
                .action_and_where(stored.lte(Expr::cust("excluded.scored_at")))
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Drops the scores (of `ids`, or all) of contacts that are no leads: in the trash, or
/// with a live won deal (as `leads` reads them).
async fn drop_unleads(conn: &impl ConnectionTrait, ids: Option<&[i64]>) -> Result<(), AppError> {
    let scored = || Expr::col((contact_score::Entity, contact_score::Column::Id));
    let live = Query::select()
        .expr(Expr::val(1))
        .from_as("contacts", "c")
        .and_where(
            Expr::col(("c", "id")).equals((contact_score::Entity, contact_score::Column::Id)),
        )
        .and_where(Expr::col(("c", "deleted_at")).is_null())
        .to_owned();
    let won = Query::select()
        .expr(Expr::val(1))
        .from_as("deal_contacts", "dc")
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "deals",
            "d",
            Expr::col(("d", "id")).equals(("dc", "deal_id")),
        )
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            "pipeline_stages",
            "s",
            Expr::col(("s", "id")).equals(("d", "stage_id")),
        )
        .and_where(
            Expr::col(("dc", "contact_id"))
                .equals((contact_score::Entity, contact_score::Column::Id)),
        )
        .and_where(Expr::col(("d", "deleted_at")).is_null())
        .and_where(Expr::col(("s", "kind")).eq("won"))
        .to_owned();
    let mut gone =
        contact_score::Entity::delete_many().filter(Expr::exists(live).not().or(Expr::exists(won)));
    if let Some(ids) = ids {
        gone = gone.filter(scored().is_in(ids.iter().copied()));
    }
    gone.exec(conn).await?;
    Ok(())
}
