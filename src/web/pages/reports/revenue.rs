//! Reports → Revenue (`/reports/revenue`): per currency, a chart of net revenue per
//! month (bars, below the axis for a month refunds outweigh) with the MRR at each
//! month's end (a line), the numbers on hover; the table of months and the sources'
//! totals beneath; the CSV is `Report::csv` (served by `super::csv`).
use askama::Template;

use super::{FilterForm, Frame, Page, Tick, px};
use crate::domain::deals::money;
use crate::domain::reports::revenue::{CurrencyRevenue, Flow, Revenue};
use crate::domain::reports::revenue_text;
use crate::web::filters;
use crate::web::pages::Layout;

/// One line of a table.
pub struct Line {
    pub label: String,
    pub payments: String,
    pub refunds: String,
    pub net: String,
    pub mrr: String,
}

impl Line {
    fn of(label: String, currency: &str, f: &Flow, mrr: Option<i64>) -> Line {
        Line {
            label,
            payments: money(f.payments, currency),
            refunds: money(f.refunds, currency),
            net: money(f.net, currency),
            mrr: mrr.map_or_else(String::new, |m| money(m, currency)),
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

pub struct Dot {
    pub x: String,
    pub y: String,
    pub title: String,
}

pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub left: u32,
    pub right: u32,
    pub base: u32,
    pub bars: Vec<Bar>,
    /// The MRR line's points ("x,y x,y …").
    pub line: String,
    pub dots: Vec<Dot>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub summary: String,
}

const WIDTH: u32 = 760;
const HEIGHT: u32 = 260;
const LEFT: u32 = 84;
const RIGHT: u32 = 12;
const TOP: u32 = 12;
const BASE: u32 = HEIGHT - 28;

impl Chart {
    fn of(c: &CurrencyRevenue, r: &Revenue) -> Chart {
        let n = c.months.len().max(1);
        let slot = f64::from(WIDTH - LEFT - RIGHT) / n as f64;
        let high = c
            .months
            .iter()
            .flat_map(|m| [m.flow.net, m.mrr_minor])
            .max()
            .unwrap_or(0)
            .max(1);
        let low = c
            .months
            .iter()
            .map(|m| m.flow.net)
            .min()
            .unwrap_or(0)
            .min(0);
        let span = f64::from(BASE - TOP);
        let y = |v: i64| f64::from(TOP) + span * (high - v) as f64 / (high - low) as f64;
        let zero = y(0);
        let every = n.div_ceil(12);
        let (mut bars, mut dots, mut points, mut x_ticks) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, m) in c.months.iter().enumerate() {
            let x = f64::from(LEFT) + slot * i as f64;
            if i % every == 0 {
                x_ticks.push(Tick {
                    at: px(x + slot * 0.5),
                    text: m.month.format("%b %Y").to_string(),
                });
            }
            let name = m.month.format("%B %Y");
            let top = y(m.flow.net).min(zero);
            bars.push(Bar {
                x: px(x + slot * 0.15),
                y: px(top),
                w: px(slot * 0.7),
                h: px((y(m.flow.net) - zero).abs()),
                title: format!(
                    "{name}: net {} (payments {}, refunds {})",
                    money(m.flow.net, &c.currency),
                    money(m.flow.payments, &c.currency),
                    money(m.flow.refunds, &c.currency)
                ),
            });
            let (cx, cy) = (px(x + slot * 0.5), px(y(m.mrr_minor)));
            points.push(format!("{cx},{cy}"));
            dots.push(Dot {
                x: cx,
                y: cy,
                title: format!(
                    "MRR at the end of {name}: {}",
                    money(m.mrr_minor, &c.currency)
                ),
            });
        }
        let mut ticks = vec![low, 0, high];
        ticks.dedup();
        let y_ticks = ticks
            .into_iter()
            .map(|v| Tick {
                at: px(y(v)),
                text: money(v, &c.currency),
            })
            .collect();
        let last_mrr = c.months.last().map_or(0, |m| m.mrr_minor);
        Chart {
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right: WIDTH - RIGHT,
            base: BASE,
            bars,
            line: points.join(" "),
            dots,
            y_ticks,
            x_ticks,
            summary: format!(
                "{} months from {} to {} in {}: payments {}, refunds {}, net {}; MRR at the end {}.",
                c.months.len(),
                r.from,
                r.to,
                c.currency,
                money(c.total.payments, &c.currency),
                money(c.total.refunds, &c.currency),
                money(c.total.net, &c.currency),
                money(last_mrr, &c.currency)
            ),
        }
    }
}

/// One currency's chart and tables.
pub struct CurrencyView {
    pub currency: String,
    pub chart: Chart,
    pub lines: Vec<Line>,
    pub total: Line,
    pub sources: Vec<Line>,
}

impl CurrencyView {
    fn of(c: &CurrencyRevenue, r: &Revenue) -> CurrencyView {
        let cur = c.currency.as_str();
        CurrencyView {
            currency: c.currency.clone(),
            chart: Chart::of(c, r),
            lines: c
                .months
                .iter()
                .map(|m| {
                    Line::of(
                        m.month.format("%Y-%m").to_string(),
                        cur,
                        &m.flow,
                        Some(m.mrr_minor),
                    )
                })
                .collect(),
            total: Line::of("Total".into(), cur, &c.total, None),
            sources: c
                .by_source
                .iter()
                .map(|s| Line::of(revenue_text::source_name(&s.source), cur, &s.total, None))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "reports/revenue.html")]
pub struct RevenuePage {
    l: Layout,
    form: FilterForm,
    currencies: Vec<CurrencyView>,
    report: Revenue,
    /// The pipeline filter was given: the page says it does not apply.
    pipeline_ignored: bool,
    csv: String,
}

impl Page for Revenue {
    type View = RevenuePage;

    fn view(self, frame: Frame) -> RevenuePage {
        RevenuePage {
            l: frame.l,
            pipeline_ignored: !frame.form.f.pipeline.trim().is_empty(),
            form: frame.form,
            currencies: self
                .currencies
                .iter()
                .map(|c| CurrencyView::of(c, &self))
                .collect(),
            report: self,
            csv: frame.csv,
        }
    }
}
