//! Admins shape pipelines: new pipelines, stages added, edited, reordered and removed
//! without losing a deal or its history.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn admins_shape_pipelines_and_removing_a_stage_keeps_its_deals() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let rep = app.api_user("rep").await;
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

    let res = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            &admin,
            Some(json!({"name": "Partnerships"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let p = res.json();
    let pid = p["id"].as_i64().unwrap();
    let kinds: Vec<&str> = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["open", "open", "won", "lost"]);
    let stage_id = |p: &serde_json::Value, name: &str| {
        p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let new_id = stage_id(&p, "New");
    let won_id = stage_id(&p, "Won");

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
        let res = c
            .api(
                Method::POST,
                &format!("/api/v1/pipelines/{pid}/stages"),
                &admin,
                Some(body.clone()),
            )
            .await;
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

    let res = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &rep,
            Some(json!({"title": "Reseller deal", "pipeline_id": pid, "stage_id": demo})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let deal = res.json();
    assert_eq!(deal["stage"], "Demo");
    assert_eq!(deal["probability"], 30);
    let deal_id = deal["id"].as_i64().unwrap();

    // A stage that holds deals goes only once they have somewhere to go.
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{demo}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{demo}?move_to={won_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 422, "open deals never land in a won stage");
    assert!(res.json()["error"]["fields"]["move_to"].is_string());
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{demo}?move_to={new_id}"),
            &rep,
            None,
        )
        .await;
    assert_eq!(res.status, 403);
    let res = c
        .api(Method::GET, &format!("/api/v1/deals/{deal_id}"), &rep, None)
        .await;
    assert_eq!(res.json()["stage"], "Demo", "refusals changed nothing");

    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{demo}?move_to={new_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let deal = c
        .api(Method::GET, &format!("/api/v1/deals/{deal_id}"), &rep, None)
        .await
        .json();
    assert_eq!(deal["stage"], "New");
    assert_eq!(deal["version"], 2, "a moved deal refuses stale edits");
    let history = c
        .api(
            Method::GET,
            &format!("/api/v1/deals/{deal_id}/stage-changes"),
            &rep,
            None,
        )
        .await
        .json();
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

    // Kind changes only on an empty stage; edits otherwise apply.
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/stages/{new_id}"),
            &admin,
            Some(json!({"name": "New", "probability": 5, "kind": "won"})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["kind"].is_string());
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/stages/{new_id}"),
            &admin,
            Some(json!({"name": "Inbound", "probability": 5, "kind": "open"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "Inbound");

    // Reorder: In progress moves before Inbound.
    let pipelines = c
        .api(Method::GET, "/api/v1/pipelines", &admin, None)
        .await
        .json();
    let p = pipelines
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pid)
        .unwrap()
        .clone();
    let progress = stage_id(&p, "In progress");
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/stages/{progress}/reorder"),
            &admin,
            Some(json!({"direction": "up"})),
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/stages/{progress}/reorder"),
            &admin,
            Some(json!({"direction": "sideways"})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["direction"].is_string());
    let pipelines = c
        .api(Method::GET, "/api/v1/pipelines", &admin, None)
        .await
        .json();
    let names: Vec<&str> = pipelines
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pid)
        .unwrap()["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["In progress", "Inbound", "Won", "Lost"]);

    // Dragging sends the new place: Lost to the top, then past the end (last).
    let lost = stage_id(&p, "Lost");
    for (body, want) in [
        (
            json!({"position": 0}),
            ["Lost", "In progress", "Inbound", "Won"],
        ),
        (
            json!({"position": 99}),
            ["In progress", "Inbound", "Won", "Lost"],
        ),
    ] {
        let res = c
            .api(
                Method::POST,
                &format!("/api/v1/stages/{lost}/reorder"),
                &admin,
                Some(body),
            )
            .await;
        assert_eq!(res.status, 204, "{}", res.text());
        let pipelines = c
            .api(Method::GET, "/api/v1/pipelines", &admin, None)
            .await
            .json();
        let names: Vec<String> = pipelines
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == pid)
            .unwrap()["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, want);
    }
    // With Lost dragged first, a new deal still starts in the first open stage.
    c.api_ok(
        Method::POST,
        &format!("/api/v1/stages/{lost}/reorder"),
        &admin,
        Some(json!({"position": 0})),
    )
    .await;
    let d = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &admin,
            Some(json!({"title": "Fresh", "pipeline_id": pid})),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.text());
    let d = d.json();
    assert_eq!(d["stage"], "In progress");
    c.api(
        Method::DELETE,
        &format!("/api/v1/deals/{}", d["id"]),
        &admin,
        None,
    )
    .await;
    for body in [
        json!({"position": -1}),
        json!({"position": 1, "direction": "up"}),
        json!({}),
    ] {
        let res = c
            .api(
                Method::POST,
                &format!("/api/v1/stages/{lost}/reorder"),
                &admin,
                Some(body.clone()),
            )
            .await;
        assert_eq!(res.status, 422, "{body}");
    }

    // The last open stage stays.
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{progress}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = c
        .api(
            Method::DELETE,
            &format!("/api/v1/stages/{new_id}?move_to={progress}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert_eq!(
        c.api(Method::GET, &format!("/api/v1/deals/{deal_id}"), &rep, None)
            .await
            .json()["stage"],
        "Inbound"
    );
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
async fn admins_rename_pipelines_and_choose_the_currency_new_deals_start_in() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let admin = app.token("admin@example.com").await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let p = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            &admin,
            Some(json!({"name": "Partners"})),
        )
        .await
        .json();
    let pid = p["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/pipelines/{pid}"),
            &admin,
            Some(json!({"name": "  Channel   partners "})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["name"], "Channel partners");
    for (token, body, status) in [
        (&rep, json!({"name": "Mine"}), 403),
        (&admin, json!({"name": ""}), 422),
    ] {
        let res = c
            .api(
                Method::PATCH,
                &format!("/api/v1/pipelines/{pid}"),
                token,
                Some(body),
            )
            .await;
        assert_eq!(res.status, status);
    }
    assert_eq!(
        c.api(
            Method::PATCH,
            "/api/v1/pipelines/999999",
            &admin,
            Some(json!({"name": "X"}))
        )
        .await
        .status,
        404
    );

    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/settings/pipelines").await;
    let res = c
        .post_form(
            &format!("/settings/pipelines/{pid}"),
            &[("name", "Resellers")],
        )
        .await;
    assert_eq!(res.status, 303);
    let res = c
        .post_form("/settings/currency", &[("currency", "eur")])
        .await;
    assert_eq!(res.status, 303);
    let page = c.get("/settings/pipelines").await.text();
    assert!(page.contains("New deals now start in EUR."));
    assert!(page.contains("value=\"Resellers\""));
    assert!(page.contains("<option value=\"EUR\" selected>"));
    let res = c
        .post_form("/settings/currency", &[("currency", "XYZ")])
        .await;
    assert_eq!(res.status, 422);

    // The new-deal form starts in the board's pipeline and the organisation's currency;
    // a deal added in a Resellers stage lands in that pipeline.
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
        .api(
            Method::GET,
            &format!("/api/v1/deals?pipeline={pid}"),
            &rep,
            None,
        )
        .await
        .json();
    assert_eq!(d["items"][0]["title"], "Reseller deal");
    assert_eq!(d["items"][0]["pipeline_id"], pid);
    let api_deal = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &rep,
            Some(json!({"title": "No currency given"})),
        )
        .await
        .json();
    assert_eq!(api_deal["currency"], "EUR");
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
    let p = c
        .api(
            Method::POST,
            "/api/v1/pipelines",
            &admin,
            Some(json!({"name": "Partners"})),
        )
        .await
        .json();
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
    c.api(
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
