//! Settings → Import (admins): upload one or several CSV files, see their first rows and
//! map each column, try the import (dry run: row by row, nothing written), run it as a
//! job with a progress bar (the page can be left and come back to), read its report and
//! integrity check, and undo it as a whole.
//! Templates: `settings/imports.html` (list and upload), `settings/import.html` (one
//! import), `settings/_import_progress.html` (the bar htmx polls).
use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;
use futures_util::StreamExt;

use super::import_view::{self, FileView, ReportView};
use crate::app::AppState;
use crate::domain::import::apply::{Options, store, undo};
use crate::domain::import::{FileSpec, OnMatch, System};
use crate::error::AppError;
use crate::web::auth::{Can, csrf_token, gate, set_flash};
use crate::web::filters;
use crate::web::forms::RawForm;
use crate::web::pages::{Layout, ok, render, see_other};

const HERE: &str = "/settings/import";

#[derive(Template)]
#[template(path = "settings/imports.html")]
struct ImportsPage {
    l: Layout,
    imports: Vec<store::Summary>,
    max_mb: u64,
    zones: Vec<&'static str>,
    /// The upload form's choices, kept when an upload is refused.
    system: String,
    zone: String,
    /// Why the upload was refused.
    error: Option<String>,
}

impl ImportsPage {
    /// Whether the form's "From" is `name` ("auto", to tell, unless a preset was sent).
    fn system_is(&self, name: &str) -> bool {
        match self.system.as_str() {
            "hubspot" | "salesforce" | "pipedrive" | "cairn" => self.system == name,
            _ => name == "auto",
        }
    }
}

pub async fn index(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
) -> Result<HttpResponse, AppError> {
    page(&state, &user, &HashMap::new(), None).await
}

/// The list and the upload form, showing `refused` (the upload's refusal) above the form
/// with the choices it was sent with, answered with its status.
async fn page(
    state: &AppState,
    user: &Can<gate::OrgSettings>,
    fields: &HashMap<String, String>,
    refused: Option<AppError>,
) -> Result<HttpResponse, AppError> {
    let db = &state.db;
    let status = refused
        .as_ref()
        .map_or(StatusCode::OK, ResponseError::status_code);
    let chosen = |name: &str| fields.get(name).cloned().unwrap_or_default();
    render(
        &ImportsPage {
            l: Layout::for_user(user, "settings"),
            imports: store::list(db, &user.actor).await?,
            max_mb: store::max_bytes(db).await? / (1024 * 1024),
            zones: import_view::zones(),
            system: chosen("system"),
            zone: chosen("zone"),
            error: refused.map(|e| e.to_string()),
        },
        status,
    )
}

/// A refusal of the upload the form shows (the files, their size, the choices); others
/// (permissions, the database) go to the error page.
fn shown_on_form(e: &AppError) -> bool {
    matches!(
        e,
        AppError::BadRequest(_)
            | AppError::UnsupportedMediaType(_)
            | AppError::PayloadTooLarge(_)
            | AppError::Validation { .. }
    )
}

/// The upload: files (`files`, several), where they come from (`system`: a preset, or
/// `auto` to tell from the files' headers) and the zone of dates written without one.
/// Sent by htmx (the page's boosted form), whose header carries the CSRF token. A refused
/// upload stores nothing and shows the form again with why.
pub async fn upload(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    parts: Multipart,
) -> Result<HttpResponse, AppError> {
    let mut fields: HashMap<String, String> = HashMap::new();
    match create(&state, &user, parts, &mut fields).await {
        Ok(id) => Ok(see_other(&format!("{HERE}/{id}"))),
        Err(e) if shown_on_form(&e) => page(&state, &user, &fields, Some(e)).await,
        Err(e) => Err(e),
    }
}

/// Reads the upload's parts (the form's fields into `fields`) and creates the import.
async fn create(
    state: &AppState,
    user: &Can<gate::OrgSettings>,
    mut parts: Multipart,
    fields: &mut HashMap<String, String>,
) -> Result<i64, AppError> {
    let db = &state.db;
    let max = store::max_bytes(db).await?;
    let mut uploads = Vec::new();
    let mut size = 0u64;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(bad_upload)?;
        let name = part.name().unwrap_or_default().to_string();
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(bad_upload)?;
            size += chunk.len() as u64;
            if size > max {
                return Err(store::too_large(size, max));
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file) if name == "files" && !file.is_empty() => {
                uploads.push(store::Upload { name: file, bytes })
            }
            Some(_) => {}
            None => {
                fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    // None: the domain tells the system from the files' headers.
    let named = match fields.get("system").map(String::as_str) {
        None | Some("" | "auto") => None,
        Some(s) => Some(
            System::from_name(s)
                .ok_or_else(|| AppError::field("system", "Choose where the files come from."))?,
        ),
    };
    let options = Options {
        on_match: OnMatch::Skip,
        valid_rows_only: false,
        zone: import_view::zone(fields.get("zone").map(String::as_str)),
        system: named.unwrap_or(System::Generic),
        add_stages: true,
        unknown_owners_to_me: false,
    };
    store::upload(db, &user.actor, uploads, named, &options).await
}

fn bad_upload(e: actix_multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("The upload could not be read: {e}"))
}

#[derive(Template)]
#[template(path = "settings/import.html")]
struct ImportPage {
    l: Layout,
    csrf: String,
    id: i64,
    status: String,
    /// Whether it can still be mapped, tried and started (`store::Import::changeable`).
    editable: bool,
    /// Files and their mapping, while the import can still be changed.
    files: Vec<FileView>,
    options: Options,
    zones: Vec<&'static str>,
    progress: import_view::ProgressView,
    report: Option<ReportView>,
    error: Option<String>,
}

impl ImportPage {
    fn zone_is(&self, name: &str) -> bool {
        self.options.zone.as_deref() == Some(name)
    }

    fn running(&self) -> bool {
        matches!(self.status.as_str(), "queued" | "running")
    }
}

pub async fn show(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let db = &state.db;
    let id = id.into_inner();
    let imp = store::get(db, &user.actor, id).await?;
    let editable = imp.changeable;
    let files = if editable {
        import_view::files(db, &user.actor, &imp).await?
    } else {
        Vec::new()
    };
    let progress = store::progress(db, &user.actor, id).await?;
    ok(&ImportPage {
        l: Layout::for_user(&user, "settings"),
        csrf: csrf_token(&user.session),
        id,
        status: imp.status.clone(),
        editable,
        files,
        zones: import_view::zones(),
        progress: progress.into(),
        report: import_view::report(&imp),
        error: imp.error.clone(),
        options: imp.options,
    })
}

/// The mapping form's files and options, stored before a dry run or a start.
async fn save_mapping(
    state: &AppState,
    user: &Can<gate::OrgSettings>,
    id: i64,
    form: &RawForm,
) -> Result<(), AppError> {
    let pairs: Vec<(String, String)> = form.parse()?;
    let db = &state.db;
    let imp = store::get(db, &user.actor, id).await?;
    let previews = store::preview(db, &user.actor, id).await?;
    let (files, options): (Vec<FileSpec>, Options) =
        import_view::mapping_from_form(db, &pairs, &previews, &imp).await?;
    store::set_files(db, &user.actor, id, &files, &options).await
}

pub async fn dry_run(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    id: web::Path<i64>,
    form: RawForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    save_mapping(&state, &user, id, &form).await?;
    let report = store::dry_run(&state.db, &user.actor, id).await?;
    let failed = report.failed();
    set_flash(
        &user.session,
        &if failed == 0 {
            "Dry run done: every row can be imported. Nothing was written.".to_string()
        } else {
            format!("Dry run done: {failed} rows cannot be imported (below). Nothing was written.")
        },
    );
    Ok(see_other(&format!("{HERE}/{id}#report")))
}

pub async fn save(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    id: web::Path<i64>,
    form: RawForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    save_mapping(&state, &user, id, &form).await?;
    set_flash(&user.session, "Mapping saved.");
    Ok(see_other(&format!("{HERE}/{id}")))
}

pub async fn start(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    id: web::Path<i64>,
    form: RawForm,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    save_mapping(&state, &user, id, &form).await?;
    store::start(&state.db, &user.actor, id).await?;
    Ok(see_other(&format!("{HERE}/{id}")))
}

#[derive(Template)]
#[template(path = "settings/_import_progress.html")]
struct ProgressFragment {
    id: i64,
    progress: import_view::ProgressView,
}

/// The bar, polled by htmx while the job runs; once it has finished, the whole page is
/// loaded again to show the report.
pub async fn progress(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let progress: import_view::ProgressView =
        store::progress(&state.db, &user.actor, id).await?.into();
    if !progress.running {
        return Ok(HttpResponse::Ok()
            .insert_header(("HX-Refresh", "true"))
            .finish());
    }
    ok(&ProgressFragment { id, progress })
}

pub async fn undo(
    state: web::Data<AppState>,
    user: Can<gate::OrgSettings>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    undo::undo(&state.db, &user.actor, id).await?;
    set_flash(
        &user.session,
        "Import undone: the records it created are removed and those it updated restored.",
    );
    Ok(see_other(&format!("{HERE}/{id}")))
}
