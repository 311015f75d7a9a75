//! A deal's page as HTML: its header, the won or lost date, and the move form.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's signed-in client and token, and the id of a new deal moved to `stage` (by
/// name) of the default pipeline.
async fn deal_in(
    app: &TestApp,
    stage: &str,
) -> (
    Client<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    i64,
) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let res = c.sign_in("rep-api@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.text());
    let pipelines = c
        .api_ok(Method::GET, "/api/v1/pipelines", &token, None)
        .await
        .json();
    let stage_id = pipelines[0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == stage)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let id = c
        .create(
            "/api/v1/deals",
            &token,
            json!({"title": "Page deal", "expected_close": "2027-03-04"}),
        )
        .await;
    let mut body = json!({"stage_id": stage_id, "version": 1});
    if stage == "Lost" {
        body["lost_reason"] = json!("Budget cut");
    }
    c.api_ok(
        Method::POST,
        &format!("/api/v1/deals/{id}/move"),
        &token,
        Some(body),
    )
    .await;
    (c, id)
}

#[actix_web::test]
async fn a_won_deal_shows_a_won_badge_and_the_day_it_was_won() {
    let app = TestApp::new().await;
    let (mut c, id) = deal_in(&app, "Won").await;
    let html = c.get(&format!("/deals/{id}")).await.text();
    assert!(
        html.contains("<span class=\"badge stage-badge-won\">Won</span>"),
        "{html}"
    );
    assert!(html.contains("<dt>Won on</dt>"), "{html}");
}

#[actix_web::test]
async fn a_lost_deal_shows_the_day_it_was_lost_and_why() {
    let app = TestApp::new().await;
    let (mut c, id) = deal_in(&app, "Lost").await;
    let html = c.get(&format!("/deals/{id}")).await.text();
    assert!(html.contains("stage-badge-lost"), "{html}");
    assert!(html.contains("<dt>Lost on</dt>"), "{html}");
    assert!(html.contains("<dd>Budget cut</dd>"), "{html}");
}

#[actix_web::test]
async fn an_open_deal_has_no_closing_date_and_its_expected_close_is_a_localised_time() {
    let app = TestApp::new().await;
    let (mut c, id) = deal_in(&app, "Qualified").await;
    let html = c.get(&format!("/deals/{id}")).await.text();
    assert!(
        !html.contains("Won on") && !html.contains("Lost on"),
        "{html}"
    );
    assert!(
        html.contains("<time datetime=\"2027-03-04\">2027-03-04</time>"),
        "{html}"
    );
}

#[actix_web::test]
async fn the_move_forms_reason_box_is_marked_for_lost_stages_only() {
    let app = TestApp::new().await;
    let (mut c, id) = deal_in(&app, "Lead").await;
    let html = c.get(&format!("/deals/{id}")).await.text();
    assert!(html.contains("class=\"lost-reason\""), "{html}");
    assert!(html.contains("data-kind=\"lost\">Lost</option>"), "{html}");
}
