//! Tags: created on the fly from a record's form or API body, coloured, and renamed,
//! merged or deleted in settings.
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, Set, TransactionTrait,
};
use serde::Serialize;

use crate::domain::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, FieldErrorsExt, audit, has_control, normalise, now};
use crate::entities::tag;
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
    let backend = conn.get_database_backend();
    let t = now();
    let mut insert = Sql::new(backend);
    insert.push("INSERT INTO tags (name, name_norm, color, created_at) VALUES ");
    for (i, name) in names.iter().enumerate() {
        let norm = normalise(name);
        if i > 0 {
            insert.push(", ");
        }
        insert
            .push("(")
            .bind(name.clone())
            .push(", ")
            .bind(norm.clone())
            .push(", ")
            .bind(color_for(&norm))
            .push(", ")
            .bind(t)
            .push(")");
    }
    insert.push(" ON CONFLICT (name_norm) DO NOTHING");
    conn.execute_raw(insert.build()).await?;
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

/// Replaces the tags of a record (`table` is contact_tags or company_tags).
pub async fn set_for(
    conn: &impl ConnectionTrait,
    table: &'static str,
    column: &'static str,
    record_id: i64,
    tags: &[tag::Model],
) -> Result<(), AppError> {
    let backend = conn.get_database_backend();
    let mut delete = Sql::new(backend);
    delete
        .push(&format!("DELETE FROM {table} WHERE {column} = "))
        .bind(record_id);
    conn.execute_raw(delete.build()).await?;
    if tags.is_empty() {
        return Ok(());
    }
    let mut insert = Sql::new(backend);
    insert.push(&format!("INSERT INTO {table} ({column}, tag_id) VALUES "));
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            insert.push(", ");
        }
        insert
            .push("(")
            .bind(record_id)
            .push(", ")
            .bind(t.id)
            .push(")");
    }
    conn.execute_raw(insert.build()).await?;
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

/// Every tag with how often it is used, by name.
pub async fn list(db: &Db) -> Result<Vec<TagUse>, AppError> {
    let mut sql = Sql::new(db.backend());
    sql.push(
        "SELECT g.id, g.name, g.color, \
         (SELECT COUNT(*) FROM contact_tags x WHERE x.tag_id = g.id) AS contacts, \
         (SELECT COUNT(*) FROM company_tags y WHERE y.tag_id = g.id) AS companies \
         FROM tags g ORDER BY g.name_norm",
    );
    Ok(TagUse::find_by_statement(sql.build()).all(&db.read).await?)
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
    actor.require_manager()?;
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
    let tx = db.write.begin().await?;
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
        Some(serde_json::json!({"from": before, "to": name})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Moves every use of `from` to `into` and deletes `from`, in one transaction.
pub async fn merge(db: &Db, actor: &Actor, from: i64, into: i64) -> Result<(), AppError> {
    actor.require_manager()?;
    if from == into {
        return Err(AppError::field(
            "into",
            "Choose a different tag to merge into.",
        ));
    }
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let source = get(&tx, from).await?;
    let target = get(&tx, into).await?;
    for (table, column) in [
        ("contact_tags", "contact_id"),
        ("company_tags", "company_id"),
    ] {
        let mut sql = Sql::new(backend);
        sql.push(&format!(
            "INSERT INTO {table} ({column}, tag_id) SELECT {column}, "
        ))
        .bind(into)
        .push(&format!(" FROM {table} WHERE tag_id = "))
        .bind(from)
        .push(" ON CONFLICT DO NOTHING");
        tx.execute_raw(sql.build()).await?;
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
    actor.require_manager()?;
    let tx = db.write.begin().await?;
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
