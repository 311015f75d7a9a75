//! Saved views: a list's filters, search and sort saved under a name, for oneself or
//! shared with the team, and each user's default view per list.
use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, NotSet, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Select, Set,
};
use serde::Serialize;

use crate::domain::Db;
use crate::domain::{Action, Actor, audit, has_control, now};
use crate::entities::{company, saved_view, user, view_default};
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

/// Views with their owner's name; the caller adds `is_default`.
fn select() -> Select<saved_view::Entity> {
    use saved_view::Column as V;
    saved_view::Entity::find()
        .select_only()
        .columns([V::Id, V::UserId])
        .column_as(user::Column::Name, "owner_name")
        .columns([V::List, V::Name, V::Query, V::Shared])
        .join(JoinType::InnerJoin, saved_view::Relation::User.def())
}

/// The views `actor` can use on `list`: their own and the shared ones.
pub async fn for_list(db: &Db, actor: &Actor, list: &str) -> Result<Vec<View>, AppError> {
    check_list(list)?;
    let user_id = actor.id;
    // Only the actor's own default marks a view as default.
    let defaults = view_default::Relation::View
        .def()
        .rev()
        .on_condition(move |_, d| {
            Expr::col((d, view_default::Column::UserId))
                .eq(user_id)
                .into_condition()
        });
    let views = select()
        .column_as(
            Expr::col((view_default::Entity, view_default::Column::ViewId)).is_not_null(),
            "is_default",
        )
        .join(JoinType::LeftJoin, defaults)
        .filter(saved_view::Column::List.eq(list))
        .filter(
            Condition::any()
                .add(saved_view::Column::UserId.eq(user_id))
                .add(saved_view::Column::Shared.eq(true)),
        )
        .order_by_asc(saved_view::Column::Name)
        .order_by_asc(saved_view::Column::Id)
        .into_model::<View>()
        .all(&db.read)
        .await?;
    let visible = crate::domain::access::visible(db, actor).await?;
    if visible.is_all() {
        return Ok(views);
    }
    // Someone else's shared view filtering by a company the rep may not see would name
    // it (its id or name is in the view's link): it is left out for them.
    let mut kept = Vec::new();
    for v in views {
        if v.user_id == user_id || !names_hidden_company(db, visible, &v.query).await? {
            kept.push(v);
        }
    }
    Ok(kept)
}

/// Whether a view's query filters by a company `visible` does not see.
async fn names_hidden_company(
    db: &Db,
    visible: crate::domain::access::Visible,
    query: &str,
) -> Result<bool, AppError> {
    let pairs: Vec<(String, String)> = serde_html_form::from_str(query).unwrap_or_default();
    for (key, value) in pairs {
        let id = match key.as_str() {
            "company_id" => value.trim().parse().ok(),
            "company" => {
                crate::domain::pick::company_named(db, crate::domain::access::Visible::All, &value)
                    .await?
            }
            _ => None,
        };
        let Some(id) = id else { continue };
        let owner: Option<Option<i64>> = company::Entity::find_by_id(id)
            .select_only()
            .column(company::Column::OwnerId)
            .into_tuple()
            .one(&db.read)
            .await?;
        if owner.is_some_and(|o| crate::domain::access::hides(visible, o)) {
            return Ok(true);
        }
    }
    Ok(false)
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
        actor.require(Action::WriteRecords)?;
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
    let tx = db.begin_write().await?;
    let id = saved_view::Entity::insert(saved_view::ActiveModel {
        id: NotSet,
        user_id: Set(actor.id),
        list: Set(list.to_string()),
        name: Set(name.clone()),
        query: Set(query.clone()),
        shared: Set(shared),
        created_at: Set(now()),
    })
    .exec(&tx)
    .await?
    .last_insert_id;
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
    select()
        .column_as(Expr::val(false), "is_default")
        .filter(saved_view::Column::Id.eq(id))
        .into_model::<View>()
        .one(&db.read)
        .await?
        .filter(|v| v.user_id == actor.id || v.shared)
        .ok_or_else(|| AppError::not_found("View"))
}

/// Deletes a view: its owner may, and admins may remove shared ones.
pub async fn delete(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let view = get(db, actor, id).await?;
    if view.user_id != actor.id {
        actor.require(Action::ManageViews)?;
    }
    let tx = db.begin_write().await?;
    saved_view::Entity::delete_by_id(id).exec(&tx).await?;
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
    let tx = db.begin_write().await?;
    view_default::Entity::delete_many()
        .filter(view_default::Column::UserId.eq(actor.id))
        .filter(view_default::Column::List.eq(list))
        .exec(&tx)
        .await?;
    if let Some(id) = id {
        view_default::Entity::insert(view_default::ActiveModel {
            user_id: Set(actor.id),
            list: Set(list.to_string()),
            view_id: Set(id),
        })
        .exec_without_returning(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
