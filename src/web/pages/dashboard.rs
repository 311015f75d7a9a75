//! The dashboard (`/`): the numbers of `domain::reports::dashboard`, each linking to the
//! report it comes from, with a 12-week sparkline and a win-rate meter drawn as SVG by
//! the template (geometry worked out here; numbers on hover in `<title>`). Template:
//! `templates/dashboard.html`.
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::reports::px;
use crate::app::AppState;
use crate::domain::Action;
use crate::domain::reports::dashboard::{self, Dashboard, SparkWeek};
use crate::domain::reports::win_rate::MonthLine;
use crate::domain::tasks::due;
use crate::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::filters;
use crate::web::pages::{Layout, ok};

/// A bar or dot of a chart, with the numbers it shows on hover.
pub struct Mark {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub title: String,
}

/// The sparkline: contacts created per week as bars, deals won as a line (each on its
/// own scale: a week's wins are a few beside hundreds of contacts). It stretches to the
/// card's width (a dot would stretch into an oval), so each week's numbers are on a
/// transparent column over it.
pub struct Spark {
    pub width: u32,
    pub height: u32,
    pub base: u32,
    pub bars: Vec<Mark>,
    pub hits: Vec<Mark>,
    pub line: String,
    pub summary: String,
    pub first: String,
    pub last: String,
}

const SPARK_W: u32 = 360;
const SPARK_H: u32 = 96;
const SPARK_TOP: u32 = 8;
const SPARK_BASE: u32 = SPARK_H - 4;

impl Spark {
    fn of(weeks: &[SparkWeek]) -> Spark {
        let n = weeks.len().max(1);
        let slot = f64::from(SPARK_W) / n as f64;
        let span = f64::from(SPARK_BASE - SPARK_TOP);
        let peak = |f: fn(&SparkWeek) -> i64| weeks.iter().map(f).max().unwrap_or(0).max(1);
        let (created_peak, won_peak) = (peak(|w| w.contacts_created), peak(|w| w.deals_won));
        let y = |v: i64, top: i64| f64::from(SPARK_BASE) - span * v as f64 / top as f64;
        let (mut bars, mut hits, mut points) = (Vec::new(), Vec::new(), Vec::new());
        for (i, w) in weeks.iter().enumerate() {
            let x = slot * i as f64;
            let title = format!(
                "Week of {}: {} contacts created, {} deals won",
                w.week_start, w.contacts_created, w.deals_won
            );
            let top = y(w.contacts_created, created_peak);
            bars.push(Mark {
                x: px(x + slot * 0.15),
                y: px(top),
                w: px(slot * 0.7),
                h: px(f64::from(SPARK_BASE) - top),
                title: title.clone(),
            });
            let (cx, cy) = (x + slot * 0.5, y(w.deals_won, won_peak));
            points.push(format!("{},{}", px(cx), px(cy)));
            hits.push(Mark {
                x: px(x),
                y: String::new(),
                w: px(slot),
                h: String::new(),
                title,
            });
        }
        let sum = |f: fn(&SparkWeek) -> i64| weeks.iter().map(f).sum::<i64>();
        let date = |w: Option<&SparkWeek>| w.map(|w| w.week_start.to_string()).unwrap_or_default();
        Spark {
            width: SPARK_W,
            height: SPARK_H,
            base: SPARK_BASE,
            bars,
            hits,
            line: points.join(" "),
            summary: format!(
                "{} weeks: {} contacts created, {} deals won.",
                weeks.len(),
                sum(|w| w.contacts_created),
                sum(|w| w.deals_won)
            ),
            first: date(weeks.first()),
            last: date(weeks.last()),
        }
    }
}

/// A win rate as a bar on a 0–100 % scale.
pub struct Rate {
    pub label: &'static str,
    pub text: String,
    pub width: String,
    pub title: String,
    pub link: String,
}

impl Rate {
    fn of(label: &'static str, m: &MonthLine, link: String) -> Rate {
        let v: f64 = m.win_rate.parse().unwrap_or(0.0);
        Rate {
            label,
            text: format!("{} %", m.win_rate),
            width: px(v.clamp(0.0, 100.0)),
            title: format!(
                "{label}: {} won, {} lost, win rate {} %",
                m.won, m.lost, m.win_rate
            ),
            link,
        }
    }
}

/// An amount line of a figure.
pub struct Money {
    pub text: String,
    pub detail: String,
}

pub struct WinLine {
    pub link: String,
    pub title: String,
    pub owner: String,
    pub amount: String,
    pub date: String,
    pub iso: String,
}

pub struct TaskLine {
    pub link: String,
    pub title: String,
    pub due: String,
    pub record: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    as_of: String,
    as_of_iso: String,
    time_zone: String,
    won: Vec<Money>,
    won_count: i64,
    won_link: String,
    open: Vec<Money>,
    open_count: i64,
    rates: Vec<Rate>,
    spark: Spark,
    funnel_link: String,
    wins: Vec<WinLine>,
    tasks: Vec<TaskLine>,
    mine_total: u64,
    visible_total: u64,
    kept_secs: i64,
}

fn local(tz: Tz, at: DateTime<Utc>, pattern: &str) -> String {
    at.with_timezone(&tz).format(pattern).to_string()
}

fn view(user: &CurrentUser, d: Dashboard) -> DashboardPage {
    let f = &d.figures;
    let tz = due::zone(&f.time_zone);
    let month = format!("from={}&to={}", f.month_start, f.today);
    let first_week = f.weeks.first().map_or(f.today, |w| w.week_start);
    let this_year = chrono::Datelike::year(&f.today);
    DashboardPage {
        l: Layout::for_user(user, "dashboard"),
        as_of: local(tz, f.as_of, "%H:%M"),
        as_of_iso: f.as_of.to_rfc3339(),
        time_zone: f.time_zone.clone(),
        won: f
            .won_this_month
            .amounts
            .iter()
            .map(|a| Money {
                text: a.text(),
                detail: String::new(),
            })
            .collect(),
        won_count: f.won_this_month.count,
        won_link: format!("/reports/pipeline?{month}"),
        open: f
            .open_pipeline
            .values
            .iter()
            .map(|v| Money {
                text: crate::domain::deals::money(v.amount_minor, &v.currency),
                detail: format!(
                    "{} {}, weighted {}",
                    v.count,
                    if v.count == 1 { "deal" } else { "deals" },
                    crate::domain::deals::money(v.weighted_minor, &v.currency)
                ),
            })
            .collect(),
        open_count: f.open_pipeline.count,
        rates: vec![
            Rate::of(
                "This month",
                &f.win_rate_this_month,
                format!("/reports/win-rate?{month}"),
            ),
            Rate::of(
                "Last 90 days",
                &f.win_rate_90_days,
                format!("/reports/win-rate?days={}", dashboard::RATE_DAYS),
            ),
        ],
        spark: Spark::of(&f.weeks),
        funnel_link: format!("/reports/funnel?from={first_week}&to={}", f.today),
        wins: f
            .recent_wins
            .iter()
            .map(|w| WinLine {
                link: format!("/deals/{}", w.deal_id),
                title: w.title.clone(),
                owner: w.owner_name.clone(),
                amount: w.amount.text(),
                date: local(tz, w.closed_at, "%-d %b %Y"),
                iso: w.closed_at.to_rfc3339(),
            })
            .collect(),
        tasks: d
            .overdue_tasks
            .mine
            .iter()
            .map(|t| TaskLine {
                link: format!("/tasks/{}/edit", t.task_id),
                title: t.title.clone(),
                due: due::describe(user.tz, t.due_at, t.due_date, this_year).unwrap_or_default(),
                record: t.record_path.clone().zip(t.record_name.clone()),
            })
            .collect(),
        mine_total: d.overdue_tasks.mine_total,
        visible_total: d.overdue_tasks.visible_total,
        kept_secs: dashboard::KEPT_SECS,
    }
}

pub async fn index(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::ReadRecords)?;
    let d = dashboard::dashboard(&state.db, &user.actor, user.tz, crate::domain::now()).await?;
    ok(&view(&user, d))
}
