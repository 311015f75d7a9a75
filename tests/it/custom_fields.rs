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

#[actix_web::test]
async fn custom_fields_are_validated_stored_filtered_and_removed() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    c.sign_in("admin-api@example.com", PASSWORD).await;
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
    // A select needs choices; a duplicate name is a conflict.
    assert_eq!(
        c.post_form(
            "/settings/fields",
            &[
                ("entity", "contact"),
                ("label", "Tier"),
                ("kind", "select"),
                ("options", "")
            ]
        )
        .await
        .status,
        422
    );
    assert_eq!(
        c.post_form(
            "/settings/fields",
            &[
                ("entity", "contact"),
                ("label", "deal size"),
                ("kind", "text")
            ]
        )
        .await
        .status,
        409
    );

    let good = json!({"first_name": "Ana", "last_name": "S", "custom_fields": {
        "deal_size": "12000.5", "segment": "Enterprise", "interests": ["CRM", "API"], "renewal": "2027-01-31",
        "newsletter": true, "linkedin": "https://linkedin.example/ana", "notes": "Met at a conference"}});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(good))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let ana = res.json();
    assert_eq!(ana["custom_fields"]["deal_size"], 12000.5);
    assert_eq!(ana["custom_fields"]["interests"], json!(["CRM", "API"]));
    assert_eq!(ana["custom_fields"]["newsletter"], true);
    let id = ana["id"].as_i64().unwrap();
    let fetched = c
        .api(Method::GET, &format!("/api/v1/contacts/{id}"), &token, None)
        .await
        .json();
    assert_eq!(fetched["custom_fields"], ana["custom_fields"]);

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
    // Required: missing on create is refused.
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "B", "last_name": "C"})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["custom_fields.segment"].is_string());
    assert_eq!(app.count("contacts").await, 1);

    // PATCH changes the keys it names; null clears one; the required one cannot go.
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            &token,
            Some(json!({"custom_fields": {"notes": null, "deal_size": 5}})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let cf = &res.json()["custom_fields"];
    assert!(cf.get("notes").is_none());
    assert_eq!(cf["deal_size"], 5.0);
    assert_eq!(cf["segment"], "Enterprise");
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            &token,
            Some(json!({"custom_fields": {"segment": null}})),
        )
        .await;
    assert_eq!(res.status, 422);

    // Filter on a custom field: single values and multi-select membership.
    c.api_ok(Method::POST, "/api/v1/contacts", &token, Some(json!({"first_name": "Ben", "last_name": "O", "custom_fields": {"segment": "SMB", "interests": ["Analytics"]}}))).await;
    assert_eq!(
        c.api(
            Method::GET,
            "/api/v1/contacts?cf.segment=Enterprise",
            &token,
            None
        )
        .await
        .json()["total"],
        1
    );
    assert_eq!(
        c.api(
            Method::GET,
            "/api/v1/contacts?cf.interests=Analytics",
            &token,
            None
        )
        .await
        .json()["total"],
        1
    );
    assert_eq!(
        c.api(
            Method::GET,
            "/api/v1/contacts?cf.interests=API&cf.segment=Enterprise",
            &token,
            None
        )
        .await
        .json()["total"],
        1
    );
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts?cf.nope=1", &token, None)
            .await
            .status,
        422
    );

    // The pages show and edit them.
    let page = c.get(&format!("/contacts/{id}")).await.text();
    assert!(page.contains("Segment") && page.contains("Enterprise") && page.contains("CRM, API"));
    let form = c.get(&format!("/contacts/{id}/edit")).await.text();
    assert!(form.contains("name=\"cf.segment\"") && form.contains("value=\"API\" checked"));
    let res = c
        .post_form(
            &format!("/contacts/{id}"),
            &[
                ("first_name", "Ana"),
                ("last_name", "S"),
                ("cf.segment", "SMB"),
                ("cf.interests", "CRM"),
                ("cf.newsletter", "false"),
                ("cf.deal_size", "abc"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Deal size must be a number."));
    let res = c
        .post_form(
            &format!("/contacts/{id}"),
            &[
                ("first_name", "Ana"),
                ("last_name", "S"),
                ("cf.segment", "SMB"),
                ("cf.interests", "CRM"),
                ("cf.newsletter", "false"),
                ("cf.deal_size", ""),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let cf = c
        .api(Method::GET, &format!("/api/v1/contacts/{id}"), &token, None)
        .await
        .json()["custom_fields"]
        .clone();
    assert_eq!(cf["segment"], "SMB");
    assert_eq!(cf["interests"], json!(["CRM"]));
    assert_eq!(cf["newsletter"], false);
    assert!(
        cf.get("deal_size").is_none(),
        "an emptied input clears the value"
    );

    // Removing the definition removes its values everywhere, nothing half-broken.
    let fields = cairn::domain::custom_fields::for_entity(&app.db.read, "contact")
        .await
        .unwrap();
    let segment = fields.iter().find(|f| f.key == "segment").unwrap().id;
    c.get("/settings/fields").await;
    assert_eq!(
        c.post_form(&format!("/settings/fields/{segment}/delete"), &[])
            .await
            .status,
        303
    );
    let cf = c
        .api(Method::GET, &format!("/api/v1/contacts/{id}"), &token, None)
        .await
        .json()["custom_fields"]
        .clone();
    assert!(cf.get("segment").is_none());
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts?cf.segment=SMB", &token, None)
            .await
            .status,
        422
    );
    // Creating without it works again.
    assert_eq!(
        c.api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "D", "last_name": "E"}))
        )
        .await
        .status,
        201
    );

    // Only admins define fields.
    app.user("rep@example.com", "rep").await;
    let mut rep = app.client().await;
    rep.sign_in("rep@example.com", PASSWORD).await;
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
            &[("entity", "deal"), ("label", "X"), ("kind", "text")]
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
