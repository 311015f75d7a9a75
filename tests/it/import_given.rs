//! Helpers of the import tests: files written as CSV from a header of (name, target)
//! pairs and rows, imported through the domain as Settings → Import does (create,
//! describe the files, dry run or run the job).
use cairn::domain::Actor;
use cairn::domain::import::apply::{Options, Outcome, Report, RowReport, job, store};
use cairn::domain::import::{FileSpec, ObjectKind, OnMatch, System, Target};

use crate::support::TestApp;

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
    }
}

/// A contacts file: source id, first and last name, email, the company's source id.
pub fn contacts(rows: &[&[&str]]) -> File {
    file(
        "contacts.csv",
        ObjectKind::Contact,
        &[
            ("Id", Target::SourceId),
            ("First", field("first_name")),
            ("Last", field("last_name")),
            ("Email", field("email")),
            ("Account", Target::LinkId(ObjectKind::Company)),
        ],
        rows,
    )
}

/// A companies file: source id, name, domain.
pub fn companies(rows: &[&[&str]]) -> File {
    file(
        "companies.csv",
        ObjectKind::Company,
        &[
            ("Id", Target::SourceId),
            ("Name", field("name")),
            ("Domain", field("domain")),
        ],
        rows,
    )
}

/// Creates the import and describes its files; its id.
pub async fn prepared(app: &TestApp, admin: &Actor, files: Vec<File>, o: &Options) -> i64 {
    let specs: Vec<FileSpec> = files.iter().map(|f| f.spec.clone()).collect();
    let uploads = files.into_iter().map(|f| f.upload).collect();
    let id = store::create(&app.db, admin, uploads, o)
        .await
        .unwrap_or_else(|e| panic!("create the import: {e}"));
    store::set_files(&app.db, admin, id, &specs, o)
        .await
        .unwrap_or_else(|e| panic!("describe the import's files: {e}"));
    id
}

/// Imports `files` as the job does; the import's id and its report.
pub async fn run(app: &TestApp, admin: &Actor, files: Vec<File>, o: &Options) -> (i64, Report) {
    let id = prepared(app, admin, files, o).await;
    let report = job::run(&app.db, id)
        .await
        .unwrap_or_else(|e| panic!("run the import: {e}"));
    (id, report)
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
