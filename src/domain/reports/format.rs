//! A report as text: CSV (the pages' download, `cairn report … --format csv`) and an
//! aligned table (the command line's default). JSON is the report's own serialisation.
use std::collections::BTreeSet;

use super::Amount;
use super::activity::{self, ActivityReport};
use super::forecast::{Forecast, ForecastLine};
use super::funnel::{Counts, Funnel};
use super::pipeline::PipelineReport;
use super::velocity::Velocity;
use super::win_rate::{MonthLine, WinRate};
use crate::domain::deals::decimals;

/// An amount in major units without grouping ("1234.56"), as a spreadsheet reads it.
pub fn plain(a: &Amount) -> String {
    let places = decimals(&a.currency);
    if places == 0 {
        return a.amount_minor.to_string();
    }
    let scale = 10i64.pow(places);
    let sign = if a.amount_minor < 0 { "-" } else { "" };
    let m = a.amount_minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        m / scale,
        m % scale,
        width = places as usize
    )
}

fn currencies(f: &Funnel) -> Vec<String> {
    let set: BTreeSet<&str> = f
        .total
        .won_amounts
        .iter()
        .map(|a| a.currency.as_str())
        .collect();
    set.into_iter().map(str::to_string).collect()
}

fn amount_in(c: &Counts, currency: &str) -> String {
    let a = c.won_amounts.iter().find(|a| a.currency == currency);
    a.map(plain).unwrap_or_else(|| {
        plain(&Amount {
            currency: currency.to_string(),
            amount_minor: 0,
        })
    })
}

fn cells(label: String, c: &Counts, currencies: &[String]) -> Vec<String> {
    let mut row = vec![
        label,
        c.created.to_string(),
        c.interacted.to_string(),
        c.won.to_string(),
        c.conversion_rate.clone(),
    ];
    row.extend(currencies.iter().map(|cur| amount_in(c, cur)));
    row
}

fn header(currencies: &[String]) -> Vec<String> {
    let mut h: Vec<String> = [
        "week_start",
        "created",
        "interacted",
        "won",
        "conversion_rate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(currencies.iter().map(|c| format!("won_{c}")));
    h
}

/// One line a week, a column of won value per currency that occurs; no total line
/// (a sheet sums the columns). Every value is a date, a number or a currency code, so
/// nothing needs quoting.
pub fn funnel_csv(f: &Funnel) -> String {
    let cur = currencies(f);
    let mut out = header(&cur).join(",");
    out.push_str("\r\n");
    for w in &f.weeks {
        out.push_str(&cells(w.week_start.to_string(), &w.counts, &cur).join(","));
        out.push_str("\r\n");
    }
    out
}

/// One line per stage and currency (a stage without deals: one line of zeros, no
/// currency). Pipeline and stage names are quoted and defused as every download is.
pub fn pipeline_csv(r: &PipelineReport) -> String {
    let mut out = String::new();
    let head = [
        "pipeline",
        "stage",
        "kind",
        "probability",
        "count",
        "currency",
        "amount",
        "weighted",
    ];
    crate::domain::csv::row(&mut out, head);
    for p in &r.pipelines {
        for s in &p.stages {
            let probability = s.probability.to_string();
            let mut line = |count: String, currency: &str, amount: String, weighted: String| {
                let cells = [&p.name, &s.name, &s.kind, &probability, &count];
                let mut all: Vec<&str> = cells.iter().map(|c| c.as_str()).collect();
                all.extend([currency, amount.as_str(), weighted.as_str()]);
                crate::domain::csv::row(&mut out, all);
            };
            if s.values.is_empty() {
                line("0".into(), "", "0".into(), "0".into());
            }
            for v in &s.values {
                let amount = |m: i64| {
                    plain(&Amount {
                        currency: v.currency.clone(),
                        amount_minor: m,
                    })
                };
                line(
                    v.count.to_string(),
                    &v.currency,
                    amount(v.amount_minor),
                    amount(v.weighted_minor),
                );
            }
        }
    }
    out
}

fn month_cells(label: String, m: &MonthLine) -> Vec<String> {
    vec![
        label,
        m.won.to_string(),
        m.lost.to_string(),
        m.win_rate.clone(),
        m.average_cycle_days
            .map(|d| format!("{d:.1}"))
            .unwrap_or_default(),
    ]
}

const MONTH_HEAD: [&str; 5] = ["month", "won", "lost", "win_rate", "average_cycle_days"];

/// One line a month (its first day); no cycle when nothing was won.
pub fn win_rate_csv(r: &WinRate) -> String {
    let mut out = MONTH_HEAD.join(",");
    out.push_str("\r\n");
    for m in &r.months {
        out.push_str(&month_cells(m.month.format("%Y-%m").to_string(), m).join(","));
        out.push_str("\r\n");
    }
    out
}

/// The months and a total line, in aligned columns.
pub fn win_rate_table(r: &WinRate) -> String {
    let mut rows = vec![MONTH_HEAD.map(String::from).to_vec()];
    rows.extend(
        r.months
            .iter()
            .map(|m| month_cells(m.month.format("%Y-%m").to_string(), m)),
    );
    rows.push(month_cells("total".into(), &r.total));
    let mut out = format!(
        "Win rate and sales cycle {} to {} ({})\n",
        r.from, r.to, r.time_zone
    );
    out.push_str(&aligned(&rows, 1));
    out
}

/// Stages in aligned columns, each pipeline followed by its open total.
pub fn pipeline_table(r: &PipelineReport) -> String {
    let mut rows = vec![
        ["pipeline", "stage", "count", "value", "weighted"]
            .map(String::from)
            .to_vec(),
    ];
    for p in &r.pipelines {
        for s in &p.stages {
            rows.push(vec![
                p.name.clone(),
                s.name.clone(),
                s.count.to_string(),
                money_of(&s.values, false),
                money_of(&s.values, true),
            ]);
        }
        rows.push(vec![
            p.name.clone(),
            "open total".into(),
            p.open.count.to_string(),
            money_of(&p.open.values, false),
            money_of(&p.open.values, true),
        ]);
    }
    let mut out = format!(
        "Pipeline by stage (closed stages: {} to {}, {})\n",
        r.from, r.to, r.time_zone
    );
    out.push_str(&aligned(&rows, 2));
    out
}

/// `rows` in columns, the first `left` aligned left and the rest right.
pub(super) fn aligned(rows: &[Vec<String>], left: usize) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if i < left {
                    format!("{v:<w$}", w = widths[i])
                } else {
                    format!("{v:>w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The weeks and a total line, in aligned columns.
pub fn funnel_table(f: &Funnel) -> String {
    let cur = currencies(f);
    let mut rows = vec![header(&cur)];
    rows.extend(
        f.weeks
            .iter()
            .map(|w| cells(w.week_start.to_string(), &w.counts, &cur)),
    );
    rows.push(cells("total".to_string(), &f.total, &cur));
    let mut out = format!("Weekly funnel {} to {} ({})\n", f.from, f.to, f.time_zone);
    out.push_str(&aligned(&rows, 1));
    out
}

/// Days with one decimal, or nothing.
fn days(d: Option<f64>) -> String {
    d.map(|d| format!("{d:.1}")).unwrap_or_default()
}

const VELOCITY_HEAD: [&str; 7] = [
    "pipeline",
    "stage",
    "stays",
    "average_days",
    "median_days",
    "stuck",
    "stuck_median_days",
];

fn velocity_rows(r: &Velocity) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for p in &r.pipelines {
        for s in &p.stages {
            rows.push(vec![
                p.name.clone(),
                s.name.clone(),
                s.stays.to_string(),
                days(s.average_days),
                days(s.median_days),
                s.stuck.to_string(),
                days(s.stuck_median_days),
            ]);
        }
    }
    rows
}

/// One line per pipeline and open stage; no days where nothing was measured.
pub fn velocity_csv(r: &Velocity) -> String {
    let mut out = String::new();
    crate::domain::csv::row(&mut out, VELOCITY_HEAD);
    for row in velocity_rows(r) {
        crate::domain::csv::row(&mut out, row.iter().map(String::as_str));
    }
    out
}

/// The stages in aligned columns.
pub fn velocity_table(r: &Velocity) -> String {
    let mut rows = vec![VELOCITY_HEAD.map(String::from).to_vec()];
    rows.extend(velocity_rows(r));
    let mut out = format!(
        "Stage velocity (stays ended {} to {}, {}; stuck: open deals now)\n",
        r.from, r.to, r.time_zone
    );
    out.push_str(&aligned(&rows, 2));
    out
}

/// Values per currency as text ("EUR 1,234.00 + USD 9.99"), or a dash.
fn money_of(values: &[super::pipeline::Value], weighted: bool) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|v| {
            let m = if weighted {
                v.weighted_minor
            } else {
                v.amount_minor
            };
            crate::domain::deals::money(m, &v.currency)
        })
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" + ")
    }
}

/// One line per forecast line and currency (a line without deals: one line of zeros, no
/// currency), then the total's.
pub fn forecast_csv(r: &Forecast) -> String {
    let mut out = String::new();
    let mut head = vec!["line", "count", "currency", "amount", "weighted"];
    if r.scored {
        head.push("scored");
    }
    crate::domain::csv::row(&mut out, head);
    let mut put = |l: &ForecastLine| {
        if l.values.is_empty() {
            let mut zeros = vec![l.label.as_str(), "0", "", "0", "0"];
            if r.scored {
                zeros.push("0");
            }
            crate::domain::csv::row(&mut out, zeros);
        }
        for v in &l.values {
            let amount = |m: i64| {
                plain(&Amount {
                    currency: v.currency.clone(),
                    amount_minor: m,
                })
            };
            let mut cells = vec![
                l.label.clone(),
                v.count.to_string(),
                v.currency.clone(),
                amount(v.amount_minor),
                amount(v.weighted_minor),
            ];
            cells.extend(v.scored_minor.map(amount));
            crate::domain::csv::row(&mut out, cells.iter().map(String::as_str));
        }
    };
    r.lines.iter().for_each(&mut put);
    put(&r.total);
    out
}

/// The lines and the total in aligned columns.
pub fn forecast_table(r: &Forecast) -> String {
    let mut head = vec!["line", "count", "value", "weighted"];
    if r.scored {
        head.push("scored");
    }
    let mut rows = vec![head.into_iter().map(String::from).collect::<Vec<_>>()];
    for l in r.lines.iter().chain([&r.total]) {
        let mut row = vec![
            l.label.clone(),
            l.count.to_string(),
            money_of(&l.values, false),
            money_of(&l.values, true),
        ];
        if r.scored {
            let scored: Vec<super::pipeline::Value> = l
                .values
                .iter()
                .map(|v| super::pipeline::Value {
                    weighted_minor: v.scored_minor.unwrap_or(v.weighted_minor),
                    ..v.clone()
                })
                .collect();
            row.push(money_of(&scored, true));
        }
        rows.push(row);
    }
    let mut out = format!(
        "Forecast of open deals by expected close month from {} ({})\n",
        r.this_month.format("%Y-%m"),
        r.time_zone
    );
    out.push_str(&aligned(&rows, 1));
    out
}

const ACTIVITY_HEAD: [&str; 6] = [
    "user",
    "week_start",
    "notes",
    "calls",
    "meetings",
    "tasks_done",
];

fn activity_cells(name: &str, c: &activity::Counts, week: String) -> Vec<String> {
    vec![
        name.to_string(),
        week,
        c.notes.to_string(),
        c.calls.to_string(),
        c.meetings.to_string(),
        c.tasks_done.to_string(),
    ]
}

/// One line per user and week (every week of the range); no total line.
pub fn activity_csv(r: &ActivityReport) -> String {
    let mut out = String::new();
    crate::domain::csv::row(&mut out, ACTIVITY_HEAD);
    for u in &r.users {
        for w in &u.weeks {
            let cells = activity_cells(&u.name, w, w.week_start.to_string());
            crate::domain::csv::row(&mut out, cells.iter().map(String::as_str));
        }
    }
    out
}

/// Each user's weeks and their total, in aligned columns.
pub fn activity_table(r: &ActivityReport) -> String {
    let mut rows = vec![ACTIVITY_HEAD.map(String::from).to_vec()];
    for u in &r.users {
        for w in &u.weeks {
            rows.push(activity_cells(&u.name, w, w.week_start.to_string()));
        }
        rows.push(activity_cells(&u.name, &u.total, "total".into()));
    }
    let mut out = format!(
        "Activity per user per week {} to {} ({})\n",
        r.from, r.to, r.time_zone
    );
    out.push_str(&aligned(&rows, 2));
    out
}
