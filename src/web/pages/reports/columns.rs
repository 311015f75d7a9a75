//! A column chart (a bar a slot on a scale from 0), as the win rate and forecast pages
//! draw it: the geometry is worked out here once; a page says only each column's height
//! (a share of the scale), colour, axis label and hover text.
use super::{Tick, px};

pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    /// The CSS class that colours it.
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

/// One column: `share` of the scale's top (0 to 1), and its label under the axis, if any.
pub struct Column {
    pub share: f64,
    pub class: &'static str,
    pub label: Option<String>,
    pub title: String,
}

const WIDTH: u32 = 760;
const HEIGHT: u32 = 240;
const LEFT: u32 = 44;
const TOP: u32 = 12;
const BASE: u32 = HEIGHT - 28;

impl Chart {
    /// `y_ticks`: (share of the scale, text) for the lines across the chart.
    pub fn of(columns: Vec<Column>, y_ticks: &[(f64, String)], summary: String) -> Chart {
        let slot = f64::from(WIDTH - LEFT - 12) / columns.len().max(1) as f64;
        let span = f64::from(BASE - TOP);
        let y = |share: f64| f64::from(BASE) - span * share;
        let mut x_ticks = Vec::new();
        let bars = columns
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let x = f64::from(LEFT) + slot * i as f64 + slot * 0.15;
                if let Some(text) = c.label {
                    x_ticks.push(Tick {
                        at: px(x + slot * 0.35),
                        text,
                    });
                }
                Bar {
                    x: px(x),
                    y: px(y(c.share)),
                    w: px(slot * 0.7),
                    h: px(f64::from(BASE) - y(c.share)),
                    class: c.class,
                    title: c.title,
                }
            })
            .collect();
        let y_ticks = y_ticks
            .iter()
            .map(|(share, text)| Tick {
                at: px(y(*share)),
                text: text.clone(),
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
            summary,
        }
    }
}
