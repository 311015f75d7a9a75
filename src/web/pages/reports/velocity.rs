//! Reports → Stage velocity (`/reports/velocity`): per open stage, the median days deals
//! stayed in it (stays ended in the range) beside the median days the deals in it now
//! have waited (where deals get stuck), a pair of bars a stage on one day scale with the
//! numbers on hover; the table beneath, and the CSV.
use askama::Template;

use super::{FilterForm, Frame, Page, px};
use crate::domain::reports::velocity::Velocity;
use crate::web::filters;
use crate::web::pages::Layout;

/// Days as text ("3.5 days"), or a dash.
fn days(d: Option<f64>) -> String {
    d.map_or_else(|| "—".to_string(), |d| format!("{d:.1} days"))
}

/// One line of the table.
pub struct Line {
    pub pipeline: String,
    pub stage: String,
    pub stays: i64,
    pub average: String,
    pub median: String,
    pub stuck: i64,
    pub stuck_median: String,
}

/// A bar: its place, length and hover text.
pub struct Bar {
    pub y: String,
    pub w: String,
    pub class: &'static str,
    pub title: String,
}

/// A stage's label and its two bars.
pub struct Row {
    pub label: String,
    pub text_y: String,
    pub bars: [Bar; 2],
}

pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub bar_h: String,
    pub rows: Vec<Row>,
    pub summary: String,
}

const WIDTH: u32 = 760;
const LEFT: u32 = 220;
const ROW: f64 = 34.0;

impl Chart {
    fn of(r: &Velocity) -> Chart {
        let stages: Vec<_> = r
            .pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(move |s| (p, s)))
            .collect();
        let peak = stages
            .iter()
            .flat_map(|(_, s)| [s.median_days, s.stuck_median_days])
            .flatten()
            .fold(0.0f64, f64::max)
            .max(1.0);
        let span = f64::from(WIDTH - LEFT - 20);
        let several = r.pipelines.len() > 1;
        let rows = stages
            .iter()
            .enumerate()
            .map(|(i, (p, s))| {
                let y = 8.0 + ROW * i as f64;
                let label = if several {
                    format!("{} · {}", p.name, s.name)
                } else {
                    s.name.clone()
                };
                let bar = |k: f64, v: Option<f64>, class, title: String| Bar {
                    y: px(y + k * ROW * 0.42),
                    w: px(span * v.unwrap_or(0.0) / peak),
                    class,
                    title,
                };
                Row {
                    text_y: px(y + ROW * 0.4),
                    bars: [
                        bar(
                            0.0,
                            s.median_days,
                            "bar-created",
                            format!(
                                "{label}: {} stays ended, median {}, average {}",
                                s.stays,
                                days(s.median_days),
                                days(s.average_days)
                            ),
                        ),
                        bar(
                            1.0,
                            s.stuck_median_days,
                            "bar-lost",
                            format!(
                                "{label}: {} deals in it now, median wait {}",
                                s.stuck,
                                days(s.stuck_median_days)
                            ),
                        ),
                    ],
                    label,
                }
            })
            .collect();
        Chart {
            width: WIDTH,
            height: (16.0 + ROW * stages.len() as f64) as u32,
            left: LEFT,
            bar_h: px(ROW * 0.38),
            rows,
            summary: format!(
                "Median days in each open stage of the stays ended from {} to {}, beside the median days the deals in it now have waited.",
                r.from, r.to
            ),
        }
    }
}

fn lines(r: &Velocity) -> Vec<Line> {
    r.pipelines
        .iter()
        .flat_map(|p| {
            p.stages.iter().map(|s| Line {
                pipeline: p.name.clone(),
                stage: s.name.clone(),
                stays: s.stays,
                average: days(s.average_days),
                median: days(s.median_days),
                stuck: s.stuck,
                stuck_median: days(s.stuck_median_days),
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "reports/velocity.html")]
pub struct VelocityPage {
    l: Layout,
    form: FilterForm,
    chart: Chart,
    lines: Vec<Line>,
    report: Velocity,
    csv: String,
}

impl Page for Velocity {
    type View = VelocityPage;

    fn view(self, frame: Frame) -> VelocityPage {
        VelocityPage {
            l: frame.l,
            form: frame.form,
            chart: Chart::of(&self),
            lines: lines(&self),
            report: self,
            csv: frame.csv,
        }
    }
}
