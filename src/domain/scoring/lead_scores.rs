//! The leads' stored scores (contacts without a won deal), from the lead model scoring
//! now: all of them written a chunk at a time by the scoring job (after training,
//! nightly as contacts age, after a switch), a few after a change to them, and read by
//! with each contact's own read (`contacts::KIND`'s `score` and `score_factors`) by its
//! page, the contact list and the API.
use sea_orm::sea_query::OnConflict;
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
/// then drops the scores this run did not write (contacts that got a won deal or went
/// to the trash); with no model, drops them all. How many were scored.
pub async fn score_all(db: &Db) -> Result<usize, AppError> {
    let Some((version, model)) = super::train::active(db, Kind::Lead).await? else {
        contact_score::Entity::delete_many().exec(&db.write).await?;
        return Ok(0);
    };
    let at = now();
    let mut reader = leads::now_reader(at, None);
    let mut scored = 0;
    while let Some(chunk) = reader.next(db).await? {
        let rows = rows(&model, version, at, &chunk)?;
        scored += rows.len();
        for rows in rows.chunks(CHUNK) {
            upsert(&db.write, rows).await?;
        }
    }
    // A score written after `at` is a change's, newer than this run: kept.
    contact_score::Entity::delete_many()
        .filter(contact_score::Column::ScoredAt.lt(at))
        .exec(&db.write)
        .await?;
    Ok(scored)
}

/// Scores contacts `ids` again after they changed (`changed`), in one transaction: the
/// leads among them get a new score, the others (a won deal, in the trash) lose theirs.
pub async fn score_contacts(db: &Db, ids: &[i64]) -> Result<usize, AppError> {
    let Some((version, model)) = super::train::active(db, Kind::Lead).await? else {
        return Ok(0);
    };
    let at = now();
    let mut scored = 0;
    for ids in ids.chunks(CHUNK) {
        let mut reader = leads::now_reader(at, Some(ids.to_vec()));
        let mut facts = Vec::new();
        while let Some(chunk) = reader.next(db).await? {
            facts.extend(chunk);
        }
        let rows = rows(&model, version, at, &facts)?;
        let kept: Vec<i64> = facts.iter().map(|f| f.id).collect();
        let tx = db.begin_write().await?;
        upsert(&tx, &rows).await?;
        contact_score::Entity::delete_many()
            .filter(contact_score::Column::Id.is_in(ids.iter().copied()))
            .filter(contact_score::Column::Id.is_not_in(kept))
            .exec(&tx)
            .await?;
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

async fn upsert(
    conn: &impl ConnectionTrait,
    rows: &[contact_score::ActiveModel],
) -> Result<(), AppError> {
    if rows.is_empty() {
        return Ok(());
    }
    contact_score::Entity::insert_many(rows.to_vec())
        .on_conflict(
            OnConflict::column(contact_score::Column::Id)
                .update_columns([
                    contact_score::Column::ModelVersion,
                    contact_score::Column::Probability,
                    contact_score::Column::Factors,
                    contact_score::Column::ScoredAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
