//! Win rate and sales cycle per month (`/api/v1/reports/win-rate`, `/reports/win-rate`,
//! `cairn report win-rate`): won, lost, the rate and the average cycle checked against a
//! count made here over generated deals closed at known local times (a month's last
//! evening behind UTC, a trashed deal, one closed after the range), and a deal lost then
//! reopened and won, which counts once, as won.
use std::collections::BTreeMap;

use actix_web::http::Method;
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::reports_funnel::set_time;
use crate::support::*;

async fn report(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/win-rate?{query}"), token)
        .await
}

fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Default, Debug)]
struct Month {
    won: i64,
    lost: i64,
    cycle_days: f64,
}

#[actix_web::test]
async fn months_match_a_count_made_over_generated_deals() {
    let app = TestApp::new().await;
    cairn::domain::settings::set(
        &app.db.write,
        cairn::domain::organisation::TIME_ZONE,
        "America/New_York",
    )
    .await
    .unwrap();
    let tz: Tz = "America/New_York".parse().unwrap();
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let (won, lost) = (
        stage_id(&pipelines[0], "Won"),
        stage_id(&pipelines[0], "Lost"),
    );
    let mut expected: BTreeMap<&str, Month> = BTreeMap::new();
    for i in 0..21u32 {
        let (month, key) = [(8, "2026-08"), (9, "2026-09"), (10, "2026-10")][(i % 3) as usize];
        // The 31st of October at 23:30 in New York is November in UTC: still October.
        let closed = if i == 20 {
            local(tz, 2026, 10, 31, 23, 30)
        } else {
            local(tz, 2026, month, 1 + i % 28, (i * 5) % 24, 0)
        };
        let created =
            closed - Duration::days(i64::from(i % 7) * 3 + 1) - Duration::hours(i64::from(i % 5));
        let is_won = i % 4 != 1;
        let body = json!({"title": format!("D{i}"), "amount": 100, "stage_id": if is_won { won } else { lost }, "lost_reason": "Price"});
        let id = c.add("deals", &token, body).await;
        set_time(&app, "deals", "closed_at", id, closed).await;
        set_time(&app, "deals", "created_at", id, created).await;
        if i == 7 {
            c.api_ok(Method::DELETE, &format!("/api/v1/deals/{id}"), &token, None)
                .await;
            continue;
        }
        let m = expected
            .entry(if i == 20 { "2026-10" } else { key })
            .or_default();
        if is_won {
            m.won += 1;
            m.cycle_days += (closed - created).num_seconds() as f64 / 86_400.0;
        } else {
            m.lost += 1;
        }
    }
    // Closed in November: outside the range.
    let late = c
        .add(
            "deals",
            &token,
            json!({"title": "Late", "amount": 1, "stage_id": won}),
        )
        .await;
    set_time(
        &app,
        "deals",
        "closed_at",
        late,
        local(tz, 2026, 11, 1, 0, 30),
    )
    .await;
    let r = report(&mut c, &token, "from=2026-08-01&to=2026-10-31").await;
    let months = r["months"].as_array().unwrap();
    assert_eq!(months.len(), 3, "{r}");
    for (line, (key, e)) in months.iter().zip(&expected) {
        assert_eq!(line["month"], format!("{key}-01"), "{r}");
        assert_eq!(
            (
                line["won"].as_i64().unwrap(),
                line["lost"].as_i64().unwrap()
            ),
            (e.won, e.lost),
            "{key}: {line}"
        );
        let rate = format!("{:.2}", e.won as f64 * 100.0 / (e.won + e.lost) as f64);
        assert_eq!(line["win_rate"], rate, "{key}: {line}");
        let average = e.cycle_days / e.won as f64;
        let got = line["average_cycle_days"].as_f64().unwrap();
        assert!(
            (got - average).abs() <= 0.05 + 1e-9,
            "{key}: average cycle {got}, counted {average}"
        );
        assert_eq!((got * 10.0).round(), got * 10.0, "one decimal: {got}");
    }
    let total_won: i64 = expected.values().map(|m| m.won).sum();
    assert_eq!(r["total"]["won"], total_won, "{r}");
}

#[actix_web::test]
async fn a_deal_lost_then_reopened_and_won_counts_once_as_won() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let id = c
        .add("deals", &token, json!({"title": "Back", "amount": 700}))
        .await;
    let path = format!("/api/v1/deals/{id}/move");
    for (version, stage) in [(1, "Lost"), (2, "Lead"), (3, "Won")] {
        let body = json!({"stage_id": stage_id(&pipelines[0], stage), "version": version, "lost_reason": "Budget"});
        c.api_ok(Method::POST, &path, &token, Some(body)).await;
    }
    let r = report(&mut c, &token, "days=1").await;
    assert_eq!(
        (r["total"]["won"].as_i64(), r["total"]["lost"].as_i64()),
        (Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(r["total"]["win_rate"], "100.00", "{r}");
}

#[actix_web::test]
async fn the_page_csv_and_command_line_give_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    c.add("deals", &token, json!({"title": "Lost one", "amount": 1, "stage_id": stage_id(&pipelines[0], "Lost"), "lost_reason": "Price"})).await;
    let api = report(&mut c, &token, "days=1").await;
    let html = page.get("/reports/win-rate?days=1").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg",
        "0 won, 1 lost, win rate 0.00 %, average cycle —</title>",
        "aria-current=\"page\">Win rate</a>",
    ] {
        assert!(text.contains(part), "the page lacks {part}: {text}");
    }
    let csv = page.get("/reports/win-rate.csv?days=1").await.text();
    let month = api["months"][0]["month"].as_str().unwrap()[..7].to_string();
    assert_eq!(
        csv,
        format!("month,won,lost,win_rate,average_cycle_days\r\n{month},0,1,0.00,\r\n")
    );
    let json = crate::cli::stdout_of(
        &app.url,
        &["report", "win-rate", "--days", "1", "--format", "json"],
    );
    let cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cli, api, "the command line's JSON is the API's");
}
