//! Reports → Win rate (`/reports/win-rate`): per month, deals won and lost, the win rate
//! (a bar a month on a 0–100 % scale, the numbers on hover) and the average sales cycle;
//! the table beneath, and the CSV.
use askama::Template;

use super::columns::{Chart, Column};
use super::{FilterForm, Frame, Page};
use crate::domain::reports::win_rate::{MonthLine, WinRate};
use crate::web::filters;
use crate::web::pages::Layout;

/// One line of the table.
pub struct Line {
    pub month: String,
    pub won: i64,
    pub lost: i64,
    pub rate: String,
    pub cycle: String,
}

impl Line {
    fn of(month: String, m: &MonthLine) -> Line {
        Line {
            month,
            won: m.won,
            lost: m.lost,
            rate: format!("{} %", m.win_rate),
            cycle: m
                .average_cycle_days
                .map_or_else(|| "—".to_string(), |d| format!("{d:.1} days")),
        }
    }
}

/// A bar a month on a 0–100 % scale.
fn chart(r: &WinRate) -> Chart {
    let every = r.months.len().max(1).div_ceil(12);
    let columns = r
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let line = Line::of(String::new(), m);
            Column {
                share: m.win_rate.parse::<f64>().unwrap_or(0.0) / 100.0,
                class: "bar-won",
                label: (i % every == 0).then(|| m.month.format("%b %Y").to_string()),
                title: format!(
                    "{}: {} won, {} lost, win rate {}, average cycle {}",
                    m.month.format("%B %Y"),
                    m.won,
                    m.lost,
                    line.rate,
                    line.cycle
                ),
            }
        })
        .collect();
    let y_ticks = [0.0, 0.5, 1.0].map(|s| (s, format!("{} %", s * 100.0)));
    let t = Line::of(String::new(), &r.total);
    Chart::of(
        columns,
        &y_ticks,
        format!(
            "{} months from {} to {}: {} won, {} lost, win rate {}, average cycle {}.",
            r.months.len(),
            r.from,
            r.to,
            t.won,
            t.lost,
            t.rate,
            t.cycle
        ),
    )
}

#[derive(Template)]
#[template(path = "reports/win_rate.html")]
pub struct WinRatePage {
    l: Layout,
    form: FilterForm,
    chart: Chart,
    lines: Vec<Line>,
    total: Line,
    report: WinRate,
    csv: String,
}

impl Page for WinRate {
    type View = WinRatePage;

    fn view(self, frame: Frame) -> WinRatePage {
        WinRatePage {
            l: frame.l,
            form: frame.form,
            chart: chart(&self),
            lines: self
                .months
                .iter()
                .map(|m| Line::of(m.month.format("%Y-%m").to_string(), m))
                .collect(),
            total: Line::of("Total".into(), &self.total),
            report: self,
            csv: frame.csv,
        }
    }
}
