use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// Ana Silva, created through the API with untidy input; the answer.
async fn ana(c: &mut Client<impl TestService>, token: &str) -> Response {
    let body = json!({"first_name": " Ana ", "last_name": "Silva", "email": "Ana@Example.com",
        "phone": "+1 (555) 010-2030", "company": "Acme Inc", "title": "CTO", "source": "referral"});
    let res = c
        .api(Method::POST, "/api/v1/contacts", token, Some(body))
        .await;
    assert_eq!(res.status, 201, "create Ana: {}", res.text());
    res
}

#[actix_web::test]
async fn a_new_contact_is_trimmed_kept_as_typed_and_owned_by_its_creator() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let res = ana(&mut c, &token).await;
    let created = res.json();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(res.location(), format!("/api/v1/contacts/{id}"));
    assert_eq!(created["first_name"], "Ana", "trimmed");
    assert_eq!(created["email"], "Ana@Example.com", "kept as typed");
    assert_eq!(created["company"], "Acme Inc");
    assert_eq!(created["source"], "referral");
    assert_eq!(
        created["owner_name"], "rep rep-api@example.com",
        "owner defaults to the creator"
    );
    let fetched = c
        .api(Method::GET, &format!("/api/v1/contacts/{id}"), &token, None)
        .await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), created, "reads back as created");
}

#[actix_web::test]
async fn a_second_contact_at_the_same_company_in_any_case_links_to_the_same_row() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let created = ana(&mut c, &token).await.json();
    let body = json!({"first_name": "Ben", "last_name": "Okafor", "company": "ACME  inc"});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["company_id"], created["company_id"]);
    assert_eq!(res.json()["source"], "organic", "the default source");
    assert_eq!(app.count("companies").await, 1);
}

/// PATCH changes only what it names; null clears an optional field.
#[actix_web::test]
async fn a_contact_patch_changes_only_what_it_names_and_null_clears_a_field() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let created = ana(&mut c, &token).await.json();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{}", created["id"]),
            &token,
            Some(json!({"title": null, "last_name": "Silva-Costa"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let patched = res.json();
    assert_eq!(patched["title"], serde_json::Value::Null);
    assert_eq!(patched["last_name"], "Silva-Costa");
    assert_eq!(patched["email"], "Ana@Example.com");
    assert_eq!(patched["company"], "Acme Inc");
    assert_eq!(patched["created_at"], created["created_at"]);
}

#[actix_web::test]
async fn a_deleted_contact_is_404_to_read_edit_and_delete_again() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = ana(&mut c, &token).await.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/contacts/{id}");
    let res = c.api(Method::DELETE, &path, &token, None).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert!(res.body.is_empty());
    let res = c.api(Method::GET, &path, &token, None).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.code(), "not_found");
    let res = c.api(Method::DELETE, &path, &token, None).await;
    assert_eq!(res.status, 404, "deleted again");
    let res = c
        .api(Method::PATCH, &path, &token, Some(json!({"title": "x"})))
        .await;
    assert_eq!(res.status, 404, "edited after deletion");
}

#[actix_web::test]
async fn every_contact_write_leaves_an_audit_entry() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = ana(&mut c, &token).await.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/contacts/{id}");
    let body = json!({"title": "CEO"});
    c.api_ok(Method::PATCH, &path, &token, Some(body)).await;
    c.api_ok(Method::DELETE, &path, &token, None).await;
    assert_eq!(
        app.count("audit_log WHERE entity = 'contact'").await,
        3,
        "create, edit and delete"
    );
}

#[actix_web::test]
async fn a_duplicate_email_in_another_case_is_a_409() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let first = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(contact_json("Ana", "Silva", "ana@example.com")),
        )
        .await;
    assert_eq!(first.status, 201);
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(contact_json("Ana", "Other", "ANA@Example.COM")),
        )
        .await;
    assert_eq!(res.status, 409);
    let body = res.json();
    assert_eq!(body["error"]["code"], "conflict");
    assert!(
        body["error"]["fields"]["email"]
            .as_str()
            .unwrap()
            .contains("already has this email")
    );
    assert_eq!(app.count("contacts").await, 1);

    // Changing another contact's email to it is a conflict too, and changes nothing.
    let second = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(contact_json("Ben", "Okafor", "ben@example.com")),
        )
        .await;
    let id = second.json()["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            &token,
            Some(json!({"email": "Ana@example.com"})),
        )
        .await;
    assert_eq!(res.status, 409);
    let again = c
        .api(Method::GET, &format!("/api/v1/contacts/{id}"), &token, None)
        .await;
    assert_eq!(again.json()["email"], "ben@example.com");
    // Keeping one's own email (in another case) is fine.
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            &token,
            Some(json!({"email": "BEN@example.com"})),
        )
        .await;
    assert_eq!(res.status, 200);
}

/// A rep's token and a client, with thirty contacts: Person0..29, every third at Acme
/// Corp (the rest at Globex), every fifth from a paid source.
async fn thirty_contacts(app: &TestApp) -> (String, Client<impl TestService>) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for i in 0..30 {
        let company = if i % 3 == 0 { "Acme Corp" } else { "Globex" };
        let source = if i % 5 == 0 { "paid" } else { "organic" };
        let body = json!({"first_name": format!("Person{i}"), "last_name": "Test",
            "email": format!("p{i}@example.com"), "company": company, "source": source});
        c.create("/api/v1/contacts", &token, body).await;
    }
    (token, c)
}

#[actix_web::test]
async fn contact_lists_page_25_at_a_time_newest_first_or_by_name() {
    let app = TestApp::new().await;
    let (token, mut c) = thirty_contacts(&app).await;
    let body = c.get_json("/api/v1/contacts", &token).await;
    assert_eq!(body["total"], 30);
    assert_eq!(body["page"], 1);
    assert_eq!(body["per_page"], 25);
    assert_eq!(body["items"].as_array().unwrap().len(), 25);
    assert_eq!(body["items"][0]["first_name"], "Person29", "newest first");
    let body = c
        .get_json("/api/v1/contacts?page=2&per_page=25", &token)
        .await;
    assert_eq!(body["total"], 30);
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    assert_eq!(body["items"][4]["first_name"], "Person0");
    let body = c.get_json("/api/v1/contacts?page=9", &token).await;
    assert_eq!(body["total"], 30);
    assert_eq!(body["items"].as_array().unwrap().len(), 0, "past the end");
    let body = c
        .get_json("/api/v1/contacts?sort=name&per_page=2", &token)
        .await;
    assert_eq!(body["items"][0]["first_name"], "Person0");
}

/// company matches part of the name, in any case; source matches exactly.
#[actix_web::test]
async fn contact_lists_filter_by_part_of_the_company_name_and_by_source() {
    let app = TestApp::new().await;
    let (token, mut c) = thirty_contacts(&app).await;
    let body = c
        .get_json("/api/v1/contacts?company=acme&per_page=100", &token)
        .await;
    assert_eq!(body["total"], 10);
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["company"] == "Acme Corp")
    );
    for (query, total, why) in [
        ("company=CORP", 10, "any case"),
        ("source=paid", 6, "0, 5 .. 25"),
        ("source=paid&company=acme", 2, "0, 15"),
    ] {
        let body = c
            .get_json(&format!("/api/v1/contacts?{query}"), &token)
            .await;
        assert_eq!(body["total"], total, "{query}: {why}");
    }
}

/// q finds name, email or company; every word must match; LIKE wildcards in the search
/// are taken literally.
#[actix_web::test]
async fn contact_search_matches_every_word_in_name_email_or_company_literally() {
    let app = TestApp::new().await;
    let (token, mut c) = thirty_contacts(&app).await;
    for (q, total, why) in [
        ("person2", 11, "Person2 and Person20..29"),
        ("p7%40example", 1, "by email"),
        (
            "globex+person1",
            8,
            "Person1, 10, 11, 13, 14, 16, 17 and 19 work at Globex",
        ),
        ("%25", 0, "a % is a percent sign, not a wildcard"),
    ] {
        let body = c.get_json(&format!("/api/v1/contacts?q={q}"), &token).await;
        assert_eq!(body["total"], total, "q={q}: {why}");
    }
}

#[actix_web::test]
async fn bad_list_parameters_are_422_not_an_empty_list() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for (query, field) in [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("source=carrier-pigeon", "source"),
        ("owner=bob", "owner"),
        ("sort=sideways", "sort"),
    ] {
        let res = c
            .api(
                Method::GET,
                &format!("/api/v1/contacts?{query}"),
                &token,
                None,
            )
            .await;
        assert_eq!(res.status, 422, "{query}");
        assert_eq!(res.code(), "validation_failed");
        assert!(
            res.json()["error"]["fields"][field].is_string(),
            "{query}: {}",
            res.text()
        );
    }
    assert_eq!(
        c.api(
            Method::GET,
            "/api/v1/contacts?per_page=100&page=1",
            &token,
            None
        )
        .await
        .status,
        200
    );
}

#[actix_web::test]
async fn invalid_fields_are_422_with_the_field_named_and_nothing_written() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let long = "x".repeat(121);
    let cases = [
        (json!({"first_name": "", "last_name": "B"}), "first_name"),
        (json!({"first_name": "   ", "last_name": "B"}), "first_name"),
        (json!({"last_name": "B"}), "first_name"),
        (json!({"first_name": "A", "last_name": long}), "last_name"),
        (
            json!({"first_name": "A", "last_name": "B", "email": "nope"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a@b"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "email": "a b@example.com"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "phone": "1".repeat(31)}),
            "phone",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "phone": "call me"}),
            "phone",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "source": "carrier-pigeon"}),
            "source",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "title": "t".repeat(121)}),
            "title",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "company": "c".repeat(201)}),
            "company",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "owner_id": 999999}),
            "owner_id",
        ),
    ];
    for (body, field) in cases {
        let res = c
            .api(Method::POST, "/api/v1/contacts", &token, Some(body.clone()))
            .await;
        assert_eq!(res.status, 422, "{body}");
        let json = res.json();
        assert_eq!(json["error"]["code"], "validation_failed");
        assert!(json["error"]["message"].is_string());
        assert!(
            json["error"]["fields"][field].is_string(),
            "{body} → {json}"
        );
    }
    // 120 characters is allowed, 121 is not.
    let ok = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "é".repeat(120), "last_name": "B"})),
        )
        .await;
    assert_eq!(ok.status, 201);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(
        app.count("companies").await,
        0,
        "no company half-created by a refused contact"
    );

    // PATCH validates the same way.
    let id = ok.json()["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            &token,
            Some(json!({"first_name": ""})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["first_name"].is_string());
}

#[actix_web::test]
async fn concurrent_creates_each_get_their_own_row_and_answer() {
    use cairn::domain::contacts::{self, ContactInput};
    let app = TestApp::new().await;
    let actor = app.user("rep@example.com", "rep").await;
    // 60 creates at once: some share an email (only the first of each may win), some have
    // no email, some name a company that does not exist yet. They are written in batches.
    let inputs: Vec<ContactInput> = (0..60)
        .map(|i| ContactInput {
            first_name: format!("First{i}"),
            last_name: format!("Last{i}"),
            email: match i % 6 {
                0 => None,
                5 => Some("shared@example.com".into()),
                _ => Some(format!("p{i}@example.com")),
            },
            company: Some(format!("Company {}", i % 4)),
            ..Default::default()
        })
        .collect();
    let results = futures_util::future::join_all(
        inputs
            .iter()
            .map(|input| contacts::create(&app.db, &actor, input)),
    )
    .await;
    let mut ok = 0;
    let mut conflicts = 0;
    for (input, result) in inputs.iter().zip(&results) {
        match result {
            Ok(c) => {
                ok += 1;
                assert_eq!(c.first_name, input.first_name);
                assert_eq!(c.email, input.email);
                // The id really is this contact's row.
                let stored = contacts::get(&app.db, &actor, c.id).await.unwrap();
                assert_eq!(stored.first_name, input.first_name);
                assert_eq!(stored.company, input.company);
                assert_eq!(stored.created_at, c.created_at);
            }
            Err(cairn::error::AppError::Conflict { fields, .. }) => {
                conflicts += 1;
                assert!(fields.contains_key("email"));
                assert_eq!(input.email.as_deref(), Some("shared@example.com"));
            }
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(
        conflicts, 9,
        "ten creates share one email; one of them wins"
    );
    assert_eq!(ok, 51);
    assert_eq!(app.count("contacts").await, 51);
    assert_eq!(app.count("companies").await, 4);
    assert_eq!(
        app.count("audit_log WHERE entity = 'contact' AND action = 'create'")
            .await,
        51
    );
    let mut c = app.client().await;
    let token = app.token("rep@example.com").await;
    let list = c
        .api(Method::GET, "/api/v1/contacts", &token, None)
        .await
        .json();
    assert_eq!(list["total"], 51, "the trigger-kept total agrees");
}

#[actix_web::test]
async fn null_for_a_required_field_and_control_characters_are_422() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    for field in ["first_name", "last_name", "source", "owner_id"] {
        let res = c
            .api(
                Method::PATCH,
                &format!("/api/v1/contacts/{id}"),
                &token,
                Some(json!({ field: null })),
            )
            .await;
        assert_eq!(res.status, 422, "{field}");
        assert!(res.json()["error"]["fields"][field].is_string(), "{field}");
    }
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "A\u{0}b", "last_name": "B"})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["first_name"].is_string());
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "A", "last_name": "B", "company": "Acme\u{0}"})),
        )
        .await;
    assert_eq!(res.status, 422);
    let res = c
        .api(Method::GET, "/api/v1/contacts?q=a%00b", &token, None)
        .await;
    assert_eq!(res.status, 422);
    // A company whose lower-case form is longer than the limit is refused, not a 500.
    let long = "İ".repeat(150);
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "A", "last_name": "B", "company": long})),
        )
        .await;
    assert_eq!(res.status, 422);
    let unchanged = c
        .api(Method::GET, &format!("/api/v1/contacts/{id}"), &token, None)
        .await
        .json();
    assert_eq!(unchanged["first_name"], "Ana");
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn a_contact_keeps_an_owner_who_was_deactivated() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let gone = app.user("gone@example.com", "rep").await;
    let mut c = app.client().await;
    let body = json!({"first_name": "Ana", "last_name": "Silva", "owner_id": gone.id});
    let id = c.create("/api/v1/contacts", &token, body).await;
    cairn::domain::users::set_active(&app.db, None, gone.id, false)
        .await
        .unwrap();
    // Other edits still work and the owner stays.
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            &token,
            Some(json!({"title": "CTO"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["owner_id"], gone.id);
    // But nobody can be given a deactivated owner.
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "B", "last_name": "C", "owner_id": gone.id})),
        )
        .await;
    assert_eq!(res.status, 422);
    // The edit form still offers the current owner, selected.
    c.sign_in("admin-api@example.com", PASSWORD).await;
    let html = c.get(&format!("/contacts/{id}/edit")).await.text();
    assert!(
        html.contains(&format!("<option value=\"{}\" selected>", gone.id)),
        "{html}"
    );
}
