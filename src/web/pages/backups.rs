//! Settings → Backups (admins): the scheduled copy of a SQLite database
//! (`domain::backup::schedule`); on PostgreSQL the page says to use pg_dump.
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::backup::{PG_ADVICE, schedule};
use crate::error::{AppError, FieldErrors};
use crate::web::auth::{Can, gate, set_flash};
use crate::web::filters;
use crate::web::forms::Form;
use crate::web::pages::{FieldMessages, Layout, Refusal, field_messages, render, see_other};

#[derive(Template)]
#[template(path = "settings/backups.html")]
struct BackupsPage {
    l: Layout,
    sqlite: bool,
    pg_advice: &'static str,
    enabled: bool,
    time: String,
    folder: String,
    keep: String,
    max_keep: u32,
    message: Option<String>,
    errors: FieldErrors,
}
field_messages!(BackupsPage);

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::Backups>,
) -> Result<HttpResponse, AppError> {
    let s = schedule::load(&state.db.read).await?;
    let form = schedule::Form {
        enabled: s.enabled.then(|| "on".to_string()),
        time: s.time,
        folder: s.folder,
        keep: s.keep.to_string(),
    };
    page(&state, &user, form, None)
}

pub async fn save(
    state: web::Data<AppState>,
    user: Can<gate::Backups>,
    Form(form): Form<schedule::Form>,
) -> Result<HttpResponse, AppError> {
    match schedule::save(&state.db, &user.actor, &form).await {
        Ok(s) => {
            let said = match s.enabled {
                true => format!(
                    "A backup is made every day at {} into {}.",
                    s.time, s.folder
                ),
                false => "Scheduled backups are off.".to_string(),
            };
            set_flash(&user.session, said);
            Ok(see_other("/settings/backups"))
        }
        Err(e) => page(&state, &user, form, Some(e)),
    }
}

fn page(
    state: &AppState,
    user: &Can<gate::Backups>,
    form: schedule::Form,
    error: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let refusal = Refusal::of(error)?;
    render(
        &BackupsPage {
            l: Layout::for_user(user, "settings"),
            sqlite: state.db.is_sqlite(),
            pg_advice: PG_ADVICE,
            enabled: form.enabled.is_some_and(|v| !v.is_empty()),
            time: form.time,
            folder: form.folder,
            keep: form.keep,
            max_keep: schedule::MAX_KEEP,
            message: refusal.message,
            errors: refusal.fields,
        },
        refusal.status,
    )
}
