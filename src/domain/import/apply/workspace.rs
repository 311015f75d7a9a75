//! A Cairn export's `workspace.json`, uploaded with its files (in its ZIP, or beside
//! them on the command line): before any row is planned, Cairn gets what the files need
//! and it lacks — the custom field definitions (by record type and key), the pipelines
//! and their stages (by name), the tags — so `custom.<key>` columns and deals' pipeline
//! and stage names resolve. A real run creates them through the same domain functions as
//! Settings (each checked there); a dry run only lists them, and `pipelines_to_create`
//! lets the deal rows of a dry run find what would be there. A field the file declares
//! with another kind than Cairn's field of that key stops the import: its values could
//! not be read as either.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use super::plan::Plan;
use super::unzip::WORKSPACE;
use super::{store::Upload, undo};
use crate::domain::custom_fields::{self, Field, Spec};
use crate::domain::deals::{self, StageInput};
use crate::domain::export::{FORMAT_VERSION, PipelineDef, StageDef, Workspace};
use crate::domain::{Actor, Db, normalise, tags};
use crate::entities::{company_tag, contact_tag, import_change, pipeline, pipeline_stage, tag};
use crate::error::AppError;

/// What `workspace.json` made (or in a dry run would make), for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Custom fields, as `entity.key`.
    pub custom_fields: Vec<String>,
    /// Pipelines created with all their stages, by name.
    pub pipelines: Vec<String>,
    /// Stages added to pipelines Cairn had, as `pipeline / stage`.
    pub stages: Vec<String>,
    pub tags: Vec<String>,
}

/// What a run made of `workspace.json`: the report's summary, the ids a real run
/// created (undo's, and removed again when the plan fails), and in a dry run what would
/// be created for the rows to be checked against.
#[derive(Default)]
pub(super) struct Prepared {
    pub setup: Setup,
    pub fields: Vec<i64>,
    pub pipelines: Vec<i64>,
    pub stages: Vec<i64>,
    pub tags: Vec<i64>,
    /// Dry run: the pipelines to create, and for a pipeline Cairn has the stages it
    /// lacks (under the pipeline's name).
    pub to_create: Vec<PipelineDef>,
    /// Dry run: the custom fields to create, described (id 0).
    pub described: Vec<Field>,
}

/// `pipelines` (Cairn's, as the deals' checks read them) with what this dry run would
/// create of them added, under stand-in ids below zero: in a dry run they do not exist
/// yet, and a deal's pipeline and stage names are to resolve among them too. A real run
/// adds nothing (they exist by the time rows are planned).
pub(super) fn with_planned(
    mut pipelines: Vec<deals::Pipeline>,
    plan: &Plan,
) -> Vec<deals::Pipeline> {
    let mut next = -1;
    let mut stand_in = || {
        next -= 1;
        next
    };
    for p in &plan.workspace.to_create {
        let at = match pipelines
            .iter()
            .position(|h| h.id == p.id && p.id > 0 && h.name == p.name)
        {
            Some(at) => at,
            None => {
                pipelines.push(deals::Pipeline {
                    id: stand_in(),
                    name: p.name.clone(),
                    stages: Vec::new(),
                });
                pipelines.len() - 1
            }
        };
        let pipeline = &mut pipelines[at];
        for s in &p.stages {
            let position = pipeline.stages.len() as i32;
            pipeline.stages.push(deals::Stage {
                id: stand_in(),
                pipeline_id: pipeline.id,
                name: s.name.clone(),
                position,
                probability: s.probability,
                kind: s.kind.clone(),
            });
        }
    }
    pipelines
}

/// `uploads` without `workspace.json`, and its text (checked to be one).
pub(super) fn take(uploads: Vec<Upload>) -> Result<(Vec<Upload>, Option<String>), AppError> {
    let mut text = None;
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        if !u.name.to_ascii_lowercase().ends_with(WORKSPACE) {
            out.push(u);
            continue;
        }
        let ws = parse(&u.bytes)?;
        text = Some(serde_json::to_string(&ws).map_err(|e| AppError::Internal(e.to_string()))?);
    }
    Ok((out, text))
}

/// Reads `workspace.json`, refusing one of a newer format than this Cairn writes.
pub(super) fn parse(bytes: &[u8]) -> Result<Workspace, AppError> {
    let ws: Workspace = serde_json::from_slice(bytes).map_err(|e| {
        AppError::BadRequest(format!(
            "{WORKSPACE} is not the description a Cairn export writes: {e}"
        ))
    })?;
    if ws.format_version > FORMAT_VERSION {
        return Err(AppError::BadRequest(format!(
            "{WORKSPACE} is of export format {}; this Cairn reads format {FORMAT_VERSION}. Update Cairn first.",
            ws.format_version
        )));
    }
    Ok(ws)
}

/// Makes (`create`) or lists what `ws` declares and Cairn lacks. A real run that fails
/// part-way removes what it made before answering the error.
pub(super) async fn prepare(
    db: &Db,
    actor: &Actor,
    ws: Option<&Workspace>,
    create: bool,
) -> Result<Prepared, AppError> {
    let mut made = Prepared::default();
    let Some(ws) = ws else {
        return Ok(made);
    };
    let done = async {
        fields(db, actor, ws, create, &mut made).await?;
        pipelines(db, actor, ws, create, &mut made).await?;
        tags_of(db, ws, create, &mut made).await
    }
    .await;
    if let Err(e) = done {
        remove(db, &made).await?;
        return Err(e);
    }
    Ok(made)
}

async fn fields(
    db: &Db,
    actor: &Actor,
    ws: &Workspace,
    create: bool,
    made: &mut Prepared,
) -> Result<(), AppError> {
    for entity in custom_fields::ENTITIES {
        let have = custom_fields::for_entity(&db.read, entity).await?;
        for def in ws.fields(entity) {
            match have.iter().find(|f| f.key == def.key) {
                Some(f) if f.kind != def.kind => {
                    return Err(AppError::Conflict {
                        message: format!(
                            "{WORKSPACE} declares the {entity} field “{}” as {}, but Cairn's field with that key is {}: change or remove one of them, then import again.",
                            def.key, def.kind, f.kind
                        ),
                        fields: Default::default(),
                    });
                }
                Some(_) => continue,
                None => {}
            }
            made.setup
                .custom_fields
                .push(format!("{entity}.{}", def.key));
            let spec = Spec {
                label: &def.label,
                kind: &def.kind,
                options: &def.options,
                required: def.required,
            };
            if create {
                let f = custom_fields::create_with_key(db, actor, entity, Some(&def.key), &spec)
                    .await?;
                made.fields.push(f.id);
            } else {
                made.described.push(Field {
                    id: 0,
                    entity: entity.to_string(),
                    key: def.key.clone(),
                    label: def.label.clone(),
                    kind: def.kind.clone(),
                    options: def.options.clone(),
                    required: def.required,
                    version: 1,
                });
            }
        }
    }
    Ok(())
}

fn stage_input(s: &StageDef) -> StageInput {
    StageInput {
        name: s.name.clone(),
        probability: s.probability,
        kind: s.kind.clone(),
    }
}

async fn pipelines(
    db: &Db,
    actor: &Actor,
    ws: &Workspace,
    create: bool,
    made: &mut Prepared,
) -> Result<(), AppError> {
    let have = deals::pipelines(&db.read).await?;
    for p in &ws.pipelines {
        let Some(there) = have
            .iter()
            .find(|h| normalise(&h.name) == normalise(&p.name))
        else {
            made.setup.pipelines.push(p.name.clone());
            if create {
                let stages: Vec<StageInput> = p.stages.iter().map(stage_input).collect();
                let new = deals::create_pipeline_with(db, actor, &p.name, &stages).await?;
                made.pipelines.push(new.id);
            } else {
                made.to_create.push(p.clone());
            }
            continue;
        };
        let lacking: Vec<&StageDef> = p
            .stages
            .iter()
            .filter(|s| {
                !there
                    .stages
                    .iter()
                    .any(|h| normalise(&h.name) == normalise(&s.name))
            })
            .collect();
        // A new open stage goes before the won and lost ones, where an admin would put it.
        let mut open_at = there.stages.iter().take_while(|h| h.kind == "open").count();
        for s in &lacking {
            made.setup
                .stages
                .push(format!("{} / {}", there.name, s.name));
            if create {
                let new = deals::add_stage(db, actor, there.id, &stage_input(s)).await?;
                made.stages.push(new.id);
                if s.kind == "open" {
                    deals::reorder_stage(db, actor, new.id, None, Some(open_at as i64)).await?;
                    open_at += 1;
                }
            }
        }
        if !create && !lacking.is_empty() {
            made.to_create.push(PipelineDef {
                id: there.id,
                name: there.name.clone(),
                stages: lacking.into_iter().cloned().collect(),
            });
        }
    }
    Ok(())
}

async fn tags_of(
    db: &Db,
    ws: &Workspace,
    create: bool,
    made: &mut Prepared,
) -> Result<(), AppError> {
    let norms: Vec<String> = ws.tags.iter().map(|t| normalise(&t.name)).collect();
    let missing = tags::unknown(db, &norms).await?;
    if missing.is_empty() {
        return Ok(());
    }
    if !create {
        made.setup.tags = ws
            .tags
            .iter()
            .filter(|t| missing.contains(&normalise(&t.name)))
            .map(|t| t.name.clone())
            .collect();
        return Ok(());
    }
    let wanted: Vec<(String, String)> = ws
        .tags
        .iter()
        .map(|t| (t.name.clone(), t.color.clone()))
        .collect();
    let tx = db.begin_write().await?;
    let new = tags::create_missing(&tx, &wanted).await?;
    tx.commit().await?;
    made.setup.tags = new.iter().map(|t| t.name.clone()).collect();
    made.tags = new.into_iter().map(|t| t.id).collect();
    Ok(())
}

/// Removes what a run made of `workspace.json` (a failed plan's, or undo's): the
/// fields; the stages and pipelines no deal sits in; the tags on no record.
pub(super) async fn remove(db: &Db, made: &Prepared) -> Result<(), AppError> {
    undo::drop_fields(db, &made.fields).await?;
    let tx = db.begin_write().await?;
    undo::delete_unreferenced::<pipeline_stage::Entity>(&tx, &made.stages).await?;
    undo::delete_unreferenced::<pipeline::Entity>(&tx, &made.pipelines).await?;
    let mut used: Vec<i64> = contact_tag::Entity::find()
        .select_only()
        .column(contact_tag::Column::TagId)
        .filter(contact_tag::Column::TagId.is_in(made.tags.clone()))
        .into_tuple()
        .all(&tx)
        .await?;
    used.extend(
        company_tag::Entity::find()
            .select_only()
            .column(company_tag::Column::TagId)
            .filter(company_tag::Column::TagId.is_in(made.tags.clone()))
            .into_tuple::<i64>()
            .all(&tx)
            .await?,
    );
    // Links go with a tag (cascade): a tag on a record since stays.
    tag::Entity::delete_many()
        .filter(tag::Column::Id.is_in(made.tags.clone()))
        .filter(tag::Column::Id.is_not_in(used))
        .exec(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The `import_changes` kinds of what a real run made, with their ids.
pub(super) fn changes(made: &Prepared) -> [(&'static str, &[i64]); 4] {
    [
        ("custom_field", &made.fields),
        ("pipeline", &made.pipelines),
        ("stage", &made.stages),
        ("tag", &made.tags),
    ]
}

/// What import `import_id` made of its `workspace.json`, from its `import_changes`
/// (its custom fields are undone with the others of kind `custom_field`).
pub(super) async fn made_by(db: &Db, import_id: i64) -> Result<Prepared, AppError> {
    let mut made = Prepared::default();
    let rows: Vec<(String, i64)> = import_change::Entity::find()
        .select_only()
        .columns([import_change::Column::Kind, import_change::Column::RecordId])
        .filter(import_change::Column::ImportId.eq(import_id))
        .filter(import_change::Column::Kind.is_in(["pipeline", "stage", "tag"]))
        .into_tuple()
        .all(&db.read)
        .await?;
    for (kind, id) in rows {
        match kind.as_str() {
            "pipeline" => made.pipelines.push(id),
            "stage" => made.stages.push(id),
            _ => made.tags.push(id),
        }
    }
    Ok(made)
}
