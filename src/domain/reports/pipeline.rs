//! Pipeline value by stage: per pipeline and stage, how many live deals it holds, their
//! value and their weighted value (amount × win probability), per currency.
//!
//! - **Open stages** show the pipeline as it stands now: every live deal in them (the
//!   date range does not apply: an open deal has no date that would place it in one).
//! - **Won and lost stages** show the deals closed within the range (`closed_at`), as
//!   the board's closed columns show the recent ones.
//! - **Weighted**: each deal's amount × its own probability when it overrides its
//!   stage's, else the stage's, summed exactly and divided by 100 once, rounded half up.
//! - A pipeline's **open** line adds up its open stages (count and, per currency, value
//!   and weighted value): the pipeline's value.
//!
//! Two grouped queries (open stages, closed stages in the range); the stage names and
//! probabilities come from the pipelines. Indexes: `idx_deals_totals` (stage, currency,
//! amount, probability …) for the open stages, `idx_deals_closed_at` for the closed.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Asterisk, CaseStatement, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use super::Filters;
use crate::domain::deals::{self, Pipeline};
use crate::domain::{Action, Actor, Db, access, sql};
use crate::error::AppError;

/// Value in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Value {
    pub currency: String,
    /// Deals in this currency.
    pub count: i64,
    /// In minor units (cents).
    pub amount_minor: i64,
    /// Amount × win probability, in minor units.
    pub weighted_minor: i64,
    /// The forecast's third figure, while a model scores deals: amount × each deal's
    /// score (a deal not scored yet counts as weighted), in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scored_minor: Option<i64>,
}

/// One stage's deals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StageLine {
    pub stage_id: i64,
    pub name: String,
    /// open, won or lost.
    pub kind: String,
    /// The stage's win probability, percent.
    pub probability: i32,
    pub count: i64,
    /// Per currency, in code order.
    pub values: Vec<Value>,
}

/// A pipeline's open stages added up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Open {
    pub count: i64,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PipelineLines {
    pub pipeline_id: i64,
    pub name: String,
    pub stages: Vec<StageLine>,
    pub open: Open,
}

/// The report: closed stages count the deals closed from `from` to `to` (days in
/// `time_zone`); open stages count every open deal now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PipelineReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub pipelines: Vec<PipelineLines>,
}

#[derive(FromQueryResult)]
struct Sums {
    stage_id: i64,
    currency: String,
    n: i64,
    total: i64,
    /// The amounts of deals without a probability of their own (× the stage's later).
    plain: i64,
    /// Σ amount × probability of the deals with their own.
    overridden: i64,
}

/// The report `actor` may see for `f`.
pub async fn pipeline(db: &Db, actor: &Actor, f: &Filters) -> Result<PipelineReport, AppError> {
    actor.require(Action::ReadRecords)?;
    let visible = access::visible(db, actor).await?;
    let pipelines: Vec<Pipeline> = deals::pipelines(&db.read)
        .await?
        .into_iter()
        .filter(|p| f.pipeline.is_none_or(|id| id == p.id))
        .collect();
    let mut sums = Vec::new();
    if let Some(owner) = f.owner_for(visible) {
        let backend = db.backend();
        let (open, closed) = tokio::try_join!(
            sums_of(db, backend, deals_in(f, owner, false)),
            sums_of(db, backend, deals_in(f, owner, true)),
        )?;
        sums.extend(open);
        sums.extend(closed);
    }
    Ok(PipelineReport {
        from: f.from,
        to: f.to,
        time_zone: f.tz.name().to_string(),
        pipelines: pipelines.iter().map(|p| lines(p, &sums)).collect(),
    })
}

/// `plain × probability + overridden`, ÷ 100 rounded half up.
fn weighted(plain: i64, probability: i32, overridden: i64) -> i64 {
    let hundredths = i128::from(plain) * i128::from(probability) + i128::from(overridden);
    let w = (hundredths * 2 + 100).div_euclid(200);
    i64::try_from(w).unwrap_or(i64::MAX)
}

fn lines(p: &Pipeline, sums: &[Sums]) -> PipelineLines {
    let mut open = Open::default();
    let mut open_values: BTreeMap<String, Value> = BTreeMap::new();
    let stages = p
        .stages
        .iter()
        .map(|s| {
            let mut line = StageLine {
                stage_id: s.id,
                name: s.name.clone(),
                kind: s.kind.clone(),
                probability: s.probability,
                count: 0,
                values: Vec::new(),
            };
            for r in sums.iter().filter(|r| r.stage_id == s.id) {
                let v = Value {
                    currency: r.currency.clone(),
                    count: r.n,
                    amount_minor: r.total,
                    weighted_minor: weighted(r.plain, s.probability, r.overridden),
                    scored_minor: None,
                };
                line.count += r.n;
                if s.kind == "open" {
                    open.count += r.n;
                    let sum = open_values.entry(v.currency.clone()).or_insert(Value {
                        currency: v.currency.clone(),
                        ..Value::default()
                    });
                    sum.count += v.count;
                    sum.amount_minor = sum.amount_minor.saturating_add(v.amount_minor);
                    sum.weighted_minor = sum.weighted_minor.saturating_add(v.weighted_minor);
                }
                line.values.push(v);
            }
            line.values.sort_by(|a, b| a.currency.cmp(&b.currency));
            line
        })
        .collect();
    open.values = open_values.into_values().collect();
    PipelineLines {
        pipeline_id: p.id,
        name: p.name.clone(),
        stages,
        open,
    }
}

/// Live deals per stage and currency: in open stages (now), or in won and lost stages
/// closed within the range.
fn deals_in(f: &Filters, owner: Option<i64>, closed: bool) -> SelectStatement {
    let mut stages = Query::select();
    stages.column("id").from("pipeline_stages");
    if closed {
        stages.and_where(Expr::col("kind").is_in(["won", "lost"]));
    } else {
        stages.and_where(Expr::col("kind").eq("open"));
    }
    if let Some(p) = f.pipeline {
        stages.and_where(Expr::col("pipeline_id").eq(p));
    }
    let amount = || Expr::col(("d", "amount_minor"));
    let probability = || Expr::col(("d", "probability"));
    let mut q = Query::select();
    q.column(("d", "stage_id"))
        .column(("d", "currency"))
        .expr_as(Expr::col(Asterisk).count(), "n")
        .expr_as(amount().sum().cast_as("BIGINT"), "total")
        .expr_as(
            sum_of(
                CaseStatement::new()
                    .case(probability().is_null(), amount())
                    .finally(0),
            ),
            "plain",
        )
        .expr_as(
            sum_of(
                CaseStatement::new()
                    .case(probability().is_null(), 0)
                    .finally(amount().mul(probability())),
            ),
            "overridden",
        )
        .from_as("deals", "d")
        .and_where(Expr::col(("d", "deleted_at")).is_null())
        .and_where(Expr::col(("d", "stage_id")).in_subquery(stages.to_owned()));
    if closed {
        let (start, end) = f.span();
        q.and_where(Expr::col(("d", "closed_at")).gte(start))
            .and_where(Expr::col(("d", "closed_at")).lt(end));
    }
    if let Some(o) = owner {
        q.and_where(Expr::col(("d", "owner_id")).eq(o));
    }
    if let Some(s) = &f.source {
        q.and_where(Expr::col(("d", "source")).eq(s.as_str()));
    }
    q.group_by_col(("d", "stage_id"))
        .group_by_col(("d", "currency"));
    q
}

/// `SUM(case)` as a BIGINT (PostgreSQL's sum of bigints is a numeric).
fn sum_of(case: CaseStatement) -> Expr {
    let e: Expr = case.into();
    e.sum().cast_as("BIGINT")
}

async fn sums_of(
    db: &Db,
    backend: DatabaseBackend,
    q: SelectStatement,
) -> Result<Vec<Sums>, AppError> {
    Ok(Sums::find_by_statement(sql::build(backend, &q))
        .all(&db.read)
        .await?)
}

/// The statements the report runs for `f` (as an admin sees it), for EXPLAIN.
pub fn statements(f: &Filters, backend: DatabaseBackend) -> Vec<sea_orm::Statement> {
    [deals_in(f, f.owner, false), deals_in(f, f.owner, true)]
        .iter()
        .map(|q| sql::build(backend, q))
        .collect()
}

impl super::report::Report for PipelineReport {
    const SLUG: &'static str = "pipeline";

    async fn run(db: &Db, actor: &Actor, f: &Filters) -> Result<PipelineReport, AppError> {
        pipeline(db, actor, f).await
    }

    fn range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    fn csv(&self) -> String {
        super::format::pipeline_csv(self)
    }

    fn table(&self) -> String {
        super::format::pipeline_table(self)
    }
}

#[cfg(test)]
mod tests {
    use super::weighted;

    #[test]
    fn weighted_rounds_half_up_once() {
        // 3 deals of 1 cent at 50 %: 1.5 cents → 2, not 3 × 0.
        assert_eq!(weighted(3, 50, 0), 2);
        assert_eq!(weighted(0, 10, 12_345 * 33), 4074);
        assert_eq!(weighted(1000, 25, 0), 250);
    }
}
