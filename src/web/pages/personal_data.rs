//! A contact's GDPR actions (admins): download everything held about the person, and
//! erase the person after a typed confirmation. Both call `domain::contacts`.
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::contacts::{self, Contact, erase, personal_data};
use crate::error::AppError;
use crate::web::api::personal_data::file_name;
use crate::web::auth::{Can, gate, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::pages::{Layout, ok, render, see_other};

/// What the confirmation field must hold (any case): a word typed, not a click.
pub const CONFIRM_WORD: &str = "erase";

#[derive(Template)]
#[template(path = "contacts/erase.html")]
struct ErasePage {
    l: Layout,
    c: Contact,
    word: &'static str,
    error: Option<String>,
}

/// `GET /contacts/{id}/personal-data`: the JSON document as a download.
pub async fn download(
    state: web::Data<AppState>,
    user: Can<gate::PersonalData>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let data = personal_data::export(&state.db, &user.actor, *id).await?;
    let body = serde_json::to_string_pretty(&data)
        .map_err(|e| AppError::Internal(format!("personal data: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", file_name(*id)),
        ))
        .body(body))
}

/// `GET /contacts/{id}/erase`: what erasing removes, and the field to type the word in.
pub async fn confirm(
    state: web::Data<AppState>,
    user: Can<gate::PersonalData>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    ok(&ErasePage {
        l: Layout::for_user(&user, "contacts"),
        c,
        word: CONFIRM_WORD,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /contacts/{id}/erase`: erases once the word is typed; otherwise the page again
/// (422) saying what to type.
pub async fn erase(
    state: web::Data<AppState>,
    user: Can<gate::PersonalData>,
    id: web::Path<i64>,
    Form(form): Form<EraseForm>,
) -> Result<HttpResponse, AppError> {
    let c = contacts::get(&state.db, &user.actor, *id).await?;
    if !form.confirm.trim().eq_ignore_ascii_case(CONFIRM_WORD) {
        return render(
            &ErasePage {
                l: Layout::for_user(&user, "contacts"),
                c,
                word: CONFIRM_WORD,
                error: Some(format!("Type “{CONFIRM_WORD}” to erase this person.")),
            },
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    erase::erase(&state.db, &user.actor, c.id).await?;
    set_flash(
        &user.session,
        "The person was erased: their contact, notes, tasks and submissions are gone, and the records that stay no longer name them.".to_string(),
    );
    Ok(see_other("/contacts"))
}
