//! Reports → Forecast (`/reports/forecast`): open deals by expected close month, a bar a
//! line (its deal count; value and weighted value per currency on hover, overdue in the
//! lost colour), the table beneath, and the CSV.
use askama::Template;

use super::{FilterForm, Frame, Page, Tick, px};
use crate::domain::deals;
use crate::domain::reports::forecast::{Forecast, ForecastLine};
use crate::domain::reports::pipeline::Value;
use crate::web::filters;
use crate::web::pages::Layout;

/// Values per currency as text ("EUR 1,234.00 + USD 9.99"), or a dash.
fn money(values: &[Value], weighted: bool) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| {
            let m = if weighted {
                v.weighted_minor
            } else {
                v.amount_minor
            };
            deals::money(m, &v.currency)
        })
        .collect();
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join(" + ")
    }
}

/// One line of the table.
pub struct Line {
    pub label: String,
    pub count: i64,
    pub value: String,
    pub weighted: String,
}

impl Line {
    fn of(l: &ForecastLine) -> Line {
        Line {
            label: l.label.clone(),
            count: l.count,
            value: money(&l.values, false),
            weighted: money(&l.values, true),
        }
    }
}

pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub class: &'static str,
    pub title: String,
}

pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub base: u32,
    pub bars: Vec<Bar>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub summary: String,
}

const WIDTH: u32 = 760;
const HEIGHT: u32 = 240;
const LEFT: u32 = 44;
const TOP: u32 = 12;
const BASE: u32 = HEIGHT - 28;

impl Chart {
    fn of(r: &Forecast) -> Chart {
        let n = r.lines.len().max(1);
        let slot = f64::from(WIDTH - LEFT - 12) / n as f64;
        let peak = r.lines.iter().map(|l| l.count).max().unwrap_or(0).max(1);
        let span = f64::from(BASE - TOP);
        let y = |v: i64| f64::from(BASE) - span * v as f64 / peak as f64;
        let mut x_ticks = Vec::new();
        let bars = r
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let x = f64::from(LEFT) + slot * i as f64 + slot * 0.15;
                if i % 2 == 0 {
                    x_ticks.push(Tick {
                        at: px(x + slot * 0.35),
                        text: l
                            .month
                            .map_or_else(|| l.label.clone(), |m| m.format("%b %y").to_string()),
                    });
                }
                Bar {
                    x: px(x),
                    y: px(y(l.count)),
                    w: px(slot * 0.7),
                    h: px(f64::from(BASE) - y(l.count)),
                    class: if l.label == "overdue" {
                        "bar-lost"
                    } else {
                        "bar-created"
                    },
                    title: format!(
                        "{}: {} open deals, {}, weighted {}",
                        l.label,
                        l.count,
                        money(&l.values, false),
                        money(&l.values, true)
                    ),
                }
            })
            .collect();
        let y_ticks = [0, peak]
            .into_iter()
            .map(|v| Tick {
                at: px(y(v)),
                text: v.to_string(),
            })
            .collect();
        Chart {
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right: WIDTH - 12,
            base: BASE,
            bars,
            y_ticks,
            x_ticks,
            summary: format!(
                "Open deals by expected close month from {}: {} deals, {}, weighted {}.",
                r.this_month.format("%B %Y"),
                r.total.count,
                money(&r.total.values, false),
                money(&r.total.values, true)
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "reports/forecast.html")]
pub struct ForecastPage {
    l: Layout,
    form: FilterForm,
    chart: Chart,
    lines: Vec<Line>,
    total: Line,
    report: Forecast,
    csv: String,
}

impl Page for Forecast {
    type View = ForecastPage;

    fn view(self, frame: Frame) -> ForecastPage {
        ForecastPage {
            l: frame.l,
            form: frame.form,
            chart: Chart::of(&self),
            lines: self.lines.iter().map(Line::of).collect(),
            total: Line::of(&self.total),
            report: self,
            csv: frame.csv,
        }
    }
}
