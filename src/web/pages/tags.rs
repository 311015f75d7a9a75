//! Settings → Tags (admins and managers): rename, recolour, merge and delete tags.
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::tags::{self, COLORS, TagUse};
use crate::error::AppError;
use crate::web::auth::{Can, CurrentUser, gate, set_flash};
use crate::web::forms::Form;
use crate::web::pages::{Layout, Refusal, render, see_other};

#[derive(Template)]
#[template(path = "settings/tags.html")]
struct TagsPage {
    l: Layout,
    tags: Vec<TagUse>,
    message: Option<String>,
}

impl TagsPage {
    fn colors(&self) -> [&'static str; 8] {
        COLORS
    }
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let Refusal {
        status, message, ..
    } = Refusal::of(error)?;
    render(
        &TagsPage {
            l: Layout::for_user(user, "settings"),
            tags: tags::list(&state.db).await?,
            message,
        },
        status,
    )
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::ManageTags>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, None).await
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    color: String,
}

pub async fn update(
    state: web::Data<AppState>,
    user: Can<gate::ManageTags>,
    id: web::Path<i64>,
    Form(form): Form<TagForm>,
) -> Result<HttpResponse, AppError> {
    match tags::update(&state.db, &user.actor, *id, &form.name, &form.color).await {
        Ok(()) => {
            set_flash(&user.session, "Tag saved.");
            Ok(see_other("/settings/tags"))
        }
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    into: String,
}

pub async fn merge(
    state: web::Data<AppState>,
    user: Can<gate::ManageTags>,
    id: web::Path<i64>,
    Form(form): Form<MergeForm>,
) -> Result<HttpResponse, AppError> {
    let into = form
        .into
        .parse::<i64>()
        .map_err(|_| AppError::field("into", "Choose the tag to merge into."));
    let result = match into {
        Ok(into) => tags::merge(&state.db, &user.actor, *id, into).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            set_flash(&user.session, "Tags merged.");
            Ok(see_other("/settings/tags"))
        }
        Err(e) => page(&state, &user, Some(e)).await,
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    user: Can<gate::ManageTags>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    tags::delete(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "Tag deleted; records that had it keep everything else.",
    );
    Ok(see_other("/settings/tags"))
}
