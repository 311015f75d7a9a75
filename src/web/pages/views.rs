//! Saved views of the contact and company lists: save the current filters under a name,
//! share them, pick one as the default, delete.
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::views;
use crate::error::AppError;
use crate::web::auth::{CurrentUser, set_flash};
use crate::web::forms::Form;
use crate::web::pages::see_other;

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    list: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    shared: Option<String>,
    #[serde(default)]
    make_default: Option<String>,
}

fn back(list: &str, query: &str) -> String {
    let list = if views::LISTS.contains(&list) {
        list
    } else {
        "contacts"
    };
    if query.is_empty() {
        format!("/{list}")
    } else {
        format!("/{list}?{query}")
    }
}

pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<SaveForm>,
) -> Result<HttpResponse, AppError> {
    let view = views::create(
        &state.db,
        &user.actor,
        &form.list,
        &form.name,
        &form.query,
        form.shared.is_some(),
    )
    .await?;
    if form.make_default.is_some() {
        views::set_default(&state.db, &user.actor, &view.list, Some(view.id)).await?;
    }
    set_flash(&user.session, format!("View “{}” saved.", view.name));
    Ok(see_other(&back(&view.list, &view.query)))
}

#[derive(Deserialize)]
pub struct DefaultForm {
    #[serde(default)]
    list: String,
    #[serde(default)]
    view: String,
}

pub async fn set_default(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(form): Form<DefaultForm>,
) -> Result<HttpResponse, AppError> {
    let view = match form.view.trim() {
        "" => None,
        v => Some(
            v.parse::<i64>()
                .map_err(|_| AppError::field("view", "Choose a view."))?,
        ),
    };
    views::set_default(&state.db, &user.actor, &form.list, view).await?;
    set_flash(
        &user.session,
        if view.is_some() {
            "Default view set."
        } else {
            "No default view any more."
        },
    );
    Ok(see_other(&back(&form.list, "")))
}

pub async fn delete(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    Form(form): Form<DefaultForm>,
) -> Result<HttpResponse, AppError> {
    views::delete(&state.db, &user.actor, *id).await?;
    set_flash(&user.session, "View deleted.");
    Ok(see_other(&back(&form.list, "")))
}
