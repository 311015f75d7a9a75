//! Forecast: the live open deals by the month they are expected to close, their value
//! and weighted value (amount × the deal's probability, else its stage's, as the
//! pipeline report weighs them) per currency.
//!
//! - The months run from this month (in the organisation's zone) for a year; deals
//!   expected before this month are **overdue**, in a line of their own first; those
//!   expected after the year are **later**, and those without a date **no date**.
//! - The forecast looks ahead from today: the date range filter does not apply (an open
//!   deal's only date is its expected close, which is what the lines are); owner,
//!   pipeline and source do, and a rep limited to own records sees only their deals.
//! - Weighted: Σ amount × probability per line and currency, exactly, ÷ 100 rounded half
//!   up once.
//!
//! - Scored (while a model scores deals, `scoring`): Σ amount × the deal's score, a deal
//!   not scored yet counting as weighted; beside the weighted forecast, what the team's
//!   own history expects.
//!
//! One grouped query (line, stage, currency) over the open stages' live deals, read from
//! `idx_deals_totals` (stage, currency, carrying amount, probability, expected close and
//! owner), and each deal's score by its key while a model scores; the stages'
//! probabilities are applied here.
use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use sea_orm::sea_query::{Asterisk, CaseStatement, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use super::Filters;
use super::pipeline::Value;
use crate::domain::deals;
use crate::domain::{Action, Actor, Db, access, sql};
use crate::error::AppError;

/// How many months ahead the forecast lists one by one (this month included).
pub const MONTHS: u32 = 12;

/// One line: a month, or the overdue, later or undated deals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ForecastLine {
    /// "overdue", a month ("2026-12"), "later" or "no date".
    pub label: String,
    /// The month's first day; none for the other lines.
    pub month: Option<NaiveDate>,
    pub count: i64,
    /// Per currency, in code order: count, value and weighted value.
    pub values: Vec<Value>,
}

/// The report: open deals by expected close month from `this_month` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Forecast {
    /// This month's first day, in `time_zone`.
    pub this_month: NaiveDate,
    pub time_zone: String,
    /// Overdue, then the months, then later and no date.
    pub lines: Vec<ForecastLine>,
    pub total: ForecastLine,
    /// Whether a model scores deals, and so each value carries `scored_minor`.
    pub scored: bool,
}

#[derive(FromQueryResult)]
struct Sums {
    line: i64,
    stage_id: i64,
    currency: String,
    n: i64,
    total: i64,
    plain: i64,
    overridden: i64,
    /// The scored deals' `plain` and `overridden`, which their score replaces, and Σ
    /// amount × score.
    scored_plain: i64,
    scored_overridden: i64,
    scored: f64,
}

/// A cell's sums: count, amount, weighted and scored value in hundredths.
#[derive(Default, Clone, Copy)]
struct Cell {
    n: i64,
    amount: i64,
    weighted: i128,
    scored: i128,
}

/// The lines' firsts days: this month's and the next `MONTHS` (the last ends the year).
fn firsts(this_month: NaiveDate) -> Vec<NaiveDate> {
    (0..=MONTHS).map(|i| this_month + Months::new(i)).collect()
}

/// The report `actor` may see for `f`.
pub async fn forecast(db: &Db, actor: &Actor, f: &Filters) -> Result<Forecast, AppError> {
    actor.require(Action::ReadRecords)?;
    let today = crate::domain::now().with_timezone(&f.tz).date_naive();
    let this_month = today.with_day(1).unwrap_or(today);
    let firsts = firsts(this_month);
    let probability: BTreeMap<i64, i32> = deals::pipelines(&db.read)
        .await?
        .into_iter()
        .flat_map(|p| p.stages.into_iter().map(|s| (s.id, s.probability)))
        .collect();
    let scored =
        crate::domain::scoring::train::scoring(db, &db.read, crate::domain::scoring::Kind::Deal)
            .await?;
    let mut sums = Vec::new();
    if let Some(owner) = f.owner_for(access::visible(db, actor).await?) {
        let backend = db.backend();
        let q = open_deals(f, owner, &firsts, scored);
        sums = Sums::find_by_statement(sql::build(backend, &q))
            .all(&db.read)
            .await?;
    }
    let mut cells: BTreeMap<(i64, String), Cell> = BTreeMap::new();
    for s in &sums {
        let p = i128::from(probability.get(&s.stage_id).copied().unwrap_or(0));
        let c = cells.entry((s.line, s.currency.clone())).or_default();
        c.n += s.n;
        c.amount = c.amount.saturating_add(s.total);
        let weighted = i128::from(s.plain) * p + i128::from(s.overridden);
        c.weighted += weighted;
        let replaced = i128::from(s.scored_plain) * p + i128::from(s.scored_overridden);
        c.scored += weighted - replaced + (s.scored * 100.0).round() as i128;
    }
    let value = |currency: &str, c: &Cell| Value {
        currency: currency.to_string(),
        count: c.n,
        amount_minor: c.amount,
        weighted_minor: rounded(c.weighted),
        scored_minor: scored.then(|| rounded(c.scored)),
    };
    let line = |i: i64, label: String, month: Option<NaiveDate>| {
        let values: Vec<Value> = cells
            .range((i, String::new())..(i + 1, String::new()))
            .map(|((_, currency), c)| value(currency, c))
            .collect();
        ForecastLine {
            label,
            month,
            count: values.iter().map(|v| v.count).sum(),
            values,
        }
    };
    let mut lines = vec![line(-1, "overdue".into(), None)];
    for (i, m) in firsts.iter().take(MONTHS as usize).enumerate() {
        lines.push(line(i as i64, m.format("%Y-%m").to_string(), Some(*m)));
    }
    lines.push(line(i64::from(MONTHS), "later".into(), None));
    lines.push(line(UNDATED, "no date".into(), None));
    let mut totals: BTreeMap<String, Cell> = BTreeMap::new();
    for ((_, currency), c) in &cells {
        let t = totals.entry(currency.clone()).or_default();
        t.n += c.n;
        t.amount = t.amount.saturating_add(c.amount);
        t.weighted += c.weighted;
        t.scored += c.scored;
    }
    let values: Vec<Value> = totals.iter().map(|(cur, c)| value(cur, c)).collect();
    Ok(Forecast {
        this_month,
        time_zone: f.tz.name().to_string(),
        lines,
        total: ForecastLine {
            label: "total".into(),
            month: None,
            count: values.iter().map(|v| v.count).sum(),
            values,
        },
        scored,
    })
}

/// The line of the deals without an expected close.
const UNDATED: i64 = 99;

/// Hundredths ÷ 100, rounded half up.
fn rounded(hundredths: i128) -> i64 {
    i64::try_from((hundredths * 2 + 100).div_euclid(200)).unwrap_or(i64::MAX)
}

/// Each deal's line by its expected close: -1 overdue, 0 to MONTHS-1 the months, MONTHS
/// later, `UNDATED` none. A flat CASE: thirteen comparisons of a date.
fn line_of(firsts: &[NaiveDate]) -> Expr {
    let close = || Expr::col(("d", "expected_close"));
    let mut case = CaseStatement::new().case(close().is_null(), UNDATED);
    for (i, first) in firsts.iter().enumerate() {
        case = case.case(close().lt(*first), i as i64 - 1);
    }
    case.finally(i64::from(MONTHS)).into()
}

/// The open stages' live deals, per line, stage and currency; with their scores when
/// `scored` (else zeros, and no deal's score is read).
fn open_deals(
    f: &Filters,
    owner: Option<i64>,
    firsts: &[NaiveDate],
    scored: bool,
) -> SelectStatement {
    let mut stages = Query::select();
    stages
        .column("id")
        .from("pipeline_stages")
        .and_where(Expr::col("kind").eq("open"));
    if let Some(p) = f.pipeline {
        stages.and_where(Expr::col("pipeline_id").eq(p));
    }
    let amount = || Expr::col(("d", "amount_minor"));
    let probability = || Expr::col(("d", "probability"));
    let sum = |case: CaseStatement| -> Expr {
        let e: Expr = case.into();
        e.sum().cast_as("BIGINT")
    };
    let mut q = Query::select();
    q.expr_as(line_of(firsts), "line")
        .column(("d", "stage_id"))
        .column(("d", "currency"))
        .expr_as(Expr::col(Asterisk).count(), "n")
        .expr_as(amount().sum().cast_as("BIGINT"), "total")
        .expr_as(
            sum(CaseStatement::new()
                .case(probability().is_null(), amount())
                .finally(0)),
            "plain",
        )
        .expr_as(
            sum(CaseStatement::new()
                .case(probability().is_null(), 0)
                .finally(amount().mul(probability()))),
            "overridden",
        );
    let score = || Expr::col(("ds", "probability"));
    if scored {
        q.expr_as(
            sum(CaseStatement::new()
                .case(score().is_not_null().and(probability().is_null()), amount())
                .finally(0)),
            "scored_plain",
        )
        .expr_as(
            sum(CaseStatement::new()
                .case(
                    score().is_not_null().and(probability().is_not_null()),
                    amount().mul(probability()),
                )
                .finally(0)),
            "scored_overridden",
        )
        .expr_as(
            {
                let e: Expr = CaseStatement::new()
                    .case(score().is_null(), Expr::val(0.0))
                    .finally(amount().mul(score()))
                    .into();
                e.sum().cast_as("DOUBLE PRECISION")
            },
            "scored",
        )
        .join_as(
            sea_orm::sea_query::JoinType::LeftJoin,
            "deal_scores",
            "ds",
            Expr::col(("ds", "deal_id")).equals(("d", "id")),
        );
    } else {
        q.expr_as(Expr::val(0i64).cast_as("BIGINT"), "scored_plain")
            .expr_as(Expr::val(0i64).cast_as("BIGINT"), "scored_overridden")
            .expr_as(Expr::val(0.0).cast_as("DOUBLE PRECISION"), "scored");
    }
    q.from_as("deals", "d")
        .and_where(Expr::col(("d", "deleted_at")).is_null())
        .and_where(Expr::col(("d", "stage_id")).in_subquery(stages));
    if let Some(o) = owner {
        q.and_where(Expr::col(("d", "owner_id")).eq(o));
    }
    if let Some(s) = &f.source {
        q.and_where(Expr::col(("d", "source")).eq(s.as_str()));
    }
    q.group_by_col("line")
        .group_by_col(("d", "stage_id"))
        .group_by_col(("d", "currency"));
    q
}

/// The statement the report runs for `f` (as an admin sees it), for EXPLAIN.
pub fn statements(f: &Filters, backend: DatabaseBackend) -> Vec<sea_orm::Statement> {
    let today = crate::domain::now().with_timezone(&f.tz).date_naive();
    let firsts = firsts(today.with_day(1).unwrap_or(today));
    vec![sql::build(backend, &open_deals(f, f.owner, &firsts, false))]
}

impl super::report::Report for Forecast {
    const SLUG: &'static str = "forecast";

    async fn run(db: &Db, actor: &Actor, f: &Filters) -> Result<Forecast, AppError> {
        forecast(db, actor, f).await
    }

    fn range(&self) -> (NaiveDate, NaiveDate) {
        let end = self.this_month + Months::new(MONTHS);
        (self.this_month, end.pred_opt().unwrap_or(end))
    }

    fn csv(&self) -> String {
        super::format::forecast_csv(self)
    }

    fn table(&self) -> String {
        super::format::forecast_table(self)
    }
}
