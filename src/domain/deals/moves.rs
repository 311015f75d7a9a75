//! Moving a deal between stages and along its column, and the history of its moves.

use super::*;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, clean, has_control, now};
use crate::error::AppError;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    pub stage_id: i64,
    /// Place in the column, 0 first (past the end means last); default the end.
    #[schema(minimum = 0)]
    pub position: Option<i64>,
    /// Or right after this deal of the target stage: what a board shows may be filtered,
    /// so its drop places are said by neighbour, not by count.
    #[serde(default)]
    pub after_id: Option<i64>,
    /// The version the move was made from.
    pub version: i32,
    /// Required when moving to a lost stage.
    #[schema(max_length = 500)]
    pub lost_reason: Option<String>,
}

/// Moves a deal to a stage (and a place in its column). Moving into a won or lost stage
/// closes it (a lost one needs the reason); moving back out reopens it. Every change of
/// stage is kept.
pub async fn move_deal(db: &Db, actor: &Actor, id: i64, m: &Move) -> Result<Deal, AppError> {
    actor.require_write()?;
    let current = get(db, actor, id).await?;
    if m.version != current.version {
        return Err(stale(current));
    }
    let all = pipelines(&db.read).await?;
    let stage = all
        .iter()
        .find(|p| p.id == current.pipeline_id)
        .and_then(|p| p.stages.iter().find(|s| s.id == m.stage_id))
        .cloned()
        .ok_or_else(|| {
            AppError::field(
                "stage_id",
                "The stage must be one of this deal's pipeline's.",
            )
        })?;
    let reason = clean(m.lost_reason.as_deref());
    if stage.kind == "lost" && reason.is_none() && current.stage_kind != "lost" {
        return Err(AppError::field("lost_reason", "Say why the deal was lost."));
    }
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500 || has_control(r))
    {
        return Err(AppError::field(
            "lost_reason",
            "The reason is at most 500 characters of text.",
        ));
    }
    if m.position.is_some_and(|p| p < 0) {
        return Err(AppError::field("position", "Position is 0 or more."));
    }
    let backend = db.backend();
    let t = now();
    let tx = db.write.begin().await?;
    let changed_stage = stage.id != current.stage_id;
    // Where the deal goes: right after a neighbour, or before the deal now at an index of
    // the column (not counting the one moving); None for the end. Positions may have gaps
    // and ties (two creates at once), so the place is a row (position, id) in the
    // column's order, not a bare number.
    enum Place {
        Keep,
        End,
        After(i64, i64),
        Before(i64, i64),
    }
    #[derive(FromQueryResult)]
    struct At {
        position: i64,
        id: i64,
    }
    let place = match (m.after_id, m.position) {
        (Some(after), _) if after == id => {
            return Err(AppError::field(
                "after_id",
                "A deal cannot go after itself.",
            ));
        }
        (Some(after), _) => {
            let mut sql = Sql::new(backend);
            sql.push("SELECT position, id FROM deals WHERE id = ")
                .bind(after)
                .push(" AND stage_id = ")
                .bind(stage.id);
            let Some(at) = At::find_by_statement(sql.build()).one(&tx).await? else {
                return Err(AppError::field(
                    "after_id",
                    "That deal is not in the stage (it may have just moved); reload the board.",
                ));
            };
            Place::After(at.position, at.id)
        }
        (None, Some(index)) => {
            let mut sql = Sql::new(backend);
            sql.push("SELECT position, id FROM deals WHERE stage_id = ")
                .bind(stage.id)
                .push(" AND id <> ")
                .bind(id)
                .push(" ORDER BY position, id LIMIT 1 OFFSET ")
                .bind(index);
            match At::find_by_statement(sql.build()).one(&tx).await? {
                Some(at) => Place::Before(at.position, at.id),
                None => Place::End,
            }
        }
        (None, None) if !changed_stage => Place::Keep,
        (None, None) => Place::End,
    };
    let position = match place {
        Place::Keep => current.position,
        Place::End => end_of(&tx, stage.id).await?,
        Place::After(p, at) | Place::Before(p, at) => {
            // Make room: the rows that come after the place (after the neighbour, or from
            // the row it goes before) move down two, so the deal alone takes p + 1 and rows
            // tied at p keep their order around it.
            let first_after = if matches!(place, Place::After(..)) {
                " > "
            } else {
                " >= "
            };
            let mut shift = Sql::new(backend);
            shift
                .push("UPDATE deals SET position = position + 2 WHERE stage_id = ")
                .bind(stage.id)
                .push(" AND id <> ")
                .bind(id)
                .push(" AND (position > ")
                .bind(p)
                .push(" OR (position = ")
                .bind(p)
                .push(" AND id")
                .push(first_after)
                .bind(at)
                .push("))");
            tx.execute_raw(shift.build()).await?;
            p + 1
        }
    };
    let (closed, lost_reason) = if changed_stage {
        (
            closed_at(&stage.kind),
            if stage.kind == "lost" { reason } else { None },
        )
    } else {
        (
            current.closed_at,
            if stage.kind == "lost" {
                reason.or(current.lost_reason.clone())
            } else {
                None
            },
        )
    };
    let mut sql = Sql::new(backend);
    sql.push("UPDATE deals SET stage_id = ")
        .bind(stage.id)
        .push(", position = ")
        .bind(position)
        .push(", closed_at = ")
        .bind(closed)
        .push(", lost_reason = ")
        .bind(lost_reason)
        .push(", stage_entered_at = ")
        .bind(if changed_stage {
            t
        } else {
            current.stage_entered_at
        })
        .push(", version = version + 1, updated_at = ")
        .bind(t)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND version = ")
        .bind(m.version);
    if tx.execute_raw(sql.build()).await?.rows_affected() == 0 {
        drop(tx);
        return Err(match get_in(&db.read, id).await? {
            Some(now) => stale(now),
            None => gone(),
        });
    }
    if changed_stage {
        record_change(&tx, id, Some(current.stage_id), stage.id, actor).await?;
    }
    let deal = get_in(&tx, id).await?.ok_or_else(gone)?;
    tx.commit().await?;
    Ok(deal)
}

#[derive(Debug, Clone, Serialize, FromQueryResult, ToSchema)]
pub struct StageChange {
    pub id: i64,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub user_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn stage_changes(db: &Db, actor: &Actor, id: i64) -> Result<Vec<StageChange>, AppError> {
    get(db, actor, id).await?;
    let mut sql = Sql::new(db.backend());
    sql.push(
        "SELECT c.id, CASE WHEN c.from_stage_id IS NULL THEN NULL \
         ELSE COALESCE(f.name, c.from_stage_name, 'Deleted stage') END AS from_stage, \
         COALESCE(t.name, c.to_stage_name, 'Deleted stage') AS to_stage, u.name AS user_name, c.created_at \
         FROM deal_stage_changes c LEFT JOIN pipeline_stages f ON f.id = c.from_stage_id \
         LEFT JOIN pipeline_stages t ON t.id = c.to_stage_id LEFT JOIN users u ON u.id = c.user_id \
         WHERE c.deal_id = ",
    )
    .bind(id)
    .push(" ORDER BY c.id");
    Ok(StageChange::find_by_statement(sql.build())
        .all(&db.read)
        .await?)
}
