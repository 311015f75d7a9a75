//! Moving a deal between stages and along its column, and the history of its moves.

use super::*;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, JoinType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::{Action, Actor, clean, has_control, now};
use crate::entities::{deal, deal_stage_change, pipeline_stage, user};
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
    actor.require(Action::WriteRecords)?;
    let current = get(db, actor, id).await?;
    if m.version != current.version {
        return Err(stale(current));
    }
    let (stage, reason) = check_move(db, &current, m).await?;
    let t = now();
    let tx = db.begin_write().await?;
    let changed_stage = stage.id != current.stage_id;
    let place = find_place(&tx, id, stage.id, m, changed_stage).await?;
    let position = make_room(&tx, id, stage.id, place, current.position).await?;
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
    let moved = deal::Entity::update_many()
        .set(deal::ActiveModel {
            stage_id: Set(stage.id),
            position: Set(position),
            closed_at: Set(closed),
            lost_reason: Set(lost_reason),
            stage_entered_at: Set(if changed_stage {
                t
            } else {
                current.stage_entered_at
            }),
            updated_at: Set(t),
            ..Default::default()
        })
        .col_expr(
            deal::Column::Version,
            Expr::col(deal::Column::Version).add(1),
        )
        .filter(deal::Column::Id.eq(id))
        .filter(deal::Column::Version.eq(m.version))
        .exec(&tx)
        .await?;
    if moved.rows_affected == 0 {
        drop(tx);
        return Err(match get_in(&db.read, id).await? {
            Some(now) => stale(now),
            None => gone(),
        });
    }
    if changed_stage {
        record_change(
            &tx,
            id,
            Some((current.stage_id, current.stage_entered_at)),
            stage.id,
            actor,
        )
        .await?;
    }
    let deal = get_in(&tx, id).await?.ok_or_else(gone)?;
    let detail = crate::domain::audit::changes(&current, &deal);
    crate::domain::audit::record(&tx, Some(actor), "move", "deal", id, detail).await?;
    let hooked = if changed_stage {
        moved_events(db, &tx, &deal).await?
    } else {
        0
    };
    crate::domain::scoring::scores::changed(db, &tx, &[id]).await?;
    tx.commit().await?;
    crate::domain::webhooks::wake_if(hooked);
    Ok(deal)
}

/// A deal that changed stage: `deal.stage_changed`, and `deal.won` or `deal.lost` when
/// its new stage is one.
async fn moved_events(
    db: &Db,
    conn: &impl ConnectionTrait,
    deal: &Deal,
) -> Result<usize, AppError> {
    use crate::domain::webhooks::{EventType, emit_kind};
    let mut hooked = emit_kind(db, conn, EventType::DealStageChanged, deal).await?;
    let closed = match deal.stage_kind.as_str() {
        "won" => Some(EventType::DealWon),
        "lost" => Some(EventType::DealLost),
        _ => None,
    };
    if let Some(kind) = closed {
        hooked += emit_kind(db, conn, kind, deal).await?;
    }
    Ok(hooked)
}

/// The stage a move goes to (one of the deal's pipeline's) and its lost reason, checked.
async fn check_move(
    db: &Db,
    current: &Deal,
    m: &Move,
) -> Result<(Stage, Option<String>), AppError> {
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
    Ok((stage, reason))
}

/// Where the deal goes: right after a neighbour, or before the deal now at an index of
/// the column (not counting the one moving), or the end. Positions may have gaps and ties
/// (two creates at once), so the place is a row (position, id) in the column's order, not
/// a bare number.
enum Place {
    Keep,
    End,
    After(i64, i64),
    Before(i64, i64),
}

async fn find_place(
    conn: &impl ConnectionTrait,
    id: i64,
    stage_id: i64,
    m: &Move,
    changed_stage: bool,
) -> Result<Place, AppError> {
    let column = || {
        deal::Entity::find()
            .select_only()
            .columns([deal::Column::Position, deal::Column::Id])
            .filter(deal::Column::StageId.eq(stage_id))
    };
    match (m.after_id, m.position) {
        (Some(after), _) if after == id => Err(AppError::field(
            "after_id",
            "A deal cannot go after itself.",
        )),
        (Some(after), _) => {
            let at: Option<(i64, i64)> = column()
                .filter(deal::Column::Id.eq(after))
                .into_tuple()
                .one(conn)
                .await?;
            match at {
                Some((p, at)) => Ok(Place::After(p, at)),
                None => Err(AppError::field(
                    "after_id",
                    "That deal is not in the stage (it may have just moved); reload the board.",
                )),
            }
        }
        (None, Some(index)) => {
            let at: Option<(i64, i64)> = column()
                .filter(deal::Column::Id.ne(id))
                .order_by_asc(deal::Column::Position)
                .order_by_asc(deal::Column::Id)
                .offset(u64::try_from(index).unwrap_or(0))
                .limit(1)
                .into_tuple()
                .one(conn)
                .await?;
            Ok(at.map_or(Place::End, |(p, at)| Place::Before(p, at)))
        }
        (None, None) if !changed_stage => Ok(Place::Keep),
        (None, None) => Ok(Place::End),
    }
}

/// The deal's new position in its column, after making room for it there.
async fn make_room(
    conn: &impl ConnectionTrait,
    id: i64,
    stage_id: i64,
    place: Place,
    current: i64,
) -> Result<i64, AppError> {
    let (p, at, after) = match place {
        Place::Keep => return Ok(current),
        Place::End => return end_of(conn, stage_id).await,
        Place::After(p, at) => (p, at, true),
        Place::Before(p, at) => (p, at, false),
    };
    // The rows that come after the place (after the neighbour, or from the row it goes
    // before) move down two, so the deal alone takes p + 1 and rows tied at p keep their
    // order around it.
    let tied_after = if after {
        deal::Column::Id.gt(at)
    } else {
        deal::Column::Id.gte(at)
    };
    deal::Entity::update_many()
        .col_expr(
            deal::Column::Position,
            Expr::col(deal::Column::Position).add(2),
        )
        .filter(deal::Column::StageId.eq(stage_id))
        .filter(deal::Column::Id.ne(id))
        .filter(
            Condition::any()
                .add(deal::Column::Position.gt(p))
                .add(deal::Column::Position.eq(p).and(tied_after)),
        )
        .exec(conn)
        .await?;
    Ok(p + 1)
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
    let (c, f, t, u) = ("c", "f", "t", "u");
    let deleted = || Expr::val("Deleted stage");
    let query = Query::select()
        .column((c, deal_stage_change::Column::Id))
        .expr_as(
            Expr::case(
                Expr::col((c, deal_stage_change::Column::FromStageId)).is_null(),
                Expr::null(),
            )
            .finally(Func::coalesce([
                Expr::col((f, pipeline_stage::Column::Name)),
                Expr::col((c, deal_stage_change::Column::FromStageName)),
                deleted(),
            ])),
            "from_stage",
        )
        .expr_as(
            Func::coalesce([
                Expr::col((t, pipeline_stage::Column::Name)),
                Expr::col((c, deal_stage_change::Column::ToStageName)),
                deleted(),
            ]),
            "to_stage",
        )
        .expr_as(Expr::col((u, user::Column::Name)), "user_name")
        .column((c, deal_stage_change::Column::CreatedAt))
        .from_as(deal_stage_change::Entity, c)
        .join_as(
            JoinType::LeftJoin,
            pipeline_stage::Entity,
            f,
            Expr::col((f, pipeline_stage::Column::Id))
                .equals((c, deal_stage_change::Column::FromStageId)),
        )
        .join_as(
            JoinType::LeftJoin,
            pipeline_stage::Entity,
            t,
            Expr::col((t, pipeline_stage::Column::Id))
                .equals((c, deal_stage_change::Column::ToStageId)),
        )
        .join_as(
            JoinType::LeftJoin,
            user::Entity,
            u,
            Expr::col((u, user::Column::Id)).equals((c, deal_stage_change::Column::UserId)),
        )
        .and_where(Expr::col((c, deal_stage_change::Column::DealId)).eq(id))
        .order_by((c, deal_stage_change::Column::Id), Order::Asc)
        .to_owned();
    Ok(StageChange::find_by_statement(db.backend().build(&query))
        .all(&db.read)
        .await?)
}
