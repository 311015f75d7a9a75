//! The dashboard (`/`, `/api/v1/dashboard`): each figure checked against what the test
//! made (a deal won last month left out of this month, two currencies kept apart, the
//! open pipeline's weighted value, the win rates, the 12 weeks, the recent wins in order),
//! another user's overdue task left out of "mine", a rep limited to own records, the kept
//! figures renewed after their time, and the page's figures and links.
use std::collections::BTreeMap;

use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};

use crate::reports_funnel::set_time;
use crate::support::*;

async fn dashboard(c: &mut Client<impl TestService>, token: &str) -> Value {
    c.get_json("/api/v1/dashboard", token).await
}

/// A deal of `amount` `currency` in stage `stage` (a won or lost one closes it now).
async fn deal(
    c: &mut Client<impl TestService>,
    token: &str,
    title: &str,
    stage: i64,
    (amount, currency): (i64, &str),
) -> i64 {
    let body = json!({"title": title, "amount": amount, "currency": currency,
        "stage_id": stage, "lost_reason": "Price"});
    c.add("deals", token, body).await
}

fn amounts(v: &Value) -> BTreeMap<String, i64> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list of amounts: {v}"))
        .iter()
        .map(|a| {
            (
                a["currency"].as_str().unwrap().to_string(),
                a["amount_minor"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn probability(pipeline: &Value, stage: &str) -> i64 {
    pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == stage)
        .and_then(|s| s["probability"].as_i64())
        .unwrap_or_else(|| panic!("stage {stage} has a probability: {pipeline}"))
}

fn week_sum(d: &Value, key: &str) -> i64 {
    let weeks = d["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12, "twelve weeks: {d}");
    weeks.iter().map(|w| w[key].as_i64().unwrap()).sum()
}

#[actix_web::test]
async fn each_figure_matches_what_was_made() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let p = &pipelines[0];
    let (won, lost, lead) = (stage_id(p, "Won"), stage_id(p, "Lost"), stage_id(p, "Lead"));
    deal(&mut c, &token, "Euro one", won, (10_000, "EUR")).await;
    deal(&mut c, &token, "Euro two", won, (5_000, "EUR")).await;
    let dollars = deal(&mut c, &token, "Dollars", won, (7_000, "USD")).await;
    deal(&mut c, &token, "Gone", lost, (1_000, "EUR")).await;
    deal(&mut c, &token, "Open euro", lead, (3_001, "EUR")).await;
    deal(&mut c, &token, "Open dollar", lead, (2_000, "USD")).await;
    // Won 12 hours before this month began (UTC, the default zone): last month.
    let today = Utc::now().date_naive();
    let month_start = today.with_day(1).unwrap();
    let last_month = month_start.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(12);
    let old = deal(&mut c, &token, "Last month", won, (99_900, "EUR")).await;
    set_time(&app, "deals", "closed_at", old, last_month).await;
    // The dollar deal won a second after the others: the most recent win.
    set_time(
        &app,
        "deals",
        "closed_at",
        dollars,
        Utc::now() + Duration::seconds(1),
    )
    .await;
    c.add_contact(&token, "Ann", "New", "ann@example.com").await;
    let early = c
        .add_contact(&token, "Old", "Timer", "old@example.com")
        .await;
    set_time(
        &app,
        "contacts",
        "created_at",
        early,
        Utc::now() - Duration::weeks(20),
    )
    .await;

    let d = dashboard(&mut c, &token).await;
    let m = &d["won_this_month"];
    assert_eq!(m["count"], 3, "last month's win left out: {d}");
    let expected = BTreeMap::from([("EUR".to_string(), 15_000), ("USD".to_string(), 7_000)]);
    assert_eq!(amounts(&m["amounts"]), expected, "per currency: {d}");
    let open = &d["open_pipeline"];
    assert_eq!(open["count"], 2, "{d}");
    let lead_p = probability(p, "Lead");
    let weighted = |a: i64| (a * lead_p * 2 + 100).div_euclid(200);
    let values = open["values"].as_array().unwrap();
    let got: Vec<(String, i64, i64, i64)> = values
        .iter()
        .map(|v| {
            (
                v["currency"].as_str().unwrap().to_string(),
                v["count"].as_i64().unwrap(),
                v["amount_minor"].as_i64().unwrap(),
                v["weighted_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("EUR".into(), 1, 3_001, weighted(3_001)),
            ("USD".into(), 1, 2_000, weighted(2_000))
        ],
        "{d}"
    );
    let rate = &d["win_rate_this_month"];
    assert_eq!(
        (rate["won"].as_i64(), rate["lost"].as_i64()),
        (Some(3), Some(1)),
        "{d}"
    );
    assert_eq!(rate["win_rate"], "75.00", "{d}");
    let rate = &d["win_rate_90_days"];
    assert_eq!(
        (rate["won"].as_i64(), rate["lost"].as_i64()),
        (Some(4), Some(1)),
        "{d}"
    );
    assert_eq!(rate["win_rate"], "80.00", "{d}");
    assert_eq!(
        week_sum(&d, "contacts_created"),
        1,
        "the 20-week-old contact left out: {d}"
    );
    let last_week = d["weeks"][11].clone();
    assert!(
        last_week["deals_won"].as_i64().unwrap() >= 3,
        "this week's wins: {d}"
    );
    assert_eq!(week_sum(&d, "deals_won"), 4, "{d}");
    let titles: Vec<&str> = d["recent_wins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 4, "{d}");
    assert_eq!(titles[0], "Dollars", "most recent first: {d}");
    assert_eq!(titles[3], "Last month", "oldest last: {d}");
    assert_eq!(d["recent_wins"][0]["amount"]["amount_minor"], 7_000);
    assert_eq!(
        d["recent_wins"][0]["owner_name"], "admin admin-api@example.com",
        "{d}"
    );
}

#[actix_web::test]
async fn another_users_overdue_task_is_not_mine_but_counts_for_a_manager() {
    let app = TestApp::new().await;
    let (boss, mut c) = app.api_client("manager").await;
    let rep = app.api_user("rep").await;
    let long_ago = (Utc::now() - Duration::days(3)).date_naive().to_string();
    let soon = (Utc::now() + Duration::days(3)).date_naive().to_string();
    for (token, title, due) in [
        (&boss, "Boss late", &long_ago),
        (&boss, "Boss later", &soon),
        (&rep, "Rep late", &long_ago),
    ] {
        c.add_task(token, json!({"title": title, "due_date": due}))
            .await;
    }
    let d = dashboard(&mut c, &boss).await;
    let o = &d["overdue_tasks"];
    let mine: Vec<&str> = o["mine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(mine, ["Boss late"], "{o}");
    assert_eq!(
        (o["mine_total"].as_u64(), o["visible_total"].as_u64()),
        (Some(1), Some(2)),
        "{o}"
    );
    let r = dashboard(&mut c, &rep).await;
    let o = &r["overdue_tasks"];
    assert_eq!(o["mine"][0]["title"], "Rep late", "{o}");
    assert_eq!(
        (o["mine_total"].as_u64(), o["visible_total"].as_u64()),
        (Some(1), Some(1)),
        "{o}"
    );
}

#[actix_web::test]
async fn a_rep_limited_to_own_records_sees_only_theirs() {
    let app = TestApp::new().await;
    let (admin, mut c) = app.api_client("admin").await;
    let rep = app.api_user("rep").await;
    crate::access::rule(&app, true).await;
    let pipelines = c.get_json("/api/v1/pipelines", &admin).await;
    let (won, lead) = (
        stage_id(&pipelines[0], "Won"),
        stage_id(&pipelines[0], "Lead"),
    );
    deal(&mut c, &admin, "Admin's", won, (500, "EUR")).await;
    deal(&mut c, &admin, "Admin's open", lead, (800, "EUR")).await;
    deal(&mut c, &rep, "Rep's", won, (70, "EUR")).await;
    c.add_contact(&admin, "Ann", "Admin", "a@example.com").await;
    c.add_contact(&rep, "Rob", "Rep", "r@example.com").await;
    let mine = dashboard(&mut c, &rep).await;
    assert_eq!(mine["won_this_month"]["count"], 1, "{mine}");
    assert_eq!(
        amounts(&mine["won_this_month"]["amounts"])["EUR"],
        70,
        "{mine}"
    );
    assert_eq!(mine["open_pipeline"]["count"], 0, "{mine}");
    assert_eq!(week_sum(&mine, "contacts_created"), 1, "{mine}");
    let wins = mine["recent_wins"].as_array().unwrap();
    assert_eq!(wins.len(), 1, "{mine}");
    assert_eq!(wins[0]["title"], "Rep's", "{mine}");
    let all = dashboard(&mut c, &admin).await;
    assert_eq!(all["won_this_month"]["count"], 2, "{all}");
    assert_eq!(all["open_pipeline"]["count"], 1, "{all}");
    assert_eq!(week_sum(&all, "contacts_created"), 2, "{all}");
}

#[actix_web::test]
async fn a_deal_won_shows_within_seconds_and_a_new_contact_once_the_kept_time_is_up() {
    use cairn::domain::reports::dashboard::{FRESH_SECS, KEPT_SECS, kept};
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let admin = app.user("boss@example.com", "admin").await;
    // The start of the current kept time, so that a second later is still within it.
    let secs = Utc::now().timestamp().div_euclid(KEPT_SECS) * KEPT_SECS;
    let now = chrono::DateTime::from_timestamp(secs, 0).unwrap();
    let created = |f: &cairn::domain::reports::dashboard::Figures| -> i64 {
        f.weeks.iter().map(|w| w.contacts_created).sum()
    };
    let before = kept(&app.db, &admin, now).await.unwrap();
    assert_eq!((before.won_this_month.count, created(&before)), (0, 0));
    c.add_contact(&token, "Ann", "New", "ann@example.com").await;
    let same = kept(&app.db, &admin, now).await.unwrap();
    assert_eq!(created(&same), 0, "a new contact waits for the kept time");
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let won = stage_id(&pipelines[0], "Won");
    deal(&mut c, &token, "Fresh", won, (1, "EUR")).await;
    let soon = kept(&app.db, &admin, now + Duration::seconds(FRESH_SECS - 1))
        .await
        .unwrap();
    assert_eq!(
        soon.won_this_month.count, 0,
        "a fresh build is shown a moment longer"
    );
    let fresh = now + Duration::seconds(FRESH_SECS);
    let after_win = kept(&app.db, &admin, fresh).await.unwrap();
    assert_eq!(
        after_win.won_this_month.count, 1,
        "a deal change shows after {FRESH_SECS} s"
    );
    c.add_contact(&token, "Bob", "Newer", "bob@example.com")
        .await;
    let still = kept(&app.db, &admin, fresh + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(still.as_of, after_win.as_of, "kept within its time");
    let later = now + Duration::seconds(KEPT_SECS);
    let renewed = kept(&app.db, &admin, later).await.unwrap();
    assert_eq!(created(&renewed), 2, "both contacts after {KEPT_SECS} s");
    assert_eq!(renewed.as_of, later);
}

#[actix_web::test]
async fn the_page_shows_the_figures_with_links_to_their_reports() {
    let app = TestApp::new().await;
    let mut anonymous = app.client().await;
    let res = anonymous.get("/").await;
    assert_eq!(res.status, 303, "signed out: {}", res.text());
    assert!(res.location().starts_with("/login"), "{}", res.location());
    let mut page = app.signed_in("boss@example.com", "admin").await;
    let token = app.token("boss@example.com").await;
    let mut c = app.client().await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    deal(
        &mut c,
        &token,
        "Big <win>",
        stage_id(&pipelines[0], "Won"),
        (123_456, "EUR"),
    )
    .await;
    let res = page.get("/").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let text = res.text();
    let today = Utc::now().date_naive();
    let month = format!("from={}&#38;to={today}", today.with_day(1).unwrap());
    for part in [
        "<h1>Dashboard</h1>",
        "As of <time",
        &format!("href=\"/reports/pipeline?{month}\">Won this month</a>"),
        "EUR 1,234.56",
        "href=\"/reports/pipeline\">Open pipeline</a>",
        &format!("href=\"/reports/win-rate?{month}\">This month</a>"),
        "100.00 %",
        "href=\"/reports/win-rate?days=90\">Last 90 days</a>",
        "href=\"/reports/funnel?from=",
        "deals won</title>",
        "Big &#60;win&#62;</a>",
        "href=\"/tasks\">Overdue tasks</a>",
        "aria-current=\"page\">Dashboard</a>",
    ] {
        assert!(text.contains(part), "the page lacks {part}: {text}");
    }
}
