//! Win rate and sales cycle per month: of the live deals closed in a month (in the
//! organisation's zone), how many were won and lost, won ÷ (won + lost) as a percentage
//! with two decimals, and the average days from a won deal's creation to its win.
//!
//! A deal's month is that of its closing time (`closed_at`, its last closing for a deal
//! reopened and closed again); the range is widened to whole months. One grouped query
//! (`idx_deals_closed_at`, one range per closed stage, index only).
use chrono::{Datelike, Duration, NaiveDate};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Filters, Week, percent, week_of};
use crate::domain::tasks::due;
use crate::domain::{Action, Actor, Db, access, sql};
use crate::error::AppError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct MonthLine {
    /// The month's first day.
    pub month: NaiveDate,
    pub won: i64,
    pub lost: i64,
    /// won ÷ (won + lost) × 100, two decimals ("0.00" without closed deals).
    pub win_rate: String,
    /// Average days from creation to win of the deals won, one decimal; none without.
    pub average_cycle_days: Option<f64>,
}

/// The report: whole months from `from` (a first of the month) to `to` (a last).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WinRate {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub months: Vec<MonthLine>,
    pub total: MonthLine,
}

#[derive(FromQueryResult)]
struct Row {
    w: i64,
    won: i64,
    lost: i64,
    /// Σ days from creation to win of the won deals (none when none was won).
    cycle: Option<f64>,
}

/// The months `f` covers, as spans for `week_of` (a "week" here is a month).
pub(crate) fn months(f: &Filters) -> Vec<Week> {
    let first = |d: NaiveDate| d.with_day(1).unwrap_or(d);
    let next = |d: NaiveDate| {
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d + Duration::days(31))
    };
    let mut out = Vec::new();
    let mut m = first(f.from);
    while m <= f.to {
        let n = next(m);
        out.push(Week {
            monday: m,
            start: due::day_start(f.tz, m),
            end: due::day_start(f.tz, n),
        });
        m = n;
    }
    out
}

/// The report `actor` may see for `f`.
pub async fn win_rate(db: &Db, actor: &Actor, f: &Filters) -> Result<WinRate, AppError> {
    actor.require(Action::ReadRecords)?;
    let spans = months(f);
    let mut lines: Vec<MonthLine> = spans
        .iter()
        .map(|s| MonthLine {
            month: s.monday,
            ..MonthLine::default()
        })
        .collect();
    let mut cycle_sum = 0.0;
    if let Some(owner) = f.owner_for(access::visible(db, actor).await?) {
        let backend = db.backend();
        let q = closed(f, owner, &spans, backend);
        let rows = Row::find_by_statement(sql::build(backend, &q))
            .all(&db.read)
            .await?;
        for r in rows {
            if let Some(line) = usize::try_from(r.w).ok().and_then(|i| lines.get_mut(i)) {
                line.won = r.won;
                line.lost = r.lost;
                line.average_cycle_days = average(r.cycle, r.won);
                cycle_sum += r.cycle.unwrap_or(0.0);
            }
        }
    }
    let mut total = MonthLine {
        month: spans.first().map_or(f.from, |s| s.monday),
        ..MonthLine::default()
    };
    for l in &mut lines {
        l.win_rate = percent(l.won, l.won + l.lost);
        total.won += l.won;
        total.lost += l.lost;
    }
    total.win_rate = percent(total.won, total.won + total.lost);
    total.average_cycle_days = average(Some(cycle_sum), total.won);
    Ok(WinRate {
        from: total.month,
        to: spans.last().map_or(f.to, |s| {
            s.end.with_timezone(&f.tz).date_naive() - Duration::days(1)
        }),
        time_zone: f.tz.name().to_string(),
        months: lines,
        total,
    })
}

/// Won and lost over exactly `f`'s days (not widened to whole months): one line, its
/// `month` the range's first day. The dashboard's "last 90 days".
pub async fn over(db: &Db, actor: &Actor, f: &Filters) -> Result<MonthLine, AppError> {
    actor.require(Action::ReadRecords)?;
    let (start, end) = f.span();
    let span = [Week {
        monday: f.from,
        start,
        end,
    }];
    let mut line = MonthLine {
        month: f.from,
        ..MonthLine::default()
    };
    if let Some(owner) = f.owner_for(access::visible(db, actor).await?) {
        let backend = db.backend();
        let q = closed(f, owner, &span, backend);
        let rows = Row::find_by_statement(sql::build(backend, &q))
            .all(&db.read)
            .await?;
        for r in rows {
            line.won += r.won;
            line.lost += r.lost;
            line.average_cycle_days = average(r.cycle, r.won);
        }
    }
    line.win_rate = percent(line.won, line.won + line.lost);
    Ok(line)
}

/// `sum ÷ n` with one decimal; none when nothing was won.
fn average(sum: Option<f64>, n: i64) -> Option<f64> {
    (n > 0).then(|| (sum.unwrap_or(0.0) / n as f64 * 10.0).round() / 10.0)
}

/// Days from `created_at` to `closed_at` of the deal aliased `d`, as a fraction. Each
/// engine has its own date arithmetic and neither understands the other's: this one
/// expression differs, the statement around it is the same builder.
fn cycle_days(backend: DatabaseBackend) -> Expr {
    match backend {
        DatabaseBackend::Postgres => {
            Expr::cust("EXTRACT(EPOCH FROM (d.closed_at - d.created_at)) / 86400.0")
        }
        _ => Expr::cust("julianday(d.closed_at) - julianday(d.created_at)"),
    }
}

fn closed(
    f: &Filters,
    owner: Option<i64>,
    spans: &[Week],
    backend: DatabaseBackend,
) -> SelectStatement {
    let start = spans.first().map(|s| s.start);
    let end = spans.last().map(|s| s.end);
    // The stages of a kind, as a list the database reads once: no join, so each closed
    // stage's deals are one range of the (stage, closing time) index.
    let stages = |kinds: &[&str]| {
        Query::select()
            .column("id")
            .from("pipeline_stages")
            .and_where(Expr::col("kind").is_in(kinds.iter().copied()))
            .to_owned()
    };
    let won = || Expr::col(("d", "stage_id")).in_subquery(stages(&["won"]));
    let count = |is: Expr| -> Expr {
        let e: Expr = CaseStatement::new().case(is, 1).finally(0).into();
        e.sum().cast_as("BIGINT")
    };
    let cycle: Expr = CaseStatement::new().case(won(), cycle_days(backend)).into();
    let mut q = Query::select();
    q.expr_as(week_of(Expr::col(("d", "closed_at")), spans), "w")
        .expr_as(count(won()), "won")
        .expr_as(count(won().not()), "lost")
        .expr_as(cycle.sum().cast_as("DOUBLE PRECISION"), "cycle")
        .from_as("deals", "d")
        .and_where(Expr::col(("d", "deleted_at")).is_null())
        .and_where(Expr::col(("d", "stage_id")).in_subquery(stages(&["won", "lost"])));
    if let (Some(start), Some(end)) = (start, end) {
        q.and_where(Expr::col(("d", "closed_at")).gte(start))
            .and_where(Expr::col(("d", "closed_at")).lt(end));
    }
    if let Some(o) = owner {
        q.and_where(Expr::col(("d", "owner_id")).eq(o));
    }
    if let Some(p) = f.pipeline {
        q.and_where(Expr::col(("d", "pipeline_id")).eq(p));
    }
    if let Some(s) = &f.source {
        q.and_where(Expr::col(("d", "source")).eq(s.as_str()));
    }
    q.group_by_col("w");
    q
}

/// The statement the report runs for `f` (as an admin sees it), for EXPLAIN.
pub fn statements(f: &Filters, backend: DatabaseBackend) -> Vec<sea_orm::Statement> {
    vec![sql::build(
        backend,
        &closed(f, f.owner, &months(f), backend),
    )]
}

impl super::report::Report for WinRate {
    const SLUG: &'static str = "win-rate";

    async fn run(db: &Db, actor: &Actor, f: &Filters) -> Result<WinRate, AppError> {
        win_rate(db, actor, f).await
    }

    fn range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    fn csv(&self) -> String {
        super::format::win_rate_csv(self)
    }

    fn table(&self) -> String {
        super::format::win_rate_table(self)
    }
}
