//! The revenue report as CSV (the page's download, `cairn report revenue --format csv`)
//! and as the command line's aligned table.
use super::Amount;
use super::format::{aligned, plain};
use super::revenue::{Flow, Revenue};

fn major(currency: &str, amount_minor: i64) -> String {
    plain(&Amount {
        currency: currency.to_string(),
        amount_minor,
    })
}

fn flow_cells(currency: &str, f: &Flow) -> [String; 3] {
    [
        major(currency, f.payments),
        major(currency, f.refunds),
        major(currency, f.net),
    ]
}

/// The source a line names ("(contact deleted)" for rows whose contact was purged from
/// the trash; the page says the same).
pub fn source_name(s: &str) -> String {
    if s.is_empty() {
        "(contact deleted)".into()
    } else {
        s.to_string()
    }
}

/// One line per currency and month (source "(all)", with the MRR at the month's end),
/// then one per currency, source and month; amounts in major units.
pub fn revenue_csv(r: &Revenue) -> String {
    let mut out = String::new();
    let head = [
        "currency",
        "month",
        "source",
        "payments",
        "refunds",
        "net",
        "mrr_at_month_end",
    ];
    crate::domain::csv::row(&mut out, head);
    for c in &r.currencies {
        for m in &c.months {
            let [p, rf, n] = flow_cells(&c.currency, &m.flow);
            let (month, mrr) = (
                m.month.format("%Y-%m").to_string(),
                major(&c.currency, m.mrr_minor),
            );
            let cells = [c.currency.as_str(), &month, "(all)", &p, &rf, &n, &mrr];
            crate::domain::csv::row(&mut out, cells);
        }
        for s in &c.by_source {
            let source = source_name(&s.source);
            for m in &s.months {
                let [p, rf, n] = flow_cells(&c.currency, &m.flow);
                let month = m.month.format("%Y-%m").to_string();
                let cells = [c.currency.as_str(), &month, &source, &p, &rf, &n, ""];
                crate::domain::csv::row(&mut out, cells);
            }
        }
    }
    out
}

/// Per currency: its months and total, then its sources' totals, in aligned columns.
pub fn revenue_table(r: &Revenue) -> String {
    let mut out = format!("Revenue {} to {} ({})\n", r.from, r.to, r.time_zone);
    if r.currencies.is_empty() {
        out.push_str("No payments, refunds or subscriptions.\n");
    }
    for c in &r.currencies {
        out.push_str(&format!("\n{}\n", c.currency));
        let mut rows = vec![
            ["month", "payments", "refunds", "net", "mrr_at_month_end"]
                .map(String::from)
                .to_vec(),
        ];
        for m in &c.months {
            let mut row = vec![m.month.format("%Y-%m").to_string()];
            row.extend(flow_cells(&c.currency, &m.flow));
            row.push(major(&c.currency, m.mrr_minor));
            rows.push(row);
        }
        let mut total = vec!["total".to_string()];
        total.extend(flow_cells(&c.currency, &c.total));
        total.push(String::new());
        rows.push(total);
        out.push_str(&aligned(&rows, 1));
        let mut rows = vec![
            ["source", "payments", "refunds", "net"]
                .map(String::from)
                .to_vec(),
        ];
        for s in &c.by_source {
            let mut row = vec![source_name(&s.source)];
            row.extend(flow_cells(&c.currency, &s.total));
            rows.push(row);
        }
        out.push_str(&aligned(&rows, 1));
    }
    out
}
