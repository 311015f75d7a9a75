//! A horizontal bar chart (a line a row: its label left of the axis, its bars from the
//! axis, an optional figure after them), as the pipeline, velocity and activity pages
//! draw it: the geometry is worked out here once; a page says only each line's label,
//! its lanes (a lane is one bar, or parts stacked along it), each part's value, colour
//! and hover text, and the figure after it. Template: `reports/_hbars.html`.
use super::px;

/// How a page's chart is laid out.
pub struct Shape {
    /// Where the axis is (the labels end 8 left of it).
    pub left: u32,
    /// The height of a line.
    pub row: f64,
    /// Room right of the longest bar (for the figure after it).
    pub room: u32,
    /// A bar's height, as a share of the line's.
    pub bar: f64,
    /// From one lane's top to the next, as a share of the line's.
    pub lane_step: f64,
    /// Lines the chart is tall enough for even with fewer.
    pub min_lines: usize,
}

/// One part of a bar: `value` on the scale whose top is the chart's peak.
pub struct Part {
    pub value: f64,
    pub class: &'static str,
    pub title: String,
}

/// One line of the chart: its lanes, top to bottom, each a bar of one or more parts.
pub struct Line {
    pub label: String,
    pub lanes: Vec<Vec<Part>>,
    /// The figure after the first lane's bar.
    pub end: Option<String>,
}

/// A drawn part.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub class: &'static str,
    pub title: String,
}

/// The figure after a bar, at `x`.
pub struct End {
    pub x: String,
    pub text: String,
}

/// A drawn line.
pub struct Row {
    pub label: String,
    pub text_y: String,
    pub bars: Vec<Bar>,
    pub end: Option<End>,
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

impl Chart {
    /// `peak`: the value a bar as long as the room allows stands for (more than 0).
    pub fn of(shape: &Shape, lines: Vec<Line>, peak: f64, summary: String) -> Chart {
        let span = f64::from(WIDTH - shape.left - shape.room);
        let row = shape.row;
        let n = lines.len().max(shape.min_lines);
        let rows = lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| {
                let y = 8.0 + row * i as f64;
                let mut bars = Vec::new();
                let mut first_end = f64::from(shape.left);
                for (k, lane) in line.lanes.into_iter().enumerate() {
                    let mut x = f64::from(shape.left);
                    for p in lane {
                        let w = span * p.value / peak;
                        bars.push(Bar {
                            x: px(x),
                            y: px(y + k as f64 * row * shape.lane_step),
                            w: px(w),
                            class: p.class,
                            title: p.title,
                        });
                        x += w;
                    }
                    if k == 0 {
                        first_end = x;
                    }
                }
                Row {
                    label: line.label,
                    text_y: px(y + row * 0.4),
                    bars,
                    end: line.end.map(|text| End {
                        x: px(first_end + 6.0),
                        text,
                    }),
                }
            })
            .collect();
        Chart {
            width: WIDTH,
            height: (16.0 + row * n as f64) as u32,
            left: shape.left,
            bar_h: px(row * shape.bar),
            rows,
            summary,
        }
    }
}
