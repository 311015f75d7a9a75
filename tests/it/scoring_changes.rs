//! Deal scores follow changes and show where deals do (issue 17): a deal written, a call
//! logged on it or its close queues it to be scored again through the job queue, within
//! seconds; board cards and the deal list show, sort and filter by the score, and the
//! forecast adds the scored figure.
use std::time::{Duration as StdDuration, Instant};

use sea_orm::EntityTrait;

use cairn::domain::scoring;
use cairn::entities::{deal_score, pipeline_stage};

use crate::scoring::closed_deals;
use crate::support::*;

/// A job runner polling often, as a server's would run beside the requests.
pub(crate) fn runner(app: &TestApp) -> cairn::jobs::Running {
    let options = cairn::jobs::Options {
        workers: 1,
        poll: StdDuration::from_millis(20),
        ..Default::default()
    };
    cairn::jobs::Runner::new(app.db.clone(), cairn::jobs::kinds::registry(), options).start()
}

/// Deal `id`'s stored score once `done` holds of it, waiting up to 20 s.
async fn score_when(
    app: &TestApp,
    id: i64,
    what: &str,
    done: impl Fn(Option<&deal_score::Model>) -> bool,
) -> Option<deal_score::Model> {
    let deadline = Instant::now() + StdDuration::from_secs(20);
    loop {
        let row = deal_score::Entity::find_by_id(id)
            .one(&app.db.read)
            .await
            .expect("read the score");
        if done(row.as_ref()) {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "deal {id}'s score never {what}: {row:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// A trained model, a rep's API token, and an open EUR deal of theirs (not scored yet).
async fn scored_world(app: &TestApp, seed: u64) -> (String, i64) {
    closed_deals(app, 300, seed, false).await;
    let run = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train");
    assert_eq!(run.status, "active", "{run:?}");
    let token = app.api_user("rep").await;
    let mut api = app.client().await;
    let body = serde_json::json!({"title": "Fresh", "amount": 500, "currency": "EUR"});
    let id = api.create("/api/v1/deals", &token, body).await;
    (token, id)
}

#[actix_web::test]
async fn a_new_deal_and_the_calls_logged_on_it_are_scored_within_seconds() {
    let app = TestApp::new().await;
    let (token, id) = scored_world(&app, 41).await;
    let running = runner(&app);
    let first = score_when(&app, id, "appeared", |s| s.is_some())
        .await
        .expect("a score");
    let mut api = app.client().await;
    for n in 0..4 {
        let call = serde_json::json!({"kind": "call", "body": format!("call {n}"), "deal_id": id});
        api.create("/api/v1/activities", &token, call).await;
    }
    let after = score_when(&app, id, "rose with four calls", |s| {
        s.is_some_and(|s| s.probability > first.probability)
    })
    .await
    .expect("a score");
    assert!(
        after.scored_at > first.scored_at,
        "{first:?} then {after:?}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_deal_won_loses_its_score_within_seconds() {
    let app = TestApp::new().await;
    let (token, id) = scored_world(&app, 43).await;
    let running = runner(&app);
    score_when(&app, id, "appeared", |s| s.is_some()).await;
    let won = pipeline_stage::Entity::find()
        .all(&app.db.read)
        .await
        .expect("stages")
        .into_iter()
        .find(|s| s.kind == "won")
        .expect("a won stage")
        .id;
    let mut api = app.client().await;
    let moved = serde_json::json!({"stage_id": won, "version": 1});
    let res = api
        .api(
            actix_web::http::Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(moved),
        )
        .await;
    assert_eq!(res.status, 200, "the move: {}", res.text());
    score_when(&app, id, "went", |s| s.is_none()).await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

/// A rep's API token and an open EUR deal of theirs, with no model trained.
async fn unscored_world(app: &TestApp) -> String {
    let token = app.api_user("rep").await;
    let body = serde_json::json!({"title": "Unscored", "amount": 500, "currency": "EUR"});
    app.client()
        .await
        .create("/api/v1/deals", &token, body)
        .await;
    token
}

#[actix_web::test]
async fn no_rescoring_is_queued_while_no_model_scores() {
    let app = TestApp::new().await;
    unscored_world(&app).await;
    let queued = app
        .count_where(
            "jobs",
            &format!(" WHERE kind = '{}'", scoring::job::CHANGED),
        )
        .await;
    assert_eq!(queued, 0, "a deal write queued rescoring with no model");
}

/// Three open deals from sources the hidden rule weighs apart (scored), by title.
async fn three_scored(app: &TestApp, token: &str) {
    let mut api = app.client().await;
    for source in ["referral", "organic", "paid"] {
        let body = serde_json::json!({"title": source, "amount": 500, "currency": "EUR", "source": source});
        api.create("/api/v1/deals", token, body).await;
    }
    let scored = scoring::scores::score_open(&app.db).await.expect("score");
    assert_eq!(scored, 4, "the three and the first open deal");
}

#[actix_web::test]
async fn the_deal_list_sorts_by_score_and_keeps_those_scored_at_least_the_minimum() {
    let app = TestApp::new().await;
    let (token, _) = scored_world(&app, 53).await;
    three_scored(&app, &token).await;
    let mut api = app.client().await;
    let list = api
        .get_json("/api/v1/deals?status=open&sort=score", &token)
        .await;
    let scores: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| d["score"].as_i64().expect("a score"))
        .collect();
    let mut sorted = scores.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(scores, sorted, "highest score first: {list}");
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().position(|t| *t == "referral") < titles.iter().position(|t| *t == "paid"),
        "a referral outscores a paid lead: {titles:?}"
    );
    let min = scores[1];
    let kept = api
        .titles(
            &format!("/api/v1/deals?status=open&min_score={min}"),
            &token,
        )
        .await;
    let expected = scores.iter().filter(|s| **s >= min).count();
    assert_eq!(
        kept.len(),
        expected,
        "scores {scores:?}, at least {min}: {kept:?}"
    );
}

#[actix_web::test]
async fn a_minimum_score_outside_0_to_100_is_refused() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut api = app.client().await;
    let res = api
        .api(
            actix_web::http::Method::GET,
            "/api/v1/deals?min_score=150",
            &token,
            None,
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let json = res.json();
    assert!(json["error"]["fields"]["min_score"].is_string(), "{json}");
}

#[actix_web::test]
async fn board_cards_and_the_deal_list_show_each_open_deal_s_score() {
    let app = TestApp::new().await;
    let (token, _) = scored_world(&app, 59).await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let unscored = c.get("/deals").await.text();
    assert!(!unscored.contains("badge score"), "nothing scored yet");
    three_scored(&app, &token).await;
    let mut api = app.client().await;
    let list = api.get_json("/api/v1/deals?status=open", &token).await;
    let first = list["items"][0]["score"].as_i64().expect("a score");
    let badge = format!(
        "<span class=\"badge score\" title=\"Deal score: its chance to win\">{first}%</span>"
    );
    let board = c.get("/deals").await.text();
    assert_eq!(
        board.matches("class=\"badge score\"").count(),
        4,
        "four scored cards"
    );
    assert!(board.contains(&badge), "the board shows {first}%");
    let table = c.get("/deals/list?status=open").await.text();
    assert!(table.contains(&badge), "the deal list shows {first}%");
}

#[actix_web::test]
async fn the_forecast_adds_a_scored_figure_the_sum_of_amount_times_score() {
    let app = TestApp::new().await;
    let (token, _) = scored_world(&app, 61).await;
    let mut api = app.client().await;
    let before = &api.get_json("/api/v1/reports/forecast", &token).await["total"]["values"][0];
    assert_eq!(
        before["scored_minor"], before["weighted_minor"],
        "not scored yet: {before}"
    );
    three_scored(&app, &token).await;
    let report = api.get_json("/api/v1/reports/forecast", &token).await;
    assert_eq!(report["scored"], true, "{report}");
    let scores = deal_score::Entity::find()
        .all(&app.db.read)
        .await
        .expect("scores");
    let expected: f64 = scores.iter().map(|s| 500.0 * s.probability).sum();
    let total = &report["total"]["values"][0];
    assert_eq!(total["currency"], "EUR", "{report}");
    assert_eq!(
        total["scored_minor"].as_i64(),
        Some(expected.round() as i64),
        "{report}"
    );
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let csv = c.get("/reports/forecast.csv").await.text();
    assert!(
        csv.starts_with("line,count,currency,amount,weighted,scored\r\n"),
        "{csv}"
    );
}

#[actix_web::test]
async fn the_forecast_has_no_scored_figure_while_no_model_scores() {
    let app = TestApp::new().await;
    let token = unscored_world(&app).await;
    let mut api = app.client().await;
    let report = api.get_json("/api/v1/reports/forecast", &token).await;
    assert_eq!(report["scored"], false, "{report}");
    let total = &report["total"]["values"][0];
    assert!(total.get("scored_minor").is_none(), "{report}");
}

#[actix_web::test]
async fn cairn_score_deal_scores_one_deal_and_says_how_long_it_took() {
    let app = TestApp::new().await;
    let (_, id) = scored_world(&app, 67).await;
    let out = crate::cli::stdout_of(&app.url, &["score", "deal", &id.to_string()]);
    let stored = deal_score::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("the deal is scored");
    let percent = (stored.probability * 100.0).round() as i64;
    assert!(
        out.starts_with(&format!("deal {id}: {percent}% (model 1;")),
        "{out}"
    );
    assert!(out.contains(" ms, scored and stored in "), "{out}");
}

#[actix_web::test]
async fn a_deal_moved_to_the_trash_loses_its_score_within_seconds() {
    let app = TestApp::new().await;
    let (_, id) = scored_world(&app, 73).await;
    let running = runner(&app);
    score_when(&app, id, "appeared", |s| s.is_some()).await;
    let admin = app.api_user("admin").await;
    app.client().await.trash("deals", id, &admin).await;
    score_when(&app, id, "went", |s| s.is_none()).await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

/// A trained model, companies Keep and Lose, and a scored deal at Lose; then `change`
/// (through the API, with an admin's token, Keep's id and Lose's) must get the deal
/// scored again within seconds.
async fn rescored_after_a_company_change(
    seed: u64,
    change: impl AsyncFnOnce(&TestApp, &str, i64, i64),
) {
    let app = TestApp::new().await;
    scored_world(&app, seed).await;
    let admin = app.api_user("admin").await;
    let mut api = app.client().await;
    let keep = api.add_company(&admin, "Keep").await;
    let lose = api.add_company(&admin, "Lose").await;
    let body = serde_json::json!({"title": "Lose deal", "amount": 500, "currency": "EUR", "company_id": lose});
    let id = api.create("/api/v1/deals", &admin, body).await;
    let running = runner(&app);
    let first = score_when(&app, id, "appeared", |s| s.is_some())
        .await
        .expect("a score");
    change(&app, &admin, keep, lose).await;
    score_when(&app, id, "was scored again", |s| {
        s.is_some_and(|s| s.scored_at > first.scored_at)
    })
    .await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_company_s_new_industry_rescores_its_deals_within_seconds() {
    rescored_after_a_company_change(79, async |app, admin, _, lose| {
        let patch = serde_json::json!({"industry": "software"});
        let path = format!("/api/v1/companies/{lose}");
        let mut api = app.client().await;
        api.api_ok(actix_web::http::Method::PATCH, &path, admin, Some(patch))
            .await;
    })
    .await;
}

#[actix_web::test]
async fn a_deal_of_a_company_merged_into_another_is_scored_again() {
    rescored_after_a_company_change(83, async |app, admin, keep, lose| {
        let merge = format!("/api/v1/companies/{keep}/merge");
        let body = serde_json::json!({"merge_id": lose});
        let mut api = app.client().await;
        api.api_ok(actix_web::http::Method::POST, &merge, admin, Some(body))
            .await;
    })
    .await;
}

#[actix_web::test]
async fn a_model_switched_in_scores_the_open_deals_within_seconds() {
    let app = TestApp::new().await;
    let (_, id) = scored_world(&app, 89).await;
    closed_deals(&app, 300, 97, false).await;
    let second = scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("train again");
    let (scoring_now, other) = match second.status.as_str() {
        "active" => (second.version, 1),
        _ => (1, second.version),
    };
    scoring::scores::score_open(&app.db).await.expect("score");
    score_when(&app, id, "came from the model scoring", |s| {
        s.is_some_and(|s| s.model_version == scoring_now)
    })
    .await;
    let running = runner(&app);
    scoring::activate(&app.db, None, cairn::domain::scoring::Kind::Deal, other)
        .await
        .expect("switch in");
    score_when(&app, id, "came from the model switched in", |s| {
        s.is_some_and(|s| s.model_version == other)
    })
    .await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
}
