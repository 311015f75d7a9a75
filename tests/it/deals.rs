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

#[actix_web::test]
async fn a_new_install_has_a_sales_pipeline_and_deals_follow_the_stage_rules() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
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
    let id_of = |name: &str| st.iter().find(|(_, n)| n == name).unwrap().0;

    let ana = c
        .create(
            "/api/v1/contacts",
            &token,
            contact_json("Ana", "S", "ana@example.com"),
        )
        .await;
    let res = c
        .api(Method::POST, "/api/v1/deals", &token, Some(json!({"title": "Acme pilot", "amount": 1250000, "currency": "eur", "contact_ids": [ana], "expected_close": "2026-12-31"})))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let deal = res.json();
    assert_eq!(deal["stage"], "Lead", "the first stage by default");
    assert_eq!(deal["currency"], "EUR");
    assert_eq!(deal["probability"], 10, "from the stage");
    assert_eq!(deal["contacts"][0]["name"], "Ana S");
    assert_eq!(deal["version"], 1);
    let id = deal["id"].as_i64().unwrap();

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
            json!({"title": "X", "stage_id": id_of("Lost")}),
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

    // Moving to won closes it; to lost needs a reason; back to open reopens it.
    let won = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": id_of("Won"), "version": 1})),
        )
        .await;
    assert_eq!(won.status, 200, "{}", won.text());
    assert!(won.json()["closed_at"].is_string());
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": id_of("Lost"), "version": 2})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["lost_reason"].is_string());
    let lost = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": id_of("Lost"), "version": 2, "lost_reason": "Budget cut"})),
        )
        .await;
    assert_eq!(lost.json()["lost_reason"], "Budget cut");
    let reopened = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": id_of("Proposal"), "version": 3})),
        )
        .await
        .json();
    assert_eq!(reopened["closed_at"], serde_json::Value::Null);
    assert_eq!(reopened["lost_reason"], serde_json::Value::Null);
    assert_eq!(reopened["version"], 4);

    // Every move is kept: from, to, who, when.
    let history = c
        .api(
            Method::GET,
            &format!("/api/v1/deals/{id}/stage-changes"),
            &token,
            None,
        )
        .await
        .json();
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
    assert_eq!(steps.len(), 4);
    assert_eq!(steps[0], (serde_json::Value::Null, "Lead".to_string()));
    assert_eq!(steps[3], (json!("Lost"), "Proposal".to_string()));
    assert_eq!(history[1]["user_name"], "rep rep-api@example.com");

    // A stage of another pipeline is refused.
    exec(&app.db, "INSERT INTO pipelines (name, position, created_at) VALUES ('Partners', 1, '2026-01-01 00:00:00+00:00')").await;
    exec(&app.db, "INSERT INTO pipeline_stages (pipeline_id, name, position, probability, kind) SELECT id, 'Intro', 0, 10, 'open' FROM pipelines WHERE name = 'Partners'").await;
    let other = c
        .api(Method::GET, "/api/v1/pipelines", &token, None)
        .await
        .json()[1]["stages"][0]["id"]
        .as_i64()
        .unwrap();
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{id}/move"),
            &token,
            Some(json!({"stage_id": other, "version": 4})),
        )
        .await;
    assert_eq!(res.status, 422);
    // A new deal given only a stage goes to that stage's pipeline; naming another
    // pipeline as well is refused.
    let res = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &token,
            Some(json!({"title": "Reseller", "stage_id": other})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["stage"], "Intro");
    let sales = c
        .api(Method::GET, "/api/v1/pipelines", &token, None)
        .await
        .json()[0]["id"]
        .clone();
    let res = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &token,
            Some(json!({"title": "Reseller", "stage_id": other, "pipeline_id": sales})),
        )
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

#[actix_web::test]
async fn the_board_counts_sums_and_forecasts() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    for (title, amount, stage) in [
        ("A", 100000, st[0].0),
        ("B", 200000, st[0].0),
        ("C", 400000, st[2].0),
    ] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/deals",
                &token,
                Some(
                    json!({"title": title, "amount": amount, "currency": "USD", "stage_id": stage}),
                ),
            )
            .await;
        assert_eq!(res.status, 201);
    }
    let board = cairn::domain::deals::board(
        &app.db,
        &cairn::domain::Actor {
            id: 1,
            name: String::new(),
            email: String::new(),
            role: cairn::domain::Role::Rep,
        },
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(board.columns[0].count, 2);
    assert_eq!(board.columns[0].sums["USD"], 300000);
    assert_eq!(board.columns[2].count, 1);
    // Lead 10%, Proposal 50%: 30 000 + 200 000 cents.
    assert_eq!(board.forecast["USD"], 230000);
    let list = c
        .api(Method::GET, "/api/v1/deals", &token, None)
        .await
        .json();
    assert_eq!(list["total"], 3);
    assert_eq!(
        c.api(Method::GET, "/api/v1/deals?close_month=soon", &token, None)
            .await
            .status,
        422
    );
    // Positions: moving C to the top of Lead puts it first.
    let cid = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "C")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    c.api_ok(
        Method::POST,
        &format!("/api/v1/deals/{cid}/move"),
        &token,
        Some(json!({"stage_id": st[0].0, "position": 0, "version": 1})),
    )
    .await;
    let list = c
        .api(Method::GET, "/api/v1/deals?sort=stage", &token, None)
        .await
        .json();
    let order: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["C", "A", "B"], "the board's order");

    // The API pages like every other list, with the sums of every match.
    let page = c
        .api(
            Method::GET,
            "/api/v1/deals?sort=amount&dir=desc&per_page=2&page=2",
            &token,
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.json();
    assert_eq!(page["total"], 3);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 2);
    assert_eq!(page["sums"]["USD"], 700000);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["title"], "A", "the smallest comes last");
    assert_eq!(
        c.api(
            Method::GET,
            "/api/v1/deals?status=open&per_page=500",
            &token,
            None
        )
        .await
        .json()["error"]["fields"]["per_page"]
            .as_str()
            .map(|_| true),
        Some(true)
    );
    assert_eq!(
        c.api(Method::GET, "/api/v1/deals?status=won", &token, None)
            .await
            .json()["total"],
        0
    );
}

#[actix_web::test]
async fn the_board_page_moves_cards_and_answers_htmx_with_the_board() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    let deal = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &token,
            Some(json!({"title": "Board card", "amount": 990000})),
        )
        .await
        .json();
    let id = deal["id"].as_i64().unwrap();
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let page = c.get("/deals").await.text();
    assert!(
        page.contains("Board card")
            && page.contains("USD 9,900.00")
            && page.contains("Weighted forecast")
    );
    assert!(page.contains("aria-label=\"Lead\"") && page.contains("aria-label=\"Lost\""));
    // The card's stage picker (what drag and drop sends too), as htmx: the board comes back.
    let csrf = c.csrf.clone().unwrap();
    let res = c
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!("/deals/{id}/move"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .insert_header(("HX-Request", "true"))
                .insert_header(("HX-Current-URL", "http://localhost/deals"))
                .set_payload(format!(
                    "_csrf={csrf}&stage_id={}&version=1&position=0",
                    st[3].0
                )),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let board = res.text();
    assert!(board.starts_with("\n<div id=\"board\"") || board.contains("id=\"board\""));
    assert!(!board.contains("<html"));
    // A stale move is refused as a toast, and nothing changes.
    let res = c
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!("/deals/{id}/move"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .insert_header(("HX-Request", "true"))
                .set_payload(format!("_csrf={csrf}&stage_id={}&version=1", st[0].0)),
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.header("hx-reswap").as_deref(), Some("none"));
    let now = c
        .api(Method::GET, &format!("/api/v1/deals/{id}"), &token, None)
        .await
        .json();
    assert_eq!(now["stage"], "Negotiation");
    let show = c.get(&format!("/deals/{id}")).await.text();
    assert!(
        show.contains("Lead → Negotiation"),
        "the history shows the move"
    );
    // Adding a deal from the form.
    c.get("/deals/new").await;
    let res = c
        .post_form(
            "/deals",
            &[
                ("title", "Form deal"),
                ("amount", "1,250.50"),
                ("currency", "EUR"),
                ("stage_id", &st[0].0.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let res = c
        .post_form(
            "/deals",
            &[("title", "Bad"), ("amount", "12.345"), ("currency", "EUR")],
        )
        .await;
    assert_eq!(res.status, 422);
    let list = c
        .api(Method::GET, "/api/v1/deals", &token, None)
        .await
        .json();
    let form_deal = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == "Form deal")
        .unwrap()
        .clone();
    assert_eq!(form_deal["amount"], 125050);
    assert_eq!(form_deal["currency"], "EUR");

    // Deleted from its page; a board still showing it gets a 404 with a message when the
    // card is moved (the board then re-renders without it).
    let fid = form_deal["id"].as_i64().unwrap();
    c.get(&format!("/deals/{fid}")).await;
    let res = c.post_form(&format!("/deals/{fid}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/deals");
    assert!(
        c.get("/deals")
            .await
            .text()
            .contains("Form deal was deleted.")
    );
    let res = c
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!("/deals/{fid}/move"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .insert_header(("HX-Request", "true"))
                .set_payload(format!("_csrf={csrf}&stage_id={}&version=1", st[1].0)),
        )
        .await;
    assert_eq!(res.status, 404);
    assert!(res.text().contains("no longer exists"), "{}", res.text());
    assert_eq!(
        c.get(&format!("/deals/{fid}")).await.status,
        404,
        "gone from its page too"
    );
}

#[actix_web::test]
async fn deals_show_on_their_company_in_search_and_follow_merges() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let keep = c
        .create("/api/v1/companies", &token, json!({"name": "Acme"}))
        .await;
    let lose = c
        .create("/api/v1/companies", &token, json!({"name": "Acme Inc"}))
        .await;
    let ana = c
        .create(
            "/api/v1/contacts",
            &token,
            contact_json("Ana", "S", "ana@example.com"),
        )
        .await;
    let dup = c
        .create(
            "/api/v1/contacts",
            &token,
            contact_json("Ana", "S", "ana2@example.com"),
        )
        .await;
    let deal = c
        .create(
            "/api/v1/deals",
            &token,
            json!({"title": "Rocket skates", "company_id": lose, "contact_ids": [dup]}),
        )
        .await;
    let r = c
        .api(Method::GET, "/api/v1/search?q=rocket", &token, None)
        .await
        .json();
    assert_eq!(r["deals"][0]["id"], deal);
    // Merges move deals along.
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

/// The board is cached per filter until the trigger-kept counter moves; a second
/// connection pool stands in for another `cairn serve` process sharing the database.
#[actix_web::test]
async fn the_cached_board_follows_changes_made_by_another_process() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    let company = c
        .create("/api/v1/companies", &token, json!({"name": "Initech"}))
        .await;
    let deal = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &token,
            Some(
                json!({"title": "Renewal", "amount": 5000, "currency": "USD",
                        "stage_id": st[0].0, "company_id": company}),
            ),
        )
        .await;
    assert_eq!(deal.status, 201, "{}", deal.text());
    let deal = deal.json();
    let actor = cairn::domain::Actor {
        id: 1,
        name: String::new(),
        email: String::new(),
        role: cairn::domain::Role::Rep,
    };
    let q = Default::default();
    let board = || cairn::domain::deals::board(&app.db, &actor, &q);
    let first = board().await.unwrap();
    let again = board().await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "an unchanged board is served from the cache"
    );

    let other = cairn::domain::Db::connect(&app.url).await.unwrap();
    let card = |b: &cairn::domain::deals::Board| b.columns[0].cards[0].clone();
    exec(
        &other,
        "UPDATE companies SET name = 'Initrode' WHERE name = 'Initech'",
    )
    .await;
    assert_eq!(
        card(&board().await.unwrap()).company.as_deref(),
        Some("Initrode")
    );
    exec(
        &other,
        &format!(
            "UPDATE users SET name = 'Milton' WHERE id = {}",
            deal["owner_id"]
        ),
    )
    .await;
    assert_eq!(card(&board().await.unwrap()).owner_name, "Milton");
    exec(
        &other,
        "UPDATE deals SET title = 'Upsell', amount_minor = 7000",
    )
    .await;
    let b = board().await.unwrap();
    assert_eq!(card(&b).title, "Upsell");
    assert_eq!(b.columns[0].sums["USD"], 7000);
    exec(
        &other,
        "UPDATE pipeline_stages SET name = 'Inbox' WHERE name = 'Lead'",
    )
    .await;
    assert_eq!(board().await.unwrap().columns[0].stage.name, "Inbox");
    exec(&other, "DELETE FROM deals").await;
    assert_eq!(board().await.unwrap().columns[0].count, 0);
    // A counter only other tables move (a company's contact count) keeps the cache.
    let kept = board().await.unwrap();
    c.api(
        Method::POST,
        "/api/v1/contacts",
        &token,
        Some(json!({"first_name": "Ann", "last_name": "Lee", "company_id": company})),
    )
    .await;
    assert!(std::sync::Arc::ptr_eq(&kept, &board().await.unwrap()));

    // The deal table is kept under the same counter.
    c.api_ok(
        Method::POST,
        "/api/v1/deals",
        &token,
        Some(json!({"title": "Listed", "amount": 100, "currency": "USD", "company_id": company})),
    )
    .await;
    let lq =
        cairn::domain::deals::ListQuery::new(Default::default(), None, None, None, None).unwrap();
    let list = || cairn::domain::deals::list(&app.db, &actor, &lq);
    let first = list().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &list().await.unwrap()));
    assert_eq!(first.items[0].company.as_deref(), Some("Initrode"));
    exec(
        &other,
        "UPDATE companies SET name = 'Initech' WHERE name = 'Initrode'",
    )
    .await;
    let now = list().await.unwrap();
    assert_eq!(now.items[0].company.as_deref(), Some("Initech"));
    assert_eq!(now.total, 1);

    // Contact names show in the deal table (and the API list built from it): renaming one
    // on a deal retires the cache; renaming one on no deal (and other contact edits) do not.
    let listed = now.items[0].id;
    let ann = c
        .create(
            "/api/v1/contacts",
            &token,
            contact_json("Ann", "Lee", "ann@initech.test"),
        )
        .await;
    c.api_ok(
        Method::POST,
        "/api/v1/contacts",
        &token,
        Some(contact_json("Bo", "Free", "bo@initech.test")),
    )
    .await;
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{listed}"),
            &token,
            Some(json!({"contact_ids": [ann]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let kept = list().await.unwrap();
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
    assert!(std::sync::Arc::ptr_eq(&kept, &list().await.unwrap()));
    exec(
        &other,
        "UPDATE contacts SET first_name = 'Anna' WHERE last_name = 'Lee'",
    )
    .await;
    let row = |t: &cairn::domain::deals::DealTable| {
        t.items.iter().find(|d| d.id == listed).unwrap().clone()
    };
    assert_eq!(row(&list().await.unwrap()).contacts[0].name, "Anna Lee");
    // A deleted contact leaves the row (its deal_contacts rows cascade).
    exec(&other, "DELETE FROM contacts WHERE last_name = 'Lee'").await;
    assert!(row(&list().await.unwrap()).contacts.is_empty());
    // A deleted company leaves the cards (deals.company_id is set to null by the database).
    exec(
        &other,
        &format!("DELETE FROM companies WHERE id = {company}"),
    )
    .await;
    let b = board().await.unwrap();
    let card = b
        .columns
        .iter()
        .flat_map(|c| &c.cards)
        .find(|d| d.id == listed)
        .unwrap();
    assert_eq!(card.company, None);
}

/// The form sets every field a salesperson edits: company and contacts by name (with
/// suggestions as they type), source and a probability that overrides the stage's.
#[actix_web::test]
async fn the_deal_form_links_company_and_contacts_and_sets_source_and_probability() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    c.api(
        Method::POST,
        "/api/v1/companies",
        &token,
        Some(json!({"name": "Umbrella Corp"})),
    )
    .await;
    let mut ann = 0;
    for (first, last, email) in [
        ("Ann", "Lee", "ann@umbrella.test"),
        ("Bob", "Stone", "bob@umbrella.test"),
        ("Bob", "Stone", "bob2@umbrella.test"),
    ] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/contacts",
                &token,
                Some(contact_json(first, last, email)),
            )
            .await;
        if first == "Ann" {
            ann = res.json()["id"].as_i64().unwrap();
        }
    }
    c.sign_in("rep-api@example.com", PASSWORD).await;

    // Suggestions for the pickers.
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

    c.get("/deals/new").await;
    let res = c
        .post_form(
            "/deals",
            &[
                ("title", "Umbrella rollout"),
                ("amount", "5000"),
                ("currency", "USD"),
                ("company", "umbrella corp"),
                ("add_contact", &format!("Ann Lee (#{ann})")),
                ("source", "referral"),
                ("probability", "35"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let list = c
        .api(Method::GET, "/api/v1/deals", &token, None)
        .await
        .json();
    let d = &list["items"][0];
    let id = d["id"].as_i64().unwrap();
    assert_eq!(d["company"], "Umbrella Corp");
    assert_eq!(d["contacts"][0]["id"], ann);
    assert_eq!(d["source"], "referral");
    assert_eq!(d["probability"], 35);
    assert_eq!(d["probability_override"], 35);

    // The edit form shows them; adding by email, a name that matches two people is
    // refused with the reason, and nothing changes.
    let html = c.get(&format!("/deals/{id}/edit")).await.text();
    assert!(html.contains("value=\"Umbrella Corp\""));
    assert!(html.contains(&format!("name=\"contact_ids\" value=\"{ann}\" checked")));
    assert!(html.contains("value=\"referral\""));
    assert!(html.contains("name=\"probability\" value=\"35\""));
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

    // By email works; an empty probability goes back to the stage's; unticking Ann and
    // clearing the company unlink them.
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
    let d = c
        .api(Method::GET, &format!("/api/v1/deals/{id}"), &token, None)
        .await
        .json();
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
    let res = c
        .post_form(
            &format!("/deals/{id}"),
            &[
                ("title", "Umbrella rollout"),
                ("amount", "5000"),
                ("currency", "USD"),
                ("probability", "120"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("Probability is a whole number from 0 to 100."));
    assert!(
        !html.contains("field-error\">Amount"),
        "only the probability is wrong"
    );
}

/// Amounts stay within what sums can hold; moves are placed by neighbour or by index in
/// the whole column (a huge index means last); yen have no minor unit to show.
#[actix_web::test]
async fn amounts_are_bounded_moves_are_placed_by_neighbour_and_yen_have_no_cents() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    for amount in [
        json!(9223372036854775807i64),
        json!(10_000_000_000_001i64),
        json!(-1),
    ] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/deals",
                &token,
                Some(json!({"title": "Huge", "amount": amount})),
            )
            .await;
        assert_eq!(res.status, 422, "{amount}");
        assert!(res.json()["error"]["fields"]["amount"].is_string());
    }
    let mut ids = Vec::new();
    for (title, amount) in [("A", 10_000_000_000_000i64), ("B", 1), ("C", 2), ("D", 3)] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/deals",
                &token,
                Some(json!({"title": title, "amount": amount, "currency": "USD"})),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    let lead = st[0].0;
    // A huge index is the end of the column, not a broken position.
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{}/move", ids[0]),
            &token,
            Some(json!({"stage_id": lead, "version": 1, "position": i64::MAX})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        c.titles("/api/v1/deals?sort=stage", &token).await,
        ["B", "C", "D", "A"]
    );
    // Right after a neighbour, whatever gaps the positions have.
    exec(
        &app.db,
        &format!("UPDATE deals SET position = position * 10 WHERE stage_id = {lead}"),
    )
    .await;
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{}/move", ids[1]),
            &token,
            Some(json!({"stage_id": lead, "version": 1, "after_id": ids[2]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        c.titles("/api/v1/deals?sort=stage", &token).await,
        ["C", "B", "D", "A"]
    );
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{}/move", ids[1]),
            &token,
            Some(json!({"stage_id": st[1].0, "version": 2, "after_id": ids[2]})),
        )
        .await;
    assert_eq!(res.status, 422, "the neighbour is not in that stage");
    assert!(res.json()["error"]["fields"]["after_id"].is_string());
    assert_eq!(
        c.api(
            Method::POST,
            &format!("/api/v1/deals/{}/move", ids[1]),
            &token,
            Some(json!({"stage_id": lead, "version": 2, "after_id": ids[1]})),
        )
        .await
        .json()["error"]["fields"]["after_id"],
        "A deal cannot go after itself."
    );
    // By index within the column: D to the top, then ties (two rows at one position)
    // keep their order around a deal placed after one of them.
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{}/move", ids[3]),
            &token,
            Some(json!({"stage_id": lead, "version": 1, "position": 0})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        c.titles("/api/v1/deals?sort=stage", &token).await,
        ["D", "C", "B", "A"]
    );
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
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{}/move", ids[0]),
            &token,
            Some(json!({"stage_id": lead, "version": 2, "after_id": ids[1]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        c.titles("/api/v1/deals?sort=stage", &token).await,
        ["D", "B", "A", "C"]
    );

    // The board's sums hold the largest amount; the forecast weighs each deal by its own
    // probability when it has one, else by its stage's (Lead: 10%).
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{}", ids[3]),
            &token,
            Some(json!({"amount": 1000, "probability": 50})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let actor = cairn::domain::Actor {
        id: 1,
        name: String::new(),
        email: String::new(),
        role: cairn::domain::Role::Rep,
    };
    let board = cairn::domain::deals::board(&app.db, &actor, &Default::default())
        .await
        .unwrap();
    assert_eq!(board.columns[0].sums["USD"], 10_000_000_001_003);
    assert_eq!(board.forecast["USD"], 1_000_000_000_000 + 500);
    // Amount filters are in whole units of each deal's own currency.
    c.api_ok(
        Method::POST,
        "/api/v1/deals",
        &token,
        Some(json!({"title": "Yen", "amount": 5000, "currency": "JPY"})),
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

    // Yen: no cents in the form or on the page.
    c.sign_in("rep-api@example.com", PASSWORD).await;
    c.get("/deals/new").await;
    let res = c
        .post_form(
            "/deals",
            &[("title", "Tokyo"), ("amount", "1,250"), ("currency", "JPY")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let list = c
        .api(
            Method::GET,
            "/api/v1/deals?sort=created&dir=desc",
            &token,
            None,
        )
        .await
        .json();
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
    let res = c
        .post_form(
            "/deals",
            &[("title", "Bad"), ("amount", "12.5"), ("currency", "JPY")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("(JPY has no decimals)"),
        "{}",
        res.text()
    );
    let res = c
        .post_form(
            "/deals",
            &[
                ("title", "Osaka"),
                ("amount", "5000.00"),
                ("currency", "JPY"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "zero decimals are fine: {}", res.text());
}

/// A refused move from the deal page comes back to the deal with the reason; the board
/// filters by a chosen company; viewers cannot own deals.
#[actix_web::test]
async fn refusals_on_the_deal_page_and_the_board_speak_plainly() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let viewer = app.user("v@example.com", "viewer").await;
    let mut c = app.client().await;
    let st = stages(&mut c, &token).await;
    let company = c
        .create("/api/v1/companies", &token, json!({"name": "Hooli"}))
        .await;
    let d = c
        .api(
            Method::POST,
            "/api/v1/deals",
            &token,
            Some(json!({"title": "Nucleus", "company_id": company})),
        )
        .await
        .json();
    c.api_ok(
        Method::POST,
        "/api/v1/deals",
        &token,
        Some(json!({"title": "Elsewhere"})),
    )
    .await;
    let id = d["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(json!({"owner_id": viewer.id})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["owner_id"].is_string());

    c.sign_in("rep-api@example.com", PASSWORD).await;
    c.get(&format!("/deals/{id}")).await;
    let lost = st.iter().find(|s| s.1 == "Lost").unwrap().0.to_string();
    let res = c
        .post_form(
            &format!("/deals/{id}/move"),
            &[("stage_id", &lost), ("version", "1"), ("lost_reason", "")],
        )
        .await;
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
    // The API and the deal list read the filter the same way.
    let api = c
        .api(Method::GET, "/api/v1/deals?company=hooli", &token, None)
        .await
        .json();
    assert_eq!(api["total"], 1);
    assert!(
        c.get("/deals/list?company=Hooli")
            .await
            .text()
            .contains("Nucleus")
    );

    // A deal whose owner has since become a viewer stays editable, and its edit form keeps
    // that owner rather than quietly picking another.
    let milton = app.user("milton@example.com", "rep").await;
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(json!({"owner_id": milton.id})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    exec(
        &app.db,
        &format!("UPDATE users SET role = 'viewer' WHERE id = {}", milton.id),
    )
    .await;
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/deals/{id}"),
            &token,
            Some(json!({"title": "Nucleus 2"})),
        )
        .await;
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

    // A refused form keeps the address bar where the user was.
    c.get("/deals/new").await;
    let res = c
        .post_form("/deals", &[("title", "Bad"), ("amount", "abc")])
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.header("hx-push-url").as_deref(), Some("false"));
}
