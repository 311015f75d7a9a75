//! Admins shape pipelines: new pipelines, stages added, edited, reordered and removed
//! without losing a deal or its history.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// Tokens for a new admin and a new rep.
async fn admin_and_rep(app: &TestApp) -> (String, String) {
    (app.api_user("admin").await, app.api_user("rep").await)
}

/// A new pipeline made through the API by `admin`; its JSON.
async fn new_pipeline(
    c: &mut Client<impl TestService>,
    admin: &str,
    name: &str,
) -> serde_json::Value {
    let res = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            admin,
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(res.status, 201, "create pipeline {name}: {}", res.text());
    res.json()
}

/// A deal made through the API in `stage` of pipeline `pid`; its JSON.
async fn deal_in(
    c: &mut Client<impl TestService>,
    token: &str,
    pid: i64,
    stage: i64,
) -> serde_json::Value {
    let body = json!({"title": "Reseller deal", "pipeline_id": pid, "stage_id": stage});
    let res = c
        .api(Method::POST, "/api/v1/deals", token, Some(body))
        .await;
    assert_eq!(
        res.status,
        201,
        "create a deal in stage {stage}: {}",
        res.text()
    );
    res.json()
}

/// The names of pipeline `pid`'s stages, in order.
async fn stage_names(c: &mut Client<impl TestService>, admin: &str, pid: i64) -> Vec<String> {
    let pipelines = c.get_json("/api/v1/pipelines", admin).await;
    pipelines
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pid)
        .expect("the pipeline is listed")["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

/// A stage reorder through the API; its answer.
async fn reorder(
    c: &mut Client<impl TestService>,
    admin: &str,
    stage: i64,
    body: serde_json::Value,
) -> Response {
    let path = format!("/api/v1/stages/{stage}/reorder");
    c.api(Method::POST, &path, admin, Some(body)).await
}

#[actix_web::test]
async fn only_an_admin_creates_a_pipeline_and_it_needs_a_name() {
    let app = TestApp::new().await;
    let (admin, rep) = admin_and_rep(&app).await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            &rep,
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    let res = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            &admin,
            Some(json!({"name": "  "})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["name"].is_string());
}

#[actix_web::test]
async fn a_new_pipeline_starts_with_two_open_stages_then_won_and_lost() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let kinds: Vec<&str> = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["open", "open", "won", "lost"]);
}

#[actix_web::test]
async fn a_new_stage_needs_a_name_a_probability_to_100_a_known_kind_and_a_pipeline() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let pid = new_pipeline(&mut c, &admin, "Partnerships").await["id"]
        .as_i64()
        .unwrap();
    for (body, field) in [
        (
            json!({"name": "", "probability": 10, "kind": "open"}),
            "name",
        ),
        (
            json!({"name": "Demo", "probability": 101, "kind": "open"}),
            "probability",
        ),
        (
            json!({"name": "Demo", "probability": 10, "kind": "maybe"}),
            "kind",
        ),
    ] {
        let path = format!("/api/v1/pipelines/{pid}/stages");
        let res = c.api(Method::POST, &path, &admin, Some(body.clone())).await;
        assert_eq!(res.status, 422, "{body}");
        assert!(res.json()["error"]["fields"][field].is_string(), "{body}");
    }
    let res = c
        .api(
            Method::POST,
            "/api/v1/pipelines/999999/stages",
            &admin,
            Some(json!({"name": "Demo", "probability": 30, "kind": "open"})),
        )
        .await;
    assert_eq!(res.status, 404);
}

/// A pipeline with a Demo stage (probability 30) added, and a deal in it.
struct DemoDeal {
    admin: String,
    rep: String,
    p: serde_json::Value,
    demo: i64,
    deal: serde_json::Value,
}

async fn demo_deal(app: &TestApp, c: &mut Client<impl TestService>) -> DemoDeal {
    let (admin, rep) = admin_and_rep(app).await;
    let p = new_pipeline(c, &admin, "Partnerships").await;
    let pid = p["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/pipelines/{pid}/stages"),
            &admin,
            Some(json!({"name": "Demo", "probability": 30, "kind": "open"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let demo = res.json()["id"].as_i64().unwrap();
    let deal = deal_in(c, &rep, pid, demo).await;
    DemoDeal {
        admin,
        rep,
        p,
        demo,
        deal,
    }
}

#[actix_web::test]
async fn a_deal_in_an_added_stage_takes_its_name_and_probability() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let d = demo_deal(&app, &mut c).await;
    assert_eq!(d.deal["stage"], "Demo");
    assert_eq!(d.deal["probability"], 30);
}

#[actix_web::test]
async fn a_stage_holding_deals_goes_only_when_an_admin_names_an_open_stage_for_them() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let DemoDeal {
        admin,
        rep,
        p,
        demo,
        deal,
    } = demo_deal(&app, &mut c).await;
    let (new_id, won_id) = (stage_id(&p, "New"), stage_id(&p, "Won"));
    let stage = format!("/api/v1/stages/{demo}");
    let res = c.api(Method::DELETE, &stage, &admin, None).await;
    assert_eq!(res.status, 409, "{}", res.text());
    let to_won = format!("{stage}?move_to={won_id}");
    let res = c.api(Method::DELETE, &to_won, &admin, None).await;
    assert_eq!(res.status, 422, "open deals never land in a won stage");
    assert!(res.json()["error"]["fields"]["move_to"].is_string());
    let to_new = format!("{stage}?move_to={new_id}");
    let res = c.api(Method::DELETE, &to_new, &rep, None).await;
    assert_eq!(res.status, 403);
    let deal = c
        .get_json(&format!("/api/v1/deals/{}", deal["id"]), &rep)
        .await;
    assert_eq!(deal["stage"], "Demo", "refusals changed nothing");
}

#[actix_web::test]
async fn removing_a_stage_moves_its_deals_and_the_history_keeps_its_name() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let d = demo_deal(&app, &mut c).await;
    let new_id = stage_id(&d.p, "New");
    let path = format!("/api/v1/stages/{}?move_to={new_id}", d.demo);
    let res = c.api(Method::DELETE, &path, &d.admin, None).await;
    assert_eq!(res.status, 204, "{}", res.text());
    let deal_path = format!("/api/v1/deals/{}", d.deal["id"]);
    let deal = c.get_json(&deal_path, &d.rep).await;
    assert_eq!(deal["stage"], "New");
    assert_eq!(deal["version"], 2, "a moved deal refuses stale edits");
    let history = c
        .get_json(&format!("{deal_path}/stage-changes"), &d.rep)
        .await;
    let last = history
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["to_stage"] == "New")
        .expect("the move is in the history");
    assert_eq!(
        last["from_stage"], "Demo",
        "a removed stage keeps its name in the history"
    );
}

#[actix_web::test]
async fn a_stage_with_deals_keeps_its_kind_but_takes_other_edits() {
    let app = TestApp::new().await;
    let (admin, rep) = admin_and_rep(&app).await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let new_id = stage_id(&p, "New");
    deal_in(&mut c, &rep, p["id"].as_i64().unwrap(), new_id).await;
    let path = format!("/api/v1/stages/{new_id}");
    let body = json!({"name": "New", "probability": 5, "kind": "won"});
    let res = c.api(Method::PATCH, &path, &admin, Some(body)).await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["kind"].is_string());
    let body = json!({"name": "Inbound", "probability": 5, "kind": "open"});
    let res = c.api(Method::PATCH, &path, &admin, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "Inbound");
}

#[actix_web::test]
async fn a_stage_moves_up_one_place_but_not_sideways() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let progress = stage_id(&p, "In progress");
    let res = reorder(&mut c, &admin, progress, json!({"direction": "up"})).await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = reorder(&mut c, &admin, progress, json!({"direction": "sideways"})).await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["direction"].is_string());
    let names = stage_names(&mut c, &admin, p["id"].as_i64().unwrap()).await;
    assert_eq!(names, ["In progress", "New", "Won", "Lost"]);
}

#[actix_web::test]
async fn a_dragged_stage_lands_at_the_position_sent_or_last_past_the_end() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let (pid, lost) = (p["id"].as_i64().unwrap(), stage_id(&p, "Lost"));
    for (body, want) in [
        (
            json!({"position": 0}),
            ["Lost", "New", "In progress", "Won"],
        ),
        (
            json!({"position": 99}),
            ["New", "In progress", "Won", "Lost"],
        ),
    ] {
        let res = reorder(&mut c, &admin, lost, body.clone()).await;
        assert_eq!(res.status, 204, "{body}: {}", res.text());
        assert_eq!(stage_names(&mut c, &admin, pid).await, want, "{body}");
    }
}

#[actix_web::test]
async fn with_lost_dragged_first_a_new_deal_starts_in_the_first_open_stage() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let res = reorder(&mut c, &admin, stage_id(&p, "Lost"), json!({"position": 0})).await;
    assert_eq!(res.status, 204, "{}", res.text());
    let body = json!({"title": "Fresh", "pipeline_id": p["id"]});
    let d = c
        .api(Method::POST, "/api/v1/deals", &admin, Some(body))
        .await;
    assert_eq!(d.status, 201, "{}", d.text());
    assert_eq!(d.json()["stage"], "New");
}

#[actix_web::test]
async fn a_reorder_needs_one_of_a_direction_or_a_position_from_0() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let lost = stage_id(&p, "Lost");
    for body in [
        json!({"position": -1}),
        json!({"position": 1, "direction": "up"}),
        json!({}),
    ] {
        let res = reorder(&mut c, &admin, lost, body.clone()).await;
        assert_eq!(res.status, 422, "{body}");
    }
}

#[actix_web::test]
async fn the_last_open_stage_of_a_pipeline_stays() {
    let app = TestApp::new().await;
    let (admin, rep) = admin_and_rep(&app).await;
    let mut c = app.client().await;
    let p = new_pipeline(&mut c, &admin, "Partnerships").await;
    let (new_id, progress) = (stage_id(&p, "New"), stage_id(&p, "In progress"));
    let deal = deal_in(&mut c, &rep, p["id"].as_i64().unwrap(), new_id).await;
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{progress}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 204, "an empty open stage goes: {}", res.text());
    let path = format!("/api/v1/stages/{new_id}?move_to={progress}");
    let res = c.api(Method::DELETE, &path, &admin, None).await;
    assert_eq!(res.status, 409, "{}", res.text());
    let deal = c
        .get_json(&format!("/api/v1/deals/{}", deal["id"]), &rep)
        .await;
    assert_eq!(deal["stage"], "New", "the refusal moved nothing");
}

#[actix_web::test]
async fn the_pipelines_settings_page_adds_edits_and_removes_stages() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    app.user("rep@example.com", "rep").await;
    let mut rep = app.client().await;
    rep.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(rep.get("/settings/pipelines").await.status, 403);

    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    let page = c.get("/settings/pipelines").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Negotiation"));

    let res = c
        .post_form("/settings/pipelines", &[("name", "Renewals")])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let page = c.get("/settings/pipelines").await.text();
    assert!(page.contains("Pipeline Renewals created."));
    assert!(page.contains("Renewals"));

    let sales = c.get("/api/v1/pipelines").await;
    assert_eq!(sales.status, 401, "the API wants a token, not a cookie");
    let token = app.token("admin@example.com").await;
    let pipelines = c
        .api(Method::GET, "/api/v1/pipelines", &token, None)
        .await
        .json();
    let renewals = pipelines
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Renewals")
        .unwrap()
        .clone();
    let pid = renewals["id"].as_i64().unwrap();

    let res = c
        .post_form(
            &format!("/settings/pipelines/{pid}/stages"),
            &[("name", "Quote"), ("probability", "lots"), ("kind", "open")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("whole number from 0 to 100"));
    let res = c
        .post_form(
            &format!("/settings/pipelines/{pid}/stages"),
            &[("name", "Quote"), ("probability", "60"), ("kind", "open")],
        )
        .await;
    assert_eq!(res.status, 303);
    let first = renewals["stages"][0]["id"].as_i64().unwrap();
    let res = c
        .post_form(
            &format!("/settings/stages/{first}"),
            &[("name", "Due"), ("probability", "20"), ("kind", "open")],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = c.get("/settings/pipelines").await.text();
    assert!(page.contains("Stage Due saved."));
    assert!(page.contains("value=\"Quote\""));

    let res = c
        .post_form(
            &format!("/settings/stages/{first}/reorder"),
            &[("direction", "sideways")],
        )
        .await;
    assert_eq!(res.status, 422, "the page and the API refuse alike");
    // The settings page's drag posts a position; the page comes back in the new order.
    let res = c
        .post_form(
            &format!("/settings/stages/{first}/reorder"),
            &[("direction", ""), ("position", "4")],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = c.get("/settings/pipelines").await.text();
    let due = page.find("value=\"Due\"").unwrap();
    let quote = page.find("value=\"Quote\"").unwrap();
    assert!(quote < due, "Due moved below Quote");
    assert!(page.contains("class=\"handle\""), "rows have a drag handle");
    let res = c
        .post_form(
            &format!("/settings/stages/{first}/delete"),
            &[("move_to", "")],
        )
        .await;
    assert_eq!(res.status, 303, "an empty stage goes without a target");
    let page = c.get("/settings/pipelines").await.text();
    assert!(!page.contains("value=\"Due\""));
}

#[actix_web::test]
async fn an_admin_renames_a_pipeline_with_its_spaces_tidied() {
    let app = TestApp::new().await;
    let (admin, rep) = admin_and_rep(&app).await;
    let mut c = app.client().await;
    let pid = new_pipeline(&mut c, &admin, "Partners").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/pipelines/{pid}");
    let body = json!({"name": "  Channel   partners "});
    let res = c.api(Method::PATCH, &path, &admin, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "Channel partners");
    for (token, body, status) in [
        (&rep, json!({"name": "Mine"}), 403),
        (&admin, json!({"name": ""}), 422),
    ] {
        let res = c.api(Method::PATCH, &path, token, Some(body.clone())).await;
        assert_eq!(res.status, status, "{body}: {}", res.text());
    }
    let body = json!({"name": "X"});
    let res = c
        .api(
            Method::PATCH,
            "/api/v1/pipelines/999999",
            &admin,
            Some(body),
        )
        .await;
    assert_eq!(res.status, 404, "renaming a missing pipeline");
}

/// An admin signed in on the pipelines settings page, with their API token.
async fn admin_on_settings(app: &TestApp, c: &mut Client<impl TestService>) -> String {
    app.user("admin@example.com", "admin").await;
    let res = c.sign_in("admin@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign in: {}", res.text());
    assert_eq!(c.get("/settings/pipelines").await.status, 200);
    app.token("admin@example.com").await
}

#[actix_web::test]
async fn the_settings_page_renames_a_pipeline_and_names_the_currency_new_deals_start_in() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let admin = admin_on_settings(&app, &mut c).await;
    let pid = new_pipeline(&mut c, &admin, "Partners").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/settings/pipelines/{pid}");
    let res = c.post_form(&path, &[("name", "Resellers")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    crate::organisation::set_organisation(&mut c, &[("currency", "eur")]).await;
    let page = c.get("/settings/pipelines").await.text();
    assert!(page.contains("New deals start in EUR"));
    assert!(page.contains("value=\"Resellers\""));
    let res = crate::organisation::post_organisation(&mut c, &[("currency", "XYZ")]).await;
    assert_eq!(res.status, 422, "an unknown currency");
}

/// The new-deal form starts in the board's pipeline and the organisation's currency; a
/// deal added in a Resellers stage lands in that pipeline.
#[actix_web::test]
async fn new_deals_start_in_the_boards_pipeline_and_the_organisations_currency() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let admin = admin_on_settings(&app, &mut c).await;
    let rep = app.api_user("rep").await;
    let p = new_pipeline(&mut c, &admin, "Resellers").await;
    let pid = p["id"].as_i64().unwrap();
    crate::organisation::set_organisation(&mut c, &[("currency", "eur")]).await;
    let first = p["stages"][0]["id"].as_i64().unwrap();
    let form = c.get(&format!("/deals/new?pipeline={pid}")).await.text();
    assert!(form.contains(&format!("<option value=\"{first}\" selected>")));
    assert!(form.contains("<optgroup label=\"Resellers\">"));
    assert!(form.contains("<option value=\"EUR\" selected>"));
    let res = c
        .post_form(
            "/deals",
            &[
                ("title", "Reseller deal"),
                ("amount", "100"),
                ("currency", "EUR"),
                ("stage_id", &first.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let d = c
        .get_json(&format!("/api/v1/deals?pipeline={pid}"), &rep)
        .await;
    assert_eq!(d["items"][0]["title"], "Reseller deal");
    assert_eq!(d["items"][0]["pipeline_id"], pid);
    let body = json!({"title": "No currency given"});
    let api_deal = c
        .api_ok(Method::POST, "/api/v1/deals", &rep, Some(body))
        .await;
    assert_eq!(api_deal.json()["currency"], "EUR");
}

/// Names tell pipelines (and a pipeline's stages) apart; a stage that is the only one of
/// its kind says why its deals have nowhere to go.
#[actix_web::test]
async fn pipeline_and_stage_names_are_unique_and_stage_removal_explains_itself() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let admin = app.token("admin@example.com").await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            &admin,
            Some(json!({"name": "sales"})),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(res.json()["error"]["fields"]["name"].is_string());
    let p = new_pipeline(&mut c, &admin, "Partners").await;
    let pid = p["id"].as_i64().unwrap();
    assert_eq!(
        c.api(
            Method::PATCH,
            &format!("/api/v1/pipelines/{pid}"),
            &admin,
            Some(json!({"name": "Sales"}))
        )
        .await
        .status,
        409
    );
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/pipelines/{pid}/stages"),
            &admin,
            Some(json!({"name": "won", "probability": 100, "kind": "won"})),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    let won = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Won")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let rep = app.api_user("rep").await;
    c.api_ok(
        Method::POST,
        "/api/v1/deals",
        &rep,
        Some(json!({"title": "Signed", "stage_id": won})),
    )
    .await;
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{won}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only won stage"),
        "{}",
        res.text()
    );
}

#[actix_web::test]
async fn a_removed_stages_deals_join_the_end_of_the_target_column_in_their_order() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let p = c
        .api_ok(
            Method::POST,
            "/api/v1/pipelines",
            &admin,
            Some(json!({"name": "Resellers"})),
        )
        .await
        .json();
    let pid = p["id"].as_i64().unwrap();
    let stage = |name: &str| {
        p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (new, progress) = (stage("New"), stage("In progress"));
    for (title, stage_id) in [("Kept", progress), ("First", new), ("Second", new)] {
        c.create(
            "/api/v1/deals",
            &rep,
            json!({"title": title, "pipeline_id": pid, "stage_id": stage_id}),
        )
        .await;
    }
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/stages/{new}?move_to={progress}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        c.titles(
            &format!("/api/v1/deals?pipeline={pid}&sort=stage&dir=asc"),
            &rep
        )
        .await,
        ["Kept", "First", "Second"],
        "the moved deals follow the target's own, in the order they had"
    );
}
