//! Custom fields on deals: defined in Settings like contacts' and companies', set on the
//! deal form and through the API, shown on the deal page, validated by the same rules.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// An admin's token and signed-in client, with two deal fields: "Contract term" (a
/// number) and "Region" (a select of EMEA, APAC).
async fn admin_with_deal_fields(app: &TestApp) -> (String, Client<impl TestService>) {
    let mut c = app.signed_in("admin-api@example.com", "admin").await;
    let token = app.token("admin-api@example.com").await;
    c.get("/settings/fields").await;
    for (label, kind, options) in [
        ("Contract term", "number", ""),
        ("Region", "select", "EMEA\nAPAC"),
    ] {
        let form = [
            ("entity", "deal"),
            ("label", label),
            ("kind", kind),
            ("options", options),
        ];
        c.post_form_ok("/settings/fields", &form).await;
    }
    (token, c)
}

#[actix_web::test]
async fn settings_list_deal_fields() {
    let app = TestApp::new().await;
    let (_, mut c) = admin_with_deal_fields(&app).await;
    let html = c.get("/settings/fields").await.text();
    let deals = html
        .split("Deal fields")
        .nth(1)
        .expect("a Deal fields section");
    assert!(deals.contains("<code>contract_term</code>"), "{html}");
}

#[actix_web::test]
async fn a_deal_custom_value_set_through_the_api_is_read_back() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_deal_fields(&app).await;
    let body =
        json!({"title": "Pilot", "custom_fields": {"contract_term": "24", "region": "EMEA"}});
    let res = c
        .api_ok(Method::POST, "/api/v1/deals", &token, Some(body))
        .await;
    let deal = res.json();
    assert_eq!(
        deal["custom_fields"],
        json!({"contract_term": 24, "region": "EMEA"})
    );
    let path = format!("/api/v1/deals/{}", deal["id"]);
    let body = json!({"custom_fields": {"region": "APAC"}});
    let patched = c
        .api_ok(Method::PATCH, &path, &token, Some(body))
        .await
        .json();
    assert_eq!(
        patched["custom_fields"],
        json!({"contract_term": 24, "region": "APAC"}),
        "a PATCH changes the keys it names"
    );
    assert_eq!(
        c.get_json(&path, &token).await["custom_fields"],
        patched["custom_fields"]
    );
}

#[actix_web::test]
async fn an_invalid_deal_custom_value_is_422_naming_the_field() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_deal_fields(&app).await;
    let body = json!({"title": "Pilot", "custom_fields": {"region": "Mars"}});
    let res = c
        .api(Method::POST, "/api/v1/deals", &token, Some(body))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let message = &res.json()["error"]["fields"]["custom_fields.region"];
    assert_eq!(
        message,
        "Region must be one of: EMEA, APAC.",
        "{}",
        res.text()
    );
    assert_eq!(app.count("deals").await, 0, "nothing was written");
}

#[actix_web::test]
async fn a_deal_custom_value_set_on_the_form_shows_on_the_deal_page() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_deal_fields(&app).await;
    let form = c.get("/deals/new").await.text();
    assert!(
        form.contains("name=\"cf.contract_term\""),
        "the form has the field: {form}"
    );
    let fields = [
        ("title", "Renewal"),
        ("currency", "USD"),
        ("cf.contract_term", "36"),
        ("cf.region", "APAC"),
    ];
    c.post_form_ok("/deals", &fields).await;
    let list = c.get_json("/api/v1/deals", &token).await;
    let id = list["items"][0]["id"].as_i64().expect("the new deal");
    assert_eq!(list["items"][0]["custom_fields"]["contract_term"], 36);
    let page = c.get(&format!("/deals/{id}")).await.text();
    assert!(
        page.contains("<dt>Contract term</dt><dd>36</dd>")
            && page.contains("<dt>Region</dt><dd>APAC</dd>"),
        "the deal page shows the values: {page}"
    );
}

#[actix_web::test]
async fn a_bad_custom_value_on_the_deal_form_is_shown_beside_the_field() {
    let app = TestApp::new().await;
    let (_, mut c) = admin_with_deal_fields(&app).await;
    c.get("/deals/new").await;
    let fields = [
        ("title", "Renewal"),
        ("currency", "USD"),
        ("cf.contract_term", "long"),
    ];
    let res = c.post_form("/deals", &fields).await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.text().contains("Contract term must be a number."),
        "{}",
        res.text()
    );
    assert_eq!(app.count("deals").await, 0, "nothing was written");
}

#[actix_web::test]
async fn editing_a_deal_on_the_form_keeps_and_changes_its_custom_values() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_deal_fields(&app).await;
    let body = json!({"title": "Pilot", "custom_fields": {"contract_term": 12, "region": "EMEA"}});
    let id = c.create("/api/v1/deals", &token, body).await;
    let form = c.get(&format!("/deals/{id}/edit")).await.text();
    assert!(
        form.contains("value=\"12\""),
        "the form shows the value: {form}"
    );
    let fields = [
        ("version", "1"),
        ("title", "Pilot"),
        ("currency", "USD"),
        ("cf.contract_term", "12"),
        ("cf.region", "APAC"),
    ];
    c.post_form_ok(&format!("/deals/{id}"), &fields).await;
    let deal = c.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    assert_eq!(
        deal["custom_fields"],
        json!({"contract_term": 12, "region": "APAC"})
    );
}

#[actix_web::test]
async fn removing_a_deal_field_removes_its_values() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_deal_fields(&app).await;
    let body = json!({"title": "Pilot", "custom_fields": {"contract_term": 12, "region": "EMEA"}});
    let id = c.create("/api/v1/deals", &token, body).await;
    let region = cairn::domain::custom_fields::for_entity(&app.db.read, "deal")
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.key == "region")
        .expect("the Region field");
    c.get("/settings/fields").await;
    c.post_form_ok(&format!("/settings/fields/{}/delete", region.id), &[])
        .await;
    let deal = c.get_json(&format!("/api/v1/deals/{id}"), &token).await;
    assert_eq!(deal["custom_fields"], json!({"contract_term": 12}));
}
