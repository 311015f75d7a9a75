//! Reports → Stage velocity (`/reports/velocity`): per open stage, the median days deals
//! stayed in it (stays ended in the range) beside the median days the deals in it now
//! have waited (where deals get stuck), a pair of bars a stage on one day scale with the
//! numbers on hover; the table beneath, and the CSV.
use askama::Template;

use super::bars::{self, Chart, Part, Shape};
use super::{FilterForm, Frame, Page};
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

/// Per stage, two bars on one day scale: the median stay, the median wait of the deals
/// in it now.
fn chart(r: &Velocity) -> Chart {
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
    let several = r.pipelines.len() > 1;
    let lines = stages
        .iter()
        .map(|(p, s)| {
            let label = if several {
                format!("{} · {}", p.name, s.name)
            } else {
                s.name.clone()
            };
            let stays = Part {
                value: s.median_days.unwrap_or(0.0),
                class: "bar-created",
                title: format!(
                    "{label}: {} stays ended, median {}, average {}",
                    s.stays,
                    days(s.median_days),
                    days(s.average_days)
                ),
            };
            let waits = Part {
                value: s.stuck_median_days.unwrap_or(0.0),
                class: "bar-lost",
                title: format!(
                    "{label}: {} deals in it now, median wait {}",
                    s.stuck,
                    days(s.stuck_median_days)
                ),
            };
            bars::Line {
                label,
                lanes: vec![vec![stays], vec![waits]],
                end: None,
            }
        })
        .collect();
    Chart::of(
        &SHAPE,
        lines,
        peak,
        format!(
            "Median days in each open stage of the stays ended from {} to {}, beside the median days the deals in it now have waited.",
            r.from, r.to
        ),
    )
}

const SHAPE: Shape = Shape {
    left: 220,
    row: 34.0,
    room: 20,
    bar: 0.38,
    lane_step: 0.42,
    min_lines: 0,
};

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
            chart: chart(&self),
            lines: lines(&self),
            report: self,
            csv: frame.csv,
        }
    }
}
