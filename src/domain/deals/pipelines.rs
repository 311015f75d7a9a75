//! Pipelines and their stages, as admins set them up (Settings → Pipelines), and the
//! currency new deals start in.

use super::*;

use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, FieldErrorsExt, audit, has_control, now, settings};
use crate::error::{AppError, FieldErrors};

#[derive(FromQueryResult)]
pub(super) struct PipelineRow {
    id: i64,
    name: String,
}

pub async fn pipelines(conn: &impl ConnectionTrait) -> Result<Vec<Pipeline>, AppError> {
    let backend = conn.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT id, name FROM pipelines ORDER BY position, id");
    let rows = PipelineRow::find_by_statement(sql.build())
        .all(conn)
        .await?;
    let mut sql = Sql::new(backend);
    sql.push("SELECT id, pipeline_id, name, position, probability, kind FROM pipeline_stages ORDER BY pipeline_id, position, id");
    let stages = Stage::find_by_statement(sql.build()).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|p| Pipeline {
            stages: stages
                .iter()
                .filter(|s| s.pipeline_id == p.id)
                .cloned()
                .collect(),
            id: p.id,
            name: p.name,
        })
        .collect())
}

/// The currency new deals get when none is given (Settings → Pipelines).
pub async fn org_currency(db: &Db) -> Result<String, AppError> {
    Ok(settings::get(&db.read, "currency")
        .await?
        .unwrap_or_else(|| "USD".to_string()))
}

pub async fn set_org_currency(db: &Db, actor: &Actor, code: &str) -> Result<String, AppError> {
    actor.require_admin()?;
    let code = code.trim().to_uppercase();
    if !CURRENCIES.contains(&code.as_str()) {
        return Err(AppError::field(
            "currency",
            "Currency must be an ISO code such as USD or EUR.",
        ));
    }
    let tx = db.write.begin().await?;
    settings::set(&tx, "currency", &code).await?;
    audit::record(
        &tx,
        Some(actor),
        "set_currency",
        "settings",
        0,
        Some(serde_json::json!({"currency": code})),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
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
    actor.require_admin()?;
    let name = pipeline_name(name)?;
    let tx = db.write.begin().await?;
    if let Some(e) = name_taken(&tx, "pipelines", &name, None, Some(id)).await? {
        return Err(e);
    }
    let mut sql = Sql::new(db.backend());
    sql.push("UPDATE pipelines SET name = ")
        .bind(name.clone())
        .push(" WHERE id = ")
        .bind(id);
    if tx.execute_raw(sql.build()).await?.rows_affected() == 0 {
        return Err(AppError::not_found("Pipeline"));
    }
    audit::record(
        &tx,
        Some(actor),
        "rename",
        "pipeline",
        id,
        Some(serde_json::json!({"name": name})),
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
    actor.require_admin()?;
    let name = pipeline_name(name)?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    if let Some(e) = name_taken(&tx, "pipelines", &name, None, None).await? {
        return Err(e);
    }
    let mut sql = Sql::new(backend);
    sql.push("INSERT INTO pipelines (name, position, created_at) VALUES (")
        .bind(name.clone())
        .push(", (SELECT COALESCE(MAX(position) + 1, 0) FROM pipelines), ")
        .bind(now())
        .push(") RETURNING id");
    let row = tx
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::Internal("no id for the new pipeline".into()))?;
    let id: i64 = row.try_get("", "id")?;
    for (i, (stage, probability, kind)) in [
        ("New", 10, "open"),
        ("In progress", 50, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut s = Sql::new(backend);
        s.push(
            "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) VALUES (",
        )
        .bind(id)
        .push(", ")
        .bind(stage)
        .push(", ")
        .bind(i as i32)
        .push(", ")
        .bind(probability)
        .push(", ")
        .bind(kind)
        .push(")");
        tx.execute_raw(s.build()).await?;
    }
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
    #[schema(value_type = crate::web::api::schema::StageKind)]
    pub kind: String,
}

/// Names tell pipelines apart, and stages within a pipeline (the pickers show names).
pub(super) async fn name_taken(
    conn: &impl ConnectionTrait,
    table: &str,
    name: &str,
    pipeline_id: Option<i64>,
    except: Option<i64>,
) -> Result<Option<AppError>, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(&format!(
        "SELECT COUNT(*) AS n FROM {table} WHERE lower(name) = lower("
    ))
    .bind(name.to_string())
    .push(")");
    if let Some(p) = pipeline_id {
        sql.push(" AND pipeline_id = ").bind(p);
    }
    if let Some(id) = except {
        sql.push(" AND id <> ").bind(id);
    }
    if count(conn, sql).await? == 0 {
        return Ok(None);
    }
    let what = if table == "pipelines" {
        "A pipeline"
    } else {
        "A stage of this pipeline"
    };
    Ok(Some(AppError::conflict_field(
        "name",
        format!("{what} is already called “{name}”."),
    )))
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
    actor.require_admin()?;
    let (name, probability, kind) = check_stage(input)?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let mut exists = Sql::new(backend);
    exists
        .push("SELECT COUNT(*) AS n FROM pipelines WHERE id = ")
        .bind(pipeline_id);
    if count(&tx, exists).await? == 0 {
        return Err(AppError::not_found("Pipeline"));
    }
    if let Some(e) = name_taken(&tx, "pipeline_stages", &name, Some(pipeline_id), None).await? {
        return Err(e);
    }
    let mut sql = Sql::new(backend);
    sql.push(
        "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) VALUES (",
    )
    .bind(pipeline_id)
    .push(", ")
    .bind(name)
    .push(", (SELECT COALESCE(MAX(position) + 1, 0) FROM pipeline_stages WHERE pipeline_id = ")
    .bind(pipeline_id)
    .push("), ")
    .bind(probability)
    .push(", ")
    .bind(kind)
    .push(") RETURNING id");
    let row = tx
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::Internal("no id for the new stage".into()))?;
    let id: i64 = row.try_get("", "id")?;
    audit::record(&tx, Some(actor), "create", "stage", id, None).await?;
    tx.commit().await?;
    stage_by_id(&db.read, id).await
}

pub(super) async fn stage_by_id(conn: &impl ConnectionTrait, id: i64) -> Result<Stage, AppError> {
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push("SELECT id, pipeline_id, name, position, probability, kind FROM pipeline_stages WHERE id = ").bind(id);
    Stage::find_by_statement(sql.build())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Stage"))
}

/// Renames a stage and sets its probability (admins). Its kind (open, won, lost) may
/// change only while it holds no deals, so closed deals always sit in closed stages.
pub async fn update_stage(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &StageInput,
) -> Result<Stage, AppError> {
    actor.require_admin()?;
    let (name, probability, kind) = check_stage(input)?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let stage = stage_by_id(&tx, id).await?;
    if let Some(e) = name_taken(
        &tx,
        "pipeline_stages",
        &name,
        Some(stage.pipeline_id),
        Some(id),
    )
    .await?
    {
        return Err(e);
    }
    if stage.kind != kind {
        let mut n = Sql::new(backend);
        n.push("SELECT COUNT(*) AS n FROM deals WHERE stage_id = ")
            .bind(id);
        if count(&tx, n).await? > 0 {
            return Err(AppError::field(
                "kind",
                "Move this stage's deals elsewhere before changing whether it is open, won or lost.",
            ));
        }
        if stage.kind == "open" {
            keep_an_open_stage(&tx, stage.pipeline_id, id).await?;
        }
    }
    let mut sql = Sql::new(backend);
    sql.push("UPDATE pipeline_stages SET name = ")
        .bind(name)
        .push(", probability = ")
        .bind(probability)
        .push(", kind = ")
        .bind(kind)
        .push(" WHERE id = ")
        .bind(id);
    tx.execute_raw(sql.build()).await?;
    audit::record(&tx, Some(actor), "update", "stage", id, None).await?;
    tx.commit().await?;
    stage_by_id(&db.read, id).await
}

/// A pipeline needs an open stage for new deals to land in.
pub(super) async fn keep_an_open_stage(
    conn: &impl ConnectionTrait,
    pipeline_id: i64,
    except: i64,
) -> Result<(), AppError> {
    let mut n = Sql::new(conn.get_database_backend());
    n.push("SELECT COUNT(*) AS n FROM pipeline_stages WHERE kind = 'open' AND pipeline_id = ")
        .bind(pipeline_id)
        .push(" AND id <> ")
        .bind(except);
    if count(conn, n).await? == 0 {
        return Err(AppError::Conflict {
            message: "A pipeline keeps at least one open stage.".into(),
            fields: FieldErrors::new(),
        });
    }
    Ok(())
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
    actor.require_admin()?;
    enum Place {
        Up,
        Down,
        At(usize),
    }
    let place = match (direction.map(str::trim).filter(|d| !d.is_empty()), position) {
        (Some("up"), None) => Place::Up,
        (Some("down"), None) => Place::Down,
        (None, Some(p)) if p >= 0 => Place::At(p as usize),
        (None, Some(_)) => {
            return Err(AppError::field("position", "position is 0 or more."));
        }
        (None, None) | (Some(_), Some(_)) => {
            return Err(AppError::field(
                "direction",
                "Give a direction (up or down) or a position, not both.",
            ));
        }
        (Some(_), None) => return Err(AppError::field("direction", "direction is up or down.")),
    };
    // Read and rewrite the order in one transaction, so two admins reordering at once
    // cannot interleave into duplicate positions (SQLite's single writer serialises
    // them; on PostgreSQL the pipeline row is locked first).
    let tx = db.write.begin().await?;
    let stage = stage_by_id(&tx, id).await?;
    if db.backend() == sea_orm::DatabaseBackend::Postgres {
        let mut lock = Sql::new(db.backend());
        lock.push("SELECT id FROM pipelines WHERE id = ")
            .bind(stage.pipeline_id)
            .push(" FOR UPDATE");
        tx.execute_raw(lock.build()).await?;
    }
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
        let mut sql = Sql::new(db.backend());
        sql.push("UPDATE pipeline_stages SET position = ")
            .bind(pos as i32)
            .push(" WHERE id = ")
            .bind(*sid);
        tx.execute_raw(sql.build()).await?;
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
    actor.require_admin()?;
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let stage = stage_by_id(&tx, id).await?;
    if stage.kind == "open" {
        keep_an_open_stage(&tx, stage.pipeline_id, id).await?;
    }
    let mut n = Sql::new(backend);
    n.push("SELECT COUNT(*) AS n FROM deals WHERE stage_id = ")
        .bind(id);
    let held = count(&tx, n).await?;
    if held > 0 {
        let Some(target) = move_to.filter(|t| *t != id) else {
            // Deals go only to a stage of the same kind, so that won stays won: say so
            // when this pipeline has no other.
            let mut others = Sql::new(backend);
            others
                .push("SELECT COUNT(*) AS n FROM pipeline_stages WHERE pipeline_id = ")
                .bind(stage.pipeline_id)
                .push(" AND kind = ")
                .bind(stage.kind.clone())
                .push(" AND id <> ")
                .bind(id);
            let message = if count(&tx, others).await? == 0 {
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
        let target_stage = stage_by_id(&tx, target)
            .await
            .map_err(|_| AppError::field("move_to", "That stage does not exist."))?;
        if target_stage.pipeline_id != stage.pipeline_id || target_stage.kind != stage.kind {
            return Err(AppError::field(
                "move_to",
                "Move the deals to another stage of the same pipeline and kind.",
            ));
        }
        let at = now();
        let mut hist = Sql::new(backend);
        hist.push("INSERT INTO deal_stage_changes (deal_id, from_stage_id, to_stage_id, user_id, created_at) SELECT id, ")
            .bind(id)
            .push(", ")
            .bind(target)
            .push(", ")
            .bind(actor.id)
            .push(", ")
            .bind(at)
            .push(" FROM deals WHERE stage_id = ")
            .bind(id);
        tx.execute_raw(hist.build()).await?;
        let mut mv = Sql::new(backend);
        mv.push("UPDATE deals SET position = position + (SELECT COALESCE(MAX(position) + 1, 0) FROM deals WHERE stage_id = ")
            .bind(target)
            .push("), stage_id = ")
            .bind(target)
            .push(", stage_entered_at = ")
            .bind(at)
            .push(", version = version + 1 WHERE stage_id = ")
            .bind(id);
        tx.execute_raw(mv.build()).await?;
    }
    // The histories keep saying where the deals were.
    for (name_col, id_col) in [
        ("from_stage_name", "from_stage_id"),
        ("to_stage_name", "to_stage_id"),
    ] {
        let mut keep = Sql::new(backend);
        keep.push(&format!("UPDATE deal_stage_changes SET {name_col} = "))
            .bind(stage.name.clone())
            .push(&format!(" WHERE {id_col} = "))
            .bind(id);
        tx.execute_raw(keep.build()).await?;
    }
    let mut del = Sql::new(backend);
    del.push("DELETE FROM pipeline_stages WHERE id = ").bind(id);
    tx.execute_raw(del.build()).await?;
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
    Ok(held as u64)
}
