//! Pipeline value by stage (`/api/v1/reports/pipeline`, `/reports/pipeline`, `cairn
//! report pipeline`): counts, values and weighted values per pipeline, stage and
//! currency checked against sums made here over generated deals (probability overrides,
//! trashed deals, deals closed inside and outside the range, two pipelines, three
//! currencies), and a rep's own deals.
use std::collections::BTreeMap;

use actix_web::http::Method;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::reports_funnel::set_time;
use crate::support::*;

/// (pipeline, stage, currency) → (count, amount, Σ amount × probability).
type Sums = BTreeMap<(String, String, String), (i64, i64, i64)>;

async fn report(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/pipeline?{query}"), token)
        .await
}

/// The report's stage values as `Sums` (weighted kept as the report rounds it).
fn got(r: &Value) -> BTreeMap<(String, String, String), (i64, i64, i64)> {
    let mut out = BTreeMap::new();
    for p in r["pipelines"].as_array().unwrap() {
        for s in p["stages"].as_array().unwrap() {
            let mut count = 0;
            for v in s["values"].as_array().unwrap() {
                let key = (
                    p["name"].as_str().unwrap().to_string(),
                    s["name"].as_str().unwrap().to_string(),
                    v["currency"].as_str().unwrap().to_string(),
                );
                let n = v["count"].as_i64().unwrap();
                count += n;
                out.insert(
                    key,
                    (
                        n,
                        v["amount_minor"].as_i64().unwrap(),
                        v["weighted_minor"].as_i64().unwrap(),
                    ),
                );
            }
            assert_eq!(
                s["count"].as_i64().unwrap(),
                count,
                "a stage's count is its currencies': {s}"
            );
        }
    }
    out
}

/// Σ amount × probability ÷ 100, rounded half up, as the report must give it.
fn rounded(sums: &Sums) -> BTreeMap<(String, String, String), (i64, i64, i64)> {
    sums.iter()
        .map(|(k, (n, a, w))| (k.clone(), (*n, *a, (w * 2 + 100).div_euclid(200))))
        .collect()
}

#[actix_web::test]
async fn stage_values_match_sums_made_over_generated_deals() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    c.api_ok(
        Method::POST,
        "/api/v1/pipelines",
        &token,
        Some(json!({"name": "Partners"})),
    )
    .await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let stages: Vec<(String, Value)> = pipelines
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            p["stages"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |s| (name.clone(), s.clone()))
        })
        .collect();
    let currencies = [("EUR", 10_050), ("USD", 333), ("JPY", 7_001)];
    let mut all = Sums::new();
    let mut partners = Sums::new();
    let long_ago = Utc::now() - Duration::days(200);
    for i in 0..60usize {
        let (pipeline, stage) = &stages[(i * 7) % stages.len()];
        let (currency, unit) = currencies[i % 3];
        let amount = unit * (i as i64 % 5 + 1);
        let own = (i % 4 == 0).then_some((i * 13 % 101) as i64);
        let mut body = json!({"title": format!("Deal {i}"), "amount": amount, "currency": currency,
            "stage_id": stage["id"], "lost_reason": "Price"});
        if let Some(p) = own {
            body["probability"] = json!(p);
        }
        let id = c.add("deals", &token, body).await;
        let kind = stage["kind"].as_str().unwrap();
        if kind != "open" && i % 5 == 0 {
            set_time(&app, "deals", "closed_at", id, long_ago).await;
            continue; // Closed before the range.
        }
        if i % 9 == 0 {
            c.api_ok(Method::DELETE, &format!("/api/v1/deals/{id}"), &token, None)
                .await;
            continue;
        }
        let probability = own.unwrap_or(stage["probability"].as_i64().unwrap());
        let key = (
            pipeline.clone(),
            stage["name"].as_str().unwrap().to_string(),
            currency.to_string(),
        );
        for (sums, counted) in [(&mut all, true), (&mut partners, pipeline == "Partners")] {
            if counted {
                let e = sums.entry(key.clone()).or_default();
                e.0 += 1;
                e.1 += amount;
                e.2 += amount * probability;
            }
        }
    }
    assert!(
        all.keys().any(|(_, s, _)| s == "Won") && all.keys().any(|(_, s, _)| s == "Lost"),
        "{all:?}"
    );
    let r = report(&mut c, &token, "days=90").await;
    assert_eq!(got(&r), rounded(&all), "every stage and currency: {r}");
    let partners_id = pipelines[1]["id"].as_i64().unwrap();
    let only = report(&mut c, &token, &format!("days=90&pipeline={partners_id}")).await;
    assert_eq!(only["pipelines"].as_array().unwrap().len(), 1, "{only}");
    assert_eq!(got(&only), rounded(&partners), "one pipeline: {only}");
    // A pipeline's open line adds up its open stages, per currency.
    for p in r["pipelines"].as_array().unwrap() {
        let mut open: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for s in p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "open")
        {
            for v in s["values"].as_array().unwrap() {
                let e = open
                    .entry(v["currency"].as_str().unwrap().to_string())
                    .or_default();
                e.0 += v["amount_minor"].as_i64().unwrap();
                e.1 += v["weighted_minor"].as_i64().unwrap();
            }
        }
        let shown: BTreeMap<String, (i64, i64)> = p["open"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["currency"].as_str().unwrap().to_string(),
                    (
                        v["amount_minor"].as_i64().unwrap(),
                        v["weighted_minor"].as_i64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(shown, open, "{}'s open line: {p}", p["name"]);
    }
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_sees_only_their_deals() {
    let app = TestApp::new().await;
    let (admin, rep, mut c) = app.own_records_with_a_deal_each().await;
    let mine = report(&mut c, &rep, "").await;
    assert_eq!(
        mine["pipelines"][0]["open"]["values"],
        json!([{"currency": "EUR", "count": 1, "amount_minor": 70, "weighted_minor": 7}]),
        "{mine}"
    );
    let all = report(&mut c, &admin, "").await;
    assert_eq!(all["pipelines"][0]["open"]["count"], 2, "{all}");
}

#[actix_web::test]
async fn the_page_csv_and_command_line_give_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    c.add(
        "deals",
        &token,
        json!({"title": "Big, bold", "amount": 123_456, "currency": "EUR"}),
    )
    .await;
    let api = report(&mut c, &token, "days=30").await;
    let html = page.get("/reports/pipeline?days=30").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg",
        "Lead: 1 deals, EUR 1,234.56, weighted EUR 123.46</title>",
        "EUR 1,234.56",
        "aria-current=\"page\">Pipeline</a>",
    ] {
        assert!(text.contains(part), "the page lacks {part}: {text}");
    }
    let csv = page.get("/reports/pipeline.csv?days=30").await.text();
    assert!(
        csv.starts_with("pipeline,stage,kind,probability,count,currency,amount,weighted\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("Sales,Lead,open,10,1,EUR,1234.56,123.46\r\n"),
        "{csv}"
    );
    assert!(csv.contains("Sales,Won,won,100,0,,0,0\r\n"), "{csv}");
    let json = crate::cli::stdout_of(
        &app.url,
        &["report", "pipeline", "--days", "30", "--format", "json"],
    );
    let cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cli, api, "the command line's JSON is the API's");
    let table = crate::cli::stdout_of(&app.url, &["report", "pipeline", "--days", "30"]);
    let open = table
        .lines()
        .find(|l| l.contains("open total"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        open.contains("EUR 1,234.56") && open.contains("EUR 123.46"),
        "{table}"
    );
}
