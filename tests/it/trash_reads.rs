//! Every read skips trashed records: one test per read path.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;
use crate::trash::deal;

/// A manager's token and client, with contacts Ana (trashed) and Ben (live).
async fn ana_trashed(app: &TestApp) -> (String, Client<impl TestService>, i64, i64) {
    let (manager, mut c) = app.api_client("manager").await;
    let mut body = contact_json("Ana", "Adeyemi", "ana@x.test");
    body["tags"] = json!(["vip"]);
    body["source"] = json!("paid");
    let ana = c.create("/api/v1/contacts", &manager, body).await;
    let mut body = contact_json("Ben", "Lee", "ben@x.test");
    body["tags"] = json!(["vip"]);
    body["source"] = json!("paid");
    let ben = c.create("/api/v1/contacts", &manager, body).await;
    c.trash("contacts", ana, &manager).await;
    (manager, c, ana, ben)
}

fn ids(list: &serde_json::Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[actix_web::test]
async fn the_contact_list_skips_the_trash() {
    let app = TestApp::new().await;
    let (token, mut c, _, ben) = ana_trashed(&app).await;
    let list = c.get_json("/api/v1/contacts", &token).await;
    assert_eq!(
        (ids(&list), list["total"].clone()),
        (vec![ben], json!(1)),
        "{list}"
    );
}

#[actix_web::test]
async fn a_filtered_list_and_its_count_skip_the_trash() {
    let app = TestApp::new().await;
    let (token, mut c, _, ben) = ana_trashed(&app).await;
    for q in ["source=paid", "tags=vip", "q=e", "sort=name"] {
        let list = c.get_json(&format!("/api/v1/contacts?{q}"), &token).await;
        assert_eq!(
            (ids(&list), list["total"].clone()),
            (vec![ben], json!(1)),
            "{q}: {list}"
        );
    }
}

#[actix_web::test]
async fn the_html_list_skips_the_trash() {
    let app = TestApp::new().await;
    let (_, _, _, _) = ana_trashed(&app).await;
    let mut c = app.client().await;
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let page = c.get("/contacts").await.text();
    assert!(
        page.contains("Ben") && !page.contains("Adeyemi"),
        "only Ben is listed"
    );
}

#[actix_web::test]
async fn search_skips_trashed_contacts_companies_and_deals() {
    let app = TestApp::new().await;
    let (token, mut c, _, _) = ana_trashed(&app).await;
    let co = c.add_company(&token, "Adeyemi Ltd").await;
    let d = deal(&mut c, &token, "Adeyemi pilot", &[]).await;
    c.trash("companies", co, &token).await;
    c.trash("deals", d, &token).await;
    let found = c.get_json("/api/v1/search?q=adeyemi", &token).await;
    for kind in ["contacts", "companies", "deals"] {
        assert_eq!(found[kind], json!([]), "{kind}: {found}");
    }
}

#[actix_web::test]
async fn a_restored_contact_is_found_again() {
    let app = TestApp::new().await;
    let (token, mut c, ana, _) = ana_trashed(&app).await;
    c.restore("contacts", ana, &token).await;
    let found = c.get_json("/api/v1/search?q=adeyemi", &token).await;
    assert_eq!(found["contacts"][0]["id"], ana, "{found}");
}

#[actix_web::test]
async fn the_export_skips_the_trash() {
    let app = TestApp::new().await;
    let (_, _, _, _) = ana_trashed(&app).await;
    let mut c = app.client().await;
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let csv = c.get("/contacts/export.csv").await.text();
    assert!(
        csv.contains("ben@x.test") && !csv.contains("ana@x.test"),
        "{csv}"
    );
}

#[actix_web::test]
async fn a_bulk_action_by_filter_leaves_the_trash_alone() {
    let app = TestApp::new().await;
    let (token, mut c, ana, _) = ana_trashed(&app).await;
    let res = c
        .api_ok(
            Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(json!({"action": "tag", "tag": "q4", "filter": {}})),
        )
        .await;
    assert_eq!(res.json()["affected"], 1, "{}", res.text());
    assert_eq!(
        app.count(&format!("contact_tags WHERE contact_id = {ana}"))
            .await,
        1,
        "Ana keeps only vip"
    );
}

#[actix_web::test]
async fn the_tag_counts_skip_the_trash() {
    let app = TestApp::new().await;
    let _ = ana_trashed(&app).await;
    let tags = cairn::domain::tags::list(&app.db).await.expect("tags");
    assert_eq!(tags[0].contacts, 1, "only Ben counts");
}

#[actix_web::test]
async fn a_company_page_skips_trashed_contacts_and_deals() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    let co = c.add_company(&token, "Northwind").await;
    let mut body = contact_json("Ana", "Adeyemi", "ana@x.test");
    body["company_id"] = json!(co);
    let ana = c.create("/api/v1/contacts", &token, body).await;
    let d = c
        .create(
            "/api/v1/deals",
            &token,
            json!({"title": "Adeyemi pilot", "amount": 1, "currency": "USD", "company_id": co}),
        )
        .await;
    c.trash("contacts", ana, &token).await;
    c.trash("deals", d, &token).await;
    assert_eq!(
        c.get_json(&format!("/api/v1/companies/{co}"), &token).await["contact_count"],
        0
    );
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let page = c.get(&format!("/companies/{co}")).await.text();
    assert!(
        !page.contains("Adeyemi"),
        "neither the contact nor the deal shows"
    );
}

#[actix_web::test]
async fn a_contact_page_skips_trashed_deals() {
    let app = TestApp::new().await;
    let (token, mut c, _, ben) = ana_trashed(&app).await;
    let d = deal(&mut c, &token, "Lee renewal", &[ben]).await;
    c.trash("deals", d, &token).await;
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let page = c.get(&format!("/contacts/{ben}")).await.text();
    assert!(
        !page.contains("Lee renewal"),
        "the trashed deal is not listed"
    );
}

#[actix_web::test]
async fn a_trashed_company_shows_on_no_contact_or_deal() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    let co = c.add_company(&token, "Northwind").await;
    let d = c
        .create(
            "/api/v1/deals",
            &token,
            json!({"title": "Pilot", "amount": 1, "currency": "USD", "company_id": co}),
        )
        .await;
    c.trash("companies", co, &token).await;
    let shown = c.get_json(&format!("/api/v1/deals/{d}"), &token).await;
    assert_eq!(
        (shown["company"].clone(), shown["company_id"].clone()),
        (json!(null), json!(null)),
        "{shown}"
    );
    c.restore("companies", co, &token).await;
    assert_eq!(
        c.get_json(&format!("/api/v1/deals/{d}"), &token).await["company_id"],
        co,
        "back on restore"
    );
}

#[actix_web::test]
async fn the_board_and_its_totals_skip_a_trashed_deal() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    deal(&mut c, &token, "Kept deal", &[]).await;
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let before = c.get("/deals").await.text();
    assert!(
        before.contains("10.00"),
        "the cached board shows the kept deal's total"
    );
    let d = c
        .create(
            "/api/v1/deals",
            &token,
            json!({"title": "Binned deal", "amount": 99900, "currency": "USD"}),
        )
        .await;
    assert!(c.get("/deals").await.text().contains("Binned deal"));
    c.trash("deals", d, &token).await;
    let board = c.get("/deals").await.text();
    assert!(
        !board.contains("Binned deal"),
        "the board's cache was retired"
    );
    assert!(
        !board.contains("1,009.00") && !board.contains("1009.00"),
        "totals skip it"
    );
}

#[actix_web::test]
async fn the_board_drops_a_trashed_companys_name() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    let co = c.add_company(&token, "Northwind").await;
    c.create(
        "/api/v1/deals",
        &token,
        json!({"title": "Pilot", "amount": 1, "currency": "USD", "company_id": co}),
    )
    .await;
    c.sign_in("manager-api@example.com", PASSWORD).await;
    assert!(c.get("/deals").await.text().contains("Northwind"));
    c.trash("companies", co, &token).await;
    assert!(
        !c.get("/deals").await.text().contains("Northwind"),
        "the cached board was retired"
    );
}

#[actix_web::test]
async fn the_deal_list_and_its_totals_skip_the_trash() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    let kept = deal(&mut c, &token, "Kept", &[]).await;
    let d = deal(&mut c, &token, "Binned", &[]).await;
    c.trash("deals", d, &token).await;
    let list = c.get_json("/api/v1/deals", &token).await;
    assert_eq!(
        (ids(&list), list["total"].clone()),
        (vec![kept], json!(1)),
        "{list}"
    );
}

#[actix_web::test]
async fn a_trashed_records_activities_are_not_found() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    let d = deal(&mut c, &token, "Pilot", &[]).await;
    let note = c
        .api_ok(
            Method::POST,
            "/api/v1/activities",
            &token,
            Some(json!({"kind": "note", "body": "x", "deal_id": d})),
        )
        .await
        .json();
    c.trash("deals", d, &token).await;
    let list = c
        .api(
            Method::GET,
            &format!("/api/v1/activities?deal_id={d}"),
            &token,
            None,
        )
        .await;
    assert_eq!(list.status, 404, "{}", list.text());
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let one = c.hx_get(&format!("/activities/{}", note["id"])).await;
    assert_eq!(one.status, 404, "{}", one.text());
}

#[actix_web::test]
async fn a_contacts_timeline_skips_a_trashed_deals_activities() {
    let app = TestApp::new().await;
    let (token, mut c, _, ben) = ana_trashed(&app).await;
    let d = deal(&mut c, &token, "Pilot", &[ben]).await;
    c.api_ok(
        Method::POST,
        "/api/v1/activities",
        &token,
        Some(json!({"kind": "note", "body": "x", "deal_id": d})),
    )
    .await;
    c.trash("deals", d, &token).await;
    let timeline = cairn::domain::activities::list(
        &app.db,
        &app.user("m2@example.com", "manager").await,
        &cairn::domain::activities::ListQuery {
            subject: cairn::domain::activities::Subject::Contact(ben),
            page: 1,
            per_page: 25,
            before: None,
            peek: false,
            with_deals: true,
        },
    )
    .await
    .expect("the timeline");
    assert_eq!(
        timeline.total, 0,
        "the trashed deal's note is not on Ben's timeline"
    );
}

#[actix_web::test]
async fn pickers_and_company_matching_skip_the_trash() {
    let app = TestApp::new().await;
    let (token, mut c, _, _) = ana_trashed(&app).await;
    let co = c.add_company(&token, "Northwind").await;
    c.trash("companies", co, &token).await;
    let found = cairn::domain::pick::contacts_named(&app.db, "Ana Adeyemi")
        .await
        .expect("pick");
    assert!(found.is_empty(), "the contact picker skips Ana");
    let company = cairn::domain::pick::company_named(
        &app.db,
        cairn::domain::access::Visible::All,
        "Northwind",
    )
    .await
    .expect("pick");
    assert_eq!(company, None, "the company picker skips Northwind");
}

#[actix_web::test]
async fn a_contact_cannot_be_filed_under_a_trashed_company() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("manager").await;
    let co = c.add_company(&token, "Northwind").await;
    c.trash("companies", co, &token).await;
    let mut body = contact_json("Ana", "Adeyemi", "ana@x.test");
    body["company"] = json!("Northwind");
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    res.refuses(422, "in the trash");
}

#[actix_web::test]
async fn duplicate_warnings_skip_the_trash() {
    let app = TestApp::new().await;
    let _ = ana_trashed(&app).await;
    let manager = app.user("lookalikes@example.com", "manager").await;
    let named = cairn::domain::contacts::merge::named(&app.db, &manager, "Ana", "Adeyemi", None)
        .await
        .expect("look-alikes");
    assert!(named.is_empty(), "no look-alike in the trash: {named:?}");
}

#[actix_web::test]
async fn merging_with_a_trashed_contact_is_refused() {
    let app = TestApp::new().await;
    let (token, mut c, ana, ben) = ana_trashed(&app).await;
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/contacts/{ben}/merge"),
            &token,
            Some(json!({"merge_id": ana})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
}

#[actix_web::test]
async fn editing_a_trashed_contact_is_404() {
    let app = TestApp::new().await;
    let (token, mut c, ana, _) = ana_trashed(&app).await;
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{ana}"),
            &token,
            Some(json!({"title": "CEO"})),
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
}

#[actix_web::test]
async fn a_trashed_record_page_is_404_for_a_rep() {
    let app = TestApp::new().await;
    let (_, _, ana, _) = ana_trashed(&app).await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(c.get(&format!("/contacts/{ana}")).await.status, 404);
}

#[actix_web::test]
async fn a_trashed_record_page_offers_a_manager_restore() {
    let app = TestApp::new().await;
    let (_, _, ana, _) = ana_trashed(&app).await;
    let mut c = app.client().await;
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let page = c.get(&format!("/contacts/{ana}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text()
            .contains(&format!("/settings/trash/contact/{ana}/restore")),
        "{}",
        page.text()
    );
}
