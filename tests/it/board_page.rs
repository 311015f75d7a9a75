//! The board page as HTML: empty columns, each card's own move picker, the lost-reason
//! dialog, and the settings pages' sub-navigation. (The browser tests drive them.)
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A signed-in client of a user with `role`, and that user's API token.
async fn signed_in(
    app: &TestApp,
    role: &str,
) -> (
    Client<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    String,
) {
    let token = app.api_user(role).await;
    let mut c = app.client().await;
    let res = c
        .sign_in(&format!("{role}-api@example.com"), PASSWORD)
        .await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.text());
    (c, token)
}

/// The first pipeline's stages as (id, name).
fn stages_of(pipelines: &serde_json::Value) -> Vec<(i64, String)> {
    pipelines[0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn an_empty_column_says_no_deals_instead_of_a_sum_without_a_currency() {
    let app = TestApp::new().await;
    let (mut c, _) = signed_in(&app, "rep").await;
    let html = c.get("/deals").await.text();
    assert!(
        html.contains("<h2>Lead</h2><p class=\"muted\">No deals</p>"),
        "{html}"
    );
    assert!(
        !html.contains(">0 · "),
        "an empty column shows a bare zero sum: {html}"
    );
}

#[actix_web::test]
async fn an_empty_board_says_there_is_nothing_to_forecast_instead_of_a_bare_zero() {
    let app = TestApp::new().await;
    let (mut c, _) = signed_in(&app, "rep").await;
    let html = c.get("/deals").await.text();
    assert!(html.contains("No open deals to forecast yet."), "{html}");
    assert!(
        !html.contains("Weighted forecast of open deals: <strong>0.00"),
        "{html}"
    );
}

#[actix_web::test]
async fn the_board_carries_one_move_picker_with_its_pipelines_stages() {
    let app = TestApp::new().await;
    let (mut c, token) = signed_in(&app, "rep").await;
    let pipelines = c
        .api_ok(Method::GET, "/api/v1/pipelines", &token, None)
        .await;
    let stages = stages_of(&pipelines.json());
    let html = c.get("/deals").await.text();
    let picker = html
        .split("<template id=\"move-picker\">")
        .nth(1)
        .and_then(|rest| rest.split("</template>").next())
        .expect("the board has the move picker");
    for (stage, name) in &stages {
        assert!(
            picker.contains(&format!("<option value=\"{stage}\"")),
            "no {name} in the picker: {picker}"
        );
    }
    assert_eq!(html.matches("<template id=\"move-picker\">").count(), 1);
}

#[actix_web::test]
async fn each_card_names_its_stage_and_links_to_a_move() {
    let app = TestApp::new().await;
    let (mut c, token) = signed_in(&app, "rep").await;
    let pipelines = c
        .api_ok(Method::GET, "/api/v1/pipelines", &token, None)
        .await;
    let (qualified, _) = &stages_of(&pipelines.json())[1];
    let id = c
        .create(
            "/api/v1/deals",
            &token,
            json!({"title": "Picker deal", "stage_id": qualified}),
        )
        .await;
    let html = c.get("/deals").await.text();
    let card = html
        .split("<li class=\"card\"")
        .find(|card| card.contains("Picker deal"))
        .expect("the card is on the board");
    assert!(
        card.contains(&format!("data-stage=\"{qualified}\"")),
        "{card}"
    );
    assert!(
        card.contains(&format!(
            "href=\"/deals/{id}#move\" class=\"move-link\" hx-boost=\"false\""
        )),
        "{card}"
    );
}

#[actix_web::test]
async fn the_board_has_the_lost_reason_dialog_for_those_who_can_move() {
    let app = TestApp::new().await;
    let (mut c, _) = signed_in(&app, "rep").await;
    let html = c.get("/deals").await.text();
    assert!(html.contains("<dialog id=\"lost-dialog\""), "{html}");
}

#[actix_web::test]
async fn a_viewer_gets_neither_move_pickers_nor_the_dialog() {
    let app = TestApp::new().await;
    let rep_token = app.api_user("rep").await;
    let (mut c, _) = signed_in(&app, "viewer").await;
    c.create("/api/v1/deals", &rep_token, json!({"title": "Read only"}))
        .await;
    let html = c.get("/deals").await.text();
    assert!(html.contains("Read only"), "{html}");
    assert!(
        !html.contains("move-picker") && !html.contains("move-link"),
        "a viewer was offered a move: {html}"
    );
    assert!(!html.contains("lost-dialog"), "{html}");
}

#[actix_web::test]
async fn cards_loaded_as_a_column_scrolls_can_be_moved_too() {
    let app = TestApp::new().await;
    let (mut c, token) = signed_in(&app, "rep").await;
    let pipelines = c
        .api_ok(Method::GET, "/api/v1/pipelines", &token, None)
        .await;
    let (lead, _) = &stages_of(&pipelines.json())[0];
    c.create("/api/v1/deals", &token, json!({"title": "Scrolled deal"}))
        .await;
    let html = c
        .hx_get(&format!("/deals/column/{lead}?offset=0"))
        .await
        .text();
    assert!(html.contains("Scrolled deal"), "{html}");
    assert!(
        html.contains("class=\"move-link\" hx-boost=\"false\""),
        "{html}"
    );
}

#[actix_web::test]
async fn the_settings_sub_navigation_marks_the_page_shown() {
    let app = TestApp::new().await;
    let (mut c, _) = signed_in(&app, "admin").await;
    for page in ["users", "tags", "fields", "pipelines"] {
        let html = c.get(&format!("/settings/{page}")).await.text();
        let marked = format!("<a href=\"/settings/{page}\" aria-current=\"page\">");
        assert!(
            html.contains(&marked),
            "/settings/{page} does not mark itself: {html}"
        );
        assert_eq!(
            html.matches("aria-current=\"page\"").count(),
            2,
            "one main and one sub link are current on /settings/{page}"
        );
    }
}

#[actix_web::test]
async fn the_close_month_filter_offers_named_months_and_keeps_the_one_chosen() {
    let app = TestApp::new().await;
    let (mut c, _) = signed_in(&app, "rep").await;
    let html = c.get("/deals").await.text();
    assert!(
        html.contains("<select name=\"close_month\">"),
        "a month picker, not an empty <input type=month>: {html}"
    );
    assert!(
        html.contains("<option value=\"\">any month</option>"),
        "{html}"
    );
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    let label = chrono::Utc::now().format("%b %Y").to_string();
    assert!(
        html.contains(&format!("<option value=\"{this_month}\" >{label}</option>")),
        "this month is offered by name: {html}"
    );
    let far = c.get("/deals?close_month=2031-03").await.text();
    assert!(
        far.contains("<option value=\"2031-03\" selected>Mar 2031</option>"),
        "a month outside the offered range stays chosen: {far}"
    );
    let list = c.get("/deals/list?close_month=2031-03").await.text();
    assert!(
        list.contains("<option value=\"2031-03\" selected>Mar 2031</option>"),
        "the deal list has the same picker: {list}"
    );
}

#[actix_web::test]
async fn the_deal_list_filters_by_company_with_the_name_shown() {
    let app = TestApp::new().await;
    let (mut c, token) = signed_in(&app, "rep").await;
    let company = c.add_company(&token, "Initech").await;
    let html = c
        .get(&format!("/deals/list?company={company}"))
        .await
        .text();
    assert!(
        html.contains(&format!(
            "<input name=\"company\" value=\"Initech (#{company})\""
        )),
        "the list's company filter shows the company by name: {html}"
    );
    let any = c.get("/deals/list").await.text();
    assert!(
        any.contains("<input name=\"company\" value=\"\" list=\"list-company-options\""),
        "an empty company filter is offered: {any}"
    );
}
