//! Reports → Forecast (`/reports/forecast`): open deals by expected close month, a bar a
//! line (its deal count; value and weighted value per currency on hover, overdue in the
//! lost colour), the table beneath, and the CSV.
use askama::Template;

use super::columns::{Chart, Column};
use super::{FilterForm, Frame, Page};
use crate::domain::deals;
use crate::domain::reports::forecast::{Forecast, ForecastLine};
use crate::domain::reports::pipeline::Value;
use crate::web::filters;
use crate::web::pages::Layout;

/// Values per currency as text ("EUR 1,234.00 + USD 9.99"), or a dash.
fn money(values: &[Value], weighted: bool) -> String {
    sum_of(values, |v| {
        if weighted {
            v.weighted_minor
        } else {
            v.amount_minor
        }
    })
}

/// `pick` of each currency's value as text, or a dash.
fn sum_of(values: &[Value], pick: impl Fn(&Value) -> i64) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| deals::money(pick(v), &v.currency))
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
    /// By the deals' scores, while a model scores them.
    pub scored: String,
}

impl Line {
    fn of(l: &ForecastLine) -> Line {
        Line {
            label: l.label.clone(),
            count: l.count,
            value: money(&l.values, false),
            weighted: money(&l.values, true),
            scored: sum_of(&l.values, |v| v.scored_minor.unwrap_or(v.weighted_minor)),
        }
    }
}

/// A bar a line, its height the line's deal count.
fn chart(r: &Forecast) -> Chart {
    let peak = r.lines.iter().map(|l| l.count).max().unwrap_or(0).max(1);
    let columns = r
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Column {
            share: l.count as f64 / peak as f64,
            class: if l.label == "overdue" {
                "bar-lost"
            } else {
                "bar-created"
            },
            label: (i % 2 == 0).then(|| {
                l.month
                    .map_or_else(|| l.label.clone(), |m| m.format("%b %y").to_string())
            }),
            title: format!(
                "{}: {} open deals, {}, weighted {}",
                l.label,
                l.count,
                money(&l.values, false),
                money(&l.values, true)
            ),
        })
        .collect();
    Chart::of(
        columns,
        &[(0.0, "0".to_string()), (1.0, peak.to_string())],
        format!(
            "Open deals by expected close month from {}: {} deals, {}, weighted {}.",
            r.this_month.format("%B %Y"),
            r.total.count,
            money(&r.total.values, false),
            money(&r.total.values, true)
        ),
    )
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
            chart: chart(&self),
            lines: self.lines.iter().map(Line::of).collect(),
            total: Line::of(&self.total),
            report: self,
            csv: frame.csv,
        }
    }
}
