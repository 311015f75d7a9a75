//! The weekly funnel (`/api/v1/reports/funnel`, `/reports/funnel`, `cairn report funnel`):
//! every number checked against a count made here, in Rust, over records whose times are
//! set to known instants: weeks in the organisation's zone (Sunday 23:30 and Monday 00:30
//! local, ahead of and behind UTC, across a DST change), trashed records, interactions
//! before and after the right times, won deals in several currencies, a deal reopened
//! after being lost, a rep's own records, and the filters' 400s.
use std::collections::BTreeMap;

use actix_web::http::Method;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};

use crate::support::*;

/// Sets `column` of row `id` of `table` to `t` (a record's times are the server's own).
pub(crate) async fn set_time(app: &TestApp, table: &str, column: &str, id: i64, t: DateTime<Utc>) {
    let q = Query::update()
        .table(Alias::new(table))
        .value(Alias::new(column), Expr::val(t))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let res = app
        .db
        .write
        .execute_raw(app.db.backend().build(&q))
        .await
        .unwrap();
    assert_eq!(res.rows_affected(), 1, "set {table}.{column} of #{id}");
}

async fn org_zone(app: &TestApp, zone: &str) {
    cairn::domain::settings::set(&app.db.write, cairn::domain::organisation::TIME_ZONE, zone)
        .await
        .unwrap();
}

/// `local` (YYYY-MM-DD HH:MM) in `tz`, as UTC.
fn at(tz: Tz, local: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// A contact added through the API (with `source`), created at `t`; its id.
async fn contact_at(
    c: &mut Client<impl TestService>,
    app: &TestApp,
    token: &str,
    t: DateTime<Utc>,
    source: &str,
) -> i64 {
    let body =
        json!({"first_name": "F", "last_name": format!("L{}", t.timestamp()), "source": source});
    let id = c.add("contacts", token, body).await;
    set_time(app, "contacts", "created_at", id, t).await;
    id
}

/// A note on contact `id`, occurred at `t`.
async fn note_at(
    c: &mut Client<impl TestService>,
    app: &TestApp,
    token: &str,
    id: i64,
    t: DateTime<Utc>,
) {
    let body = json!({"kind": "note", "body": "Spoke", "contact_id": id});
    let note = c.add("activities", token, body).await;
    set_time(app, "activities", "occurred_at", note, t).await;
}

/// A task about contact `id`, done at `t` (or left open with `None`).
async fn task_done_at(
    c: &mut Client<impl TestService>,
    app: &TestApp,
    token: &str,
    id: i64,
    t: Option<DateTime<Utc>>,
) {
    let task = c
        .add_task(token, json!({"title": "Call back", "contact_id": id}))
        .await;
    if let Some(t) = t {
        let path = format!("/api/v1/tasks/{task}");
        c.api_ok(
            Method::PATCH,
            &path,
            token,
            Some(json!({"done": true, "version": 1})),
        )
        .await;
        set_time(app, "tasks", "done_at", task, t).await;
    }
}

/// A deal of `amount` `currency` in the default pipeline's stage `stage`, closed at `t`.
async fn deal_closed_at(
    c: &mut Client<impl TestService>,
    app: &TestApp,
    token: &str,
    stage: i64,
    (amount, currency): (i64, &str),
    source: &str,
    t: DateTime<Utc>,
) -> i64 {
    let body = json!({"title": "Deal", "amount": amount, "currency": currency, "stage_id": stage,
        "source": source, "lost_reason": "Price"});
    let id = c.add("deals", token, body).await;
    set_time(app, "deals", "closed_at", id, t).await;
    id
}

/// The funnel the API gives `token` for `query`.
async fn funnel(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/funnel?{query}"), token)
        .await
}

/// The weeks' (Monday, created) pairs of a funnel.
fn created_by_week(f: &Value) -> Vec<(String, i64)> {
    f["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["week_start"].as_str().unwrap().to_string(),
                w["created"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn sunday_late_evening_counts_in_its_own_week_ahead_of_and_behind_utc() {
    for zone in ["Pacific/Auckland", "America/Los_Angeles"] {
        let app = TestApp::new().await;
        org_zone(&app, zone).await;
        let (token, mut c) = app.api_client("admin").await;
        let tz: Tz = zone.parse().unwrap();
        contact_at(&mut c, &app, &token, at(tz, "2026-11-15 23:30"), "organic").await;
        contact_at(&mut c, &app, &token, at(tz, "2026-11-16 00:30"), "organic").await;
        let f = funnel(&mut c, &token, "from=2026-11-09&to=2026-11-22").await;
        assert_eq!(
            created_by_week(&f),
            vec![("2026-11-09".into(), 1), ("2026-11-16".into(), 1)],
            "in {zone}, Sunday 23:30 is the week of that Sunday and Monday 00:30 the next: {f}"
        );
    }
}

/// A small deterministic generator, so the data are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// What the report must say for one week, counted here.
#[derive(Default, Clone, Debug, PartialEq)]
struct Expected {
    created: i64,
    interacted: i64,
    won: i64,
    amounts: BTreeMap<String, i64>,
}

const FIRST_MONDAY: &str = "2026-10-05";
const WEEKS: i64 = 6;

/// The week (0-based from FIRST_MONDAY) `t` falls in, read in `tz`; None outside.
fn week_in(tz: Tz, t: DateTime<Utc>) -> Option<usize> {
    let first = NaiveDate::parse_from_str(FIRST_MONDAY, "%Y-%m-%d").unwrap();
    let day = t.with_timezone(&tz).date_naive();
    let w = (day - first).num_days().div_euclid(7);
    (0..WEEKS).contains(&w).then_some(w as usize)
}

/// A local instant in the range's `day` (0..42) at a drawn time; never in week 1 (left
/// empty on purpose).
fn draw_time(g: &mut Lcg, tz: Tz) -> DateTime<Utc> {
    let first = NaiveDate::parse_from_str(FIRST_MONDAY, "%Y-%m-%d").unwrap();
    let mut day = g.next(35) as i64;
    if day >= 7 {
        day += 7;
    }
    let date = first + Duration::days(day);
    let local = date
        .and_hms_opt(g.next(24) as u32, g.next(60) as u32, 0)
        .unwrap();
    tz.from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

#[actix_web::test]
async fn every_number_matches_a_count_made_over_generated_data() {
    let app = TestApp::new().await;
    org_zone(&app, "Europe/Paris").await;
    let tz: Tz = "Europe/Paris".parse().unwrap();
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let (won, lost) = (
        stage_id(&pipelines[0], "Won"),
        stage_id(&pipelines[0], "Lost"),
    );
    let end = at(tz, "2026-11-16 00:00");
    let mut g = Lcg(15);
    let mut all = vec![Expected::default(); WEEKS as usize];
    let mut referral = all.clone();
    // The DST change (25 October, 03:00 → 02:00) and a Sunday night, drawn by hand.
    let mut times = vec![at(tz, "2026-10-25 23:30"), at(tz, "2026-10-26 00:10")];
    times.extend((0..24).map(|_| draw_time(&mut g, tz)));
    for (i, t) in times.into_iter().enumerate() {
        let source = if i % 3 == 0 { "referral" } else { "organic" };
        let id = contact_at(&mut c, &app, &token, t, source).await;
        let interacted = match i % 6 {
            0 => {
                note_at(&mut c, &app, &token, id, t + Duration::hours(3)).await;
                t + Duration::hours(3) < end
            }
            1 => {
                note_at(&mut c, &app, &token, id, t - Duration::hours(1)).await;
                false
            }
            2 => {
                task_done_at(&mut c, &app, &token, id, Some(t + Duration::days(9))).await;
                t + Duration::days(9) < end
            }
            3 => {
                task_done_at(&mut c, &app, &token, id, None).await;
                false
            }
            4 => {
                note_at(&mut c, &app, &token, id, end + Duration::hours(1)).await;
                false
            }
            _ => {
                note_at(&mut c, &app, &token, id, t + Duration::days(2)).await;
                t + Duration::days(2) < end
            }
        };
        if g.next(6) == 0 {
            c.api_ok(
                Method::DELETE,
                &format!("/api/v1/contacts/{id}"),
                &token,
                None,
            )
            .await;
            continue;
        }
        let w = week_in(tz, t).unwrap();
        for (e, counted) in [(&mut all, true), (&mut referral, source == "referral")] {
            if counted {
                e[w].created += 1;
                e[w].interacted += i64::from(interacted);
            }
        }
    }
    let currencies = [("EUR", 12_345), ("USD", 999), ("JPY", 5_000)];
    for i in 0..14 {
        let t = draw_time(&mut g, tz);
        let money = currencies[i % 3];
        let source = if i % 2 == 0 { "referral" } else { "paid" };
        let stage = if i % 5 == 4 { lost } else { won };
        let id = deal_closed_at(&mut c, &app, &token, stage, (money.1, money.0), source, t).await;
        if i % 7 == 6 {
            c.api_ok(Method::DELETE, &format!("/api/v1/deals/{id}"), &token, None)
                .await;
            continue;
        }
        if stage == lost {
            continue;
        }
        let w = week_in(tz, t).unwrap();
        for (e, counted) in [(&mut all, true), (&mut referral, source == "referral")] {
            if counted {
                e[w].won += 1;
                *e[w].amounts.entry(money.0.to_string()).or_default() += money.1;
            }
        }
    }
    // Won before the range: not in it.
    deal_closed_at(
        &mut c,
        &app,
        &token,
        won,
        (100, "EUR"),
        "paid",
        at(tz, "2026-10-04 23:59"),
    )
    .await;
    // The data hold every case: interactions counted, several currencies in a week.
    assert!(
        all.iter().map(|e| e.interacted).sum::<i64>() >= 3,
        "{all:?}"
    );
    assert!(all.iter().any(|e| e.amounts.len() >= 2), "{all:?}");
    let range = "from=2026-10-05&to=2026-11-15";
    assert_weeks(&funnel(&mut c, &token, range).await, &all);
    assert_weeks(
        &funnel(&mut c, &token, &format!("{range}&source=referral")).await,
        &referral,
    );
}

fn assert_weeks(f: &Value, expected: &[Expected]) {
    let weeks = f["weeks"].as_array().unwrap();
    assert_eq!(
        weeks.len(),
        expected.len(),
        "one line a week, empty ones too: {f}"
    );
    let first = NaiveDate::parse_from_str(FIRST_MONDAY, "%Y-%m-%d").unwrap();
    for (i, (w, e)) in weeks.iter().zip(expected).enumerate() {
        let monday = first + Duration::days(7 * i as i64);
        assert_eq!(monday.weekday(), chrono::Weekday::Mon);
        let amounts: BTreeMap<String, i64> = w["won_amounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["currency"].as_str().unwrap().to_string(),
                    a["amount_minor"].as_i64().unwrap(),
                )
            })
            .collect();
        let got = Expected {
            created: w["created"].as_i64().unwrap(),
            interacted: w["interacted"].as_i64().unwrap(),
            won: w["won"].as_i64().unwrap(),
            amounts,
        };
        assert_eq!(w["week_start"], monday.to_string(), "week {i}'s Monday");
        assert_eq!(&got, e, "week of {monday}: {w}");
        let rate = if e.created == 0 {
            "0.00".to_string()
        } else {
            format!("{:.2}", e.won as f64 * 100.0 / e.created as f64)
        };
        assert_eq!(w["conversion_rate"], rate, "week of {monday}'s conversion");
    }
    assert_eq!(
        f["total"]["created"].as_i64().unwrap(),
        expected.iter().map(|e| e.created).sum::<i64>(),
        "the total of created: {f}"
    );
    assert_eq!(
        expected[1],
        Expected::default(),
        "the generator leaves week 1 empty"
    );
}

#[actix_web::test]
async fn a_deal_lost_then_reopened_and_won_counts_once() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let id = c
        .add(
            "deals",
            &token,
            json!({"title": "Back", "amount": 700, "currency": "EUR"}),
        )
        .await;
    let path = format!("/api/v1/deals/{id}/move");
    for (version, stage) in [(1, "Lost"), (2, "Lead"), (3, "Won")] {
        let body = json!({"stage_id": stage_id(&pipelines[0], stage), "version": version, "lost_reason": "Budget"});
        c.api_ok(Method::POST, &path, &token, Some(body)).await;
    }
    let f = funnel(&mut c, &token, "days=7").await;
    assert_eq!(f["total"]["won"], 1, "won once: {f}");
    assert_eq!(
        f["total"]["won_amounts"],
        json!([{"currency": "EUR", "amount_minor": 700}]),
        "{f}"
    );
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_counts_only_theirs() {
    let app = TestApp::new().await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    crate::access::rule(&app, true).await;
    for n in 0..3 {
        c.add_contact(&admin, "Ann", "Admin", &format!("a{n}@example.com"))
            .await;
    }
    c.add_contact(&rep, "Rob", "Rep", "r@example.com").await;
    let pipelines = c.get_json("/api/v1/pipelines", &admin).await;
    let won = stage_id(&pipelines[0], "Won");
    c.add(
        "deals",
        &admin,
        json!({"title": "Theirs", "amount": 5, "stage_id": won}),
    )
    .await;
    let mine = funnel(&mut c, &rep, "days=7").await;
    assert_eq!(
        (
            mine["total"]["created"].as_i64(),
            mine["total"]["won"].as_i64()
        ),
        (Some(1), Some(0)),
        "{mine}"
    );
    let all = funnel(&mut c, &admin, "days=7").await;
    assert_eq!(
        (
            all["total"]["created"].as_i64(),
            all["total"]["won"].as_i64()
        ),
        (Some(4), Some(1)),
        "{all}"
    );
    let admin_id = app
        .db
        .read
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.backend(),
            "SELECT id FROM users WHERE email = 'admin-api@example.com'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "id")
        .unwrap();
    let others = funnel(&mut c, &rep, &format!("days=7&owner={admin_id}")).await;
    assert_eq!(
        others["total"]["created"], 0,
        "a rep asking for another's records: {others}"
    );
}

#[actix_web::test]
async fn bad_filters_are_refused_with_400() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("viewer").await;
    for q in [
        "days=0",
        "days=731",
        "days=ten",
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-11-02&to=2026-11-01",
        "days=7&from=2026-11-01",
        "from=2020-01-01&to=2026-01-01",
        "owner=x",
        "colour=red",
    ] {
        let res = c
            .api(
                Method::GET,
                &format!("/api/v1/reports/funnel?{q}"),
                &token,
                None,
            )
            .await;
        assert_eq!(res.status, 400, "{q}: {}", res.text());
        assert_eq!(
            res.json()["error"]["code"],
            "bad_request",
            "{q}: {}",
            res.text()
        );
    }
    let ok = c
        .api(Method::GET, "/api/v1/reports/funnel?days=730", &token, None)
        .await;
    assert_eq!(ok.status, 200, "730 days: {}", ok.text());
}

#[actix_web::test]
async fn the_page_draws_the_chart_and_table_and_its_csv_has_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    c.add_contact(&token, "Ada", "Page", "ada@example.com")
        .await;
    let html = page.get("/reports/funnel?days=14").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg",
        "role=\"img\"",
        "aria-labelledby=\"funnel-chart-title",
        "contacts created</title>",
        "<table",
        "href=\"/reports/funnel.csv?days=14\"",
        "aria-current=\"page\">Reports</a>",
    ] {
        assert!(text.contains(part), "the page lacks {part}: {text}");
    }
    assert!(!text.contains("style="), "no inline style under the CSP");
    let csv = page.get("/reports/funnel.csv?days=14").await;
    assert_eq!(
        csv.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let api = funnel(&mut c, &token, "days=14").await;
    let mut lines = vec!["week_start,created,interacted,won,conversion_rate".to_string()];
    for w in api["weeks"].as_array().unwrap() {
        lines.push(format!(
            "{},{},{},{},{}",
            w["week_start"].as_str().unwrap(),
            w["created"],
            w["interacted"],
            w["won"],
            w["conversion_rate"].as_str().unwrap()
        ));
    }
    assert_eq!(csv.text(), lines.join("\r\n") + "\r\n");
    assert_eq!(page.get("/reports/funnel?days=0").await.status, 400);
}

#[actix_web::test]
async fn the_command_line_prints_the_report_as_json_csv_and_a_table() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    c.add_contact(&token, "Cli", "One", "cli@example.com").await;
    c.add("deals", &token, json!({"title": "Yen", "amount": 5000, "currency": "JPY", "stage_id": stage_id(&pipelines[0], "Won")})).await;
    let api = funnel(&mut c, &token, "days=10").await;
    let run = |format: &str| {
        crate::cli::stdout_of(
            &app.url,
            &["report", "funnel", "--days", "10", "--format", format],
        )
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json, api, "the command line's JSON is the API's");
    let csv = run("csv");
    let last = api["weeks"].as_array().unwrap().last().unwrap().clone();
    assert!(
        csv.starts_with("week_start,created,interacted,won,conversion_rate,won_JPY\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{},1,0,1,100.00,5000\r\n",
            last["week_start"].as_str().unwrap()
        )),
        "{csv}"
    );
    let table = run("table");
    let total = table
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(
        total.split_whitespace().collect::<Vec<_>>(),
        ["total", "1", "0", "1", "100.00", "5000"],
        "{table}"
    );
}
