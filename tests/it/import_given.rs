//! Helpers of the import tests: a fresh Cairn with its admin, files written as CSV from
//! a header of (name, target) pairs and rows, imported through the domain as Settings →
//! Import does (create, describe the files, dry run or run the job), and undo refused.
use cairn::domain::Actor;
use cairn::domain::import::apply::{
    Integrity, Options, Outcome, Report, RowReport, job, store, undo,
};
use cairn::domain::import::{FileSpec, ObjectKind, OnMatch, System, Target};
use cairn::error::AppError;

use crate::support::TestApp;

/// A fresh Cairn and its admin, who runs the imports.
pub async fn with_admin() -> (TestApp, Actor) {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    (app, admin)
}

/// One file to import.
pub struct File {
    pub upload: store::Upload,
    pub spec: FileSpec,
}

fn cell(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// A CSV file of `kind` with the columns `header` (name and target) and `rows`.
pub fn file(name: &str, kind: ObjectKind, header: &[(&str, Target)], rows: &[&[&str]]) -> File {
    let mut text = header
        .iter()
        .map(|(h, _)| cell(h))
        .collect::<Vec<_>>()
        .join(",");
    text.push_str("\r\n");
    for r in rows {
        text.push_str(&r.iter().map(|v| cell(v)).collect::<Vec<_>>().join(","));
        text.push_str("\r\n");
    }
    File {
        upload: store::Upload {
            name: name.into(),
            bytes: text.into_bytes(),
        },
        spec: FileSpec {
            name: name.into(),
            kind,
            system: System::Generic,
            columns: header.iter().map(|(_, t)| t.clone()).collect(),
        },
    }
}

/// A file of `kind` whose first column, headed `id`, holds the source ids; then the
/// `fields` (header and Cairn field) and the `others` (header and target), in that order.
pub fn sourced(
    name: &str,
    kind: ObjectKind,
    id: &str,
    fields: &[(&str, &str)],
    others: &[(&str, Target)],
    rows: &[&[&str]],
) -> File {
    let mut header = vec![(id, Target::SourceId)];
    header.extend(fields.iter().map(|(h, f)| (*h, field(f))));
    header.extend(others.iter().cloned());
    file(name, kind, &header, rows)
}

pub fn field(name: &str) -> Target {
    Target::Field(name.into())
}

pub fn options(on_match: OnMatch) -> Options {
    Options {
        on_match,
        valid_rows_only: false,
        zone: None,
        system: System::Generic,
        add_stages: true,
        unknown_owners_to_me: false,
    }
}

/// `options`, importing the valid rows and reporting the rest.
pub fn valid_rows(on_match: OnMatch) -> Options {
    Options {
        valid_rows_only: true,
        ..options(on_match)
    }
}

/// A contacts file: source id, first and last name, email, the company's source id.
pub fn contacts(rows: &[&[&str]]) -> File {
    let names = [
        ("First", "first_name"),
        ("Last", "last_name"),
        ("Email", "email"),
    ];
    let company = ("Account", Target::LinkId(ObjectKind::Company));
    sourced(
        "contacts.csv",
        ObjectKind::Contact,
        "Id",
        &names,
        &[company],
        rows,
    )
}

/// A companies file: source id, name, domain.
pub fn companies(rows: &[&[&str]]) -> File {
    let names = [("Name", "name"), ("Domain", "domain")];
    sourced(
        "companies.csv",
        ObjectKind::Company,
        "Id",
        &names,
        &[],
        rows,
    )
}

/// Creates an import of `uploads` and describes its files by `specs`; its id, or why
/// either step was refused.
pub async fn try_prepared(
    app: &TestApp,
    admin: &Actor,
    uploads: Vec<store::Upload>,
    specs: &[FileSpec],
    o: &Options,
) -> Result<i64, AppError> {
    let id = store::create(&app.db, admin, uploads, o).await?;
    store::set_files(&app.db, admin, id, specs, o).await?;
    Ok(id)
}

/// Creates the import and describes its files; its id.
pub async fn prepared(app: &TestApp, admin: &Actor, files: Vec<File>, o: &Options) -> i64 {
    let specs: Vec<FileSpec> = files.iter().map(|f| f.spec.clone()).collect();
    let uploads = files.into_iter().map(|f| f.upload).collect();
    try_prepared(app, admin, uploads, &specs, o)
        .await
        .unwrap_or_else(|e| panic!("create the import and describe its files: {e}"))
}

/// Runs import `id`'s job; its report.
pub async fn run_job(app: &TestApp, id: i64) -> Report {
    job::run(&app.db, id)
        .await
        .unwrap_or_else(|e| panic!("run the import: {e}"))
}

/// Imports `files` as the job does; the import's id and its report.
pub async fn run(app: &TestApp, admin: &Actor, files: Vec<File>, o: &Options) -> (i64, Report) {
    let id = prepared(app, admin, files, o).await;
    (id, run_job(app, id).await)
}

/// The dry run's report of `files`.
pub async fn dry(app: &TestApp, admin: &Actor, files: Vec<File>, o: &Options) -> Report {
    let id = prepared(app, admin, files, o).await;
    store::dry_run(&app.db, admin, id)
        .await
        .unwrap_or_else(|e| panic!("dry run: {e}"))
}

/// The outcomes of the report's rows of `kind`, in order.
pub fn outcomes(r: &Report, kind: ObjectKind) -> Vec<Outcome> {
    rows(r, kind).iter().map(|x| x.outcome).collect()
}

pub fn rows(r: &Report, kind: ObjectKind) -> Vec<&RowReport> {
    r.rows.iter().filter(|x| x.kind == kind).collect()
}

/// The record the `n`th row of `kind` became.
pub fn record(r: &Report, kind: ObjectKind, n: usize) -> i64 {
    rows(r, kind)
        .get(n)
        .and_then(|x| x.record_id)
        .unwrap_or_else(|| panic!("row {n} of {kind:?} has no record: {r:#?}"))
}

/// The integrity report kept with import `id`.
pub async fn integrity_of(app: &TestApp, admin: &Actor, id: i64) -> Integrity {
    store::get(&app.db, admin, id)
        .await
        .unwrap_or_else(|e| panic!("read import {id}: {e}"))
        .integrity
        .expect("its integrity report is kept")
}

/// Undo of import `id` is refused as a conflict (a record changed since), and `table`
/// still has its `n` rows.
pub async fn undo_refused(app: &TestApp, admin: &Actor, id: i64, table: &str, n: i64) {
    let err = undo::undo(&app.db, admin, id)
        .await
        .expect_err("undo refused");
    assert_eq!(err.code(), "conflict", "{err}");
    assert_eq!(app.count(table).await, n, "nothing undone");
}
