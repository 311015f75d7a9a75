//! A report as a declaration: what it is called, how it is run, and how it reads as CSV
//! and as a table. The pages, their CSV downloads, the API and `cairn report …` each go
//! through one generic path over `Report`. Adding a report: implement `Report` for its
//! result type (and `web::pages::reports::Page` for its template), add a line to `INDEX`
//! and to `text_of`, its page and CSV to the route table (`web::routes`, the generic
//! `page::<R>` and `csv::<R>`), and a one-line documented API function.
use std::future::Future;

use chrono::NaiveDate;
use serde::Serialize;

use super::Filters;
use super::activity::ActivityReport;
use super::forecast::Forecast;
use super::funnel::Funnel;
use super::pipeline::PipelineReport;
use super::revenue::Revenue;
use super::velocity::Velocity;
use super::win_rate::WinRate;
use crate::domain::{Actor, Db};
use crate::error::AppError;

/// A report's result, and how it is made and written out.
pub trait Report: Serialize + Sized {
    /// Its path segment: `/reports/{SLUG}`, `/api/v1/reports/{SLUG}`, `cairn report SLUG`,
    /// and the start of its CSV file's name.
    const SLUG: &'static str;

    /// The report `actor` may see for `f` (checks the actor's right to read).
    fn run(db: &Db, actor: &Actor, f: &Filters) -> impl Future<Output = Result<Self, AppError>>;

    /// The days it covers (as widened to whole weeks or months), for the file's name.
    fn range(&self) -> (NaiveDate, NaiveDate);

    /// The report as CSV (the download, `--format csv`).
    fn csv(&self) -> String;

    /// The report in aligned columns (the command line's default).
    fn table(&self) -> String;

    /// The CSV file's name, without `.csv`: "funnel-2026-01-05-2026-04-05".
    fn file_name(&self) -> String {
        let (from, to) = self.range();
        format!("{}-{from}-{to}", Self::SLUG)
    }
}

/// A report in the navigation: its slug, its tab's label, and a line saying what it
/// shows (the command line's help).
pub struct Entry {
    pub slug: &'static str,
    pub label: &'static str,
    pub about: &'static str,
}

/// Every report, in the navigation's order.
pub const INDEX: &[Entry] = &[
    Entry {
        slug: Funnel::SLUG,
        label: "Weekly funnel",
        about: "The weekly funnel: contacts created, with an interaction, deals won, conversion.",
    },
    Entry {
        slug: PipelineReport::SLUG,
        label: "Pipeline",
        about: "Pipeline value by stage: count, value and weighted value per currency.",
    },
    Entry {
        slug: WinRate::SLUG,
        label: "Win rate",
        about: "Win rate and average sales cycle per month.",
    },
    Entry {
        slug: Velocity::SLUG,
        label: "Stage velocity",
        about: "Days deals stay in each open stage (average, median) and where they are stuck now.",
    },
    Entry {
        slug: Forecast::SLUG,
        label: "Forecast",
        about: "Open deals by expected close month, value and weighted value per currency.",
    },
    Entry {
        slug: ActivityReport::SLUG,
        label: "Activity",
        about: "Notes, calls, meetings and tasks done per user per week.",
    },
    Entry {
        slug: Revenue::SLUG,
        label: "Revenue",
        about: "Revenue per month and currency (payments, refunds, net, by source) and MRR at each month's end; the pipeline filter does not apply.",
    },
];

/// How `cairn report` prints a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Table,
    Csv,
    Json,
}

/// Report `R` for `actor` and `f`, written in `form`.
pub async fn text<R: Report>(
    db: &Db,
    actor: &Actor,
    f: &Filters,
    form: Form,
) -> Result<String, AppError> {
    let r = R::run(db, actor, f).await?;
    Ok(match form {
        Form::Csv => r.csv(),
        Form::Table => r.table(),
        Form::Json => serde_json::to_string_pretty(&r)
            .map(|j| j + "\n")
            .map_err(|e| AppError::Internal(format!("report as JSON: {e}")))?,
    })
}

/// The report called `slug` (one of `INDEX`), written in `form`.
pub async fn text_of(
    slug: &str,
    db: &Db,
    actor: &Actor,
    f: &Filters,
    form: Form,
) -> Result<String, AppError> {
    match slug {
        Funnel::SLUG => text::<Funnel>(db, actor, f, form).await,
        PipelineReport::SLUG => text::<PipelineReport>(db, actor, f, form).await,
        WinRate::SLUG => text::<WinRate>(db, actor, f, form).await,
        Velocity::SLUG => text::<Velocity>(db, actor, f, form).await,
        Forecast::SLUG => text::<Forecast>(db, actor, f, form).await,
        ActivityReport::SLUG => text::<ActivityReport>(db, actor, f, form).await,
        Revenue::SLUG => text::<Revenue>(db, actor, f, form).await,
        _ => Err(AppError::BadRequest(format!("No report is called {slug}."))),
    }
}
