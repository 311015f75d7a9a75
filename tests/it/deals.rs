//! Deals: stage rules, won/lost bookkeeping, versions that refuse lost updates, history.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

async fn stages(
    c: &mut Client<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    token: &str,
) -> Vec<(i64, String)> {
    let p = c
        .api(Method::GET, "/api/v1/pipelines", token, None)
        .await
        .json();
    p[0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The id of the stage called `name` among `stages`.
fn id_of(stages: &[(i64, String)], name: &str) -> i64 {
    stages
        .iter()
        .find(|(_, n)| n == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
        .0
}

/// A deal created through the API; its JSON. Anything but success fails the test.
async fn new_deal(
    c: &mut Client<impl TestService>,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    c.api_ok(Method::POST, "/api/v1/deals", token, Some(body))
        .await
        .json()
}

/// A move of deal `id` through the API; its answer.
async fn move_deal(
    c: &mut Client<impl TestService>,
    token: &str,
    id: i64,
    body: serde_json::Value,
) -> Response {
    let path = format!("/api/v1/deals/{id}/move");
    c.api(Method::POST, &path, token, Some(body)).await
}

/// Moves deal `id` as `body` says (anything but a 200 fails); the first pipeline's deal
/// titles in the board's order after it.
async fn moved(
    c: &mut Client<impl TestService>,
    token: &str,
    id: i64,
    body: serde_json::Value,
) -> Vec<String> {
    let res = move_deal(c, token, id, body).await;
    assert_eq!(res.status, 200, "the move: {}", res.text());
    c.titles("/api/v1/deals?sort=stage", token).await
}

/// The rep the tests' boards are read as (the first user made).
fn rep_actor() -> cairn::domain::Actor {
    cairn::domain::Actor {
        id: 1,
        name: String::new(),
        email: String::new(),
        role: cairn::domain::Role::Rep,
        ip: None,
    }
}

/// The first pipeline's board as the domain builds it (or its cache serves it).
async fn board_of(app: &TestApp) -> std::sync::Arc<cairn::domain::deals::Board> {
    cairn::domain::deals::board(&app.db, &rep_actor(), &Default::default())
        .await
        .expect("the board")
}

/// A rep's token, a client, and the first pipeline's stages.
async fn rep_and_stages(app: &TestApp) -> (String, Client<impl TestService>, Vec<(i64, String)>) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    (token, c, st)
}

#[actix_web::test]
async fn a_new_install_has_a_sales_pipeline_of_four_open_stages_won_and_lost() {
    let app = TestApp::new().await;
    let (_, _, st) = rep_and_stages(&app).await;
    let names: Vec<&str> = st.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Lead",
            "Qualified",
            "Proposal",
            "Negotiation",
            "Won",
            "Lost"
        ]
    );
}

#[actix_web::test]
async fn a_new_deal_starts_in_the_first_stage_with_its_probability_and_contacts() {
    let app = TestApp::new().await;
    let (token, mut c, _) = rep_and_stages(&app).await;
    let ana = c.add_contact(&token, "Ana", "S", "ana@example.com").await;
    let body = json!({"title": "Acme pilot", "amount": 1250000, "currency": "eur", "contact_ids": [ana], "expected_close": "2026-12-31"});
    let res = c
        .api(Method::POST, "/api/v1/deals", &token, Some(body))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let deal = res.json();
    assert_eq!(deal["stage"], "Lead", "the first stage by default");
    assert_eq!(deal["currency"], "EUR");
    assert_eq!(deal["probability"], 10, "from the stage");
    assert_eq!(deal["contacts"][0]["name"], "Ana S");
    assert_eq!(deal["version"], 1);
}

#[actix_web::test]
async fn a_deal_with_a_bad_field_is_422_naming_it() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    for (body, field) in [
        (json!({"title": "X", "amount": -5}), "amount"),
        (json!({"title": "X", "amount": 12.5}), "amount"),
        (json!({"title": "X", "currency": "XYZ"}), "currency"),
        (
            json!({"title": "X", "expected_close": "next week"}),
            "expected_close",
        ),
        (json!({"title": "X", "stage_id": 999999}), "stage_id"),
        (json!({"title": "X", "probability": 120}), "probability"),
        (json!({"title": "", "amount": 1}), "title"),
        (
            json!({"title": "X", "stage_id": id_of(&st, "Lost")}),
            "lost_reason",
        ),
    ] {
        let res = c
            .api(Method::POST, "/api/v1/deals", &token, Some(body.clone()))
            .await;
        assert_eq!(res.status, 422, "{body}");
        assert!(
            res.json()["error"]["fields"][field].is_string(),
            "{body}: {}",
            res.text()
        );
    }
}

#[actix_web::test]
async fn a_deal_moved_to_won_is_closed_and_to_lost_needs_a_reason() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    let id = new_deal(&mut c, &token, json!({"title": "Acme pilot"})).await["id"]
        .as_i64()
        .unwrap();
    let body = json!({"stage_id": id_of(&st, "Won"), "version": 1});
    let won = move_deal(&mut c, &token, id, body).await;
    assert_eq!(won.status, 200, "{}", won.text());
    assert!(won.json()["closed_at"].is_string());
    let body = json!({"stage_id": id_of(&st, "Lost"), "version": 2});
    let res = move_deal(&mut c, &token, id, body).await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["lost_reason"].is_string());
    let body = json!({"stage_id": id_of(&st, "Lost"), "version": 2, "lost_reason": "Budget cut"});
    let lost = move_deal(&mut c, &token, id, body).await;
    assert_eq!(lost.status, 200, "{}", lost.text());
    assert_eq!(lost.json()["lost_reason"], "Budget cut");
}

/// A deal moved to Won, then Lost (Budget cut), then back to Proposal; its id and the
/// last move's answer.
async fn won_lost_and_reopened(
    c: &mut Client<impl TestService>,
    token: &str,
    st: &[(i64, String)],
) -> (i64, serde_json::Value) {
    let id = new_deal(c, token, json!({"title": "Acme pilot"})).await["id"]
        .as_i64()
        .unwrap();
    let mut last = serde_json::Value::Null;
    for (version, body) in [
        json!({"stage_id": id_of(st, "Won")}),
        json!({"stage_id": id_of(st, "Lost"), "lost_reason": "Budget cut"}),
        json!({"stage_id": id_of(st, "Proposal")}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = body;
        body["version"] = json!(version + 1);
        let path = format!("/api/v1/deals/{id}/move");
        last = c
            .api_ok(Method::POST, &path, token, Some(body))
            .await
            .json();
    }
    (id, last)
}

#[actix_web::test]
async fn a_closed_deal_moved_back_to_an_open_stage_is_reopened() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    let (_, reopened) = won_lost_and_reopened(&mut c, &token, &st).await;
    assert_eq!(reopened["closed_at"], serde_json::Value::Null);
    assert_eq!(reopened["lost_reason"], serde_json::Value::Null);
    assert_eq!(reopened["version"], 4);
}

/// Every move is kept: from, to, who, when.
#[actix_web::test]
async fn every_move_of_a_deal_is_kept_in_its_history() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    let (id, _) = won_lost_and_reopened(&mut c, &token, &st).await;
    let history = c
        .get_json(&format!("/api/v1/deals/{id}/stage-changes"), &token)
        .await;
    let steps: Vec<(serde_json::Value, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["from_stage"].clone(),
                h["to_stage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(steps.len(), 4, "created, won, lost, reopened: {steps:?}");
    assert_eq!(steps[0], (serde_json::Value::Null, "Lead".to_string()));
    assert_eq!(steps[3], (json!("Lost"), "Proposal".to_string()));
    assert_eq!(history[1]["user_name"], "rep rep-api@example.com");
}

/// A second pipeline, Partners, with one stage, Intro (written straight to the
/// database); Intro's id.
async fn partners_intro(app: &TestApp, c: &mut Client<impl TestService>, token: &str) -> i64 {
    exec(&app.db, "INSERT INTO pipelines (name, position, created_at) VALUES ('Partners', 1, '2026-01-01 00:00:00+00:00')").await;
    exec(&app.db, "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) SELECT id, 'Intro', 0, 10, 'open' FROM pipelines WHERE name = 'Partners'").await;
    c.get_json("/api/v1/pipelines", token).await[1]["stages"][0]["id"]
        .as_i64()
        .expect("Intro's id")
}

#[actix_web::test]
async fn a_deal_cannot_move_to_a_stage_of_another_pipeline() {
    let app = TestApp::new().await;
    let (token, mut c, _) = rep_and_stages(&app).await;
    let other = partners_intro(&app, &mut c, &token).await;
    let id = new_deal(&mut c, &token, json!({"title": "Acme pilot"})).await["id"]
        .as_i64()
        .unwrap();
    let body = json!({"stage_id": other, "version": 1});
    let res = move_deal(&mut c, &token, id, body).await;
    assert_eq!(res.status, 422, "{}", res.text());
}

/// A new deal given only a stage goes to that stage's pipeline; naming another pipeline
/// as well is refused.
#[actix_web::test]
async fn a_new_deal_given_a_stage_goes_to_its_pipeline_and_naming_another_is_refused() {
    let app = TestApp::new().await;
    let (token, mut c, _) = rep_and_stages(&app).await;
    let other = partners_intro(&app, &mut c, &token).await;
    let body = json!({"title": "Reseller", "stage_id": other});
    let res = c
        .api(Method::POST, "/api/v1/deals", &token, Some(body))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["stage"], "Intro");
    let sales = c.get_json("/api/v1/pipelines", &token).await[0]["id"].clone();
    let body = json!({"title": "Reseller", "stage_id": other, "pipeline_id": sales});
    let res = c
        .api(Method::POST, "/api/v1/deals", &token, Some(body))
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["stage_id"].is_string());
}

#[actix_web::test]
async fn a_change_from_a_stale_version_is_refused_and_nothing_is_overwritten() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    let deal = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &token,
            Some(json!({"title": "Globex renewal", "amount": 500000})),
        )
        .await
        .json();
    let id = deal["id"].as_i64().unwrap();
    // Two people opened version 1. The first saves.
    let first = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(json!({"version": 1, "amount": 750000})),
        )
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.json()["version"], 2);
    // The second, still on version 1, gets 409 with the current state named.
    let second = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(json!({"version": 1, "amount": 100})),
        )
        .await;
    assert_eq!(second.status, 409);
    assert!(
        second.json()["error"]["fields"]["version"]
            .as_str()
            .unwrap()
            .contains("version 2")
    );
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": st[1].0, "version": 1})),
        )
        .await;
    assert_eq!(res.status, 409);
    let now = c
        .api(Method::GET, &format!("/api/v1/deals/{id}"), &token, None)
        .await
        .json();
    assert_eq!(now["amount"], 750000, "the first change stands");
    assert_eq!(now["stage"], "Lead");

    // Moving a deal someone deleted is a 404 that says so.
    assert_eq!(
        c.api(Method::DELETE, &format!("/api/v1/deals/{id}"), &token, None)
            .await
            .status,
        204
    );
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": st[1].0, "version": 2})),
        )
        .await;
    assert_eq!(res.status, 404);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer exists")
    );
}

/// Three USD deals: A (1 000.00) and B (2 000.00) in Lead, C (4 000.00) in Proposal.
async fn a_b_and_c(c: &mut Client<impl TestService>, token: &str, st: &[(i64, String)]) {
    for (title, amount, stage) in [
        ("A", 100000, st[0].0),
        ("B", 200000, st[0].0),
        ("C", 400000, st[2].0),
    ] {
        let body = json!({"title": title, "amount": amount, "currency": "USD", "stage_id": stage});
        new_deal(c, token, body).await;
    }
}

#[actix_web::test]
async fn the_board_counts_and_sums_each_column_and_forecasts_by_probability() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    a_b_and_c(&mut c, &token, &st).await;
    let board = board_of(&app).await;
    assert_eq!(board.columns[0].count, 2);
    assert_eq!(board.columns[0].sums["USD"], 300000);
    assert_eq!(board.columns[2].count, 1);
    // Lead 10%, Proposal 50%: 30 000 + 200 000 cents.
    assert_eq!(board.forecast["USD"], 230000);
}

/// Positions: moving C to the top of Lead puts it first.
#[actix_web::test]
async fn a_deal_moved_to_the_top_of_a_stage_comes_first_in_the_boards_order() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    a_b_and_c(&mut c, &token, &st).await;
    let list = c.get_json("/api/v1/deals", &token).await;
    let cid = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "C")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let body = json!({"stage_id": st[0].0, "position": 0, "version": 1});
    let res = move_deal(&mut c, &token, cid, body).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        c.titles("/api/v1/deals?sort=stage", &token).await,
        ["C", "A", "B"],
        "the board's order"
    );
}

/// The API pages like every other list, with the sums of every match.
#[actix_web::test]
async fn the_deal_api_pages_and_filters_with_the_total_and_sums_of_every_match() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    a_b_and_c(&mut c, &token, &st).await;
    assert_eq!(c.get_json("/api/v1/deals", &token).await["total"], 3);
    let page = c
        .get_json(
            "/api/v1/deals?sort=amount&dir=desc&per_page=2&page=2",
            &token,
        )
        .await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 2);
    assert_eq!(page["sums"]["USD"], 700000);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["title"], "A", "the smallest comes last");
    let won = c.get_json("/api/v1/deals?status=won", &token).await;
    assert_eq!(won["total"], 0, "none is won");
}

#[actix_web::test]
async fn the_deal_api_refuses_an_unknown_close_month_and_an_oversized_page() {
    let app = TestApp::new().await;
    let (token, mut c, _) = rep_and_stages(&app).await;
    let res = c
        .api(Method::GET, "/api/v1/deals?close_month=soon", &token, None)
        .await;
    assert_eq!(res.status, 422, "close_month=soon: {}", res.text());
    let res = c
        .api(
            Method::GET,
            "/api/v1/deals?status=open&per_page=500",
            &token,
            None,
        )
        .await;
    assert_eq!(res.status, 422, "per_page=500: {}", res.text());
    assert!(res.json()["error"]["fields"]["per_page"].is_string());
}

/// A rep's token and their client signed in on the board, which shows "Board card"
/// (USD 9 900.00, in Lead); the stages and the card's id.
async fn rep_on_the_board(
    app: &TestApp,
) -> (String, Client<impl TestService>, Vec<(i64, String)>, i64) {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    let st = stages(&mut c, &token).await;
    let deal = new_deal(
        &mut c,
        &token,
        json!({"title": "Board card", "amount": 990000}),
    )
    .await;
    let page = c.get("/deals").await;
    assert_eq!(page.status, 200, "the board: {}", page.text());
    (token, c, st, deal["id"].as_i64().unwrap())
}

/// A card's move as the board's htmx sends it (the stage picker, or a drag), with the
/// CSRF token the board gave.
async fn hx_move(c: &mut Client<impl TestService>, id: i64, fields: &str) -> Response {
    let csrf = c.csrf.clone().expect("the board's CSRF token");
    c.send(
        actix_web::test::TestRequest::post()
            .uri(&format!("/deals/{id}/move"))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .insert_header(("HX-Request", "true"))
            .insert_header(("HX-Current-URL", "http://localhost/deals"))
            .set_payload(format!("_csrf={csrf}&{fields}")),
    )
    .await
}

#[actix_web::test]
async fn the_board_page_shows_cards_with_amounts_every_stage_and_the_forecast() {
    let app = TestApp::new().await;
    let (_, mut c, _, _) = rep_on_the_board(&app).await;
    let page = c.get("/deals").await.text();
    assert!(
        page.contains("Board card")
            && page.contains("USD 9,900.00")
            && page.contains("Weighted forecast")
    );
    assert!(page.contains("aria-label=\"Lead\"") && page.contains("aria-label=\"Lost\""));
}

/// The card's stage picker (what drag and drop sends too), as htmx: the board comes back.
#[actix_web::test]
async fn a_card_moved_on_the_board_answers_with_the_board_and_the_move_is_in_the_history() {
    let app = TestApp::new().await;
    let (token, mut c, st, id) = rep_on_the_board(&app).await;
    let res = hx_move(
        &mut c,
        id,
        &format!("stage_id={}&version=1&position=0", st[3].0),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let board = res.text();
    assert!(board.starts_with("\n<div id=\"board\"") || board.contains("id=\"board\""));
    assert!(!board.contains("<html"));
    let now = c.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    assert_eq!(now["stage"], "Negotiation");
    let show = c.get(&format!("/deals/{id}")).await.text();
    assert!(
        show.contains("Lead → Negotiation"),
        "the history shows the move"
    );
}

/// A stale move is refused as a toast, and nothing changes.
#[actix_web::test]
async fn a_stale_card_move_is_refused_as_a_toast_and_changes_nothing() {
    let app = TestApp::new().await;
    let (token, mut c, st, id) = rep_on_the_board(&app).await;
    let res = hx_move(&mut c, id, &format!("stage_id={}&version=1", st[3].0)).await;
    assert_eq!(res.status, 200, "the first move: {}", res.text());
    let res = hx_move(&mut c, id, &format!("stage_id={}&version=1", st[0].0)).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.header("hx-reswap").as_deref(), Some("none"));
    let now = c.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    assert_eq!(now["stage"], "Negotiation");
}

#[actix_web::test]
async fn the_new_deal_form_takes_amounts_with_separators_and_refuses_a_third_decimal() {
    let app = TestApp::new().await;
    let (token, mut c, st, _) = rep_on_the_board(&app).await;
    c.get("/deals/new").await;
    let lead = st[0].0.to_string();
    let fields = [
        ("title", "Form deal"),
        ("amount", "1,250.50"),
        ("currency", "EUR"),
        ("stage_id", lead.as_str()),
    ];
    let res = c.post_form("/deals", &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let fields = [("title", "Bad"), ("amount", "12.345"), ("currency", "EUR")];
    let res = c.post_form("/deals", &fields).await;
    assert_eq!(res.status, 422, "three decimals");
    let list = c.get_json("/api/v1/deals", &token).await;
    let form_deal = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Form deal")
        .expect("the form's deal is listed")
        .clone();
    assert_eq!(form_deal["amount"], 125050);
    assert_eq!(form_deal["currency"], "EUR");
}

/// Deleted from its page; a board still showing it gets a 404 with a message when the
/// card is moved (the board then re-renders without it).
#[actix_web::test]
async fn a_deal_deleted_from_its_page_is_a_404_to_a_board_still_showing_it() {
    let app = TestApp::new().await;
    let (_, mut c, st, id) = rep_on_the_board(&app).await;
    let board_csrf = c.csrf.clone();
    c.get(&format!("/deals/{id}")).await;
    let res = c.post_form(&format!("/deals/{id}/delete"), &[]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/deals");
    assert!(
        c.get("/deals")
            .await
            .text()
            .contains("Board card was deleted.")
    );
    c.csrf = board_csrf;
    let res = hx_move(&mut c, id, &format!("stage_id={}&version=1", st[1].0)).await;
    assert_eq!(res.status, 404);
    assert!(res.text().contains("no longer exists"), "{}", res.text());
    assert_eq!(
        c.get(&format!("/deals/{id}")).await.status,
        404,
        "gone from its page too"
    );
}

/// A rep's token and a client, with companies Acme and Acme Inc, contacts Ana and her
/// duplicate, and the deal Rocket skates at Acme Inc with the duplicate; the ids (Acme,
/// Acme Inc, Ana, the duplicate, the deal).
async fn rocket_skates(app: &TestApp) -> (String, Client<impl TestService>, [i64; 5]) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let keep = c.add_company(&token, "Acme").await;
    let lose = c.add_company(&token, "Acme Inc").await;
    let ana = c.add_contact(&token, "Ana", "S", "ana@example.com").await;
    let dup = c.add_contact(&token, "Ana", "S", "ana2@example.com").await;
    let body = json!({"title": "Rocket skates", "company_id": lose, "contact_ids": [dup]});
    let deal = c.add("deals", &token, body).await;
    (token, c, [keep, lose, ana, dup, deal])
}

#[actix_web::test]
async fn deals_show_in_search() {
    let app = TestApp::new().await;
    let (token, mut c, [.., deal]) = rocket_skates(&app).await;
    let r = c.get_json("/api/v1/search?q=rocket", &token).await;
    assert_eq!(r["deals"][0]["id"], deal, "{r}");
}

/// Merges move deals along, and the company page shows them.
#[actix_web::test]
async fn deals_follow_company_and_contact_merges() {
    let app = TestApp::new().await;
    let (token, mut c, [keep, lose, ana, dup, deal]) = rocket_skates(&app).await;
    c.api_ok(
        Method::POST,
        &format!("/api/v1/companies/{keep}/merge"),
        &token,
        Some(json!({"merge_id": lose})),
    )
    .await;
    c.api_ok(
        Method::POST,
        &format!("/api/v1/contacts/{ana}/merge"),
        &token,
        Some(json!({"merge_id": dup})),
    )
    .await;
    let d = c
        .api(Method::GET, &format!("/api/v1/deals/{deal}"), &token, None)
        .await
        .json();
    assert_eq!(d["company_id"], keep);
    assert_eq!(d["contacts"][0]["id"], ana);
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let page = c.get(&format!("/companies/{keep}")).await.text();
    assert!(page.contains("Rocket skates"));
}

#[actix_web::test]
async fn the_deal_list_sorts_filters_pages_and_totals_every_match() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    let won = st.iter().find(|(_, n)| n == "Won").unwrap().0;
    for i in 0..55 {
        let body =
            json!({"title": format!("Deal {i:02}"), "amount": (i + 1) * 100, "currency": "EUR"});
        let res = c
            .api(Method::POST, "/api/v1/deals", &token, Some(body))
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    c.api_ok(
        Method::POST,
        "/api/v1/deals",
        &token,
        Some(json!({"title": "Zeta won", "amount": 999, "currency": "USD", "stage_id": won})),
    )
    .await;

    let mut web = app.client().await;
    web.sign_in("rep@example.com", PASSWORD).await;
    let page = web.get("/deals/list?sort=amount&dir=desc").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("<strong>56</strong> deals"),
        "every match counted"
    );
    assert!(
        html.contains("EUR 1,540.00 + USD 9.99"),
        "sums of every match per currency"
    );
    assert!(html.contains("aria-sort=\"descending\""));
    let first = html.find("Deal 54").expect("the largest first");
    assert!(html.find("Deal 53").unwrap() > first);
    assert!(!html.contains("Deal 00"), "page 1 holds 50");
    assert!(html.contains("Page 1 of 2"));
    let page2 = web
        .get("/deals/list?sort=amount&dir=desc&page=2")
        .await
        .text();
    assert!(page2.contains("Deal 00"));

    let won_only = web.hx_get("/deals/list?status=won").await;
    assert_eq!(won_only.status, 200);
    let html = won_only.text();
    assert!(!html.contains("<html"), "htmx gets the table only");
    assert!(html.contains("Zeta won") && !html.contains("Deal 01"));
    assert!(html.contains("<strong>1</strong> deal "));

    for bad in [
        "sort=colour",
        "dir=sideways",
        "status=maybe",
        "page=0",
        "min_amount=lots",
    ] {
        let res = web.get(&format!("/deals/list?{bad}")).await;
        assert_eq!(res.status, 422, "{bad}");
    }
}

#[actix_web::test]
async fn the_edit_page_shows_a_colleagues_change_instead_of_overwriting_it() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    app.user("ana@example.com", "rep").await;
    let id = c_create(&app, &token).await;

    let mut ana = app.client().await;
    ana.sign_in("ana@example.com", PASSWORD).await;
    let form = ana.get(&format!("/deals/{id}/edit")).await;
    assert_eq!(form.status, 200);
    let html = form.text();
    assert!(html.contains("value=\"Acme pilot\""));
    assert!(html.contains("name=\"version\" value=\"1\""));
    assert!(html.contains("value=\"12500.00\""), "amount in major units");

    // A colleague renames it through the API meanwhile.
    let mut api = app.client().await;
    let res = api
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(json!({"title": "Acme pilot (signed)", "version": 1})),
        )
        .await;
    assert_eq!(res.status, 200);

    let fields = [
        ("title", "Acme pilot, bigger"),
        ("amount", "20000"),
        ("currency", "EUR"),
        ("expected_close", "2027-01-31"),
        ("version", "1"),
    ];
    let res = ana.post_form(&format!("/deals/{id}"), &fields).await;
    assert_eq!(res.status, 409, "{}", res.text());
    let html = res.text();
    assert!(html.contains("Acme pilot (signed)"), "theirs is shown");
    assert!(
        html.contains("value=\"Acme pilot, bigger\""),
        "mine stays in the form"
    );
    assert!(html.contains("name=\"version\" value=\"2\""));
    let now = api
        .api(Method::GET, &format!("/api/v1/deals/{id}"), &token, None)
        .await
        .json();
    assert_eq!(
        now["title"], "Acme pilot (signed)",
        "nothing was overwritten"
    );

    // Saving again is a deliberate choice to replace theirs.
    let again = [
        ("title", "Acme pilot, bigger"),
        ("amount", "20000"),
        ("currency", "EUR"),
        ("expected_close", "2027-01-31"),
        ("version", "2"),
    ];
    let res = ana.post_form(&format!("/deals/{id}"), &again).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let now = api
        .api(Method::GET, &format!("/api/v1/deals/{id}"), &token, None)
        .await
        .json();
    assert_eq!(now["title"], "Acme pilot, bigger");
    assert_eq!(now["amount"], 2000000);
    assert_eq!(now["version"], 3);

    let bad = [("title", "X"), ("amount", "12,5.5.5"), ("version", "3")];
    let res = ana.post_form(&format!("/deals/{id}"), &bad).await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("value=\"12,5.5.5\""),
        "the input is kept"
    );
}

async fn c_create(app: &TestApp, token: &str) -> i64 {
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/deals",
            token,
            Some(json!({"title": "Acme pilot", "amount": 1250000, "currency": "USD"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

/// A rep's token and client, with Initech and its deal Renewal (USD 50.00, in Lead);
/// Initech's id and the deal's JSON.
async fn initech_renewal(
    app: &TestApp,
) -> (String, Client<impl TestService>, i64, serde_json::Value) {
    let (token, mut c, st) = rep_and_stages(app).await;
    let company = c.add_company(&token, "Initech").await;
    let body = json!({"title": "Renewal", "amount": 5000, "currency": "USD",
                      "stage_id": st[0].0, "company_id": company});
    let deal = new_deal(&mut c, &token, body).await;
    (token, c, company, deal)
}

/// The same database opened again, as another `cairn serve` process sharing it would.
async fn other_process(app: &TestApp) -> cairn::domain::Db {
    cairn::domain::Db::connect(&app.url)
        .await
        .expect("a second pool")
}

/// The first card of the board's first column.
async fn first_card(app: &TestApp) -> cairn::domain::deals::Card {
    board_of(app).await.columns[0].cards[0].clone()
}

#[actix_web::test]
async fn an_unchanged_board_is_served_from_the_cache() {
    let app = TestApp::new().await;
    initech_renewal(&app).await;
    let first = board_of(&app).await;
    let again = board_of(&app).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "an unchanged board is served from the cache"
    );
}

/// The board is cached per filter until the trigger-kept counter moves; a second
/// connection pool stands in for another `cairn serve` process sharing the database.
#[actix_web::test]
async fn the_cached_board_shows_another_processs_edits_to_a_card() {
    let app = TestApp::new().await;
    let (_, _, _, deal) = initech_renewal(&app).await;
    board_of(&app).await;
    let other = other_process(&app).await;
    exec(
        &other,
        "UPDATE companies SET name = 'Initrode' WHERE name = 'Initech'",
    )
    .await;
    assert_eq!(first_card(&app).await.company.as_deref(), Some("Initrode"));
    let sql = format!(
        "UPDATE users SET name = 'Milton' WHERE id = {}",
        deal["owner_id"]
    );
    exec(&other, &sql).await;
    assert_eq!(first_card(&app).await.owner_name, "Milton");
    exec(
        &other,
        "UPDATE deals SET title = 'Upsell', amount_minor = 7000",
    )
    .await;
    let b = board_of(&app).await;
    assert_eq!(b.columns[0].cards[0].title, "Upsell");
    assert_eq!(b.columns[0].sums["USD"], 7000);
    exec(
        &other,
        "UPDATE pipeline_stages SET name = 'Inbox' WHERE name = 'Lead'",
    )
    .await;
    assert_eq!(board_of(&app).await.columns[0].stage.name, "Inbox");
}

#[actix_web::test]
async fn the_cached_board_drops_deals_another_process_deletes() {
    let app = TestApp::new().await;
    initech_renewal(&app).await;
    assert_eq!(board_of(&app).await.columns[0].count, 1);
    exec(&other_process(&app).await, "DELETE FROM deals").await;
    assert_eq!(board_of(&app).await.columns[0].count, 0);
}

/// A counter only other tables move (a company's contact count) keeps the cache.
#[actix_web::test]
async fn a_write_the_board_does_not_show_keeps_its_cache() {
    let app = TestApp::new().await;
    let (token, mut c, company, _) = initech_renewal(&app).await;
    let kept = board_of(&app).await;
    let body = json!({"first_name": "Ann", "last_name": "Lee", "company_id": company});
    c.api_ok(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert!(std::sync::Arc::ptr_eq(&kept, &board_of(&app).await));
}

/// The deal table (the first page, as the domain builds it or its cache serves it).
async fn deal_table(app: &TestApp) -> std::sync::Arc<cairn::domain::deals::DealTable> {
    let lq =
        cairn::domain::deals::ListQuery::new(Default::default(), None, None, None, None).unwrap();
    cairn::domain::deals::list(&app.db, &rep_actor(), &lq)
        .await
        .expect("the deal table")
}

/// The deal table is kept under the same counter.
#[actix_web::test]
async fn the_cached_deal_table_shows_another_processs_company_rename() {
    let app = TestApp::new().await;
    initech_renewal(&app).await;
    let first = deal_table(&app).await;
    assert!(std::sync::Arc::ptr_eq(&first, &deal_table(&app).await));
    assert_eq!(first.items[0].company.as_deref(), Some("Initech"));
    exec(
        &other_process(&app).await,
        "UPDATE companies SET name = 'Initrode' WHERE name = 'Initech'",
    )
    .await;
    let now = deal_table(&app).await;
    assert_eq!(now.items[0].company.as_deref(), Some("Initrode"));
    assert_eq!(now.total, 1);
}

/// Renewal with Ann Lee on it, and Bo Free on no deal; Renewal's id.
async fn renewal_with_ann(app: &TestApp) -> i64 {
    let (token, mut c, _, deal) = initech_renewal(app).await;
    let ann = c
        .add_contact(&token, "Ann", "Lee", "ann@initech.test")
        .await;
    c.add_contact(&token, "Bo", "Free", "bo@initech.test").await;
    let path = format!("/api/v1/deals/{}", deal["id"]);
    let body = json!({"contact_ids": [ann]});
    c.api_ok(Method::PATCH, &path, &token, Some(body)).await;
    deal["id"].as_i64().unwrap()
}

/// Deal `id`'s row in the deal table.
async fn row_of(app: &TestApp, id: i64) -> cairn::domain::deals::Deal {
    let table = deal_table(app).await;
    table
        .items
        .iter()
        .find(|d| d.id == id)
        .expect("the deal's row")
        .clone()
}

/// Contact names show in the deal table (and the API list built from it): renaming one
/// on a deal retires the cache; renaming one on no deal (and other contact edits) do not.
#[actix_web::test]
async fn the_cached_deal_table_follows_renames_of_the_contacts_on_its_deals_only() {
    let app = TestApp::new().await;
    let listed = renewal_with_ann(&app).await;
    let other = other_process(&app).await;
    let kept = deal_table(&app).await;
    exec(
        &other,
        "UPDATE contacts SET first_name = 'Bob' WHERE last_name = 'Free'",
    )
    .await;
    exec(
        &other,
        "UPDATE contacts SET phone = '555 0100' WHERE last_name = 'Lee'",
    )
    .await;
    assert!(std::sync::Arc::ptr_eq(&kept, &deal_table(&app).await));
    exec(
        &other,
        "UPDATE contacts SET first_name = 'Anna' WHERE last_name = 'Lee'",
    )
    .await;
    assert_eq!(row_of(&app, listed).await.contacts[0].name, "Anna Lee");
}

/// A deleted contact leaves the row (its deal_contacts rows cascade).
#[actix_web::test]
async fn a_contact_another_process_deletes_leaves_the_cached_deal_table() {
    let app = TestApp::new().await;
    let listed = renewal_with_ann(&app).await;
    assert_eq!(row_of(&app, listed).await.contacts.len(), 1);
    exec(
        &other_process(&app).await,
        "DELETE FROM contacts WHERE last_name = 'Lee'",
    )
    .await;
    assert!(row_of(&app, listed).await.contacts.is_empty());
}

/// A deleted company leaves the cards (deals.company_id is set to null by the database).
#[actix_web::test]
async fn a_company_another_process_deletes_leaves_the_cached_board() {
    let app = TestApp::new().await;
    let (_, _, company, _) = initech_renewal(&app).await;
    assert_eq!(first_card(&app).await.company.as_deref(), Some("Initech"));
    let sql = format!("DELETE FROM companies WHERE id = {company}");
    exec(&other_process(&app).await, &sql).await;
    assert_eq!(first_card(&app).await.company, None);
}

/// A rep's token and their client signed in, with Umbrella Corp, Ann Lee and two Bob
/// Stones; Ann's id.
async fn umbrella(app: &TestApp) -> (String, Client<impl TestService>, i64) {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    c.add_company(&token, "Umbrella Corp").await;
    let ann = c
        .add_contact(&token, "Ann", "Lee", "ann@umbrella.test")
        .await;
    for email in ["bob@umbrella.test", "bob2@umbrella.test"] {
        c.create(
            "/api/v1/contacts",
            &token,
            contact_json("Bob", "Stone", email),
        )
        .await;
    }
    (token, c, ann)
}

/// "Umbrella rollout" added from the new-deal form, linked to Umbrella Corp (typed in
/// another case) and Ann, from a referral, at 35 %; the answer.
async fn umbrella_rollout(c: &mut Client<impl TestService>, ann: i64) -> Response {
    c.get("/deals/new").await;
    let ann = format!("Ann Lee (#{ann})");
    let fields = [
        ("title", "Umbrella rollout"),
        ("amount", "5000"),
        ("currency", "USD"),
        ("company", "umbrella corp"),
        ("add_contact", ann.as_str()),
        ("source", "referral"),
        ("probability", "35"),
    ];
    c.post_form("/deals", &fields).await
}

/// The newest deal as the API lists it.
async fn newest_deal(c: &mut Client<impl TestService>, token: &str) -> serde_json::Value {
    c.get_json("/api/v1/deals", token).await["items"][0].clone()
}

/// Suggestions for the pickers.
#[actix_web::test]
async fn the_deal_form_suggests_companies_and_contacts_as_one_types() {
    let app = TestApp::new().await;
    let (_, mut c, ann) = umbrella(&app).await;
    let opts = c.hx_get("/deals/options?company=umbr").await;
    assert_eq!(opts.status, 200);
    assert!(
        opts.text()
            .contains("<option value=\"Umbrella Corp (#1)\">"),
        "{}",
        opts.text()
    );
    let opts = c.hx_get("/deals/options?add_contact=ann").await.text();
    assert!(
        opts.contains(&format!("value=\"Ann Lee (#{ann})\"")),
        "{opts}"
    );
}

#[actix_web::test]
async fn the_new_deal_form_links_company_and_contacts_and_sets_source_and_probability() {
    let app = TestApp::new().await;
    let (token, mut c, ann) = umbrella(&app).await;
    let res = umbrella_rollout(&mut c, ann).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let d = newest_deal(&mut c, &token).await;
    assert_eq!(d["company"], "Umbrella Corp");
    assert_eq!(d["contacts"][0]["id"], ann);
    assert_eq!(d["source"], "referral");
    assert_eq!(d["probability"], 35);
    assert_eq!(d["probability_override"], 35);
}

/// The rollout made from the form (which must succeed); its id.
async fn rollout_id(c: &mut Client<impl TestService>, token: &str, ann: i64) -> i64 {
    let res = umbrella_rollout(c, ann).await;
    assert_eq!(res.status, 303, "the new-deal form: {}", res.text());
    newest_deal(c, token).await["id"].as_i64().unwrap()
}

#[actix_web::test]
async fn the_deal_edit_form_shows_its_company_contacts_source_and_probability() {
    let app = TestApp::new().await;
    let (token, mut c, ann) = umbrella(&app).await;
    let id = rollout_id(&mut c, &token, ann).await;
    let html = c.get(&format!("/deals/{id}/edit")).await.text();
    assert!(html.contains("value=\"Umbrella Corp\""));
    assert!(html.contains(&format!("name=\"contact_ids\" value=\"{ann}\" checked")));
    assert!(html.contains("value=\"referral\""));
    assert!(html.contains("name=\"probability\" value=\"35\""));
}

/// Adding a contact by a name that matches two people, or naming an unknown company, is
/// refused with the reason.
#[actix_web::test]
async fn a_deal_edit_naming_two_contacts_at_once_or_an_unknown_company_is_refused() {
    let app = TestApp::new().await;
    let (token, mut c, ann) = umbrella(&app).await;
    let id = rollout_id(&mut c, &token, ann).await;
    c.get(&format!("/deals/{id}/edit")).await;
    let ann_s = ann.to_string();
    let base = [
        ("title", "Umbrella rollout"),
        ("amount", "5000"),
        ("currency", "USD"),
        ("company", "Umbrella Corp"),
        ("contact_ids", ann_s.as_str()),
        ("source", "referral"),
        ("version", "1"),
    ];
    let mut ambiguous = base.to_vec();
    ambiguous.push(("add_contact", "Bob Stone"));
    let res = c.post_form(&format!("/deals/{id}"), &ambiguous).await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("Several contacts match"),
        "{}",
        res.text()
    );
    assert!(
        res.text().contains("Ann Lee"),
        "the linked contacts stay listed"
    );
    let mut unknown = base.to_vec();
    unknown[3] = ("company", "Nobody Ltd");
    let res = c.post_form(&format!("/deals/{id}"), &unknown).await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("No company is called “Nobody Ltd”"));
}

/// By email works; an empty probability goes back to the stage's; unticking Ann and
/// clearing the company unlink them.
#[actix_web::test]
async fn a_deal_edit_adds_a_contact_by_email_and_unlinks_what_it_clears() {
    let app = TestApp::new().await;
    let (token, mut c, ann) = umbrella(&app).await;
    let id = rollout_id(&mut c, &token, ann).await;
    c.get(&format!("/deals/{id}/edit")).await;
    let save = [
        ("title", "Umbrella rollout"),
        ("amount", "5000"),
        ("currency", "USD"),
        ("company", ""),
        ("add_contact", "BOB2@umbrella.test"),
        ("source", "event"),
        ("probability", ""),
        ("version", "1"),
    ];
    let res = c.post_form(&format!("/deals/{id}"), &save).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let d = c.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    assert!(d["company_id"].is_null());
    let names: Vec<&str> = d["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bob Stone"]);
    assert_eq!(d["source"], "event");
    assert!(d["probability_override"].is_null());
    assert_eq!(d["probability"], 10, "Lead's");
}

#[actix_web::test]
async fn a_deal_edit_with_a_probability_over_100_is_refused_naming_only_that() {
    let app = TestApp::new().await;
    let (token, mut c, ann) = umbrella(&app).await;
    let id = rollout_id(&mut c, &token, ann).await;
    c.get(&format!("/deals/{id}/edit")).await;
    let fields = [
        ("title", "Umbrella rollout"),
        ("amount", "5000"),
        ("currency", "USD"),
        ("probability", "120"),
        ("version", "1"),
    ];
    let res = c.post_form(&format!("/deals/{id}"), &fields).await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("Probability is a whole number from 0 to 100."));
    assert!(
        !html.contains("field-error\">Amount"),
        "only the probability is wrong"
    );
}

#[actix_web::test]
async fn an_amount_beyond_what_sums_can_hold_or_below_zero_is_422() {
    let app = TestApp::new().await;
    let (token, mut c, _) = rep_and_stages(&app).await;
    for amount in [
        json!(9223372036854775807i64),
        json!(10_000_000_000_001i64),
        json!(-1),
    ] {
        let body = json!({"title": "Huge", "amount": amount});
        let res = c
            .api(Method::POST, "/api/v1/deals", &token, Some(body))
            .await;
        assert_eq!(res.status, 422, "{amount}");
        assert!(res.json()["error"]["fields"]["amount"].is_string());
    }
}

/// Four USD deals in Lead, A (the largest amount allowed), B (0.01), C (0.02) and D
/// (0.03), then A moved to a huge index; their ids, in that order. The column reads
/// B, C, D, A.
async fn abcd_with_a_last(c: &mut Client<impl TestService>, token: &str, lead: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    for (title, amount) in [("A", 10_000_000_000_000i64), ("B", 1), ("C", 2), ("D", 3)] {
        let body = json!({"title": title, "amount": amount, "currency": "USD"});
        ids.push(new_deal(c, token, body).await["id"].as_i64().unwrap());
    }
    let body = json!({"stage_id": lead, "version": 1, "position": i64::MAX});
    let res = move_deal(c, token, ids[0], body).await;
    assert_eq!(res.status, 200, "A to a huge index: {}", res.text());
    ids
}

/// A rep with A, B, C and D in the first stage (A moved last): the token, a client, the
/// stages and the four deals' ids.
async fn rep_with_abcd(
    app: &TestApp,
) -> (
    String,
    Client<impl TestService>,
    Vec<(i64, String)>,
    Vec<i64>,
) {
    let (token, mut c, st) = rep_and_stages(app).await;
    let ids = abcd_with_a_last(&mut c, &token, st[0].0).await;
    (token, c, st, ids)
}

/// A huge index is the end of the column, not a broken position.
#[actix_web::test]
async fn a_deal_moved_to_a_huge_index_goes_last() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    abcd_with_a_last(&mut c, &token, st[0].0).await;
    assert_eq!(
        c.titles("/api/v1/deals?sort=stage", &token).await,
        ["B", "C", "D", "A"]
    );
}

/// Right after a neighbour, whatever gaps the positions have.
#[actix_web::test]
async fn a_deal_moved_after_a_neighbour_lands_right_after_it_whatever_the_gaps() {
    let app = TestApp::new().await;
    let (token, mut c, st, ids) = rep_with_abcd(&app).await;
    let lead = st[0].0;
    exec(
        &app.db,
        &format!("UPDATE deals SET position = position * 10 WHERE stage_id = {lead}"),
    )
    .await;
    let body = json!({"stage_id": lead, "version": 1, "after_id": ids[2]});
    assert_eq!(
        moved(&mut c, &token, ids[1], body).await,
        ["C", "B", "D", "A"]
    );
}

#[actix_web::test]
async fn a_deal_cannot_go_after_a_deal_of_another_stage_or_after_itself() {
    let app = TestApp::new().await;
    let (token, mut c, st, ids) = rep_with_abcd(&app).await;
    let body = json!({"stage_id": st[1].0, "version": 1, "after_id": ids[2]});
    let res = move_deal(&mut c, &token, ids[1], body).await;
    assert_eq!(res.status, 422, "the neighbour is not in that stage");
    assert!(res.json()["error"]["fields"]["after_id"].is_string());
    let body = json!({"stage_id": st[0].0, "version": 1, "after_id": ids[1]});
    let res = move_deal(&mut c, &token, ids[1], body).await;
    assert_eq!(
        res.json()["error"]["fields"]["after_id"],
        "A deal cannot go after itself."
    );
}

/// By index within the column: D to the top.
#[actix_web::test]
async fn a_deal_moved_by_index_goes_to_that_place_in_the_column() {
    let app = TestApp::new().await;
    let (token, mut c, st, ids) = rep_with_abcd(&app).await;
    let body = json!({"stage_id": st[0].0, "version": 1, "position": 0});
    assert_eq!(
        moved(&mut c, &token, ids[3], body).await,
        ["D", "B", "C", "A"]
    );
}

/// Ties (two rows at one position) keep their order around a deal placed after one of
/// them.
#[actix_web::test]
async fn a_deal_placed_after_one_of_two_tied_deals_lands_between_them() {
    let app = TestApp::new().await;
    let (token, mut c, st, ids) = rep_with_abcd(&app).await;
    let lead = st[0].0;
    exec(
        &app.db,
        &format!(
            "UPDATE deals SET position = CASE WHEN id = {} THEN 1 WHEN id = {} THEN 20 ELSE 7 END \
             WHERE id IN ({}, {}, {}, {})",
            ids[3], ids[0], ids[0], ids[1], ids[2], ids[3]
        ),
    )
    .await;
    // Now D, then B and C tied at 7 (B first: lower id), then A; put A right after B,
    // which must land it between the two tied rows.
    let body = json!({"stage_id": lead, "version": 2, "after_id": ids[1]});
    assert_eq!(
        moved(&mut c, &token, ids[0], body).await,
        ["D", "B", "A", "C"]
    );
}

/// A, B, C and D as above, with D made USD 10.00 at its own 50 %.
async fn abcd_with_d_at_half(c: &mut Client<impl TestService>, token: &str, lead: i64) {
    let ids = abcd_with_a_last(c, token, lead).await;
    let body = json!({"amount": 1000, "probability": 50});
    let path = format!("/api/v1/deals/{}", ids[3]);
    c.api_ok(Method::PATCH, &path, token, Some(body)).await;
}

/// The board's sums hold the largest amount; the forecast weighs each deal by its own
/// probability when it has one, else by its stage's (Lead: 10%).
#[actix_web::test]
async fn the_board_sums_the_largest_amounts_and_weighs_a_deals_own_probability() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    abcd_with_d_at_half(&mut c, &token, st[0].0).await;
    let board = board_of(&app).await;
    assert_eq!(board.columns[0].sums["USD"], 10_000_000_001_003);
    assert_eq!(board.forecast["USD"], 1_000_000_000_000 + 500);
}

/// Amount filters are in whole units of each deal's own currency.
#[actix_web::test]
async fn amount_filters_are_in_whole_units_of_each_deals_currency() {
    let app = TestApp::new().await;
    let (token, mut c, st) = rep_and_stages(&app).await;
    abcd_with_d_at_half(&mut c, &token, st[0].0).await;
    new_deal(
        &mut c,
        &token,
        json!({"title": "Yen", "amount": 5000, "currency": "JPY"}),
    )
    .await;
    let mut found = c
        .titles("/api/v1/deals?min_amount=10&max_amount=5000", &token)
        .await;
    found.sort();
    assert_eq!(
        found,
        ["D", "Yen"],
        "USD 10.00 and JPY 5000 are both in 10–5000"
    );
}

/// A rep's token and their client signed in, on the new-deal form.
async fn rep_on_the_new_deal_form(app: &TestApp) -> (String, Client<impl TestService>) {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    assert_eq!(c.get("/deals/new").await.status, 200, "the new-deal form");
    (token, c)
}

/// Yen: no cents in the form or on the page.
#[actix_web::test]
async fn a_yen_amount_shows_without_decimals_on_the_deal_page_and_form() {
    let app = TestApp::new().await;
    let (token, mut c) = rep_on_the_new_deal_form(&app).await;
    let fields = [("title", "Tokyo"), ("amount", "1,250"), ("currency", "JPY")];
    let res = c.post_form("/deals", &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let list = c
        .get_json("/api/v1/deals?sort=created&dir=desc", &token)
        .await;
    assert_eq!(list["items"][0]["amount"], 1250);
    let id = list["items"][0]["id"].as_i64().unwrap();
    let page = c.get(&format!("/deals/{id}")).await.text();
    assert!(page.contains("JPY 1,250<"), "no decimals for yen");
    assert!(
        c.get(&format!("/deals/{id}/edit"))
            .await
            .text()
            .contains("value=\"1250\"")
    );
}

#[actix_web::test]
async fn a_yen_amount_with_decimals_is_refused_unless_they_are_zero() {
    let app = TestApp::new().await;
    let (_, mut c) = rep_on_the_new_deal_form(&app).await;
    let fields = [("title", "Bad"), ("amount", "12.5"), ("currency", "JPY")];
    let res = c.post_form("/deals", &fields).await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("(JPY has no decimals)"),
        "{}",
        res.text()
    );
    let fields = [
        ("title", "Osaka"),
        ("amount", "5000.00"),
        ("currency", "JPY"),
    ];
    let res = c.post_form("/deals", &fields).await;
    assert_eq!(res.status, 303, "zero decimals are fine: {}", res.text());
}

/// A rep (token, and client signed in), a viewer, Hooli with its deal Nucleus, and a deal
/// Elsewhere on no company.
struct Hooli<C> {
    token: String,
    c: C,
    viewer: cairn::domain::Actor,
    company: i64,
    id: i64,
}

async fn hooli(app: &TestApp) -> Hooli<Client<impl TestService>> {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    let viewer = app.user("v@example.com", "viewer").await;
    let company = c.add_company(&token, "Hooli").await;
    let body = json!({"title": "Nucleus", "company_id": company});
    let id = new_deal(&mut c, &token, body).await["id"].as_i64().unwrap();
    new_deal(&mut c, &token, json!({"title": "Elsewhere"})).await;
    Hooli {
        token,
        c,
        viewer,
        company,
        id,
    }
}

#[actix_web::test]
async fn a_viewer_cannot_own_a_deal() {
    let app = TestApp::new().await;
    let Hooli {
        token,
        mut c,
        viewer,
        id,
        ..
    } = hooli(&app).await;
    let body = json!({"owner_id": viewer.id});
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(body),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["owner_id"].is_string());
}

/// A refused move from the deal page comes back to the deal with the reason.
#[actix_web::test]
async fn a_move_refused_on_the_deal_page_comes_back_to_it_with_the_reason() {
    let app = TestApp::new().await;
    let Hooli {
        token, mut c, id, ..
    } = hooli(&app).await;
    let st = stages(&mut c, &token).await;
    c.get(&format!("/deals/{id}")).await;
    let lost = id_of(&st, "Lost").to_string();
    let fields = [
        ("stage_id", lost.as_str()),
        ("version", "1"),
        ("lost_reason", ""),
    ];
    let res = c.post_form(&format!("/deals/{id}/move"), &fields).await;
    assert_eq!(res.status, 303);
    assert_eq!(
        res.location(),
        format!("/deals/{id}?move_to={lost}&reason=#move")
    );
    let page = c.get(res.location().trim_end_matches("#move")).await.text();
    assert!(page.contains("Not moved: Say why the deal was lost."));
    assert!(
        page.contains(&format!(
            "<option value=\"{lost}\" data-kind=\"lost\" selected>Lost</option>"
        )),
        "the picker still says where the user wanted it"
    );
}

#[actix_web::test]
async fn the_board_filters_by_a_chosen_or_typed_company() {
    let app = TestApp::new().await;
    let Hooli { mut c, company, .. } = hooli(&app).await;
    let board = c
        .get(&format!("/deals?company=Hooli%20(%23{company})"))
        .await;
    assert_eq!(board.status, 200);
    let html = board.text();
    assert!(html.contains("Nucleus") && !html.contains("Elsewhere"));
    let html = c.get(&format!("/deals?company={company}")).await.text();
    assert!(
        html.contains(&format!("value=\"Hooli (#{company})\"")),
        "a company page's link shows the name"
    );
    let html = c.get("/deals?company=hooli").await.text();
    assert!(
        html.contains("Nucleus") && !html.contains("Elsewhere"),
        "a typed name filters too"
    );
    assert_eq!(c.get("/deals?company=Nobody").await.status, 422);
}

/// The API and the deal list read the filter the same way as the board.
#[actix_web::test]
async fn the_deal_api_and_list_filter_by_company_as_the_board_does() {
    let app = TestApp::new().await;
    let Hooli { token, mut c, .. } = hooli(&app).await;
    let api = c.get_json("/api/v1/deals?company=hooli", &token).await;
    assert_eq!(api["total"], 1);
    assert!(
        c.get("/deals/list?company=Hooli")
            .await
            .text()
            .contains("Nucleus")
    );
}

/// A deal whose owner has since become a viewer stays editable, and its edit form keeps
/// that owner rather than quietly picking another.
#[actix_web::test]
async fn a_deal_whose_owner_became_a_viewer_stays_editable_and_keeps_that_owner() {
    let app = TestApp::new().await;
    let Hooli {
        token,
        mut c,
        viewer,
        id,
        ..
    } = hooli(&app).await;
    let path = format!("/api/v1/deals/{id}");
    let milton = app.user("milton@example.com", "rep").await;
    let body = json!({"owner_id": milton.id});
    c.api_ok(Method::PATCH, &path, &token, Some(body)).await;
    exec(
        &app.db,
        &format!("UPDATE users SET role = 'viewer' WHERE id = {}", milton.id),
    )
    .await;
    let body = json!({"title": "Nucleus 2"});
    let res = c.api(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["owner_id"], milton.id);
    let form = c.get(&format!("/deals/{id}/edit")).await.text();
    assert!(
        form.contains(&format!("<option value=\"{}\" selected>", milton.id)),
        "the current owner is listed and chosen"
    );
    assert!(
        !form.contains(&format!("<option value=\"{}\"", viewer.id)),
        "other viewers are not offered"
    );
}

/// A refused form keeps the address bar where the user was.
#[actix_web::test]
async fn a_refused_new_deal_form_keeps_the_address_bar_where_it_was() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    c.get("/deals/new").await;
    let res = c
        .post_form("/deals", &[("title", "Bad"), ("amount", "abc")])
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.header("hx-push-url").as_deref(), Some("false"));
}

/// Changes sent without a version at the same moment all apply, each on top of the one
/// before: a change racing another between its read and its write is read again, not
/// refused as if its sender had seen an older deal.
#[actix_web::test]
async fn changes_without_a_version_at_the_same_moment_all_apply() {
    use cairn::domain::deals::{self, DealPatch};
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    let body = json!({"title": "Globex renewal", "amount": 500000});
    let id = c.create("/api/v1/deals", &token, body).await;
    let patches = (1..=3).map(|i| {
        let patch = DealPatch {
            amount: Some(json!(i * 100)),
            ..DealPatch::default()
        };
        deals::update(&app.db, &admin, id, patch)
    });
    let done = futures_util::future::join_all(patches).await;
    for (i, d) in done.iter().enumerate() {
        assert!(d.is_ok(), "change {} of 3 refused: {d:?}", i + 1);
    }
    let deal = c.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    assert_eq!(deal["version"], 4, "three changes on version 1: {deal}");
}
