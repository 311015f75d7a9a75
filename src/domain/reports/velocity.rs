//! Stage velocity: per pipeline and open stage, how long deals stay in it (average and
//! median days, from the stage history) and which deals are stuck there now.
//!
//! - A **stay** runs from a deal's move into a stage (a `deal_stage_changes` row, or its
//!   creation there) to its next move out of it. A deal moved back and forth has one stay
//!   per visit. **The range selects the stays that ended in it** (the move out falls
//!   within the range's days): a finished stay is dated by its end, as a closed deal is by
//!   its closing. Only open stages are measured: a won or lost stage is where a deal ends,
//!   not a step it passes through (a reopened deal's time in "Lost" is not velocity).
//! - **Stuck**: the live deals in the stage now, how many and the median of their time
//!   in it so far (since `stage_entered_at`); not narrowed by the range, as the pipeline
//!   report's open stages are not.
//! - Trashed deals count nowhere; owner and source filter the deals; a rep limited to
//!   own records sees only their deals' stays.
//!
//! Medians are exact on both engines: in the database, each stage's values are ranked
//! (`ROW_NUMBER` over the stage, both engines have window functions) and the one or two
//! middle ones kept, beside the stage's count from a grouped read; nothing is fetched per
//! deal. A stay is one history row: each move keeps how long the deal had been in the
//! stage it left (`stay_ms`). Two grouped queries: the finished stays (by stage left and
//! stay, `idx_stage_changes_stays`, so a long range is ranked in index order; a short one
//! by time, `idx_stage_changes_ended`) and the stuck deals (`idx_deals_closed`: stage,
//! then time entered, so the ranking is the index's order too).
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Asterisk, Expr, ExprTrait, Func, IntoIden, Order, Query, SelectStatement, TableRef,
    WindowStatement,
};
use sea_orm::{DatabaseBackend, FromQueryResult};
use serde::Serialize;
use utoipa::ToSchema;

use super::Filters;
use crate::domain::deals::{self, Pipeline};
use crate::domain::{Action, Actor, Db, access, sql};
use crate::error::AppError;

/// One open stage's stays and stuck deals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct StageVelocity {
    pub stage_id: i64,
    pub name: String,
    /// Stays in this stage that ended in the range.
    pub stays: i64,
    /// Their average length in days, one decimal; none without stays.
    pub average_days: Option<f64>,
    /// Their median length in days, one decimal; none without stays.
    pub median_days: Option<f64>,
    /// Live deals in this stage now.
    pub stuck: i64,
    /// The median of their days in it so far, one decimal; none without deals.
    pub stuck_median_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PipelineVelocity {
    pub pipeline_id: i64,
    pub name: String,
    pub stages: Vec<StageVelocity>,
}

/// The report: stays ended from `from` to `to` (days in `time_zone`), deals stuck now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Velocity {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub time_zone: String,
    pub pipelines: Vec<PipelineVelocity>,
}

/// A stage's finished stays: how many, their total and the middle one or two (equal
/// when the count is odd), in milliseconds.
#[derive(FromQueryResult)]
struct Stays {
    stage_id: i64,
    n: i64,
    total: i64,
    lo: i64,
    hi: i64,
}

/// A stage's live deals: how many, and the middle one or two times they entered it.
#[derive(FromQueryResult)]
struct Stuck {
    stage_id: i64,
    n: i64,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
}

const DAY_MS: f64 = 86_400_000.0;

/// The report `actor` may see for `f`.
pub async fn velocity(db: &Db, actor: &Actor, f: &Filters) -> Result<Velocity, AppError> {
    actor.require(Action::ReadRecords)?;
    let visible = access::visible(db, actor).await?;
    let pipelines: Vec<Pipeline> = deals::pipelines(&db.read)
        .await?
        .into_iter()
        .filter(|p| f.pipeline.is_none_or(|id| id == p.id))
        .collect();
    let (mut stays, mut stuck) = (Vec::new(), Vec::new());
    if let Some(owner) = f.owner_for(visible) {
        let backend = db.backend();
        (stays, stuck) = tokio::try_join!(
            Stays::find_by_statement(sql::build(backend, &stays_of(f, owner))).all(&db.read),
            Stuck::find_by_statement(sql::build(backend, &stuck_of(f, owner))).all(&db.read),
        )?;
    }
    let now = crate::domain::now().timestamp_millis();
    let line = |s: &deals::Stage| {
        let mut l = StageVelocity {
            stage_id: s.id,
            name: s.name.clone(),
            ..StageVelocity::default()
        };
        if let Some(m) = stays.iter().find(|m| m.stage_id == s.id) {
            l.stays = m.n;
            l.average_days = Some(tenth(m.total as f64 / m.n as f64 / DAY_MS));
            l.median_days = Some(tenth((m.lo as f64 + m.hi as f64) / 2.0 / DAY_MS));
        }
        if let Some(m) = stuck.iter().find(|m| m.stage_id == s.id) {
            let middle = (m.lo.timestamp_millis() as f64 + m.hi.timestamp_millis() as f64) / 2.0;
            l.stuck = m.n;
            l.stuck_median_days = Some(tenth((now as f64 - middle) / DAY_MS));
        }
        l
    };
    Ok(Velocity {
        from: f.from,
        to: f.to,
        time_zone: f.tz.name().to_string(),
        pipelines: pipelines
            .iter()
            .map(|p| PipelineVelocity {
                pipeline_id: p.id,
                name: p.name.clone(),
                stages: p
                    .stages
                    .iter()
                    .filter(|s| s.kind == "open")
                    .map(line)
                    .collect(),
            })
            .collect(),
    })
}

/// Rounded to one decimal.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The open stages measured (of the pipeline filtered on).
fn open_stages(f: &Filters) -> SelectStatement {
    let mut q = Query::select();
    q.column("id")
        .from("pipeline_stages")
        .and_where(Expr::col("kind").eq("open"));
    if let Some(p) = f.pipeline {
        q.and_where(Expr::col("pipeline_id").eq(p));
    }
    q
}

/// Per stage, the count (and with `total`, the sum) of the values `base` selects and
/// the middle one or two of them: the rows ranked by value within their stage, in one
/// window the index's order can serve, and those ranked (n+1)/2 and (n+2)/2 kept (the
/// same row when n is odd). `base` gives the rows (FROM and WHERE); `stage` and `value`
/// are its columns.
fn middle(
    base: impl Fn() -> SelectStatement,
    stage: (&'static str, &'static str),
    value: (&'static str, &'static str),
    total: bool,
) -> SelectStatement {
    let mut ranked = base();
    ranked
        .expr_as(Expr::col(stage), "stage_id")
        .expr_as(Expr::col(value), "v")
        .expr_window_as(
            Func::cust("ROW_NUMBER"),
            WindowStatement::partition_by(stage)
                .order_by(value, Order::Asc)
                .to_owned(),
            "rn",
        );
    let mut grouped = base();
    grouped
        .expr_as(Expr::col(stage), "stage_id")
        .expr_as(Expr::col(Asterisk).count(), "n")
        .group_by_col(stage);
    if total {
        grouped.expr_as(Expr::col(value).sum().cast_as("BIGINT"), "total");
    }
    let rn = || Expr::col(("r", "rn"));
    let half = |k: i64| Expr::col(("g", "n")).add(k).div(2);
    let mut q = Query::select();
    q.column(("r", "stage_id"))
        .expr_as(Expr::col(("g", "n")).max(), "n")
        .expr_as(Expr::col(("r", "v")).min(), "lo")
        .expr_as(Expr::col(("r", "v")).max(), "hi")
        .from_subquery(ranked, "r")
        // A CROSS JOIN keeps the ranked rows the outer loop on SQLite (it never reorders
        // one): joined the other way, it stored them all and indexed them to look up the
        // few stages (0.9 s rather than 0.7 at a year of 800 000 stays).
        .cross_join(TableRef::SubQuery(Box::new(grouped), "g".into_iden()))
        .and_where(Expr::col(("g", "stage_id")).equals(("r", "stage_id")))
        .and_where(rn().eq(half(1)).or(rn().eq(half(2))))
        .group_by_col(("r", "stage_id"));
    if total {
        q.expr_as(Expr::col(("g", "total")).max(), "total");
    }
    q
}

/// Finished stays ended in the range, per open stage: the moves in the range out of an
/// open stage, each with how long the deal had been in it. Trashed deals are left out by
/// the (short) list of trashed ones, unless an owner or source narrows the deals anyway.
fn stays_of(f: &Filters, owner: Option<i64>) -> SelectStatement {
    let (start, end) = f.span();
    let base = || {
        let mut q = Query::select();
        q.from_as("deal_stage_changes", "c")
            .and_where(Expr::col(("c", "stay_ms")).is_not_null())
            .and_where(Expr::col(("c", "created_at")).gte(start))
            .and_where(Expr::col(("c", "created_at")).lt(end))
            .and_where(Expr::col(("c", "from_stage_id")).in_subquery(open_stages(f)));
        let deal = Expr::col(("c", "deal_id"));
        if owner.is_some() || f.source.is_some() {
            let mut kept = Query::select();
            kept.column("id")
                .from("deals")
                .and_where(Expr::col("deleted_at").is_null());
            if let Some(o) = owner {
                kept.and_where(Expr::col("owner_id").eq(o));
            }
            if let Some(s) = &f.source {
                kept.and_where(Expr::col("source").eq(s.as_str()));
            }
            q.and_where(deal.in_subquery(kept));
        } else {
            let trashed = Query::select()
                .column("id")
                .from("deals")
                .and_where(Expr::col("deleted_at").is_not_null())
                .to_owned();
            q.and_where(deal.not_in_subquery(trashed));
        }
        q
    };
    middle(base, ("c", "from_stage_id"), ("c", "stay_ms"), true)
}

/// The live deals in each open stage now, and when they entered it.
fn stuck_of(f: &Filters, owner: Option<i64>) -> SelectStatement {
    let base = || {
        let mut q = Query::select();
        q.from_as("deals", "d")
            .and_where(Expr::col(("d", "deleted_at")).is_null())
            .and_where(Expr::col(("d", "stage_id")).in_subquery(open_stages(f)));
        if let Some(o) = owner {
            q.and_where(Expr::col(("d", "owner_id")).eq(o));
        }
        if let Some(s) = &f.source {
            q.and_where(Expr::col(("d", "source")).eq(s.as_str()));
        }
        q
    };
    middle(base, ("d", "stage_id"), ("d", "stage_entered_at"), false)
}

/// The statements the report runs for `f` (as an admin sees it), for EXPLAIN.
pub fn statements(f: &Filters, backend: DatabaseBackend) -> Vec<sea_orm::Statement> {
    [stays_of(f, f.owner), stuck_of(f, f.owner)]
        .iter()
        .map(|q| sql::build(backend, q))
        .collect()
}

impl super::report::Report for Velocity {
    const SLUG: &'static str = "velocity";

    async fn run(db: &Db, actor: &Actor, f: &Filters) -> Result<Velocity, AppError> {
        velocity(db, actor, f).await
    }

    fn range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    fn csv(&self) -> String {
        super::format::velocity_csv(self)
    }

    fn table(&self) -> String {
        super::format::velocity_table(self)
    }
}
