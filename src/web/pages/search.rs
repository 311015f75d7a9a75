//! The top bar's search: a dropdown of results as you type (htmx), or a page of its own.
use crate::web::filters;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::search::{self, Results};
use crate::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, ok};

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search/index.html")]
struct SearchPage {
    l: Layout,
    q: String,
    r: Results,
}

#[derive(Template)]
#[template(path = "search/index.html", block = "results")]
struct SearchResults {
    q: String,
    r: Results,
}

pub async fn index(
    state: web::Data<AppState>,
    user: CurrentUser,
    hx: Htmx,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    let q = params.into_inner().q;
    let r = search::search(&state.db, &user.actor, &q).await?;
    if hx.fragment {
        return ok(&SearchResults { q, r });
    }
    ok(&SearchPage {
        l: Layout::for_user(&user, ""),
        q,
        r,
    })
}
