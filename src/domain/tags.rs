//! Tags: created on the fly from a record's form or API body, coloured, and renamed,
//! merged or deleted in settings.
use sea_orm::sea_query::{
    Asterisk, DynIden, Expr, ExprTrait, InsertStatement, IntoIden, OnConflict, Query,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, NotSet, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;

use crate::domain::Db;
use crate::domain::{Action, Actor, FieldErrorsExt, audit, has_control, normalise, now};
use crate::entities::{company_tag, contact, contact_tag, tag};
use crate::error::{AppError, FieldErrors};

pub const NAME_MAX: usize = 60;
pub const PER_RECORD_MAX: usize = 20;
/// Colours are names that map to stylesheet classes (`tag-blue` …): no inline styles.
pub const COLORS: [&str; 8] = [
    "gray", "red", "orange", "yellow", "green", "teal", "blue", "purple",
];

/// Cleans typed tag names (trimmed, single spaces, no duplicates in any case), refusing
/// what cannot be a tag. `field` names the form or API field in messages.
pub fn clean_names(raw: &[String], field: &str) -> Result<Vec<String>, AppError> {
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in raw {
        let name = r.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            continue;
        }
        if has_control(&name) || name.chars().count() > NAME_MAX {
            return Err(AppError::field(
                field,
                format!("A tag is 1 to {NAME_MAX} characters of text."),
            ));
        }
        if seen.insert(normalise(&name)) {
            names.push(name);
        }
    }
    if names.len() > PER_RECORD_MAX {
        return Err(AppError::field(
            field,
            format!("At most {PER_RECORD_MAX} tags per record."),
        ));
    }
    Ok(names)
}

/// "vip, partner" → ["vip", "partner"].
pub fn split(text: &str) -> Vec<String> {
    text.split(',').map(str::to_string).collect()
}

fn color_for(name_norm: &str) -> &'static str {
    let h = name_norm
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    COLORS[1 + (h as usize % (COLORS.len() - 1))]
}

/// The tags called `names`, created when missing.
pub async fn ensure(
    conn: &impl ConnectionTrait,
    names: &[String],
) -> Result<Vec<tag::Model>, AppError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let t = now();
    tag::Entity::insert_many(names.iter().map(|name| {
        let norm = normalise(name);
        tag::ActiveModel {
            id: NotSet,
            name: Set(name.clone()),
            color: Set(color_for(&norm).to_string()),
            name_norm: Set(norm),
            created_at: Set(t),
        }
    }))
    .on_conflict_do_nothing_on([tag::Column::NameNorm])
    .exec_without_returning(conn)
    .await?;
    let norms: Vec<String> = names.iter().map(|n| normalise(n)).collect();
    let found = tag::Entity::find()
        .filter(tag::Column::NameNorm.is_in(norms.clone()))
        .all(conn)
        .await?;
    // In the order they were given.
    Ok(norms
        .iter()
        .filter_map(|n| found.iter().find(|t| &t.name_norm == n).cloned())
        .collect())
}

/// Creates the tags of `wanted` (name, colour) that are not tags yet, each in its colour
/// when that is one of `COLORS` (else the one its name gets); the tags created. Names
/// are checked as typed ones are.
pub async fn create_missing(
    conn: &impl ConnectionTrait,
    wanted: &[(String, String)],
) -> Result<Vec<tag::Model>, AppError> {
    // One at a time: the limit of tags per record is not one of tags in all.
    let mut names: Vec<String> = Vec::new();
    for (n, _) in wanted {
        names.extend(clean_names(std::slice::from_ref(n), "tags")?);
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(normalise(n)));
    let norms: Vec<String> = names.iter().map(|n| normalise(n)).collect();
    let known: Vec<String> = tag::Entity::find()
        .filter(tag::Column::NameNorm.is_in(norms.clone()))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.name_norm)
        .collect();
    let t = now();
    let new: Vec<tag::ActiveModel> = names
        .iter()
        .zip(norms)
        .filter(|(_, norm)| !known.contains(norm))
        .map(|(name, norm)| {
            let asked = wanted
                .iter()
                .find(|(n, _)| normalise(n) == norm)
                .and_then(|(_, c)| COLORS.iter().find(|k| **k == c.as_str()));
            tag::ActiveModel {
                id: NotSet,
                name: Set(name.clone()),
                color: Set(asked.copied().unwrap_or(color_for(&norm)).to_string()),
                name_norm: Set(norm),
                created_at: Set(t),
            }
        })
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tag::Entity::insert_many(new)
        .exec_with_returning(conn)
        .await?)
}

/// The records a tag can be put on, each with its link table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    Contact,
    Company,
}

impl Tagged {
    /// Both link tables, for work that spans every tagged record.
    pub const ALL: [Tagged; 2] = [Tagged::Contact, Tagged::Company];

    /// The link table with its record and tag columns.
    fn link_table(self) -> (DynIden, DynIden, DynIden) {
        match self {
            Tagged::Contact => (
                contact_tag::Entity.into_iden(),
                contact_tag::Column::ContactId.into_iden(),
                contact_tag::Column::TagId.into_iden(),
            ),
            Tagged::Company => (
                company_tag::Entity.into_iden(),
                company_tag::Column::CompanyId.into_iden(),
                company_tag::Column::TagId.into_iden(),
            ),
        }
    }
}

/// Replaces the tags of the `kind` record `record_id`.
pub async fn set_links(
    conn: &impl ConnectionTrait,
    kind: Tagged,
    record_id: i64,
    tags: &[tag::Model],
) -> Result<(), AppError> {
    match kind {
        Tagged::Contact => {
            // The contact's row first, as inserting a link locks it (000055's copies): a
            // change of its owner at the same moment then waits for this one or goes
            // first, and never waits on the links removed here while this one waits on it.
            contact::Entity::find_by_id(record_id)
                .select_only()
                .column(contact::Column::Id)
                .lock_shared()
                .into_tuple::<i64>()
                .one(conn)
                .await?;
            contact_tag::Entity::delete_many()
                .filter(contact_tag::Column::ContactId.eq(record_id))
                .exec(conn)
                .await?;
            contact_tag::Entity::insert_many(tags.iter().map(|t| contact_tag::ActiveModel {
                contact_id: Set(record_id),
                tag_id: Set(t.id),
                ..Default::default()
            }))
            .exec_without_returning(conn)
            .await?;
        }
        Tagged::Company => {
            company_tag::Entity::delete_many()
                .filter(company_tag::Column::CompanyId.eq(record_id))
                .exec(conn)
                .await?;
            company_tag::Entity::insert_many(tags.iter().map(|t| company_tag::ActiveModel {
                company_id: Set(record_id),
                tag_id: Set(t.id),
            }))
            .exec_without_returning(conn)
            .await?;
        }
    }
    Ok(())
}

/// The normalised names of `names` that are not tags (for 422 on unknown filters).
pub async fn unknown(db: &Db, norms: &[String]) -> Result<Vec<String>, AppError> {
    if norms.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<String> = tag::Entity::find()
        .filter(tag::Column::NameNorm.is_in(norms.to_vec()))
        .all(&db.read)
        .await?
        .into_iter()
        .map(|t| t.name_norm)
        .collect();
    Ok(norms
        .iter()
        .filter(|n| !found.contains(n))
        .cloned()
        .collect())
}

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct TagUse {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub contacts: i64,
    pub companies: i64,
}

/// How many live records of `kind` carry the outer query's tag (an index range per tag;
/// a trashed record keeps its tags but is not counted).
fn uses(kind: Tagged) -> Expr {
    let (table, record_id, tag_id) = kind.link_table();
    let records = match kind {
        Tagged::Contact => "contacts",
        Tagged::Company => "companies",
    };
    Query::select()
        .expr(Expr::col(Asterisk).count())
        .from(table.clone())
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            records,
            "r",
            Expr::col(("r", "id"))
                .equals((table.clone(), record_id))
                .and(Expr::col(("r", "deleted_at")).is_null()),
        )
        .and_where(Expr::col((table, tag_id)).equals((tag::Entity, tag::Column::Id)))
        .to_owned()
        .into()
}

/// Every tag with how often it is used, by name.
pub async fn list(db: &Db) -> Result<Vec<TagUse>, AppError> {
    Ok(tag::Entity::find()
        .select_only()
        .columns([tag::Column::Id, tag::Column::Name, tag::Column::Color])
        .column_as(uses(Tagged::Contact), "contacts")
        .column_as(uses(Tagged::Company), "companies")
        .order_by_asc(tag::Column::NameNorm)
        .into_model::<TagUse>()
        .all(&db.read)
        .await?)
}

async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<tag::Model, AppError> {
    tag::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("Tag"))
}

/// Renames and recolours a tag. A name another tag already has is a 409: merge instead.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: i64,
    name: &str,
    color: &str,
) -> Result<(), AppError> {
    actor.require(Action::ManageTags)?;
    let names = clean_names(&[name.to_string()], "name")?;
    let mut fields = FieldErrors::new();
    let Some(name) = names.into_iter().next() else {
        return Err(AppError::field("name", "A tag needs a name."));
    };
    if !COLORS.contains(&color) {
        fields.set(
            "color",
            format!("Colour must be one of: {}.", COLORS.join(", ")),
        );
        return Err(AppError::validation(fields));
    }
    let tx = db.begin_write().await?;
    let current = get(&tx, id).await?;
    let norm = normalise(&name);
    let taken = tag::Entity::find()
        .filter(tag::Column::NameNorm.eq(norm.as_str()))
        .filter(tag::Column::Id.ne(id))
        .one(&tx)
        .await?;
    if let Some(other) = taken {
        return Err(AppError::conflict_field(
            "name",
            format!(
                "A tag called “{}” exists; merge into it instead.",
                other.name
            ),
        ));
    }
    let before = current.name.clone();
    let old_color = current.color.clone();
    let mut am: tag::ActiveModel = current.into();
    am.name = Set(name.clone());
    am.name_norm = Set(norm);
    am.color = Set(color.to_string());
    tag::Entity::update(am).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "update",
        "tag",
        id,
        Some(
            serde_json::json!({"from": before, "to": name, "changes": audit::diff(
                &serde_json::json!({"name": before, "color": old_color}),
                &serde_json::json!({"name": name, "color": color}),
            )}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves every use of `from` to `into` and deletes `from`, in one transaction.
pub async fn merge(db: &Db, actor: &Actor, from: i64, into: i64) -> Result<(), AppError> {
    actor.require(Action::ManageTags)?;
    if from == into {
        return Err(AppError::field(
            "into",
            "Choose a different tag to merge into.",
        ));
    }
    let tx = db.begin_write().await?;
    let source = get(&tx, from).await?;
    let target = get(&tx, into).await?;
    for kind in Tagged::ALL {
        tx.execute(&relink(kind, from, into)?).await?;
    }
    tag::Entity::delete_by_id(from).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "merge",
        "tag",
        into,
        Some(serde_json::json!({"merged": source.name, "into": target.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::ManageTags)?;
    let tx = db.begin_write().await?;
    let t = get(&tx, id).await?;
    tag::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Some(actor),
        "delete",
        "tag",
        id,
        Some(serde_json::json!({"name": t.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `INSERT … SELECT` that gives every record tagged `from` the tag `into` too; a record
/// that has both keeps its one link (the key's conflict is skipped).
fn relink(kind: Tagged, from: i64, into: i64) -> Result<InsertStatement, AppError> {
    let (table, record_id, tag_id) = kind.link_table();
    let insert = Query::insert()
        .into_table(table.clone())
        .columns([record_id.clone(), tag_id.clone()])
        .select_from(
            Query::select()
                .column(record_id)
                .expr(Expr::val(into))
                .from(table.clone())
                .and_where(Expr::col((table, tag_id)).eq(from))
                .to_owned(),
        )
        .map_err(|e| AppError::Internal(format!("tag merge statement: {e}")))?
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .to_owned();
    Ok(insert)
}
