//! Stage velocity (`/api/v1/reports/velocity`, `/reports/velocity`, `cairn report
//! velocity`): stays, their average and median days, and the deals stuck in each open
//! stage, checked against a computation made here over deals moved through the API
//! (back and forth, won then reopened, one trashed) whose history times are then set to
//! known instants; and a rep limited to own records.
use std::collections::BTreeMap;

use actix_web::http::Method;
use cairn::entities::deal_stage_change;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::reports_funnel::set_time;
use crate::support::*;

async fn report(c: &mut Client<impl TestService>, token: &str, query: &str) -> Value {
    c.get_json(&format!("/api/v1/reports/velocity?{query}"), token)
        .await
}

/// Moves deal `id` (at `version`) to `stage`; its new version.
async fn move_to(
    c: &mut Client<impl TestService>,
    token: &str,
    id: i64,
    version: i64,
    stage: i64,
) -> i64 {
    let body = json!({"stage_id": stage, "version": version, "lost_reason": "Budget"});
    c.api_ok(
        Method::POST,
        &format!("/api/v1/deals/{id}/move"),
        token,
        Some(body),
    )
    .await;
    version + 1
}

/// The id of deal `deal`'s last history row.
async fn last_change(app: &TestApp, deal: i64) -> i64 {
    deal_stage_change::Entity::find()
        .filter(deal_stage_change::Column::DealId.eq(deal))
        .order_by_desc(deal_stage_change::Column::Id)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("a deal's history")
        .id
}

/// Median of `v` (sorted here), as the report gives it: one decimal.
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| tenth((v[(n - 1) / 2] + v[n / 2]) / 2.0))
}

fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn days(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 86_400_000.0
}

/// stage name → (stays, average, median, stuck, stuck median) as the report shows them.
type Lines = BTreeMap<String, (i64, Option<f64>, Option<f64>, i64, Option<f64>)>;

fn got(r: &Value) -> Lines {
    r["pipelines"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                (
                    s["stays"].as_i64().unwrap(),
                    s["average_days"].as_f64(),
                    s["median_days"].as_f64(),
                    s["stuck"].as_i64().unwrap(),
                    s["stuck_median_days"].as_f64(),
                ),
            )
        })
        .collect()
}

#[actix_web::test]
async fn stays_and_stuck_deals_match_a_computation_made_here() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let stage = |name: &str| stage_id(&pipelines[0], name);
    let names: BTreeMap<i64, String> = pipelines[0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    // Walks through the stages: back and forth, won then reopened, lost, and one trashed.
    let walks: [&[&str]; 8] = [
        &["Qualified", "Proposal", "Qualified", "Proposal", "Won"],
        &["Qualified", "Lead", "Qualified"],
        &["Won", "Lead", "Proposal"],
        &["Lost"],
        &["Qualified", "Proposal", "Negotiation"],
        &[],
        &["Proposal", "Lead"],
        &["Qualified", "Proposal"],
    ];
    // Each deal lives from 34 to 30 days ago on, 1 to 5 days (some hours and 7 minutes)
    // between moves, so some stays end before the 30 days' range and some in it. Before
    // a move the deal is set to have entered its stage that long ago, so the server keeps
    // that stay; the move's time is then set to where it falls in the deal's story.
    let mut history: BTreeMap<i64, Vec<(i64, DateTime<Utc>)>> = BTreeMap::new();
    let mut trashed = None;
    for (i, walk) in walks.iter().enumerate() {
        let id = c
            .add(
                "deals",
                &token,
                json!({"title": format!("Deal {i}"), "amount": 100}),
            )
            .await;
        let mut t = Utc::now() - Duration::days(34 - i as i64 % 5);
        let mut list = vec![(stage("Lead"), t)];
        set_time(
            &app,
            "deal_stage_changes",
            "created_at",
            last_change(&app, id).await,
            t,
        )
        .await;
        for (k, s) in walk.iter().enumerate() {
            let k = (i + k) as i64;
            let gap =
                Duration::days(1 + k * 3 % 5) + Duration::hours(k * 5 % 24) + Duration::minutes(7);
            set_time(&app, "deals", "stage_entered_at", id, Utc::now() - gap).await;
            move_to(&mut c, &token, id, k - i as i64 + 1, stage(s)).await;
            t += gap;
            set_time(
                &app,
                "deal_stage_changes",
                "created_at",
                last_change(&app, id).await,
                t,
            )
            .await;
            list.push((stage(s), t));
        }
        set_time(&app, "deals", "stage_entered_at", id, t).await;
        history.insert(id, list);
        if i == 4 {
            trashed = Some(id);
            c.api_ok(Method::DELETE, &format!("/api/v1/deals/{id}"), &token, None)
                .await;
        }
    }
    let now = Utc::now();
    let r = report(&mut c, &token, "days=30").await;
    let from: NaiveDate = r["from"].as_str().unwrap().parse().unwrap();
    assert_eq!(r["time_zone"], "UTC", "{r}");
    let start = from.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let open: Vec<&String> = ["Lead", "Qualified", "Proposal", "Negotiation"]
        .iter()
        .map(|n| names.get(&stage(n)).unwrap())
        .collect();
    let mut stays: BTreeMap<&String, Vec<f64>> = BTreeMap::new();
    let mut stuck: BTreeMap<&String, Vec<f64>> = BTreeMap::new();
    for list in history
        .iter()
        .filter(|(d, _)| Some(**d) != trashed)
        .map(|(_, l)| l)
    {
        for pair in list.windows(2) {
            let name = &names[&pair[0].0];
            if pair[1].1 >= start && open.contains(&name) {
                stays
                    .entry(name)
                    .or_default()
                    .push(days(pair[0].1, pair[1].1));
            }
        }
        let (last, at) = list.last().unwrap();
        let name = &names[last];
        if open.contains(&name) {
            stuck.entry(name).or_default().push(days(*at, now));
        }
    }
    let expected: Lines = open
        .iter()
        .map(|n| {
            let s = stays.remove(n).unwrap_or_default();
            let w = stuck.remove(n).unwrap_or_default();
            let average = (!s.is_empty()).then(|| tenth(s.iter().sum::<f64>() / s.len() as f64));
            (
                (*n).clone(),
                (
                    s.len() as i64,
                    average,
                    median(s),
                    w.len() as i64,
                    median(w),
                ),
            )
        })
        .collect();
    assert!(
        expected.values().filter(|l| l.0 > 1).count() >= 2,
        "the data has stages of several stays: {expected:?}"
    );
    assert_eq!(got(&r), expected, "every open stage: {r}");
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_sees_only_their_deals() {
    let app = TestApp::new().await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    crate::access::rule(&app, true).await;
    let pipelines = c.get_json("/api/v1/pipelines", &admin).await;
    let proposal = stage_id(&pipelines[0], "Proposal");
    for (token, n) in [(&admin, 3), (&rep, 1)] {
        for _ in 0..n {
            let id = c
                .add("deals", token, json!({"title": "Deal", "amount": 5}))
                .await;
            move_to(&mut c, token, id, 1, proposal).await;
        }
    }
    let lead = |r: &Value| got(r)["Lead"];
    let mine = report(&mut c, &rep, "").await;
    assert_eq!((lead(&mine).0, got(&mine)["Proposal"].3), (1, 1), "{mine}");
    let all = report(&mut c, &admin, "").await;
    assert_eq!((lead(&all).0, got(&all)["Proposal"].3), (4, 4), "{all}");
    let other = report(&mut c, &rep, "owner=1").await;
    assert_eq!(got(&other)["Proposal"].3, 0, "another's records: {other}");
}

#[actix_web::test]
async fn the_page_csv_and_command_line_give_the_same_numbers() {
    let app = TestApp::new().await;
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let id = c
        .add("deals", &token, json!({"title": "Slow", "amount": 5}))
        .await;
    set_time(
        &app,
        "deals",
        "stage_entered_at",
        id,
        Utc::now() - Duration::hours(36),
    )
    .await;
    move_to(&mut c, &token, id, 1, stage_id(&pipelines[0], "Qualified")).await;
    let api = report(&mut c, &token, "days=7").await;
    assert_eq!(
        got(&api)["Lead"].2,
        Some(1.5),
        "a day and a half in Lead: {api}"
    );
    let html = page.get("/reports/velocity?days=7").await;
    assert_eq!(html.status, 200, "{}", html.text());
    let text = html.text();
    for part in [
        "<svg",
        "Lead: 1 stays ended, median 1.5 days, average 1.5 days</title>",
        "Qualified: 1 deals in it now, median wait 0.0 days</title>",
        "aria-current=\"page\">Stage velocity</a>",
    ] {
        assert!(text.contains(part), "the page lacks {part}: {text}");
    }
    let csv = page.get("/reports/velocity.csv?days=7").await.text();
    assert!(
        csv.starts_with(
            "pipeline,stage,stays,average_days,median_days,stuck,stuck_median_days\r\n"
        ),
        "{csv}"
    );
    assert!(csv.contains("Sales,Lead,1,1.5,1.5,0,\r\n"), "{csv}");
    assert!(csv.contains("Sales,Qualified,0,,,1,0.0\r\n"), "{csv}");
    let json = crate::cli::stdout_of(
        &app.url,
        &["report", "velocity", "--days", "7", "--format", "json"],
    );
    let cli: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cli, api, "the command line's JSON is the API's");
    let table = crate::cli::stdout_of(&app.url, &["report", "velocity", "--days", "7"]);
    let lead = table
        .lines()
        .find(|l| l.contains("Lead"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(lead.contains("1.5"), "{table}");
}
