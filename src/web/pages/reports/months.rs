//! Reports → Win rate (`/reports/win-rate`): per month, deals won and lost, the win rate
//! (a bar a month on a 0–100 % scale, the numbers on hover) and the average sales cycle;
//! the table beneath, and the CSV.
use askama::Template;

use super::{FilterForm, Frame, Page, Tick, px};
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

pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
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
    fn of(r: &WinRate) -> Chart {
        let n = r.months.len().max(1);
        let slot = f64::from(WIDTH - LEFT - 12) / n as f64;
        let span = f64::from(BASE - TOP);
        // The rate in hundredths of a percent, read back from its two-decimal text.
        let y = |rate: &str| {
            let v: f64 = rate.parse().unwrap_or(0.0);
            f64::from(BASE) - span * v / 100.0
        };
        let every = n.div_ceil(12);
        let mut x_ticks = Vec::new();
        let bars = r
            .months
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let x = f64::from(LEFT) + slot * i as f64 + slot * 0.15;
                if i % every == 0 {
                    x_ticks.push(Tick {
                        at: px(x + slot * 0.35),
                        text: m.month.format("%b %Y").to_string(),
                    });
                }
                let line = Line::of(String::new(), m);
                Bar {
                    x: px(x),
                    y: px(y(&m.win_rate)),
                    w: px(slot * 0.7),
                    h: px(f64::from(BASE) - y(&m.win_rate)),
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
        let y_ticks = ["0", "50", "100"]
            .into_iter()
            .map(|v| Tick {
                at: px(y(v)),
                text: format!("{v} %"),
            })
            .collect();
        let t = Line::of(String::new(), &r.total);
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
                "{} months from {} to {}: {} won, {} lost, win rate {}, average cycle {}.",
                r.months.len(),
                r.from,
                r.to,
                t.won,
                t.lost,
                t.rate,
                t.cycle
            ),
        }
    }
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
            chart: Chart::of(&self),
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
