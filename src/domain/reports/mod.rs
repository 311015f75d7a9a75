//! Reports (issue 15): numbers grouped in the database, read by the pages under
//! `/reports`, `GET /api/v1/reports/…` and `cairn report …` through the same functions.
//!
//! What every report shares is here: the filters (a range of days or the last N days, an
//! owner, a pipeline, a source) parsed once into `Filters`; the weeks of a range in the
//! organisation's time zone; the access rule (a rep limited to their own records sees
//! only those, as the record lists do); and money kept per currency (never added across
//! currencies).
//!
//! Weeks start on Monday in the organisation's zone (Settings → Organisation, the
//! `org.time_zone` setting). Their UTC boundaries are worked out here (DST included, by
//! chrono-tz) and handed to the database, which puts each row in its week with a
//! balanced CASE over the boundaries: both engines answer it the same way, and neither
//! needs time-zone support of its own (SQLite has none).
pub mod activity;
pub mod dashboard;
pub mod forecast;
pub mod format;
pub mod funnel;
pub mod pipeline;
pub mod report;
pub mod revenue;
pub mod revenue_text;
pub mod velocity;
pub mod win_rate;

pub use report::Report;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::access::Visible;
use crate::domain::clean;
use crate::domain::tasks::due;
use crate::error::AppError;

/// The range when none is given: the last 90 days.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest range a report covers (two years).
pub const MAX_DAYS: i64 = 730;
/// The longest source text a filter takes.
const SOURCE_MAX: usize = 64;

/// A report's filters as they arrive (query string or form), every value still text; the
/// OpenAPI document describes this struct.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// The last this many days, today included (1 to 730; default 90). Not with `from`.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 730)]
    pub days: Option<String>,
    /// The first day (YYYY-MM-DD, in the organisation's time zone).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// The last day, included (YYYY-MM-DD; default today).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only the records this user owns.
    #[param(value_type = Option<i64>)]
    pub owner: Option<String>,
    /// Only deals of this pipeline (contacts belong to no pipeline: their measures are
    /// not narrowed by it).
    #[param(value_type = Option<i64>)]
    pub pipeline: Option<String>,
    /// Only contacts and deals from this source (organic, referral, paid, …).
    pub source: Option<String>,
}

/// Checked filters: whole weeks from the Monday on or before `from` to the Sunday on or
/// after `to`, in `tz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub owner: Option<i64>,
    pub pipeline: Option<i64>,
    pub source: Option<String>,
    pub tz: Tz,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::BadRequest(message.into())
}

impl Params {
    /// A query string's filters; an unknown or repeated parameter is refused (400).
    pub fn from_query(query: &str) -> Result<Params, AppError> {
        serde_html_form::from_str(query)
            .map_err(|e| bad(format!("The report's filters could not be read: {e}")))
    }

    /// The filters checked (400 naming the first bad one), with the range's days read in
    /// `tz` and "today" the day `now` falls on there.
    pub fn validate(&self, tz: Tz, now: DateTime<Utc>) -> Result<Filters, AppError> {
        let today = now.with_timezone(&tz).date_naive();
        let date = |name: &str, v: &Option<String>| -> Result<Option<NaiveDate>, AppError> {
            clean(v.as_deref())
                .map(|s| {
                    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                        .map_err(|_| bad(format!("{name}: \"{s}\" is not a date (YYYY-MM-DD).")))
                })
                .transpose()
        };
        let days = clean(self.days.as_deref())
            .map(|s| match s.parse::<i64>() {
                Ok(n) if (1..=MAX_DAYS).contains(&n) => Ok(n),
                _ => Err(bad(format!(
                    "days: give a whole number from 1 to {MAX_DAYS} (not \"{s}\")."
                ))),
            })
            .transpose()?;
        let (from, to) = (date("from", &self.from)?, date("to", &self.to)?);
        if days.is_some() && from.is_some() {
            return Err(bad("Give either days or from, not both."));
        }
        let to = to.unwrap_or(today);
        let from = match from {
            Some(f) => f,
            None => to - Duration::days(days.unwrap_or(DEFAULT_DAYS) - 1),
        };
        if from > to {
            return Err(bad("from: the first day comes after the last (to)."));
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(bad(format!(
                "from, to: a report covers at most {MAX_DAYS} days."
            )));
        }
        Ok(Filters {
            from,
            to,
            owner: id("owner", &self.owner)?,
            pipeline: id("pipeline", &self.pipeline)?,
            source: self.source()?,
            tz,
        })
    }

    fn source(&self) -> Result<Option<String>, AppError> {
        let Some(s) = clean(self.source.as_deref()) else {
            return Ok(None);
        };
        if s.chars().count() > SOURCE_MAX || crate::domain::has_control(&s) {
            return Err(bad("source: not a source."));
        }
        Ok(Some(s))
    }
}

fn id(name: &str, v: &Option<String>) -> Result<Option<i64>, AppError> {
    clean(v.as_deref())
        .map(|s| match s.parse::<i64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(bad(format!("{name}: \"{s}\" is not an id."))),
        })
        .transpose()
}

/// One week of a report: its Monday and the instants it starts and ends (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub monday: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Filters {
    /// The range's first instant and the instant after its last day (UTC).
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.to + Duration::days(1);
        (
            due::day_start(self.tz, self.from),
            due::day_start(self.tz, after),
        )
    }

    /// The weeks covered, oldest first (at least one).
    pub fn weeks(&self) -> Vec<Week> {
        let monday =
            |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
        let (first, last) = (monday(self.from), monday(self.to));
        let mut weeks = Vec::new();
        let mut m = first;
        while m <= last {
            let next = m + Duration::days(7);
            weeks.push(Week {
                monday: m,
                start: due::day_start(self.tz, m),
                end: due::day_start(self.tz, next),
            });
            m = next;
        }
        weeks
    }

    /// Whose records count for a reader: anyone's (`Some(None)`), one owner's, or — when
    /// the filter names someone the access rule hides (a rep asking for another rep's
    /// records) — nobody's (`None`).
    pub fn owner_for(&self, visible: Visible) -> Option<Option<i64>> {
        match (self.owner, visible.owner()) {
            (Some(a), Some(b)) if a != b => None,
            (a, b) => Some(a.or(b)),
        }
    }
}

/// The index of the week `column` falls in, as SQL: a CASE that halves the weeks at each
/// level (at most 7 comparisons a row for two years' weeks, where a flat CASE would test
/// up to 105). Rows must already be limited to the weeks' whole span.
pub fn week_of(column: Expr, weeks: &[Week]) -> Expr {
    fn part(column: &Expr, weeks: &[Week], lo: usize, hi: usize) -> Expr {
        if hi - lo <= 1 {
            return Expr::val(lo as i64);
        }
        let mid = (lo + hi) / 2;
        CaseStatement::new()
            .case(
                column.clone().lt(weeks[mid].start),
                part(column, weeks, lo, mid),
            )
            .finally(part(column, weeks, mid, hi))
            .into()
    }
    part(&column, weeks, 0, weeks.len().max(1))
}

/// An amount of one currency, in its minor units (cents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Amount {
    pub currency: String,
    pub amount_minor: i64,
}

impl Amount {
    /// "EUR 1,234.56".
    pub fn text(&self) -> String {
        crate::domain::deals::money(self.amount_minor, &self.currency)
    }
}

/// `part` as a percentage of `whole` with two decimals ("12.50"), rounded half up; "0.00"
/// when `whole` is zero.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "0.00".to_string();
    }
    // Hundredths of a percent, in integers: no float rounding.
    let hundredths = (i128::from(part) * 20_000 + i128::from(whole)) / (2 * i128::from(whole));
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// `p` checked in the organisation's time zone, today being the day it is now there.
pub async fn filters(db: &crate::domain::Db, p: &Params) -> Result<Filters, AppError> {
    let org = crate::domain::organisation::cached(db).await?;
    p.validate(due::zone(&org.time_zone), crate::domain::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_has_two_decimals_and_no_division_by_zero() {
        assert_eq!(percent(0, 0), "0.00");
        assert_eq!(percent(1, 3), "33.33");
        assert_eq!(percent(2, 3), "66.67");
        assert_eq!(percent(1, 8), "12.50");
        assert_eq!(percent(5, 4), "125.00");
    }
}
