//! Settings → Export (admins): the whole workspace as a ZIP, streamed as it is written
//! (`domain::export`). `download` also answers `GET /api/v1/export`.
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::web::filters;

use crate::app::AppState;
use crate::domain::export::{self, Export, Via};
use crate::error::AppError;
use crate::web::auth::{Can, gate};
use crate::web::pages::{Layout, render};

#[derive(Template)]
#[template(path = "settings/export.html")]
struct ExportPage {
    l: Layout,
    files: [&'static str; 8],
}

pub async fn index(user: Can<gate::ExportWorkspace>) -> Result<HttpResponse, AppError> {
    let page = ExportPage {
        l: Layout::for_user(&user, "settings"),
        files: export::FILES,
    };
    render(&page, actix_web::http::StatusCode::OK)
}

/// The button: the ZIP as a download.
pub async fn start(
    state: web::Data<AppState>,
    user: Can<gate::ExportWorkspace>,
) -> Result<HttpResponse, AppError> {
    let export = export::start(&state.db, Some(&user.actor), Via::Page).await?;
    Ok(download(export))
}

/// A download of `export`: the ZIP is written by a task of its own into a bounded channel
/// that the response body reads, so neither side holds more than a few chunks. A failure
/// after the first byte ends the body with an error, cutting the download short rather
/// than ending it as if it were whole.
pub fn download(export: Export) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<export::Chunk>(export::QUEUE);
    actix_web::rt::spawn(async move {
        if let Err(e) = export.write(&tx).await {
            tracing::warn!("the workspace export stopped: {e:?}");
            let _ = tx.send(Err(e)).await;
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        let next = rx.recv().await?;
        Some((next.map(Bytes::from).map_err(actix_web::Error::from), rx))
    });
    let name = export::file_name(chrono::Utc::now());
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/zip"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}
