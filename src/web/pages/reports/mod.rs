//! Reports: the weekly funnel (`/reports/funnel`, here), pipeline value by stage
//! (`/reports/pipeline`, `stages`) and win rate per month (`/reports/win-rate`,
//! `months`), each with the filters as a GET form, a chart (an SVG drawn by the template
//! from geometry worked out here, no script), the table, and the same numbers as CSV
//! (`….csv`). Templates: `templates/reports/` (`_filters.html`,
//! `_nav.html` shared).
//!
//! One handler serves every report's page (`page`) and one its CSV (`csv`): a report
//! says only how its page is drawn (`Page`); the route table (`web::routes`) lists each
//! report's two paths.
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::app::AppState;
use crate::domain::reports::funnel::{self, Funnel};
use crate::domain::reports::report::{Entry, INDEX};
use crate::domain::reports::{self, Params, Report};
use crate::domain::{Action, deals, users};
use crate::error::AppError;
use crate::web::auth::CurrentUser;
use crate::web::filters;
use crate::web::pages::{Layout, ok};

mod activity;
mod bars;
mod columns;
mod forecast;
mod months;
mod revenue;
mod stages;
mod velocity;

/// A report's page: the template it fills from its result and the frame every report
/// page shares (layout, filter form, CSV link).
pub trait Page: Report {
    type View: Template;

    fn view(self, frame: Frame) -> Self::View;
}

/// What every report page holds besides its report.
pub struct Frame {
    pub l: Layout,
    pub form: FilterForm,
    pub csv: String,
}

/// A report's page, with the filters of the query string.
pub async fn page<R: Page>(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::ReadRecords)?;
    let p = Params::from_query(req.query_string())?;
    let f = reports::filters(&state.db, &p).await?;
    let report = R::run(&state.db, &user.actor, &f).await?;
    let frame = Frame {
        l: Layout::for_user(&user, "reports"),
        form: FilterForm::of(&state, R::SLUG, &p).await?,
        csv: csv_link(&format!("/reports/{}", R::SLUG), req.query_string()),
    };
    ok(&report.view(frame))
}

/// A report as a CSV download, with the page's filters.
pub async fn csv<R: Report>(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    user.actor.require(Action::ReadRecords)?;
    let p = Params::from_query(req.query_string())?;
    let f = reports::filters(&state.db, &p).await?;
    let r = R::run(&state.db, &user.actor, &f).await?;
    Ok(csv_download(r.file_name(), r.csv()))
}

/// The filters as the form shows them again.
#[derive(Default)]
pub struct Shown {
    pub days: String,
    pub from: String,
    pub to: String,
    pub owner: String,
    pub pipeline: String,
    pub source: String,
}

impl Shown {
    fn of(p: &Params) -> Shown {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Shown {
            days: s(&p.days),
            from: s(&p.from),
            to: s(&p.to),
            owner: s(&p.owner),
            pipeline: s(&p.pipeline),
            source: s(&p.source),
        }
    }
}

/// The filter form every report page shows.
pub struct FilterForm {
    /// The report's slug (its tab is the current one) and its page's path.
    pub slug: &'static str,
    pub action: String,
    pub nav: &'static [Entry],
    pub f: Shown,
    pub people: Vec<users::Person>,
    pub pipelines: Vec<deals::Pipeline>,
    pub sources: &'static [&'static str],
}

impl FilterForm {
    pub(super) async fn of(
        state: &AppState,
        slug: &'static str,
        p: &Params,
    ) -> Result<FilterForm, AppError> {
        Ok(FilterForm {
            slug,
            action: format!("/reports/{slug}"),
            nav: INDEX,
            f: Shown::of(p),
            people: users::list_all(&state.db).await?,
            pipelines: deals::pipelines(&state.db.read).await?,
            sources: &crate::domain::contacts::SOURCES,
        })
    }
}

/// The CSV link of a page: the same path with `.csv`, the same filters.
pub(super) fn csv_link(path: &str, qs: &str) -> String {
    if qs.is_empty() {
        format!("{path}.csv")
    } else {
        format!("{path}.csv?{qs}")
    }
}

/// A CSV download called `name`.
fn csv_download(name: String, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// One line of the table.
pub struct Row {
    pub week: String,
    pub created: i64,
    pub interacted: i64,
    pub won: i64,
    pub won_value: String,
    pub rate: String,
}

impl Row {
    fn of(week: String, c: &funnel::Counts) -> Row {
        let value: Vec<String> = c.won_amounts.iter().map(|a| a.text()).collect();
        Row {
            week,
            created: c.created,
            interacted: c.interacted,
            won: c.won,
            won_value: if value.is_empty() {
                "—".to_string()
            } else {
                value.join(" + ")
            },
            rate: format!("{} %", c.conversion_rate),
        }
    }
}

/// A bar or a dot of the chart, with the numbers it shows on hover.
pub struct Mark {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub class: &'static str,
    pub title: String,
}

/// A label on an axis, at `at` along it.
pub struct Tick {
    pub at: String,
    pub text: String,
}

/// The chart's geometry, worked out here so the template only places it.
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub base: u32,
    pub marks: Vec<Mark>,
    /// The won line's points ("x,y x,y …").
    pub line: String,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub summary: String,
}

const WIDTH: u32 = 760;
const HEIGHT: u32 = 260;
const LEFT: u32 = 44;
const RIGHT: u32 = 12;
const TOP: u32 = 12;
const BASE: u32 = HEIGHT - 28;

pub(super) fn px(v: f64) -> String {
    format!("{v:.1}")
}

impl Chart {
    fn of(r: &Funnel) -> Chart {
        let n = r.weeks.len().max(1);
        let peak = r
            .weeks
            .iter()
            .map(|w| w.counts.created.max(w.counts.interacted).max(w.counts.won))
            .max()
            .unwrap_or(0)
            .max(1);
        // A round top for the scale: 1, 2 or 5 times a power of ten.
        let mut top = 1i64;
        while top < peak {
            top = match top.to_string().chars().next() {
                Some('1') => top * 2,
                Some('2') => top / 2 * 5,
                _ => top * 2,
            };
        }
        let span = f64::from(BASE - TOP);
        let y = |v: i64| f64::from(BASE) - span * (v as f64) / (top as f64);
        let slot = f64::from(WIDTH - LEFT - RIGHT) / n as f64;
        let bar = (slot * 0.38).max(1.0);
        let mut marks = Vec::new();
        let mut points = Vec::new();
        let mut x_ticks = Vec::new();
        let every = n.div_ceil(8);
        for (i, w) in r.weeks.iter().enumerate() {
            let x0 = f64::from(LEFT) + slot * i as f64 + slot * 0.1;
            let c = &w.counts;
            let label = format!("Week of {}", w.week_start);
            for (k, (v, class, what)) in [
                (c.created, "bar-created", "contacts created"),
                (c.interacted, "bar-interacted", "with an interaction"),
            ]
            .into_iter()
            .enumerate()
            {
                marks.push(Mark {
                    x: px(x0 + bar * k as f64),
                    y: px(y(v)),
                    w: px(bar),
                    h: px(f64::from(BASE) - y(v)),
                    class,
                    title: format!("{label}: {v} {what}"),
                });
            }
            let cx = x0 + bar;
            points.push(format!("{},{}", px(cx), px(y(c.won))));
            marks.push(Mark {
                x: px(cx),
                y: px(y(c.won)),
                w: "3.5".into(),
                h: String::new(),
                class: "dot-won",
                title: format!(
                    "{label}: {} deals won, conversion {} %",
                    c.won, c.conversion_rate
                ),
            });
            if i % every == 0 {
                x_ticks.push(Tick {
                    at: px(cx),
                    text: w.week_start.format("%d %b").to_string(),
                });
            }
        }
        let y_ticks = [0, top / 2, top]
            .into_iter()
            .map(|v| Tick {
                at: px(y(v)),
                text: v.to_string(),
            })
            .collect();
        let t = &r.total;
        Chart {
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right: WIDTH - RIGHT,
            base: BASE,
            marks,
            line: points.join(" "),
            y_ticks,
            x_ticks,
            summary: format!(
                "{} weeks from {} to {}: {} contacts created, {} with an interaction, {} deals won, conversion {} %.",
                r.weeks.len(),
                r.from,
                r.to,
                t.created,
                t.interacted,
                t.won,
                t.conversion_rate
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "reports/funnel.html")]
pub struct FunnelPage {
    l: Layout,
    form: FilterForm,
    chart: Chart,
    rows: Vec<Row>,
    total: Row,
    report: Funnel,
    csv: String,
}

impl Page for Funnel {
    type View = FunnelPage;

    fn view(self, frame: Frame) -> FunnelPage {
        FunnelPage {
            l: frame.l,
            form: frame.form,
            chart: Chart::of(&self),
            rows: self
                .weeks
                .iter()
                .map(|w| Row::of(w.week_start.to_string(), &w.counts))
                .collect(),
            total: Row::of("Total".into(), &self.total),
            report: self,
            csv: frame.csv,
        }
    }
}
