//! Forecast (`/api/v1/reports/forecast`, `/reports/forecast`, `cairn report forecast`):
//! open deals per expected close month and currency, value and weighted value, checked
//! against sums made here over generated deals (overdue, this month, later, undated,
//! probability overrides, three currencies, closed and trashed deals left out), and a
//! rep limited to own records.
use std::collections::BTreeMap;

use actix_web::http::Method;
use chrono::{Months, NaiveDate};
use serde_json::{Value, json};

use crate::support::*;

async fn report(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/forecast?{query}"), token)
        .await
}

/// (line, currency) → (count, amount, Σ amount × probability).
type Sums = BTreeMap<(String, String), (i64, i64, i64)>;

fn got(r: &Value) -> Sums {
    let mut out = Sums::new();
    for l in r["lines"].as_array().unwrap() {
        let mut count = 0;
        for v in l["values"].as_array().unwrap() {
            count += v["count"].as_i64().unwrap();
            out.insert(
                (
                    l["label"].as_str().unwrap().into(),
                    v["currency"].as_str().unwrap().into(),
                ),
                (
                    v["count"].as_i64().unwrap(),
                    v["amount_minor"].as_i64().unwrap(),
                    v["weighted_minor"].as_i64().unwrap(),
                ),
            );
        }
        assert_eq!(l["count"], count, "a line's count is its currencies': {l}");
    }
    out
}

#[actix_web::test]
async fn lines_match_sums_made_over_generated_deals() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let stages: Vec<(i64, i64)> = ["Lead", "Qualified", "Proposal", "Negotiation"]
        .iter()
        .map(|n| {
            let s = pipelines[0]["stages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == *n)
                .unwrap();
            (
                s["id"].as_i64().unwrap(),
                s["probability"].as_i64().unwrap(),
            )
        })
        .collect();
    let first = report(&mut c, &token, "").await;
    let this_month: NaiveDate = first["this_month"].as_str().unwrap().parse().unwrap();
    let currencies = [("EUR", 10_050), ("USD", 333), ("JPY", 7_001)];
    let mut expected = Sums::new();
    for i in 0..42i64 {
        let (stage, stage_p) = stages[i as usize % 4];
        let (currency, unit) = currencies[i as usize % 3];
        let amount = unit * (i % 5 + 1);
        let own = (i % 4 == 1).then_some(i * 13 % 101);
        let (close, label) = match i % 7 {
            0 => (None, "no date".to_string()),
            1 => (
                Some(this_month - chrono::Duration::days(1 + i)),
                "overdue".into(),
            ),
            2 => (
                Some(this_month + chrono::Duration::days(i % 28)),
                this_month.format("%Y-%m").to_string(),
            ),
            3 => {
                let m = this_month + Months::new(1);
                (Some(m), m.format("%Y-%m").to_string())
            }
            4 => {
                let m = this_month + Months::new(11);
                (
                    Some(m + Months::new(1) - chrono::Duration::days(1)),
                    m.format("%Y-%m").to_string(),
                )
            }
            5 => (Some(this_month + Months::new(12)), "later".into()),
            _ => {
                let m = this_month + Months::new(5);
                (
                    Some(m + chrono::Duration::days(9)),
                    m.format("%Y-%m").to_string(),
                )
            }
        };
        let mut body = json!({"title": format!("Deal {i}"), "amount": amount, "currency": currency,
            "stage_id": stage, "expected_close": close.map(|d| d.to_string())});
        if let Some(p) = own {
            body["probability"] = json!(p);
        }
        let id = c.add("deals", &token, body).await;
        if i % 10 == 9 {
            c.api_ok(Method::DELETE, &format!("/api/v1/deals/{id}"), &token, None)
                .await;
            continue;
        }
        let e = expected.entry((label, currency.to_string())).or_default();
        e.0 += 1;
        e.1 += amount;
        e.2 += amount * own.unwrap_or(stage_p);
    }
    // Closed deals are not forecast.
    for stage in ["Won", "Lost"] {
        let body = json!({"title": "Closed", "amount": 999, "stage_id": stage_id(&pipelines[0], stage),
            "lost_reason": "Price", "expected_close": this_month.to_string()});
        c.add("deals", &token, body).await;
    }
    let rounded: Sums = expected
        .iter()
        .map(|(k, (n, a, w))| (k.clone(), (*n, *a, (w * 2 + 100).div_euclid(200))))
        .collect();
    let r = report(&mut c, &token, "days=30").await;
    assert_eq!(got(&r), rounded, "every line and currency: {r}");
    let labels: Vec<&str> = r["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels.len(),
        15,
        "overdue, twelve months, later, no date: {labels:?}"
    );
    assert_eq!(
        (labels[0], labels[1], labels[13], labels[14]),
        (
            "overdue",
            this_month.format("%Y-%m").to_string().as_str(),
            "later",
            "no date"
        )
    );
    let total: i64 = expected.values().map(|v| v.0).sum();
    assert_eq!(r["total"]["count"], total, "{r}");
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_sees_only_their_deals() {
    let app = TestApp::new().await;
    let (admin, rep, mut c) = app.own_records_with_a_deal_each().await;
    let mine = report(&mut c, &rep, "").await;
    assert_eq!(
        mine["total"]["values"],
        json!([{"currency": "EUR", "count": 1, "amount_minor": 70, "weighted_minor": 7}]),
        "{mine}"
    );
    let all = report(&mut c, &admin, "").await;
    assert_eq!(all["total"]["count"], 2, "{all}");
}

#[actix_web::test]
async fn the_page_csv_and_command_line_give_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    let first = report(&mut c, &token, "").await;
    let this_month: NaiveDate = first["this_month"].as_str().unwrap().parse().unwrap();
    let next = (this_month + Months::new(1)).format("%Y-%m").to_string();
    c.add(
        "deals",
        &token,
        json!({"title": "Big", "amount": 123_456, "currency": "EUR",
            "expected_close": (this_month + Months::new(1)).to_string()}),
    )
    .await;
    let api = report(&mut c, &token, "").await;
    let html = page.get("/reports/forecast").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg".to_string(),
        format!("{next}: 1 open deals, EUR 1,234.56, weighted EUR 123.46</title>"),
        "aria-current=\"page\">Forecast</a>".to_string(),
    ] {
        assert!(text.contains(&part), "the page lacks {part}: {text}");
    }
    let csv = page.get("/reports/forecast.csv").await.text();
    assert!(
        csv.starts_with("line,count,currency,amount,weighted\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("{next},1,EUR,1234.56,123.46\r\n")),
        "{csv}"
    );
    assert!(csv.contains("overdue,0,,0,0\r\n"), "{csv}");
    let json = crate::cli::stdout_of(&app.url, &["report", "forecast", "--format", "json"]);
    let cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cli, api, "the command line's JSON is the API's");
    let table = crate::cli::stdout_of(&app.url, &["report", "forecast"]);
    let line = table
        .lines()
        .find(|l| l.starts_with(&next))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        line.contains("EUR 1,234.56") && line.contains("EUR 123.46"),
        "{table}"
    );
}
