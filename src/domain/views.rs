//! Saved views: a list's filters, search and sort saved under a name, for oneself or
//! shared with the team, and each user's default view per list.
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::Serialize;

use crate::domain::Db;
use crate::domain::sql::Sql;
use crate::domain::{Actor, audit, has_control, now};
use crate::error::AppError;

/// The lists that have views.
pub const LISTS: [&str; 2] = ["contacts", "companies"];

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct View {
    pub id: i64,
    pub user_id: i64,
    pub owner_name: String,
    pub list: String,
    pub name: String,
    /// The list's query string (`source=paid&sort=name`).
    pub query: String,
    pub shared: bool,
    pub is_default: bool,
}

fn check_list(list: &str) -> Result<(), AppError> {
    if LISTS.contains(&list) {
        Ok(())
    } else {
        Err(AppError::NotFound("There is no such list.".into()))
    }
}

/// Keeps only the list's own parameters (never `page`), checked by the list itself.
fn clean_query(list: &str, query: &str) -> Result<String, AppError> {
    let pairs: Vec<(String, String)> = serde_html_form::from_str(query)
        .map_err(|_| AppError::field("query", "The view's filters could not be read."))?;
    let allowed: &[&str] = match list {
        "contacts" => &[
            "q",
            "source",
            "company",
            "company_id",
            "owner",
            "tags",
            "sort",
            "per_page",
        ],
        _ => &["q", "industry", "size", "owner", "tags", "sort", "per_page"],
    };
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| allowed.contains(&k.as_str()) && !v.trim().is_empty())
        .collect();
    let text = serde_html_form::to_string(&kept).unwrap_or_default();
    // The list validates the same parameters; an invalid view is refused now, not later.
    match list {
        "contacts" => {
            let p: crate::domain::contacts::ListParams = serde_html_form::from_str(&text)
                .map_err(|_| AppError::field("query", "The view's filters could not be read."))?;
            p.validate(25)?;
        }
        _ => {
            let p: crate::domain::companies::ListParams = serde_html_form::from_str(&text)
                .map_err(|_| AppError::field("query", "The view's filters could not be read."))?;
            p.validate(25)?;
        }
    }
    Ok(text)
}

/// The views `actor` can use on `list`: their own and the shared ones.
pub async fn for_list(db: &Db, actor: &Actor, list: &str) -> Result<Vec<View>, AppError> {
    check_list(list)?;
    let mut sql = Sql::new(db.backend());
    sql.push(
        "SELECT v.id, v.user_id, u.name AS owner_name, v.list, v.name, v.query, v.shared, \
         (d.view_id IS NOT NULL) AS is_default FROM saved_views v JOIN users u ON u.id = v.user_id \
         LEFT JOIN view_defaults d ON d.view_id = v.id AND d.user_id = ",
    )
    .bind(actor.id)
    .push(" WHERE v.list = ")
    .bind(list)
    .push(" AND (v.user_id = ")
    .bind(actor.id)
    .push(" OR v.shared = ")
    .bind(true)
    .push(") ORDER BY v.name, v.id");
    Ok(View::find_by_statement(sql.build()).all(&db.read).await?)
}

pub async fn create(
    db: &Db,
    actor: &Actor,
    list: &str,
    name: &str,
    query: &str,
    shared: bool,
) -> Result<View, AppError> {
    // A personal view is a preference, which viewers may keep too; a shared one changes
    // what everyone sees, which is a write.
    if shared {
        actor.require_write()?;
    }
    check_list(list)?;
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 || has_control(&name) {
        return Err(AppError::field(
            "name",
            "Give the view a name of up to 80 characters.",
        ));
    }
    let query = clean_query(list, query)?;
    let tx = db.write.begin().await?;
    let mut sql = Sql::new(db.backend());
    sql.push("INSERT INTO saved_views (user_id, list, name, query, shared, created_at) VALUES (")
        .bind(actor.id)
        .push(", ")
        .bind(list)
        .push(", ")
        .bind(name.clone())
        .push(", ")
        .bind(query.clone())
        .push(", ")
        .bind(shared)
        .push(", ")
        .bind(now())
        .push(") RETURNING id");
    let row = tx
        .query_one_raw(sql.build())
        .await?
        .ok_or_else(|| AppError::Internal("no id for the new view".into()))?;
    let id: i64 = row.try_get("", "id")?;
    audit::record(
        &tx,
        Some(actor),
        "create",
        "saved_view",
        id,
        Some(serde_json::json!({"name": name, "shared": shared})),
    )
    .await?;
    tx.commit().await?;
    Ok(View {
        id,
        user_id: actor.id,
        owner_name: actor.name.clone(),
        list: list.to_string(),
        name,
        query,
        shared,
        is_default: false,
    })
}

async fn get(db: &Db, actor: &Actor, id: i64) -> Result<View, AppError> {
    let mut sql = Sql::new(db.backend());
    sql.push(
        "SELECT v.id, v.user_id, u.name AS owner_name, v.list, v.name, v.query, v.shared, \
         false AS is_default FROM saved_views v JOIN users u ON u.id = v.user_id WHERE v.id = ",
    )
    .bind(id);
    View::find_by_statement(sql.build())
        .one(&db.read)
        .await?
        .filter(|v| v.user_id == actor.id || v.shared)
        .ok_or_else(|| AppError::not_found("View"))
}

/// Deletes a view: its owner may, and admins may remove shared ones.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let view = get(db, actor, id).await?;
    if view.user_id != actor.id {
        actor.require_admin()?;
    }
    let tx = db.write.begin().await?;
    let mut sql = Sql::new(db.backend());
    sql.push("DELETE FROM saved_views WHERE id = ").bind(id);
    tx.execute_raw(sql.build()).await?;
    audit::record(&tx, Some(actor), "delete", "saved_view", id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a view `actor`'s default for its list, or clears the default (`None`).
pub async fn set_default(
    db: &Db,
    actor: &Actor,
    list: &str,
    id: Option<i64>,
) -> Result<(), AppError> {
    check_list(list)?;
    if let Some(id) = id {
        let view = get(db, actor, id).await?;
        if view.list != list {
            return Err(AppError::field(
                "view",
                "That view belongs to another list.",
            ));
        }
    }
    let backend = db.backend();
    let tx = db.write.begin().await?;
    let mut clear = Sql::new(backend);
    clear
        .push("DELETE FROM view_defaults WHERE user_id = ")
        .bind(actor.id)
        .push(" AND list = ")
        .bind(list);
    tx.execute_raw(clear.build()).await?;
    if let Some(id) = id {
        let mut set = Sql::new(backend);
        set.push("INSERT INTO view_defaults (user_id, list, view_id) VALUES (")
            .bind(actor.id)
            .push(", ")
            .bind(list)
            .push(", ")
            .bind(id)
            .push(")");
        tx.execute_raw(set.build()).await?;
    }
    tx.commit().await?;
    Ok(())
}
