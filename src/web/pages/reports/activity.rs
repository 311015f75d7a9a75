//! Reports → Activity (`/reports/activity`): per user, a bar of what they did over the
//! range (notes, calls, meetings and tasks done stacked, each count on hover), the weeks
//! in the table beneath, and the CSV.
use askama::Template;

use super::bars::{self, Chart, Part, Shape};
use super::{FilterForm, Frame, Page};
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

/// A bar a user: notes, calls, meetings and tasks done stacked, each count on hover,
/// their sum after it.
fn chart(r: &ActivityReport) -> Chart {
    let sum = |c: &Counts| c.notes + c.calls + c.meetings + c.tasks_done;
    let peak = r
        .users
        .iter()
        .map(|u| sum(&u.total))
        .max()
        .unwrap_or(0)
        .max(1);
    let lines = r
        .users
        .iter()
        .map(|u| {
            let t = &u.total;
            let parts = [
                (t.notes, "bar-created", "notes"),
                (t.calls, "bar-interacted", "calls"),
                (t.meetings, "bar-won", "meetings"),
                (t.tasks_done, "bar-lost", "tasks done"),
            ]
            .into_iter()
            .map(|(n, class, what)| Part {
                value: n as f64,
                class,
                title: format!("{}: {n} {what}", u.name),
            })
            .collect();
            bars::Line {
                label: u.name.clone(),
                lanes: vec![parts],
                end: Some(sum(t).to_string()),
            }
        })
        .collect();
    Chart::of(
        &SHAPE,
        lines,
        peak as f64,
        format!(
            "Notes, calls, meetings and tasks done per user from {} to {}.",
            r.from, r.to
        ),
    )
}

const SHAPE: Shape = Shape {
    left: 180,
    row: 26.0,
    room: 50,
    bar: 0.75,
    lane_step: 0.0,
    min_lines: 1,
};

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
            chart: chart(&self),
            lines: lines(&self),
            report: self,
            csv: frame.csv,
        }
    }
}
