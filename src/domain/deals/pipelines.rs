//! Pipelines and their stages, as admins set them up (Settings → Pipelines), and the
//! currency new deals start in.

use super::*;

use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::{Action, Actor, FieldErrorsExt, audit, has_control, now, settings};
use crate::entities::{deal, deal_stage_change, pipeline, pipeline_stage};
use crate::error::{AppError, FieldErrors};

pub async fn pipelines(conn: &impl ConnectionTrait) -> Result<Vec<Pipeline>, AppError> {
    let rows: Vec<(i64, String)> = pipeline::Entity::find()
        .select_only()
        .columns([pipeline::Column::Id, pipeline::Column::Name])
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let stages = pipeline_stage::Entity::find()
        .order_by_asc(pipeline_stage::Column::PipelineId)
        .order_by_asc(pipeline_stage::Column::Position)
        .order_by_asc(pipeline_stage::Column::Id)
        .into_model::<Stage>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| Pipeline {
            stages: stages
                .iter()
                .filter(|s| s.pipeline_id == id)
                .cloned()
                .collect(),
            id,
            name,
        })
        .collect())
}

/// The currency new deals get when none is given (Settings → Organisation).
pub async fn org_currency(db: &Db) -> Result<String, AppError> {
    Ok(
        settings::get(&db.read, crate::domain::organisation::CURRENCY)
            .await?
            .unwrap_or_else(|| "USD".to_string()),
    )
}

pub(super) fn pipeline_name(name: &str) -> Result<String, AppError> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 || has_control(&name) {
        return Err(AppError::field(
            "name",
            "Give the pipeline a name of up to 80 characters.",
        ));
    }
    Ok(name)
}

/// Renames a pipeline (admins).
pub async fn rename_pipeline(
    db: &Db,
    actor: &Actor,
    id: i64,
    name: &str,
) -> Result<Pipeline, AppError> {
    actor.require(Action::ManagePipelines)?;
    let name = pipeline_name(name)?;
    let tx = db.begin_write().await?;
    pipeline_name_free(&tx, &name, Some(id)).await?;
    let old = pipeline::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .map(|p| p.name);
    let renamed = pipeline::Entity::update_many()
        .col_expr(pipeline::Column::Name, Expr::value(name.clone()))
        .filter(pipeline::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    if renamed.rows_affected == 0 {
        return Err(AppError::not_found("Pipeline"));
    }
    audit::record(
        &tx,
        Some(actor),
        "rename",
        "pipeline",
        id,
        Some(serde_json::json!({"name": name,
            "changes": {"name": {"old": old, "new": name}}})),
    )
    .await?;
    tx.commit().await?;
    pipeline_by_id(db, id).await
}

/// One pipeline with its stages.
pub(super) async fn pipeline_by_id(db: &Db, id: i64) -> Result<Pipeline, AppError> {
    pipelines(&db.read)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| AppError::not_found("Pipeline"))
}

/// Creates a pipeline (admins) with the usual open stages plus Won and Lost.
pub async fn create_pipeline(db: &Db, actor: &Actor, name: &str) -> Result<Pipeline, AppError> {
    let stages = [
        ("New", 10, "open"),
        ("In progress", 50, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]
    .map(|(name, probability, kind)| StageInput {
        name: name.to_string(),
        probability,
        kind: kind.to_string(),
    });
    create_pipeline_with(db, actor, name, &stages).await
}

/// Creates a pipeline (admins) with `stages` in this order (an import re-creating a
/// Cairn export's pipeline), each checked as when added by hand.
pub async fn create_pipeline_with(
    db: &Db,
    actor: &Actor,
    name: &str,
    stages: &[StageInput],
) -> Result<Pipeline, AppError> {
    actor.require(Action::ManagePipelines)?;
    let name = pipeline_name(name)?;
    if stages.is_empty() {
        return Err(AppError::BadRequest(format!(
            "Pipeline “{name}” has no stages; a pipeline needs at least one."
        )));
    }
    let mut checked = Vec::with_capacity(stages.len());
    for s in stages {
        let (stage, probability, kind) = check_stage(s)?;
        if checked
            .iter()
            .any(|(n, _, _): &(String, i32, String)| n.to_lowercase() == stage.to_lowercase())
        {
            return Err(name_clash("A stage of this pipeline", &stage));
        }
        checked.push((stage, probability, kind));
    }
    let tx = db.begin_write().await?;
    pipeline_name_free(&tx, &name, None).await?;
    let last: Option<i32> = pipeline::Entity::find()
        .select_only()
        .column_as(Expr::col(pipeline::Column::Position).max(), "n")
        .into_tuple()
        .one(&tx)
        .await?
        .flatten();
    let id = pipeline::Entity::insert(pipeline::ActiveModel {
        name: Set(name.clone()),
        position: Set(last.map_or(0, |p| p + 1)),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(&tx)
    .await?
    .last_insert_id;
    let stages = checked
        .into_iter()
        .enumerate()
        .map(
            |(i, (stage, probability, kind))| pipeline_stage::ActiveModel {
                pipeline_id: Set(id),
                name: Set(stage),
                position: Set(i as i32),
                probability: Set(probability),
                kind: Set(kind),
                ..Default::default()
            },
        );
    pipeline_stage::Entity::insert_many(stages)
        .exec_without_returning(&tx)
        .await?;
    audit::record(
        &tx,
        Some(actor),
        "create",
        "pipeline",
        id,
        Some(serde_json::json!({"name": name})),
    )
    .await?;
    tx.commit().await?;
    pipeline_by_id(db, id).await
}

/// A stage's settings as admins edit them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// 0–100.
    #[schema(minimum = 0, maximum = 100)]
    pub probability: i32,
    /// open, won or lost.
    #[schema(value_type = crate::domain::schema::StageKind)]
    pub kind: String,
}

/// Names tell pipelines apart, and stages within a pipeline (the pickers show names):
/// a clash is refused with 409 on the name field.
fn name_clash(what: &str, name: &str) -> AppError {
    AppError::conflict_field("name", format!("{what} is already called “{name}”."))
}

fn same_name(column: impl ColumnTrait, name: &str) -> Expr {
    Func::lower(Expr::col(column)).eq(Func::lower(Expr::val(name)))
}

pub(super) async fn pipeline_name_free(
    conn: &impl ConnectionTrait,
    name: &str,
    except: Option<i64>,
) -> Result<(), AppError> {
    let mut find = pipeline::Entity::find().filter(same_name(pipeline::Column::Name, name));
    if let Some(id) = except {
        find = find.filter(pipeline::Column::Id.ne(id));
    }
    match find.count(conn).await? {
        0 => Ok(()),
        _ => Err(name_clash("A pipeline", name)),
    }
}

pub(super) async fn stage_name_free(
    conn: &impl ConnectionTrait,
    name: &str,
    pipeline_id: i64,
    except: Option<i64>,
) -> Result<(), AppError> {
    let mut find = pipeline_stage::Entity::find()
        .filter(same_name(pipeline_stage::Column::Name, name))
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline_id));
    if let Some(id) = except {
        find = find.filter(pipeline_stage::Column::Id.ne(id));
    }
    match find.count(conn).await? {
        0 => Ok(()),
        _ => Err(name_clash("A stage of this pipeline", name)),
    }
}

pub(super) fn check_stage(input: &StageInput) -> Result<(String, i32, String), AppError> {
    let mut fields = FieldErrors::new();
    let name = input.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 || has_control(&name) {
        fields.set("name", "Give the stage a name of up to 80 characters.");
    }
    if !(0..=100).contains(&input.probability) {
        fields.set(
            "probability",
            "Probability is a whole number from 0 to 100.",
        );
    }
    if !["open", "won", "lost"].contains(&input.kind.as_str()) {
        fields.set("kind", "A stage is open, won or lost.");
    }
    if !fields.is_empty() {
        return Err(AppError::validation(fields));
    }
    Ok((name, input.probability, input.kind.clone()))
}

/// Adds a stage at the end of a pipeline (admins).
pub async fn add_stage(
    db: &Db,
    actor: &Actor,
    pipeline_id: i64,
    input: &StageInput,
) -> Result<Stage, AppError> {
    actor.require(Action::ManagePipelines)?;
    let (name, probability, kind) = check_stage(input)?;
    let tx = db.begin_write().await?;
    if pipeline::Entity::find_by_id(pipeline_id).count(&tx).await? == 0 {
        return Err(AppError::not_found("Pipeline"));
    }
    stage_name_free(&tx, &name, pipeline_id, None).await?;
    let last: Option<i32> = pipeline_stage::Entity::find()
        .select_only()
        .column_as(Expr::col(pipeline_stage::Column::Position).max(), "n")
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline_id))
        .into_tuple()
        .one(&tx)
        .await?
        .flatten();
    let id = pipeline_stage::Entity::insert(pipeline_stage::ActiveModel {
        pipeline_id: Set(pipeline_id),
        name: Set(name),
        position: Set(last.map_or(0, |p| p + 1)),
        probability: Set(probability),
        kind: Set(kind),
        ..Default::default()
    })
    .exec(&tx)
    .await?
    .last_insert_id;
    audit::record(&tx, Some(actor), "create", "stage", id, None).await?;
    tx.commit().await?;
    stage_by_id(&db.read, id).await
}

pub(super) async fn stage_by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Stage, AppError> {
    pipeline_stage::Entity::find_by_id(id)
        .into_model::<Stage>()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Stage"))
}

/// How many deals sit in a stage.
pub(super) async fn deals_in(conn: &impl ConnectionTrait, stage_id: i64) -> Result<u64, AppError> {
    Ok(deal::Entity::find()
        .filter(deal::Column::StageId.eq(stage_id))
        .count(conn)
        .await?)
}

/// Renames a stage and sets its probability (admins). Its kind (open, won, lost) may
/// change only while it holds no deals, so closed deals always sit in closed stages.
pub async fn update_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &StageInput,
) -> Result<Stage, AppError> {
    actor.require(Action::ManagePipelines)?;
    let (name, probability, kind) = check_stage(input)?;
    let tx = db.begin_write().await?;
    let stage = stage_by_id(&tx, id).await?;
    stage_name_free(&tx, &name, stage.pipeline_id, Some(id)).await?;
    if stage.kind != kind {
        if deals_in(&tx, id).await? > 0 {
            return Err(AppError::field(
                "kind",
                "Move this stage's deals elsewhere before changing whether it is open, won or lost.",
            ));
        }
        if stage.kind == "open" {
            keep_an_open_stage(&tx, stage.pipeline_id, id).await?;
        }
    }
    pipeline_stage::Entity::update_many()
        .col_expr(pipeline_stage::Column::Name, Expr::value(name))
        .col_expr(
            pipeline_stage::Column::Probability,
            Expr::value(probability),
        )
        .col_expr(pipeline_stage::Column::Kind, Expr::value(kind))
        .filter(pipeline_stage::Column::Id.eq(id))
        .exec(&tx)
        .await?;
    let detail = audit::changes(&stage, &stage_by_id(&tx, id).await?);
    audit::record(&tx, Some(actor), "update", "stage", id, detail).await?;
    tx.commit().await?;
    stage_by_id(&db.read, id).await
}

/// A pipeline needs an open stage for new deals to land in.
pub(super) async fn keep_an_open_stage(
    conn: &impl ConnectionTrait,
    pipeline_id: i64,
    except: i64,
) -> Result<(), AppError> {
    let others = pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::Kind.eq("open"))
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline_id))
        .filter(pipeline_stage::Column::Id.ne(except))
        .count(conn)
        .await?;
    if others == 0 {
        return Err(AppError::Conflict {
            message: "A pipeline keeps at least one open stage.".into(),
            fields: FieldErrors::new(),
        });
    }
    Ok(())
}

/// Where a stage goes in its pipeline's order.
enum Place {
    Up,
    Down,
    At(usize),
}

fn place(direction: Option<&str>, position: Option<i64>) -> Result<Place, AppError> {
    match (direction.map(str::trim).filter(|d| !d.is_empty()), position) {
        (Some("up"), None) => Ok(Place::Up),
        (Some("down"), None) => Ok(Place::Down),
        (None, Some(p)) if p >= 0 => Ok(Place::At(p as usize)),
        (None, Some(_)) => Err(AppError::field("position", "position is 0 or more.")),
        (None, None) | (Some(_), Some(_)) => Err(AppError::field(
            "direction",
            "Give a direction (up or down) or a position, not both.",
        )),
        (Some(_), None) => Err(AppError::field("direction", "direction is up or down.")),
    }
}

/// Moves a stage one place earlier (`direction` up), later (down), or to `position`
/// (0 is first) in its pipeline: dragging on the settings page sends the position, the
/// arrow buttons and older API clients the direction.
pub async fn reorder_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    direction: Option<&str>,
    position: Option<i64>,
) -> Result<(), AppError> {
    actor.require(Action::ManagePipelines)?;
    let place = place(direction, position)?;
    // Read and rewrite the order in one transaction, so two admins reordering at once
    // cannot interleave into duplicate positions (SQLite's single writer serialises
    // them; on PostgreSQL the pipeline row is locked first, a lock SQLite's SQL omits).
    let tx = db.begin_write().await?;
    let stage = stage_by_id(&tx, id).await?;
    pipeline::Entity::find_by_id(stage.pipeline_id)
        .lock_exclusive()
        .one(&tx)
        .await?;
    let all = pipelines(&tx).await?;
    let mut order: Vec<i64> = all
        .iter()
        .find(|p| p.id == stage.pipeline_id)
        .map(|p| p.stages.iter().map(|s| s.id).collect())
        .unwrap_or_default();
    let Some(at) = order.iter().position(|s| *s == id) else {
        return Err(AppError::not_found("Stage"));
    };
    let to = match place {
        Place::Up => at.saturating_sub(1),
        Place::Down => (at + 1).min(order.len() - 1),
        Place::At(p) => p.min(order.len() - 1),
    };
    if to == at {
        return Ok(());
    }
    let moved = order.remove(at);
    order.insert(to, moved);
    for (pos, sid) in order.iter().enumerate() {
        pipeline_stage::Entity::update_many()
            .col_expr(pipeline_stage::Column::Position, Expr::value(pos as i32))
            .filter(pipeline_stage::Column::Id.eq(*sid))
            .exec(&tx)
            .await?;
    }
    audit::record(
        &tx,
        Some(actor),
        "reorder",
        "stage",
        id,
        Some(serde_json::json!({"position": to})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a stage. While deals sit in it, `move_to` (another stage of the same pipeline
/// and kind, so won and lost bookkeeping stays true) must say where they go; otherwise
/// nothing happens and the answer is 409. Each moved deal's history records the move.
pub async fn delete_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    move_to: Option<i64>,
) -> Result<u64, AppError> {
    actor.require(Action::ManagePipelines)?;
    let tx = db.begin_write().await?;
    let stage = stage_by_id(&tx, id).await?;
    if stage.kind == "open" {
        keep_an_open_stage(&tx, stage.pipeline_id, id).await?;
    }
    let held = deals_in(&tx, id).await?;
    if held > 0 {
        let target = move_target(&tx, &stage, held, move_to).await?;
        // Their stage is a feature of their score: scored again once moved.
        let moved: Vec<i64> = deal::Entity::find()
            .select_only()
            .column(deal::Column::Id)
            .filter(deal::Column::StageId.eq(id))
            .into_tuple()
            .all(&tx)
            .await?;
        move_all_deals(&tx, actor, id, target).await?;
        crate::domain::scoring::scores::changed(db, &tx, &moved).await?;
    }
    // The histories keep saying where the deals were.
    deal_stage_change::Entity::update_many()
        .col_expr(
            deal_stage_change::Column::FromStageName,
            Expr::value(stage.name.clone()),
        )
        .filter(deal_stage_change::Column::FromStageId.eq(id))
        .exec(&tx)
        .await?;
    deal_stage_change::Entity::update_many()
        .col_expr(
            deal_stage_change::Column::ToStageName,
            Expr::value(stage.name.clone()),
        )
        .filter(deal_stage_change::Column::ToStageId.eq(id))
        .exec(&tx)
        .await?;
    pipeline_stage::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "stage",
        id,
        Some(serde_json::json!({"name": stage.name, "moved_deals": held})),
    )
    .await?;
    tx.commit().await?;
    Ok(held)
}

/// Where a removed stage's `held` deals go: `move_to`, which must be another stage of the
/// same pipeline and kind. Without one the answer is 409, saying what to do.
async fn move_target(
    conn: &impl ConnectionTrait,
    stage: &Stage,
    held: u64,
    move_to: Option<i64>,
) -> Result<i64, AppError> {
    let Some(target) = move_to.filter(|t| *t != stage.id) else {
        // Deals go only to a stage of the same kind, so that won stays won: say so when
        // this pipeline has no other.
        let others = pipeline_stage::Entity::find()
            .filter(pipeline_stage::Column::PipelineId.eq(stage.pipeline_id))
            .filter(pipeline_stage::Column::Kind.eq(stage.kind.clone()))
            .filter(pipeline_stage::Column::Id.ne(stage.id))
            .count(conn)
            .await?;
        let message = if others == 0 {
            format!(
                "{} still holds {held} deal(s), and it is the pipeline's only {} stage: add another {} stage to move them to, or move the deals on the board first.",
                stage.name, stage.kind, stage.kind
            )
        } else {
            format!(
                "{} still holds {held} deal(s); choose a stage to move them to first.",
                stage.name
            )
        };
        return Err(AppError::Conflict {
            message,
            fields: FieldErrors::new(),
        });
    };
    let target_stage = stage_by_id(conn, target)
        .await
        .map_err(|_| AppError::field("move_to", "That stage does not exist."))?;
    if target_stage.pipeline_id != stage.pipeline_id || target_stage.kind != stage.kind {
        return Err(AppError::field(
            "move_to",
            "Move the deals to another stage of the same pipeline and kind.",
        ));
    }
    Ok(target)
}

/// Moves every deal of stage `from` to the end of `target`'s column, keeping their order,
/// and records each move in its deal's history: two statements whatever the number.
async fn move_all_deals(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    from: i64,
    target: i64,
) -> Result<(), AppError> {
    let at = now();
    let history = Query::insert()
        .into_table(deal_stage_change::Entity)
        .columns([
            deal_stage_change::Column::DealId,
            deal_stage_change::Column::FromStageId,
            deal_stage_change::Column::ToStageId,
            deal_stage_change::Column::UserId,
            deal_stage_change::Column::CreatedAt,
            deal_stage_change::Column::StayMs,
        ])
        .select_from(
            Query::select()
                .column(deal::Column::Id)
                .expr(Expr::val(from))
                .expr(Expr::val(target))
                .expr(Expr::val(actor.id))
                .expr(Expr::val(at))
                .expr(
                    Expr::val(at.timestamp_millis()).sub(crate::domain::sql::epoch_ms(
                        conn.get_database_backend(),
                        "stage_entered_at",
                    )),
                )
                .from(deal::Entity)
                .and_where(deal::Column::StageId.eq(from))
                .to_owned(),
        )
        .map_err(|e| AppError::Internal(format!("stage history insert: {e}")))?
        .to_owned();
    conn.execute(&history).await?;
    let end = end_of(conn, target).await?;
    deal::Entity::update_many()
        .col_expr(
            deal::Column::Position,
            Expr::col(deal::Column::Position).add(end),
        )
        .col_expr(deal::Column::StageId, Expr::value(target))
        .col_expr(deal::Column::StageEnteredAt, Expr::value(at))
        .col_expr(
            deal::Column::Version,
            Expr::col(deal::Column::Version).add(1),
        )
        .filter(deal::Column::StageId.eq(from))
        .exec(conn)
        .await?;
    Ok(())
}
