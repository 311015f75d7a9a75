//! The dashboard (`/`, `GET /api/v1/dashboard`): a founder's numbers at a glance, made
//! of the reports' own functions over short, fixed ranges, so that no part reads more
//! than this month, the last 90 days' closed deals or the last 12 weeks:
//!
//! - **Won this month**: the pipeline report over this month (in the organisation's
//!   zone), its won stages added up, per currency;
//! - **Open pipeline**: the same report's open lines of every pipeline, per currency
//!   (count, value, weighted value);
//! - **Win rate**: `win_rate::over` this month and over the last 90 days;
//! - **Funnel sparkline**: `funnel::funnel` over the last 12 weeks;
//! - **Recent wins**: the last 5 deals won (one short index range per won stage);
//! - **Overdue tasks**: the reader's own (the first few, from My tasks' kept board) and
//!   how many of all they may list are overdue.
//!
//! Access is the reports': a rep under "reps see only their own records" counts only
//! their own. Everything but the overdue tasks depends only on whose records the reader
//! sees, so it is built once per scope and kept `KEPT_SECS` (`Db::dashboards`; the page
//! says "as of HH:MM"), or, after a deal changes, `FRESH_SECS` (see `kept`): a change
//! shows within that time, from any process. Requests that find it expired at once wait for one build
//! (single flight).
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect};
use sea_orm::{RelationTrait, sea_query::Expr};
use serde::Serialize;
use utoipa::ToSchema;

use super::pipeline::{self, Value};
use super::win_rate::{self, MonthLine};
use super::{Amount, Filters, funnel};
use crate::domain::access::{self, Visible};
use crate::domain::tasks::{self, Scope, due};
use crate::domain::{Action, Actor, Db, deals};
use crate::entities::{deal, user};
use crate::error::AppError;

/// How long a built dashboard is kept (seconds).
pub const KEPT_SECS: i64 = 30;
/// How long a build is shown after a deal changed (seconds).
pub const FRESH_SECS: i64 = 5;
/// Scopes kept at once (everyone's, and one per rep under "own records only").
pub const KEPT_SCOPES: usize = 256;
/// Weeks in the sparkline, this one included.
pub const WEEKS: i64 = 12;
/// Recent wins shown, and overdue tasks listed.
pub const RECENT: u64 = 5;
/// The win rate's longer window, in days (today included).
pub const RATE_DAYS: i64 = 90;

/// Won deals of a period: how many, and their value per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Won {
    pub count: i64,
    pub amounts: Vec<Amount>,
}

/// One week of the sparkline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SparkWeek {
    /// Its Monday.
    pub week_start: NaiveDate,
    pub contacts_created: i64,
    pub deals_won: i64,
}

/// A won deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Win {
    pub deal_id: i64,
    pub title: String,
    pub owner_id: i64,
    pub owner_name: String,
    pub amount: Amount,
    pub closed_at: DateTime<Utc>,
}

/// What depends only on whose records the reader sees (kept per scope).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// When these numbers were read (UTC).
    pub as_of: DateTime<Utc>,
    /// The organisation's zone, whose days make the month and the weeks.
    pub time_zone: String,
    /// This month's first day, and today.
    pub month_start: NaiveDate,
    pub today: NaiveDate,
    pub won_this_month: Won,
    /// Open deals now, every pipeline (count, value and weighted value per currency).
    pub open_pipeline: pipeline::Open,
    pub win_rate_this_month: MonthLine,
    /// Over the last 90 days, today included (`month` is the first of those days).
    pub win_rate_90_days: MonthLine,
    /// The last 12 weeks, oldest first.
    pub weeks: Vec<SparkWeek>,
    /// The last 5 deals won, most recent first.
    pub recent_wins: Vec<Win>,
}

/// An overdue task of the reader's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OverdueTask {
    pub task_id: i64,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    /// The record it is about (a page path), if any.
    pub record_path: Option<String>,
    pub record_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Overdue {
    /// The reader's own, soonest due first (the first 5).
    pub mine: Vec<OverdueTask>,
    /// How many of the reader's own are overdue.
    pub mine_total: u64,
    /// How many of all the tasks the reader may list are overdue (everyone's for
    /// managers and admins).
    pub visible_total: u64,
}

/// The dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Dashboard {
    #[serde(flatten)]
    pub figures: Figures,
    /// In the reader's own time zone (`tz` of `dashboard`), read at each request.
    pub overdue_tasks: Overdue,
}

/// The dashboard `actor` sees at `now`, overdue tasks by the days of `tz` (theirs).
pub async fn dashboard(
    db: &Db,
    actor: &Actor,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Dashboard, AppError> {
    actor.require(Action::ReadRecords)?;
    let figures = kept(db, actor, now).await?;
    Ok(Dashboard {
        figures: (*figures).clone(),
        overdue_tasks: overdue(db, actor, tz, now).await?,
    })
}

/// The figures as kept for `actor`'s scope, built when none younger than `KEPT_SECS`
/// is (the time bucket is the cache's counter: a later bucket retires the entry). The
/// trigger-kept `board` counter, which any deal write in any process moves, is part of
/// the key: a deal won, moved or trashed shows within `FRESH_SECS`, while the contacts
/// of the sparkline wait for the bucket to end. A build younger than `FRESH_SECS` is
/// still shown after a deal write, so that a stream of writes costs one build per
/// `FRESH_SECS` and scope (some 200 ms at a year of data), not one per view.
pub async fn kept(db: &Db, actor: &Actor, now: DateTime<Utc>) -> Result<Arc<Figures>, AppError> {
    let scope: Visible = access::visible(db, actor).await?;
    let deals = deals::board_counter(db).await?;
    let bucket = now.timestamp().div_euclid(KEPT_SECS);
    let key = (scope, deals);
    if let Some(f) = db.dashboards.get(&key, bucket) {
        return Ok(f);
    }
    if let Some(f) = db.dashboard_latest.get(&scope)
        && f.as_of <= now
        && now - f.as_of < Duration::seconds(FRESH_SECS)
    {
        return Ok(f);
    }
    let f = db
        .dashboards
        .get_or_build(key, bucket, || figures(db, actor, now))
        .await?;
    db.dashboard_latest.insert(scope, f.clone());
    Ok(f)
}

/// The figures read now (not kept).
pub async fn figures(db: &Db, actor: &Actor, now: DateTime<Utc>) -> Result<Figures, AppError> {
    let org = crate::domain::organisation::cached(db).await?;
    let tz = due::zone(&org.time_zone);
    let today = now.with_timezone(&tz).date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let over = |from: NaiveDate| Filters {
        from,
        to: today,
        owner: None,
        pipeline: None,
        source: None,
        tz,
    };
    let month = over(month_start);
    let days_90 = over(today - Duration::days(RATE_DAYS - 1));
    let weeks_12 = over(today - Duration::days(7 * (WEEKS - 1)));
    let (report, rate_month, rate_90, weeks, recent_wins) = tokio::try_join!(
        pipeline::pipeline(db, actor, &month),
        win_rate::over(db, actor, &month),
        win_rate::over(db, actor, &days_90),
        funnel::funnel(db, actor, &weeks_12),
        recent_wins(db, actor),
    )?;
    let (won_this_month, open_pipeline) = totals(&report);
    Ok(Figures {
        as_of: now,
        time_zone: tz.name().to_string(),
        month_start,
        today,
        won_this_month,
        open_pipeline,
        win_rate_this_month: rate_month,
        win_rate_90_days: rate_90,
        weeks: weeks
            .weeks
            .iter()
            .map(|w| SparkWeek {
                week_start: w.week_start,
                contacts_created: w.counts.created,
                deals_won: w.counts.won,
            })
            .collect(),
        recent_wins,
    })
}

/// The won stages of every pipeline added up (count, value per currency), and the open
/// lines of every pipeline added up.
fn totals(r: &pipeline::PipelineReport) -> (Won, pipeline::Open) {
    let mut won = Won::default();
    let mut won_sums: BTreeMap<String, i64> = BTreeMap::new();
    let mut open = pipeline::Open::default();
    let mut open_sums: BTreeMap<String, Value> = BTreeMap::new();
    for p in &r.pipelines {
        for s in p.stages.iter().filter(|s| s.kind == "won") {
            won.count += s.count;
            for v in &s.values {
                let sum = won_sums.entry(v.currency.clone()).or_default();
                *sum = sum.saturating_add(v.amount_minor);
            }
        }
        open.count += p.open.count;
        for v in &p.open.values {
            let sum = open_sums.entry(v.currency.clone()).or_insert(Value {
                currency: v.currency.clone(),
                ..Value::default()
            });
            sum.count += v.count;
            sum.amount_minor = sum.amount_minor.saturating_add(v.amount_minor);
            sum.weighted_minor = sum.weighted_minor.saturating_add(v.weighted_minor);
        }
    }
    won.amounts = won_sums
        .into_iter()
        .map(|(currency, amount_minor)| Amount {
            currency,
            amount_minor,
        })
        .collect();
    open.values = open_sums.into_values().collect();
    (won, open)
}

type WinRow = (i64, String, i64, String, i64, String, Option<DateTime<Utc>>);

/// The last `RECENT` live deals won that `actor` may see: the newest few of each won
/// stage (one range of `idx_deals_closed_at`, read backwards, each), merged here.
async fn recent_wins(db: &Db, actor: &Actor) -> Result<Vec<Win>, AppError> {
    let visible = access::visible(db, actor).await?;
    let stages: Vec<i64> = deals::pipelines(&db.read)
        .await?
        .iter()
        .flat_map(|p| p.stages.iter().filter(|s| s.kind == "won").map(|s| s.id))
        .collect();
    let mut rows: Vec<WinRow> = Vec::new();
    for stage in stages {
        let mut q = deal::Entity::find()
            .select_only()
            .columns([deal::Column::Id, deal::Column::Title, deal::Column::OwnerId])
            .column_as(Expr::col((user::Entity, user::Column::Name)), "owner_name")
            .columns([
                deal::Column::AmountMinor,
                deal::Column::Currency,
                deal::Column::ClosedAt,
            ])
            .join(JoinType::InnerJoin, deal::Relation::Owner.def())
            .filter(deal::Column::StageId.eq(stage))
            .filter(deal::Column::DeletedAt.is_null())
            .filter(deal::Column::ClosedAt.is_not_null());
        if let Some(owner) = visible.owner() {
            q = q.filter(deal::Column::OwnerId.eq(owner));
        }
        let found: Vec<WinRow> = q
            .order_by_desc(deal::Column::ClosedAt)
            .order_by_desc(deal::Column::Id)
            .limit(RECENT)
            .into_tuple()
            .all(&db.read)
            .await?;
        rows.extend(found);
    }
    rows.sort_by_key(|r| std::cmp::Reverse((r.6, r.0)));
    rows.truncate(RECENT as usize);
    Ok(rows
        .into_iter()
        .filter_map(
            |(deal_id, title, owner_id, owner_name, amount, currency, at)| {
                Some(Win {
                    deal_id,
                    title,
                    owner_id,
                    owner_name,
                    amount: Amount {
                        currency,
                        amount_minor: amount,
                    },
                    closed_at: at?,
                })
            },
        )
        .collect())
}

/// The reader's own overdue tasks (from My tasks' kept board) and the count of all
/// they may list.
async fn overdue(db: &Db, actor: &Actor, tz: Tz, now: DateTime<Utc>) -> Result<Overdue, AppError> {
    let board = tasks::board(db, actor, Scope::User(actor.id), tz, now).await?;
    let group = &board.overdue;
    let mine = group
        .tasks
        .iter()
        .take(RECENT as usize)
        .map(|t| {
            let record = t.record();
            OverdueTask {
                task_id: t.id,
                title: t.title.clone(),
                due_at: t.due_at,
                due_date: t.due_date,
                record_path: record.as_ref().map(|r| r.0.clone()),
                record_name: record.map(|r| r.1),
            }
        })
        .collect();
    Ok(Overdue {
        mine,
        mine_total: group.total.unwrap_or(group.tasks.len() as u64),
        visible_total: tasks::overdue_visible_count(db, actor, tz, now).await?,
    })
}
