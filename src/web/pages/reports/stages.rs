//! Reports → Pipeline (`/reports/pipeline`): deals per stage of each pipeline, with their
//! value and weighted value per currency; a bar a stage (its deal count, the values on
//! hover), the table beneath, and the CSV.
use askama::Template;

use super::bars::{self, Chart, Part, Shape};
use super::{FilterForm, Frame, Page};
use crate::domain::deals;
use crate::domain::reports::pipeline::{PipelineReport, Value};
use crate::web::filters;
use crate::web::pages::Layout;

/// Values per currency as text ("EUR 1,234.00 + USD 9.99"), or a dash.
fn money(values: &[Value], weighted: bool) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| {
            deals::money(
                if weighted {
                    v.weighted_minor
                } else {
                    v.amount_minor
                },
                &v.currency,
            )
        })
        .collect();
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join(" + ")
    }
}

/// One line of the table (a stage, or a pipeline's open total).
pub struct Line {
    pub pipeline: String,
    pub stage: String,
    pub count: i64,
    pub value: String,
    pub weighted: String,
    pub total: bool,
}

/// A bar a stage, its length the stage's deal count (the values on hover).
fn chart(r: &PipelineReport) -> Chart {
    let rows: Vec<_> = r
        .pipelines
        .iter()
        .flat_map(|p| p.stages.iter().map(move |s| (p, s)))
        .collect();
    let peak = rows.iter().map(|(_, s)| s.count).max().unwrap_or(0).max(1);
    let several = r.pipelines.len() > 1;
    let lines = rows
        .iter()
        .map(|(p, s)| {
            let label = if several {
                format!("{} · {}", p.name, s.name)
            } else {
                s.name.clone()
            };
            let part = Part {
                value: s.count as f64,
                class: match s.kind.as_str() {
                    "won" => "bar-won",
                    "lost" => "bar-lost",
                    _ => "bar-created",
                },
                title: format!(
                    "{label}: {} deals, {}, weighted {}",
                    s.count,
                    money(&s.values, false),
                    money(&s.values, true)
                ),
            };
            bars::Line {
                label,
                lanes: vec![vec![part]],
                end: Some(s.count.to_string()),
            }
        })
        .collect();
    let open: i64 = r.pipelines.iter().map(|p| p.open.count).sum();
    Chart::of(
        &SHAPE,
        lines,
        peak as f64,
        format!(
            "Deals per stage: {open} open deals now; won and lost stages count the deals closed from {} to {}.",
            r.from, r.to
        ),
    )
}

const SHAPE: Shape = Shape {
    left: 220,
    row: 26.0,
    room: 60,
    bar: 0.75,
    lane_step: 0.0,
    min_lines: 0,
};

fn lines(r: &PipelineReport) -> Vec<Line> {
    let mut out = Vec::new();
    for p in &r.pipelines {
        for s in &p.stages {
            out.push(Line {
                pipeline: p.name.clone(),
                stage: s.name.clone(),
                count: s.count,
                value: money(&s.values, false),
                weighted: money(&s.values, true),
                total: false,
            });
        }
        out.push(Line {
            pipeline: p.name.clone(),
            stage: "Open deals".into(),
            count: p.open.count,
            value: money(&p.open.values, false),
            weighted: money(&p.open.values, true),
            total: true,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "reports/pipeline.html")]
pub struct PipelinePage {
    l: Layout,
    form: FilterForm,
    chart: Chart,
    lines: Vec<Line>,
    report: PipelineReport,
    csv: String,
}

impl Page for PipelineReport {
    type View = PipelinePage;

    fn view(self, frame: Frame) -> PipelinePage {
        PipelinePage {
            l: frame.l,
            form: frame.form,
            chart: chart(&self),
            lines: lines(&self),
            report: self,
            csv: frame.csv,
        }
    }
}
