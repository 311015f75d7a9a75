//! Custom fields on contacts: defined in settings, validated like built-in fields,
//! filterable, read and written through the API, removed cleanly.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

async fn define(
    c: &mut Client<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    fields: &[(&str, &str, &str, bool)],
) {
    c.get("/settings/fields").await;
    for (label, kind, options, required) in fields {
        let mut form = vec![
            ("entity", "contact"),
            ("label", *label),
            ("kind", *kind),
            ("options", *options),
        ];
        if *required {
            form.push(("required", "1"));
        }
        let res = c.post_form("/settings/fields", &form).await;
        assert_eq!(res.status, 303, "{label}: {}", res.text());
    }
}

/// An admin's token and their client, signed in, with seven contact fields defined (one
/// of each kind; Segment is a required select).
async fn admin_with_fields(app: &TestApp) -> (String, Client<impl TestService>) {
    let mut c = app.signed_in("admin-api@example.com", "admin").await;
    let token = app.token("admin-api@example.com").await;
    define(
        &mut c,
        &[
            ("Deal size", "number", "", false),
            ("Segment", "select", "SMB\nMid-market\nEnterprise", true),
            ("Interests", "multiselect", "CRM\nAnalytics\nAPI", false),
            ("Renewal", "date", "", false),
            ("Newsletter", "checkbox", "", false),
            ("LinkedIn", "url", "", false),
            ("Notes", "text", "", false),
        ],
    )
    .await;
    (token, c)
}

/// Ana, with a value in every custom field; her JSON.
async fn ana(c: &mut Client<impl TestService>, token: &str) -> serde_json::Value {
    let good = json!({"first_name": "Ana", "last_name": "S", "custom_fields": {
        "deal_size": "12000.5", "segment": "Enterprise", "interests": ["CRM", "API"], "renewal": "2027-01-31",
        "newsletter": true, "linkedin": "https://linkedin.example/ana", "notes": "Met at a conference"}});
    let res = c
        .api(Method::POST, "/api/v1/contacts", token, Some(good))
        .await;
    assert_eq!(res.status, 201, "create Ana: {}", res.text());
    res.json()
}

/// Ana's custom fields as the API reads them.
async fn custom_fields_of(
    c: &mut Client<impl TestService>,
    token: &str,
    id: &serde_json::Value,
) -> serde_json::Value {
    c.get_json(&format!("/api/v1/contacts/{id}"), token).await["custom_fields"].clone()
}

/// A select needs choices; a duplicate name is a conflict.
#[actix_web::test]
async fn a_select_field_needs_choices_and_field_names_are_unique() {
    let app = TestApp::new().await;
    let (_, mut c) = admin_with_fields(&app).await;
    let form = [
        ("entity", "contact"),
        ("label", "Tier"),
        ("kind", "select"),
        ("options", ""),
    ];
    let res = c.post_form("/settings/fields", &form).await;
    assert_eq!(res.status, 422, "a select without choices");
    let form = [
        ("entity", "contact"),
        ("label", "deal size"),
        ("kind", "text"),
    ];
    let res = c.post_form("/settings/fields", &form).await;
    assert_eq!(res.status, 409, "Deal size exists, in another case");
}

#[actix_web::test]
async fn custom_field_values_are_stored_typed_and_read_back() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_fields(&app).await;
    let ana = ana(&mut c, &token).await;
    assert_eq!(ana["custom_fields"]["deal_size"], 12000.5);
    assert_eq!(ana["custom_fields"]["interests"], json!(["CRM", "API"]));
    assert_eq!(ana["custom_fields"]["newsletter"], true);
    let fetched = custom_fields_of(&mut c, &token, &ana["id"]).await;
    assert_eq!(fetched, ana["custom_fields"]);
}

#[actix_web::test]
async fn a_bad_or_missing_required_custom_value_is_422_naming_the_field() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_fields(&app).await;
    for (custom, key) in [
        (json!({"deal_size": "lots"}), "deal_size"),
        (json!({"segment": "Galactic"}), "segment"),
        (json!({"interests": ["CRM", "Golf"]}), "interests"),
        (json!({"renewal": "31/01/2027"}), "renewal"),
        (json!({"newsletter": "maybe"}), "newsletter"),
        (json!({"linkedin": "not a url"}), "linkedin"),
        (json!({"shoe_size": 9}), "shoe_size"),
    ] {
        let mut body =
            json!({"first_name": "B", "last_name": "C", "custom_fields": {"segment": "SMB"}});
        for (k, v) in custom.as_object().unwrap() {
            body["custom_fields"][k] = v.clone();
        }
        let res = c
            .api(Method::POST, "/api/v1/contacts", &token, Some(body))
            .await;
        assert_eq!(res.status, 422, "{key}");
        assert!(
            res.json()["error"]["fields"][format!("custom_fields.{key}")].is_string(),
            "{key}: {}",
            res.text()
        );
    }
    let body = json!({"first_name": "B", "last_name": "C"});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(res.status, 422, "required: missing on create is refused");
    assert!(res.json()["error"]["fields"]["custom_fields.segment"].is_string());
    assert_eq!(app.count("contacts").await, 0, "nothing was written");
}

/// PATCH changes the keys it names; null clears one; the required one cannot go.
#[actix_web::test]
async fn a_patch_changes_the_custom_values_it_names_but_keeps_the_required_one() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_fields(&app).await;
    let path = format!("/api/v1/contacts/{}", ana(&mut c, &token).await["id"]);
    let body = json!({"custom_fields": {"notes": null, "deal_size": 5}});
    let res = c.api(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let cf = &res.json()["custom_fields"];
    assert!(cf.get("notes").is_none());
    assert_eq!(cf["deal_size"], 5.0);
    assert_eq!(cf["segment"], "Enterprise");
    let body = json!({"custom_fields": {"segment": null}});
    let res = c.api(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(res.status, 422, "the required Segment cannot be cleared");
}

/// Filter on a custom field: single values and multi-select membership.
#[actix_web::test]
async fn contact_lists_filter_on_custom_values_and_multiselect_membership() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_fields(&app).await;
    ana(&mut c, &token).await;
    let ben = json!({"first_name": "Ben", "last_name": "O", "custom_fields": {"segment": "SMB", "interests": ["Analytics"]}});
    c.api_ok(Method::POST, "/api/v1/contacts", &token, Some(ben))
        .await;
    for query in [
        "cf.segment=Enterprise",
        "cf.interests=Analytics",
        "cf.interests=API&cf.segment=Enterprise",
    ] {
        let list = c
            .get_json(&format!("/api/v1/contacts?{query}"), &token)
            .await;
        assert_eq!(list["total"], 1, "{query}");
    }
    let res = c
        .api(Method::GET, "/api/v1/contacts?cf.nope=1", &token, None)
        .await;
    assert_eq!(res.status, 422, "an unknown field: {}", res.text());
}

/// Ana's edit form with Segment SMB, Interests CRM, no newsletter and `deal_size`.
async fn edit_ana(c: &mut Client<impl TestService>, id: i64, deal_size: &str) -> Response {
    let form = [
        ("first_name", "Ana"),
        ("last_name", "S"),
        ("cf.segment", "SMB"),
        ("cf.interests", "CRM"),
        ("cf.newsletter", "false"),
        ("cf.deal_size", deal_size),
    ];
    c.post_form(&format!("/contacts/{id}"), &form).await
}

#[actix_web::test]
async fn the_contact_pages_show_and_edit_custom_values() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_fields(&app).await;
    let id = ana(&mut c, &token).await["id"].as_i64().unwrap();
    let page = c.get(&format!("/contacts/{id}")).await.text();
    assert!(page.contains("Segment") && page.contains("Enterprise") && page.contains("CRM, API"));
    let form = c.get(&format!("/contacts/{id}/edit")).await.text();
    assert!(form.contains("name=\"cf.segment\"") && form.contains("value=\"API\" checked"));
    let res = edit_ana(&mut c, id, "abc").await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Deal size must be a number."));
    let res = edit_ana(&mut c, id, "").await;
    assert_eq!(res.status, 303, "{}", res.text());
    let cf = custom_fields_of(&mut c, &token, &json!(id)).await;
    assert_eq!(cf["segment"], "SMB");
    assert_eq!(cf["interests"], json!(["CRM"]));
    assert_eq!(cf["newsletter"], false);
    assert!(
        cf.get("deal_size").is_none(),
        "an emptied input clears the value"
    );
}

/// Removing the definition removes its values everywhere, nothing half-broken.
#[actix_web::test]
async fn removing_a_field_removes_its_values_its_filter_and_its_requirement() {
    let app = TestApp::new().await;
    let (token, mut c) = admin_with_fields(&app).await;
    let ana = ana(&mut c, &token).await;
    let fields = cairn::domain::custom_fields::for_entity(&app.db.read, "contact")
        .await
        .unwrap();
    let segment = fields.iter().find(|f| f.key == "segment").unwrap().id;
    c.get("/settings/fields").await;
    c.post_form_ok(&format!("/settings/fields/{segment}/delete"), &[])
        .await;
    let cf = custom_fields_of(&mut c, &token, &ana["id"]).await;
    assert!(cf.get("segment").is_none());
    let res = c
        .api(Method::GET, "/api/v1/contacts?cf.segment=SMB", &token, None)
        .await;
    assert_eq!(res.status, 422, "the filter went too: {}", res.text());
    let body = json!({"first_name": "D", "last_name": "E"});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(
        res.status,
        201,
        "creating without it works again: {}",
        res.text()
    );
}

#[actix_web::test]
async fn only_admins_define_custom_fields() {
    let app = TestApp::new().await;
    let mut rep = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(rep.get("/settings/fields").await.status, 403);
}

#[actix_web::test]
async fn companies_have_custom_fields_of_their_own() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    c.sign_in("admin-api@example.com", PASSWORD).await;
    c.get("/settings/fields").await;
    let res = c
        .post_form(
            "/settings/fields",
            &[("entity", "company"), ("label", "ARR"), ("kind", "number")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        c.post_form(
            "/settings/fields",
            &[("entity", "task"), ("label", "X"), ("kind", "text")]
        )
        .await
        .status,
        422
    );
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "Acme", "custom_fields": {"arr": 120000}})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["custom_fields"]["arr"], 120000.0);
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "Globex", "custom_fields": {"arr": "lots"}})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["custom_fields.arr"].is_string());
    // Company fields are not contact fields.
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "A", "last_name": "B", "custom_fields": {"arr": 1}})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(
        c.api(Method::GET, "/api/v1/companies?cf.arr=120000", &token, None)
            .await
            .json()["total"],
        1
    );
    let id = c
        .api(Method::GET, "/api/v1/companies", &token, None)
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let page = c.get(&format!("/companies/{id}")).await.text();
    assert!(page.contains("ARR") && page.contains("120000"));
    let form = c.get(&format!("/companies/{id}/edit")).await.text();
    assert!(form.contains("name=\"cf.arr\""));
}

#[actix_web::test]
async fn removing_a_field_keeps_every_other_value() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    c.sign_in("admin-api@example.com", PASSWORD).await;
    define(
        &mut c,
        &[("Segment", "text", "", false), ("Notes", "text", "", false)],
    )
    .await;
    // The second's notes name the removed key in their text: only keys go.
    let both = json!({"segment": "SMB", "notes": "plain"});
    let mention = json!({"notes": "the \"segment\": key, in words"});
    let mut ids = Vec::new();
    for custom in [&both, &mention] {
        let body = json!({"first_name": "A", "last_name": "B", "custom_fields": custom});
        ids.push(c.create("/api/v1/contacts", &token, body).await);
    }
    let fields = cairn::domain::custom_fields::for_entity(&app.db.read, "contact")
        .await
        .unwrap();
    let segment = fields.iter().find(|f| f.key == "segment").unwrap().id;
    c.get("/settings/fields").await;
    c.post_form_ok(&format!("/settings/fields/{segment}/delete"), &[])
        .await;
    let mut after = Vec::new();
    for id in &ids {
        let path = format!("/api/v1/contacts/{id}");
        after
            .push(c.api_ok(Method::GET, &path, &token, None).await.json()["custom_fields"].clone());
    }
    assert_eq!(
        after,
        [json!({"notes": "plain"}), mention],
        "the removed field's values went, and nothing else"
    );
}
