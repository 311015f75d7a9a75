//! An import's life as Settings → Import and `cairn import` see it: created from the
//! uploaded files (kept in the database, within a size limit that is a setting), given
//! its mapping and options, tried (dry run), started as a job, followed (progress),
//! reported and listed.
use std::io::Cursor;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use super::{Integrity, Options, Report};
use crate::domain::export::Workspace;
use crate::domain::import::read::{self, CsvFile, RowError};
use crate::domain::import::{FileSpec, MappedRow, ObjectKind, System, presets};
use crate::domain::{Action, Actor, Db, custom_fields, now, settings};
use crate::entities::{import, import_file};
use crate::error::AppError;
use crate::jobs::{self, NewJob};

/// The setting (`settings` table) holding the most one import may upload, in MB.
pub const MAX_MB_SETTING: &str = "import.max_mb";
pub const DEFAULT_MAX_MB: u64 = 100;
/// How many rows a preview shows.
pub const PREVIEW_ROWS: usize = 5;

/// A file as uploaded.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The most one import may upload, in bytes.
pub async fn max_bytes(db: &Db) -> Result<u64, AppError> {
    let mb = settings::get(&db.read, MAX_MB_SETTING)
        .await?
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_MAX_MB);
    Ok(mb.saturating_mul(1024 * 1024))
}

/// `uploads` with each ZIP replaced by the files in it, within the size limit, as
/// `create` takes them: the command line describes the files before it creates.
pub async fn unzipped(db: &Db, uploads: Vec<Upload>) -> Result<Vec<Upload>, AppError> {
    let max = max_bytes(db).await?;
    let size: u64 = uploads.iter().map(|u| u.bytes.len() as u64).sum();
    if size > max {
        return Err(too_large(size, max));
    }
    super::unzip::expand(uploads, max)
}

/// The refusal of `size` bytes of files when an import takes at most `max`.
pub fn too_large(size: u64, max: u64) -> AppError {
    AppError::PayloadTooLarge(format!(
        "The files come to {} MB; an import takes at most {} MB (the {MAX_MB_SETTING} setting).",
        size.div_ceil(1024 * 1024),
        max / (1024 * 1024)
    ))
}

/// Stores the uploaded files as a new import of `options.system`: `upload` with that
/// system named.
pub async fn create(
    db: &Db,
    actor: &Actor,
    uploads: Vec<Upload>,
    options: &Options,
) -> Result<i64, AppError> {
    upload(db, actor, uploads, Some(options.system), options).await
}

/// Stores the uploaded files as a new import (status planned), each described as the
/// preset of its system reads it (the page shows that mapping first); its id. The
/// import's system (`Options::system`, in place of `options.system`) is `named`, else the
/// one the files' headers show (`presets::import_system`). Nothing is stored when a file
/// is refused.
pub async fn upload(
    db: &Db,
    actor: &Actor,
    uploads: Vec<Upload>,
    named: Option<System>,
    options: &Options,
) -> Result<i64, AppError> {
    actor.require(Action::OrgSettings)?;
    options.check()?;
    if uploads.is_empty() {
        return Err(AppError::BadRequest(
            "Choose at least one file to import.".into(),
        ));
    }
    let size: u64 = uploads.iter().map(|u| u.bytes.len() as u64).sum();
    let max = max_bytes(db).await?;
    if size > max {
        return Err(too_large(size, max));
    }
    let uploads = super::unzip::expand(uploads, max)?;
    let (uploads, workspace) = super::workspace::take(uploads)?;
    if uploads.is_empty() {
        return Err(AppError::BadRequest(
            "Choose at least one CSV file to import with workspace.json.".into(),
        ));
    }
    let custom = custom_fields(db).await?;
    let specs = uploads
        .iter()
        .map(|u| describe(u, named, &custom))
        .collect::<Result<Vec<_>, _>>()?;
    let options = Options {
        system: presets::import_system(named, specs.iter().map(|s| s.system)),
        ..options.clone()
    };
    let t = now();
    let tx = db.begin_write().await?;
    let imp = import::ActiveModel {
        status: Set("planned".into()),
        files: Set(json(&specs)?),
        options: Set(json(&options)?),
        total_rows: Set(0),
        done_rows: Set(0),
        counts: Set("{}".into()),
        created_by: Set(Some(actor.id)),
        workspace: Set(workspace),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    for (i, u) in uploads.into_iter().enumerate() {
        import_file::ActiveModel {
            import_id: Set(imp.id),
            position: Set(i as i32),
            name: Set(u.name.chars().take(255).collect()),
            bytes: Set(u.bytes),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
    }
    tx.commit().await?;
    Ok(imp.id)
}

/// How much of a file is read to find its headers: a copy of the whole would double
/// the memory a large upload takes.
const HEAD_BYTES: usize = 1024 * 1024;

/// The custom fields of every kind, which presets map columns to by name.
pub async fn custom_fields(db: &Db) -> Result<Vec<custom_fields::Field>, AppError> {
    let mut all = Vec::new();
    for entity in ["contact", "company", "deal"] {
        all.extend(custom_fields::for_entity(&db.read, entity).await?);
    }
    Ok(all)
}

/// An uploaded file's headers read (refused, naming the file, when it is not CSV) and
/// the file described by the preset of `named` or of the system its headers show. A file
/// whose name and headers do not tell its kind is taken for contacts; the page lets the
/// user say otherwise.
fn describe(
    u: &Upload,
    named: Option<System>,
    custom: &[custom_fields::Field],
) -> Result<FileSpec, AppError> {
    let head = u.bytes[..u.bytes.len().min(HEAD_BYTES)].to_vec();
    let csv = CsvFile::open(Cursor::new(head)).map_err(|e| {
        let text = format!("{}: {e}", u.name);
        match e {
            read::ReadError::NotText(_) => AppError::UnsupportedMediaType(text),
            _ => AppError::BadRequest(text),
        }
    })?;
    let headers = csv.headers();
    let system = named.unwrap_or_else(|| presets::guess_system(headers));
    let kind = presets::guess_kind(system, &u.name, headers).unwrap_or(ObjectKind::Contact);
    Ok(FileSpec {
        name: u.name.clone(),
        kind,
        system,
        columns: presets::columns(system, kind, headers, custom),
    })
}

fn json<T: Serialize>(v: &T) -> Result<String, AppError> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| AppError::Internal(format!("stored import: {e}")))
}

pub(super) async fn find(db: &Db, id: i64) -> Result<import::Model, AppError> {
    import::Entity::find_by_id(id)
        .one(&db.read)
        .await?
        .ok_or_else(|| AppError::not_found("Import"))
}

async fn files_of(db: &Db, id: i64) -> Result<Vec<import_file::Model>, AppError> {
    Ok(import_file::Entity::find()
        .filter(import_file::Column::ImportId.eq(id))
        .order_by_asc(import_file::Column::Position)
        .all(&db.read)
        .await?)
}

/// One uploaded file's first rows, for choosing its mapping.
#[derive(Clone, Debug, Serialize)]
pub struct FilePreview {
    pub name: String,
    pub encoding: String,
    pub delimiter: char,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The first rows of each file of import `id`.
pub async fn preview(db: &Db, actor: &Actor, id: i64) -> Result<Vec<FilePreview>, AppError> {
    actor.require(Action::OrgSettings)?;
    let mut out = Vec::new();
    for f in files_of(db, id).await? {
        let csv = CsvFile::open(Cursor::new(f.bytes))?;
        let (encoding, delimiter) = (csv.encoding().name().to_string(), csv.delimiter());
        let headers = csv.headers().to_vec();
        let rows = csv
            .rows()
            .filter_map(Result::ok)
            .take(PREVIEW_ROWS)
            .map(|(_, cells)| cells)
            .collect();
        out.push(FilePreview {
            name: f.name,
            encoding,
            delimiter,
            headers,
            rows,
        });
    }
    Ok(out)
}

/// Whether an import may still be mapped, tried and started: before it starts, and
/// after a run that a failed row stopped before writing anything (all or nothing), so the
/// user can change the mapping or the options and try again. An import that wrote (done,
/// undone, or failed while writing and reverted) stays as it is.
fn changeable(status: &str, report: Option<&str>) -> bool {
    #[derive(serde::Deserialize)]
    struct Kept {
        written: bool,
    }
    match status {
        "planned" | "dry_run_done" => true,
        // The run keeps its report only when its rows stopped it (`job::run`).
        "failed" => report
            .and_then(|r| serde_json::from_str::<Kept>(r).ok())
            .is_some_and(|k| !k.written),
        _ => false,
    }
}

/// Sets what each file holds and how its columns map, and the options. Only while the
/// import can be changed (`changeable`).
pub async fn set_files(
    db: &Db,
    actor: &Actor,
    id: i64,
    files: &[FileSpec],
    options: &Options,
) -> Result<(), AppError> {
    actor.require(Action::OrgSettings)?;
    options.check()?;
    let imp = find(db, id).await?;
    if !changeable(&imp.status, imp.report.as_deref()) {
        return Err(AppError::BadRequest(format!(
            "This import is {}; its files can no longer be changed.",
            imp.status
        )));
    }
    let uploaded = files_of(db, id).await?;
    if uploaded.len() != files.len() {
        return Err(AppError::BadRequest(format!(
            "The import has {} files; {} were described.",
            uploaded.len(),
            files.len()
        )));
    }
    let mut am: import::ActiveModel = imp.into();
    am.files = Set(json(&files)?);
    am.options = Set(json(options)?);
    am.status = Set("planned".into());
    // A failed run's reason does not hold for the new mapping; its report stays to
    // compare until the next dry run or run.
    am.error = Set(None);
    am.updated_at = Set(now());
    am.update(&db.write).await?;
    Ok(())
}

/// Every row of import `imp`'s files, mapped, and the rows that could not be read.
pub(super) async fn rows_of(
    db: &Db,
    imp: &import::Model,
) -> Result<(Vec<FileSpec>, Vec<MappedRow>, Vec<RowError>), AppError> {
    let specs: Vec<FileSpec> = parse(&imp.files)?;
    if specs.is_empty() {
        return Err(AppError::BadRequest(
            "Say what each file holds and map its columns first.".into(),
        ));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, f) in files_of(db, imp.id).await?.into_iter().enumerate() {
        let Some(spec) = specs.get(i) else { continue };
        let csv = CsvFile::open(Cursor::new(f.bytes))?;
        for r in read::mapped(i, spec, csv.rows()) {
            match r {
                Ok(row) => rows.push(row),
                Err(e) => errors.push(e),
            }
        }
    }
    Ok((specs, rows, errors))
}

/// The `workspace.json` uploaded with import `imp`, if any.
pub(super) fn workspace_of(imp: &import::Model) -> Result<Option<Workspace>, AppError> {
    imp.workspace
        .as_deref()
        .map(|t| super::workspace::parse(t.as_bytes()))
        .transpose()
}

/// Checks every row of import `id` and keeps the report; writes no record.
pub async fn dry_run(db: &Db, actor: &Actor, id: i64) -> Result<Report, AppError> {
    actor.require(Action::OrgSettings)?;
    let imp = find(db, id).await?;
    if !changeable(&imp.status, imp.report.as_deref()) {
        return Err(AppError::BadRequest(format!(
            "This import is {}; a dry run is for an import that has written nothing.",
            imp.status
        )));
    }
    let options: Options = parse(&imp.options)?;
    let (specs, rows, errors) = rows_of(db, &imp).await?;
    let ws = workspace_of(&imp)?;
    let report = super::dry_run(db, actor, (&specs, ws.as_ref()), rows, errors, &options).await?;
    let mut am: import::ActiveModel = imp.into();
    am.status = Set("dry_run_done".into());
    am.counts = Set(json(&report.counts())?);
    am.report = Set(Some(json(&report.kept())?));
    am.updated_at = Set(now());
    am.update(&db.write).await?;
    Ok(report)
}

/// Queues import `id` to run as a job (`import.run`).
pub async fn start(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    actor.require(Action::OrgSettings)?;
    let imp = find(db, id).await?;
    if !changeable(&imp.status, imp.report.as_deref()) {
        return Err(AppError::BadRequest(format!(
            "This import is {}; it has started already.",
            imp.status
        )));
    }
    parse::<Vec<FileSpec>>(&imp.files)?
        .first()
        .ok_or_else(|| AppError::BadRequest("Map the files' columns first.".into()))?;
    let tx = db.begin_write().await?;
    let job = NewJob::new(super::job::RUN, serde_json::json!({ "import_id": id }));
    jobs::queue::enqueue_in(&tx, &job).await?;
    let mut am: import::ActiveModel = imp.into();
    am.status = Set("queued".into());
    am.error = Set(None);
    am.updated_at = Set(now());
    am.update(&tx).await?;
    tx.commit().await?;
    jobs::wake();
    Ok(())
}

/// Where an import is: what a progress bar shows.
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub error: Option<String>,
}

pub async fn progress(db: &Db, actor: &Actor, id: i64) -> Result<Progress, AppError> {
    actor.require(Action::OrgSettings)?;
    let imp = find(db, id).await?;
    Ok(Progress {
        status: imp.status,
        done: imp.done_rows,
        total: imp.total_rows,
        error: imp.error,
    })
}

/// An import with its files, options and reports.
#[derive(Clone, Debug, Serialize)]
pub struct Import {
    pub id: i64,
    pub status: String,
    /// Whether it may still be mapped, tried and started.
    pub changeable: bool,
    pub files: Vec<FileSpec>,
    pub options: Options,
    pub report: Option<Report>,
    pub integrity: Option<Integrity>,
    pub error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn get(db: &Db, actor: &Actor, id: i64) -> Result<Import, AppError> {
    actor.require(Action::OrgSettings)?;
    let imp = find(db, id).await?;
    Ok(Import {
        changeable: changeable(&imp.status, imp.report.as_deref()),
        id: imp.id,
        status: imp.status,
        files: parse(&imp.files)?,
        options: parse(&imp.options)?,
        report: imp.report.as_deref().map(parse).transpose()?,
        integrity: imp.integrity.as_deref().map(parse).transpose()?,
        error: imp.error,
        created_by: imp.created_by,
        created_at: imp.created_at,
        finished_at: imp.finished_at,
    })
}

/// A line of the list of imports.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub id: i64,
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The latest imports first.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Summary>, AppError> {
    actor.require(Action::OrgSettings)?;
    let rows: Vec<(i64, String, i64, i64, chrono::DateTime<chrono::Utc>)> = import::Entity::find()
        .select_only()
        .columns([
            import::Column::Id,
            import::Column::Status,
            import::Column::DoneRows,
            import::Column::TotalRows,
            import::Column::CreatedAt,
        ])
        .order_by_desc(import::Column::Id)
        .limit(100)
        .into_tuple()
        .all(&db.read)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, status, done, total, created_at)| Summary {
            id,
            status,
            done,
            total,
            created_at,
        })
        .collect())
}
