//! Settings → Trash (managers and admins): what was deleted in the last 30 days, each
//! with Restore, and for admins Delete forever. A trashed record's own page shows
//! managers a notice with Restore instead of the 404 everyone else gets.
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::Action;
use crate::domain::activities::Subject;
use crate::domain::trash::{self, Bin, Trashed};
use crate::error::AppError;
use crate::web::auth::{Can, CurrentUser, csrf_token, gate, set_flash};
use crate::web::filters;
use crate::web::htmx::Htmx;
use crate::web::pages::{Layout, ok, see_other};

/// At most this many of each record type are listed (newest first).
const SHOWN: u64 = 200;

#[derive(Template)]
#[template(path = "settings/trash.html")]
struct TrashPage {
    l: Layout,
    csrf: String,
    items: Vec<Trashed>,
    keep_days: i64,
}

/// One row, as htmx swaps it after a restore.
#[derive(Template)]
#[template(path = "settings/_trash_done.html")]
struct Done {
    bin: Bin,
    id: i64,
    name: String,
    restored: bool,
}

/// A trashed record's page, for a manager.
#[derive(Template)]
#[template(path = "settings/trash_notice.html")]
struct Notice {
    l: Layout,
    bin: Bin,
    id: i64,
    keep_days: i64,
    /// Its open tasks, hidden everywhere else while it is in the trash.
    tasks: Vec<crate::web::pages::tasks::Frozen>,
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::RestoreTrash>,
) -> Result<HttpResponse, AppError> {
    let items = trash::list(&state.db, &user.actor, SHOWN).await?;
    ok(&TrashPage {
        l: Layout::for_user(&user, "settings"),
        csrf: csrf_token(&user.session),
        items,
        keep_days: trash::KEEP_DAYS,
    })
}

fn bin_of(segment: &str) -> Result<Bin, AppError> {
    Bin::parse(segment).ok_or_else(|| AppError::not_found("Record type"))
}

pub async fn restore(
    state: web::Data<AppState>,
    user: Can<gate::RestoreTrash>,
    path: web::Path<(String, i64)>,
    htmx: Htmx,
    name: web::Query<NameQuery>,
) -> Result<HttpResponse, AppError> {
    let (bin, id) = (bin_of(&path.0)?, path.1);
    trash::restore_in_bin(&state.db, &user.actor, bin, id).await?;
    done(&user, htmx, bin, id, name.into_inner().name, true)
}

pub async fn delete_forever(
    state: web::Data<AppState>,
    user: Can<gate::PurgeTrash>,
    path: web::Path<(String, i64)>,
    htmx: Htmx,
    name: web::Query<NameQuery>,
) -> Result<HttpResponse, AppError> {
    let (bin, id) = (bin_of(&path.0)?, path.1);
    trash::delete_forever_in_bin(&state.db, &user.actor, bin, id).await?;
    done(&user, htmx, bin, id, name.into_inner().name, false)
}

/// The record's name rides along in the action's URL, for the answer's wording only.
#[derive(serde::Deserialize)]
pub struct NameQuery {
    #[serde(default)]
    name: String,
}

fn done(
    user: &CurrentUser,
    htmx: Htmx,
    bin: Bin,
    id: i64,
    name: String,
    restored: bool,
) -> Result<HttpResponse, AppError> {
    if htmx.fragment {
        return ok(&Done {
            bin,
            id,
            name,
            restored,
        });
    }
    let what = if name.is_empty() {
        bin.title().to_string()
    } else {
        name
    };
    let flash = if restored {
        format!("{what} was restored.")
    } else {
        format!("{what} was deleted forever.")
    };
    set_flash(&user.session, flash);
    Ok(see_other("/settings/trash"))
}

/// What a record page answers when the record is not found: for managers, a notice with
/// Restore when it is in the trash; otherwise the 404 as it was.
pub async fn or_notice(
    state: &AppState,
    user: &CurrentUser,
    bin: Bin,
    id: i64,
    error: AppError,
) -> Result<HttpResponse, AppError> {
    if !matches!(error, AppError::NotFound(_))
        || !user.actor.can(Action::RestoreTrash)
        || !trash::is_trashed_in_bin(&state.db, bin, id).await?
    {
        return Err(error);
    }
    let subject = match bin {
        Bin::Contact => Subject::Contact(id),
        Bin::Company => Subject::Company(id),
        Bin::Deal => Subject::Deal(id),
    };
    ok(&Notice {
        l: Layout::for_user(user, bin_section(bin)),
        bin,
        id,
        keep_days: trash::KEEP_DAYS,
        tasks: crate::web::pages::tasks::frozen(state, user, subject).await?,
    })
}

fn bin_section(bin: Bin) -> &'static str {
    match bin {
        Bin::Contact => "contacts",
        Bin::Company => "companies",
        Bin::Deal => "deals",
    }
}
