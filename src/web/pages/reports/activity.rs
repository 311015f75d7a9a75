//! Reports → Activity (`/reports/activity`): per user, a bar of what they did over the
//! range (notes, calls, meetings and tasks done stacked, each count on hover), the weeks
//! in the table beneath, and the CSV.
use askama::Template;

use super::{FilterForm, Frame, Page, px};
use crate::domain::reports::activity::{ActivityReport, Counts};
use crate::web::filters;
use crate::web::pages::Layout;

/// One line of the table: a user's week, or their total.
pub struct Line {
    pub user: String,
    pub week: String,
    pub notes: i64,
    pub calls: i64,
    pub meetings: i64,
    pub tasks_done: i64,
    pub total: bool,
}

impl Line {
    fn of(user: &str, week: String, c: &Counts, total: bool) -> Line {
        Line {
            user: user.to_string(),
            week,
            notes: c.notes,
            calls: c.calls,
            meetings: c.meetings,
            tasks_done: c.tasks_done,
            total,
        }
    }
}

/// A part of a user's bar.
pub struct Part {
    pub x: String,
    pub w: String,
    pub class: &'static str,
    pub title: String,
}

pub struct Row {
    pub label: String,
    pub y: String,
    pub text_y: String,
    pub parts: Vec<Part>,
    pub end: String,
    pub sum: i64,
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
const LEFT: u32 = 180;
const ROW: f64 = 26.0;

impl Chart {
    fn of(r: &ActivityReport) -> Chart {
        let sum = |c: &Counts| c.notes + c.calls + c.meetings + c.tasks_done;
        let peak = r
            .users
            .iter()
            .map(|u| sum(&u.total))
            .max()
            .unwrap_or(0)
            .max(1);
        let span = f64::from(WIDTH - LEFT - 50);
        let rows = r
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let t = &u.total;
                let y = 8.0 + ROW * i as f64;
                let mut x = f64::from(LEFT);
                let parts = [
                    (t.notes, "bar-created", "notes"),
                    (t.calls, "bar-interacted", "calls"),
                    (t.meetings, "bar-won", "meetings"),
                    (t.tasks_done, "bar-lost", "tasks done"),
                ]
                .into_iter()
                .map(|(n, class, what)| {
                    let w = span * n as f64 / peak as f64;
                    let part = Part {
                        x: px(x),
                        w: px(w),
                        class,
                        title: format!("{}: {n} {what}", u.name),
                    };
                    x += w;
                    part
                })
                .collect();
                Row {
                    label: u.name.clone(),
                    y: px(y),
                    text_y: px(y + ROW * 0.4),
                    parts,
                    end: px(x + 6.0),
                    sum: sum(t),
                }
            })
            .collect();
        Chart {
            width: WIDTH,
            height: (16.0 + ROW * r.users.len().max(1) as f64) as u32,
            left: LEFT,
            bar_h: px(ROW * 0.75),
            rows,
            summary: format!(
                "Notes, calls, meetings and tasks done per user from {} to {}.",
                r.from, r.to
            ),
        }
    }
}

fn lines(r: &ActivityReport) -> Vec<Line> {
    let mut out = Vec::new();
    for u in &r.users {
        for w in &u.weeks {
            out.push(Line::of(&u.name, w.week_start.to_string(), w, false));
        }
        out.push(Line::of(&u.name, "Total".into(), &u.total, true));
    }
    out
}

#[derive(Template)]
#[template(path = "reports/activity.html")]
pub struct ActivityPage {
    l: Layout,
    form: FilterForm,
    chart: Chart,
    lines: Vec<Line>,
    report: ActivityReport,
    csv: String,
}

impl Page for ActivityReport {
    type View = ActivityPage;

    fn view(self, frame: Frame) -> ActivityPage {
        ActivityPage {
            l: frame.l,
            form: frame.form,
            chart: Chart::of(&self),
            lines: lines(&self),
            report: self,
            csv: frame.csv,
        }
    }
}
