//! Settings → API tokens (admins): every user's working tokens, and revoking any.
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::tokens::{self, ADMIN_LIST_LIMIT, TokenInfo};
use crate::error::AppError;
use crate::web::auth::{Can, gate, set_flash};
use crate::web::filters;
use crate::web::pages::{Layout, ok, see_other};

#[derive(Template)]
#[template(path = "settings/tokens.html")]
struct TokensPage {
    l: Layout,
    tokens: Vec<TokenInfo>,
    limit: u64,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::ManageTokens>,
) -> Result<HttpResponse, AppError> {
    ok(&TokensPage {
        l: Layout::for_user(&user, "settings"),
        tokens: tokens::list_all(&state.db, &user.actor).await?,
        limit: ADMIN_LIST_LIMIT,
    })
}

pub async fn revoke(
    state: web::Data<AppState>,
    user: Can<gate::ManageTokens>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    tokens::revoke(&state.db, &user.actor, *id).await?;
    set_flash(
        &user.session,
        "The token was revoked; requests using it are now refused.",
    );
    Ok(see_other("/settings/tokens"))
}
