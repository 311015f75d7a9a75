//! `workspace.json`: what the CSV files need to be read back — custom field definitions,
//! pipelines with their stages in order, tags — and how many rows each file holds.
//! Serialised and read back (by `domain::import`) with this one struct.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::domain::custom_fields;
use crate::entities::{pipeline, pipeline_stage, tag};
use crate::error::AppError;

/// Raised when a file, a column or the meaning of a value changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub format_version: u32,
    pub exported_at: DateTime<Utc>,
    /// The version of Cairn that wrote it.
    pub cairn_version: String,
    /// The definitions by record type (`contact`, `company`, `deal`), in the order
    /// settings list them: the `custom.<key>` columns of each file, in this order.
    pub custom_fields: BTreeMap<String, Vec<FieldDef>>,
    /// In the board's order, each with its stages in order; deals name both by name.
    pub pipelines: Vec<PipelineDef>,
    /// Every tag, used or not, by name.
    pub tags: Vec<TagDef>,
    /// Data rows (the header not counted) of each CSV file, by file name.
    pub counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    /// text, number, date, select, multiselect, checkbox or url.
    pub kind: String,
    /// The choices of a select or multiselect.
    pub options: Vec<String>,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineDef {
    pub id: i64,
    pub name: String,
    pub stages: Vec<StageDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDef {
    pub id: i64,
    pub name: String,
    /// open, won or lost.
    pub kind: String,
    pub probability: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagDef {
    pub name: String,
    pub color: String,
}

impl Workspace {
    /// The custom field definitions of `entity`.
    pub fn fields(&self, entity: &str) -> &[FieldDef] {
        self.custom_fields
            .get(entity)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// A stage's pipeline and its own name, by its id.
    pub fn stage(&self, id: i64) -> Option<(&str, &str)> {
        self.pipelines.iter().find_map(|p| {
            p.stages
                .iter()
                .find(|s| s.id == id)
                .map(|s| (p.name.as_str(), s.name.as_str()))
        })
    }
}

/// Everything but the counts, read as the export starts.
pub async fn describe(conn: &impl ConnectionTrait) -> Result<Workspace, AppError> {
    let mut fields = BTreeMap::new();
    for entity in custom_fields::ENTITIES {
        let defs = custom_fields::for_entity(conn, entity).await?;
        let defs = defs
            .into_iter()
            .map(|f| FieldDef {
                key: f.key,
                label: f.label,
                kind: f.kind,
                options: f.options,
                required: f.required,
            })
            .collect();
        fields.insert(entity.to_string(), defs);
    }
    Ok(Workspace {
        format_version: FORMAT_VERSION,
        exported_at: crate::domain::now(),
        cairn_version: env!("CARGO_PKG_VERSION").to_string(),
        custom_fields: fields,
        pipelines: pipelines(conn).await?,
        tags: tag::Entity::find()
            .order_by_asc(tag::Column::NameNorm)
            .all(conn)
            .await?
            .into_iter()
            .map(|t| TagDef {
                name: t.name,
                color: t.color,
            })
            .collect(),
        counts: BTreeMap::new(),
    })
}

async fn pipelines(conn: &impl ConnectionTrait) -> Result<Vec<PipelineDef>, AppError> {
    let stages = pipeline_stage::Entity::find()
        .order_by_asc(pipeline_stage::Column::Position)
        .order_by_asc(pipeline_stage::Column::Id)
        .all(conn)
        .await?;
    Ok(pipeline::Entity::find()
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| PipelineDef {
            stages: stages
                .iter()
                .filter(|s| s.pipeline_id == p.id)
                .map(|s| StageDef {
                    id: s.id,
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    probability: s.probability,
                })
                .collect(),
            id: p.id,
            name: p.name,
        })
        .collect())
}
