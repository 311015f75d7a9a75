//! The board's Won and Lost columns show the deals closed in the last 30 days; the older
//! ones are counted in a link to the deal list.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's client signed in, their token, the first pipeline's id and its stage ids by name.
async fn rep(app: &TestApp) -> (Client<impl TestService>, String, serde_json::Value) {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    (c, token, pipelines[0].clone())
}

/// A deal titled `title` of `amount` (minor units) in stage `stage`; its id.
async fn deal_in(
    c: &mut Client<impl TestService>,
    token: &str,
    title: &str,
    amount: i64,
    stage: i64,
) -> i64 {
    let body = json!({"title": title, "amount": amount, "stage_id": stage});
    c.api_ok(Method::POST, "/api/v1/deals", token, Some(body))
        .await
        .json()["id"]
        .as_i64()
        .expect("the new deal's id")
}

/// Deal `id` as if it had entered its (closed) stage `days` ago.
async fn closed_days_ago(app: &TestApp, id: i64, days: i64) {
    let t = (chrono::Utc::now() - chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let sql =
        format!("UPDATE deals SET stage_entered_at = '{t}', closed_at = '{t}' WHERE id = {id}");
    exec(&app.db, &sql).await;
}

/// The board's column of stage `name`, as the domain builds it.
async fn column(app: &TestApp, name: &str) -> cairn::domain::deals::Column {
    let rep = cairn::domain::Actor {
        id: 1,
        name: String::new(),
        email: String::new(),
        role: cairn::domain::Role::Rep,
        ip: None,
    };
    let board = cairn::domain::deals::board(&app.db, &rep, &Default::default())
        .await
        .expect("the board");
    board
        .columns
        .iter()
        .find(|col| col.stage.name == name)
        .unwrap_or_else(|| panic!("no {name} column"))
        .clone()
}

#[actix_web::test]
async fn a_deal_won_long_ago_is_off_the_board_and_counted_in_the_older_link() {
    let app = TestApp::new().await;
    let (mut c, token, pipeline) = rep(&app).await;
    let id = deal_in(&mut c, &token, "Old win", 100, stage_id(&pipeline, "Won")).await;
    closed_days_ago(&app, id, 45).await;
    let html = c.get("/deals").await.text();
    assert!(
        !html.contains("Old win"),
        "a deal won 45 days ago is on the board"
    );
    let older = html
        .split("<p class=\"older\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_else(|| panic!("no older link on the board: {html}"));
    let list = format!(
        "href=\"/deals/list?pipeline={}&#38;status=won\"",
        pipeline["id"]
    );
    assert!(
        older.contains(&list) && older.contains(">1 older won deal</a>"),
        "the older link is not to the won deals of the pipeline: {older}"
    );
}

#[actix_web::test]
async fn a_recently_won_deal_is_on_the_board_with_no_older_link() {
    let app = TestApp::new().await;
    let (mut c, token, pipeline) = rep(&app).await;
    let id = deal_in(&mut c, &token, "Fresh win", 100, stage_id(&pipeline, "Won")).await;
    closed_days_ago(&app, id, 20).await;
    let html = c.get("/deals").await.text();
    let won = html
        .split("aria-label=\"Won\"")
        .nth(1)
        .expect("the board has a Won column");
    assert!(
        won.contains("Fresh win"),
        "a deal won 20 days ago is not on the board"
    );
    assert!(
        !html.contains("older won"),
        "an older link with no older deals"
    );
}

#[actix_web::test]
async fn a_closed_columns_count_and_sum_are_its_recent_deals() {
    let app = TestApp::new().await;
    let (mut c, token, pipeline) = rep(&app).await;
    let lost = stage_id(&pipeline, "Lost");
    let body = |title: &str, amount: i64| json!({"title": title, "amount": amount, "stage_id": lost, "lost_reason": "Price"});
    for (title, amount, days) in [("Recent loss", 1000, 2), ("Old loss", 5000, 90)] {
        let res = c
            .api_ok(
                Method::POST,
                "/api/v1/deals",
                &token,
                Some(body(title, amount)),
            )
            .await;
        closed_days_ago(&app, res.json()["id"].as_i64().unwrap(), days).await;
    }
    let col = column(&app, "Lost").await;
    assert_eq!(
        (col.count, col.sums.values().sum::<i64>(), col.older),
        (1, 1000, 1),
        "(count, sum, older) of the Lost column"
    );
    let html = c.get("/deals").await.text();
    assert!(
        html.contains("<span class=\"window\">last 30 days</span>"),
        "the count is not labelled: {html}"
    );
}

#[actix_web::test]
async fn a_deal_moved_to_won_comes_first_in_the_won_column() {
    let app = TestApp::new().await;
    let (mut c, token, pipeline) = rep(&app).await;
    let earlier = deal_in(
        &mut c,
        &token,
        "Won last week",
        100,
        stage_id(&pipeline, "Won"),
    )
    .await;
    closed_days_ago(&app, earlier, 7).await;
    let now = deal_in(&mut c, &token, "Won now", 100, stage_id(&pipeline, "Lead")).await;
    let body = json!({"stage_id": stage_id(&pipeline, "Won"), "version": 1});
    let path = format!("/api/v1/deals/{now}/move");
    c.api_ok(Method::POST, &path, &token, Some(body)).await;
    let titles: Vec<String> = column(&app, "Won")
        .await
        .cards
        .into_iter()
        .map(|d| d.title)
        .collect();
    assert_eq!(titles, ["Won now", "Won last week"]);
}

#[actix_web::test]
async fn a_closed_columns_next_cards_leave_out_the_older_deals() {
    let app = TestApp::new().await;
    let (mut c, token, pipeline) = rep(&app).await;
    let won = stage_id(&pipeline, "Won");
    let old = deal_in(&mut c, &token, "Old win", 100, won).await;
    closed_days_ago(&app, old, 31).await;
    deal_in(&mut c, &token, "New win", 100, won).await;
    let more = c.get(&format!("/deals/column/{won}?offset=0")).await.text();
    assert!(
        more.contains("New win") && !more.contains("Old win"),
        "{more}"
    );
}

#[actix_web::test]
async fn the_older_link_opens_the_deal_list_with_the_old_deal() {
    let app = TestApp::new().await;
    let (mut c, token, pipeline) = rep(&app).await;
    let id = deal_in(&mut c, &token, "Old win", 100, stage_id(&pipeline, "Won")).await;
    closed_days_ago(&app, id, 45).await;
    deal_in(
        &mut c,
        &token,
        "Still open",
        100,
        stage_id(&pipeline, "Lead"),
    )
    .await;
    let list = c
        .get(&format!(
            "/deals/list?pipeline={}&status=won",
            pipeline["id"]
        ))
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    let html = list.text();
    assert!(
        html.contains("Old win") && !html.contains("Still open"),
        "{html}"
    );
}
