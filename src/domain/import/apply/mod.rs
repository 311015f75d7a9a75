//! Applying an import: from the [`MappedRow`]s of one or several files to records.
//!
//! Whatever the order of the files, kinds go in dependency order (users → companies →
//! contacts → …), so a contact's company is planned before the contact. Applying is two
//! phases. `plan` reads (in bulk, a chunk of rows at a time) and checks every row through
//! the domain's own validation, matches existing records and resolves links, writing
//! nothing: that is the dry run, and the all-or-nothing gate (one failed row and a
//! normal run writes nothing). `write` then writes the plan in chunked transactions,
//! each recording what it created or updated (`import_changes`), so the server's writer
//! is never held for long (SQLite has one) and a failure part-way is undone as a whole.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::read::RowError;
use super::{FileSpec, MappedRow, ObjectKind, OnMatch, System};
use crate::domain::export::Workspace;
use crate::domain::{Actor, Db};
use crate::error::AppError;

mod about;
mod activity;
mod cells;
mod company;
mod contact;
mod deal;
mod deal_contact;
mod deal_input;
mod dependents;
mod insert;
pub mod integrity;
pub mod job;
mod links;
mod matching;
mod pending;
mod plan;
mod rows;
mod spill;
mod stages;
pub mod store;
mod task;
mod timeline;
pub mod undo;
mod unzip;
mod user;
mod workspace;
mod write;

pub use integrity::Integrity;
pub use workspace::Setup;

/// Rows planned, looked up and written together.
pub(crate) const CHUNK: usize = 1000;

/// What the user chose for one import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub on_match: OnMatch,
    /// "Import the valid rows and report the rest"; otherwise one failed row and nothing
    /// is written.
    #[serde(default)]
    pub valid_rows_only: bool,
    /// The zone of dates written without one (HubSpot writes the portal's).
    #[serde(default)]
    pub zone: Option<String>,
    pub system: System,
    /// Create the pipelines and stages deal rows name that Cairn lacks (`stages`);
    /// otherwise such a row fails, naming the ones Cairn has.
    #[serde(default = "yes")]
    pub add_stages: bool,
    /// A row whose owner names no Cairn user is read as naming none (the record is the
    /// importing user's when new), with a note; otherwise it fails.
    #[serde(default)]
    pub unknown_owners_to_me: bool,
}

fn yes() -> bool {
    true
}

impl Options {
    /// Refuses a zone that is not a time zone's name (the pages and `cairn import` alike).
    pub fn check(&self) -> Result<(), AppError> {
        match &self.zone {
            Some(z) if z.parse::<chrono_tz::Tz>().is_err() => Err(AppError::field(
                "zone",
                format!("“{z}” is not a time zone; choose one such as Europe/Berlin."),
            )),
            _ => Ok(()),
        }
    }
}

/// What became of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Skipped,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// One row of the report: its file and row number, what it became (or would become in
/// a dry run), the record, and every reason it failed or was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowReport {
    pub file: String,
    pub row: u64,
    pub kind: ObjectKind,
    pub outcome: Outcome,
    pub record_id: Option<i64>,
    pub reasons: Vec<String>,
}

impl RowReport {
    /// Imported with a note: a link that waits for a later import, an owner read as
    /// none.
    pub fn noted(&self) -> bool {
        matches!(self.outcome, Outcome::Created | Outcome::Updated) && !self.reasons.is_empty()
    }
}

/// Rows per outcome for one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// The row-by-row report of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Whether anything was written (false for a dry run, and for a normal run that a
    /// failed row stopped).
    pub written: bool,
    pub rows: Vec<RowReport>,
    /// What the export's `workspace.json` made (or would make) before the rows.
    #[serde(default)]
    pub workspace: Setup,
    /// The counts of every row, when `rows` holds only those worth reading (`kept`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<BTreeMap<String, Counts>>,
    /// Links of earlier imports that waited for records this run wrote, now filled (in
    /// a dry run: that wait for the records it would write).
    #[serde(default)]
    pub linked: u64,
}

impl Report {
    /// Rows per outcome, by kind (`contacts`, …).
    pub fn counts(&self) -> BTreeMap<String, Counts> {
        if let Some(tally) = &self.tally {
            return tally.clone();
        }
        let mut out: BTreeMap<String, Counts> = BTreeMap::new();
        for r in &self.rows {
            let c = out.entry(r.kind.plural().to_string()).or_default();
            c.rows += 1;
            match r.outcome {
                Outcome::Created => c.created += 1,
                Outcome::Updated => c.updated += 1,
                Outcome::Skipped => c.skipped += 1,
                Outcome::Failed => c.failed += 1,
            }
        }
        out
    }

    /// The report as its import keeps it: the rows failed, skipped or noted, and the
    /// counts of all. A 100 000-row import would otherwise store ten megabytes that its
    /// page reads back at every view, to show no more than those rows.
    pub fn kept(&self) -> Report {
        Report {
            written: self.written,
            rows: self
                .rows
                .iter()
                .filter(|r| {
                    matches!(r.outcome, Outcome::Failed | Outcome::Skipped) || !r.reasons.is_empty()
                })
                .cloned()
                .collect(),
            workspace: self.workspace.clone(),
            tally: Some(self.counts()),
            linked: self.linked,
        }
    }

    pub fn failed(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.outcome == Outcome::Failed)
            .count()
    }
}

/// Called after each written chunk with the rows written so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// Checks every row and reports what it would become; writes nothing. `ws`: the
/// export's `workspace.json` uploaded with the files; `unreadable`: the rows reading
/// could not make out, reported as failed.
pub async fn dry_run(
    db: &Db,
    actor: &Actor,
    (files, ws): (&[FileSpec], Option<&Workspace>),
    rows: Vec<MappedRow>,
    unreadable: Vec<RowError>,
    options: &Options,
) -> Result<Report, AppError> {
    let mut plan = plan::plan(db, actor, (files, ws), (rows, unreadable), options, false).await?;
    plan.report.linked = pending::waiting_for(db, &plan).await?;
    Ok(plan.report)
}

/// Plans and writes the rows as import `import_id`: nothing when a row failed, unless
/// `valid_rows_only`. A failure while writing undoes what the import wrote so far.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    import_id: i64,
    (files, ws): (&[FileSpec], Option<&Workspace>),
    rows: Vec<MappedRow>,
    unreadable: Vec<RowError>,
    options: &Options,
) -> Result<Report, AppError> {
    let mut plan = plan::plan(db, actor, (files, ws), (rows, unreadable), options, true).await?;
    if plan.report.failed() > 0 && !options.valid_rows_only {
        // Nothing is written: not even the custom fields and users planning made.
        undo::drop_fields(db, &plan.new_fields).await?;
        let users: Vec<i64> = plan.new_users.iter().map(|(_, id)| *id).collect();
        undo::drop_users(db, &users).await?;
        workspace::remove(db, &plan.workspace).await?;
        return Ok(plan.report);
    }
    match write::write(db, actor, import_id, &mut plan).await {
        Ok(()) => {
            plan.report.written = true;
            crate::domain::scoring::job::rescore_all(db).await?;
            Ok(plan.report)
        }
        Err(e) => {
            undo::revert(db, import_id, false).await?;
            Err(e)
        }
    }
}
