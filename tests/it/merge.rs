//! Likely duplicates before saving, and merging two contacts.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's new contact form posted with `fields` when Ana Silva at Acme
/// (+351 21 000 0000) is already saved; the answer.
async fn submitted_beside_ana(app: &TestApp, fields: &[(&str, &str)]) -> Response {
    let (mut c, token) = app.rep_signed_in().await;
    let body = json!({"first_name": "Ana", "last_name": "Silva", "phone": "+351 21 000 0000", "company": "Acme"});
    c.create("/api/v1/contacts", &token, body).await;
    c.get("/contacts/new").await;
    c.post_form("/contacts", fields).await
}

const LIKELY: &str = "This may already be in Cairn";

/// The same name at the same company (any case), or the same phone.
#[actix_web::test]
async fn the_form_asks_about_a_likely_duplicate_before_saving() {
    for fields in [
        [
            ("first_name", "ana"),
            ("last_name", "SILVA"),
            ("company", "acme"),
        ],
        [
            ("first_name", "Someone"),
            ("last_name", "Else"),
            ("phone", "+351 21 000 0000"),
        ],
    ] {
        let app = TestApp::new().await;
        let res = submitted_beside_ana(&app, &fields).await;
        assert_eq!(res.status, 200, "{fields:?}: {}", res.text());
        assert!(
            res.text().contains(LIKELY) && res.text().contains("Ana Silva"),
            "{fields:?} is asked about, naming Ana: {}",
            res.text()
        );
        assert_eq!(
            app.count("contacts").await,
            1,
            "{fields:?}: nothing saved yet"
        );
    }
}

#[actix_web::test]
async fn a_likely_duplicate_saved_anyway_is_saved() {
    let app = TestApp::new().await;
    let res = submitted_beside_ana(
        &app,
        &[
            ("first_name", "ana"),
            ("last_name", "SILVA"),
            ("company", "acme"),
            ("confirm_duplicates", "1"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(app.count("contacts").await, 2);
}

#[actix_web::test]
async fn a_contact_with_no_look_alike_is_saved_without_a_question() {
    let app = TestApp::new().await;
    let res = submitted_beside_ana(
        &app,
        &[
            ("first_name", "Ben"),
            ("last_name", "Okafor"),
            ("company", "Acme"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.text());
}

/// POST /api/v1/`kind`/`keep`/merge with `body` as `token`; the answer.
async fn merge(
    c: &mut Client<impl TestService>,
    kind: &str,
    token: &str,
    keep: i64,
    body: serde_json::Value,
) -> Response {
    let path = format!("/api/v1/{kind}/{keep}/merge");
    c.api(Method::POST, &path, token, Some(body)).await
}

/// A rep signed in with two Anas: one to keep (ana@old.example, vip) and one to merge
/// into it (ana@new.example, a phone, at Acme, partner and vip); the token and their ids.
async fn two_anas(app: &TestApp) -> (Client<impl TestService>, String, i64, i64) {
    let (mut c, token) = app.rep_signed_in().await;
    let keep = c.create("/api/v1/contacts", &token, json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@old.example", "tags": ["vip"]})).await;
    let lose = c.create("/api/v1/contacts", &token, json!({"first_name": "Ana M.", "last_name": "Silva", "email": "ana@new.example", "phone": "+1 555 0100", "company": "Acme", "tags": ["partner", "vip"]})).await;
    (c, token, keep, lose)
}

#[actix_web::test]
async fn bad_contact_merges_are_422_and_change_nothing() {
    let app = TestApp::new().await;
    let (mut c, token, keep, lose) = two_anas(&app).await;
    let acme = c.get_json("/api/v1/companies?q=acme", &token).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    for body in [
        json!({"merge_id": keep}),
        json!({"merge_id": 999999}),
        json!({"merge_id": lose, "take": ["shoe_size"]}),
        // A company's id is not a contact of another type.
        json!({"merge_id": acme + 1000}),
    ] {
        let res = merge(&mut c, "contacts", &token, keep, body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.text());
    }
    assert_eq!(app.count("contacts").await, 2);
}

#[actix_web::test]
async fn merging_moves_everything_and_keeps_chosen_values() {
    let app = TestApp::new().await;
    let (mut c, token, keep_id, lose_id) = two_anas(&app).await;
    // Take the newer email, the phone and the company; keep the first name.
    let body = json!({"merge_id": lose_id, "take": ["email", "phone", "company"]});
    let res = merge(&mut c, "contacts", &token, keep_id, body).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let merged = res.json();
    assert_eq!(merged["id"], keep_id);
    assert_eq!(merged["first_name"], "Ana");
    assert_eq!(
        merged["email"], "ana@new.example",
        "the other's email, freed by its deletion"
    );
    assert_eq!(merged["phone"], "+1 555 0100");
    assert_eq!(merged["company"], "Acme");
    assert_eq!(merged["tags"], json!(["partner", "vip"]));
    let path = format!("/api/v1/contacts/{lose_id}");
    assert_eq!(c.api(Method::GET, &path, &token, None).await.status, 404);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.count("contact_tags").await, 2);
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'merge' AND entity_id = {keep_id}"
        ))
        .await,
        1
    );
}

#[actix_web::test]
async fn the_merge_page_compares_field_by_field() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let a = c
        .create(
            "/api/v1/contacts",
            &token,
            json!({"first_name": "Ana", "last_name": "Silva", "company": "Acme"}),
        )
        .await;
    let b = c
        .create(
            "/api/v1/contacts",
            &token,
            json!({"first_name": "Ana", "last_name": "Silva", "company": "Acme", "title": "CTO"}),
        )
        .await;
    let pick = c.get(&format!("/contacts/{a}/merge")).await.text();
    assert!(
        pick.contains(&format!("/contacts/{a}/merge?with={b}")),
        "the look-alike is offered"
    );
    let compare = c.get(&format!("/contacts/{a}/merge?with={b}")).await.text();
    assert!(compare.contains("CTO") && compare.contains("Merge and delete"));
    assert_eq!(
        c.get(&format!("/contacts/{a}/merge?with={a}")).await.status,
        422
    );
    let res = c
        .post_form(
            &format!("/contacts/{a}/merge"),
            &[
                ("with", &b.to_string()),
                ("title", "take"),
                ("first_name", "keep"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = c.get(&res.location()).await.text();
    assert!(page.contains("CTO") && page.contains("Merged into Ana Silva"));
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn merging_companies_moves_their_contacts() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let keep = c
        .create(
            "/api/v1/companies",
            &token,
            json!({"name": "Acme", "tags": ["key"]}),
        )
        .await;
    let lose = c.create("/api/v1/companies", &token, json!({"name": "ACME Inc", "domain": "acme.com", "industry": "software", "tags": ["partner"]}))
        .await;
    for (who, company) in [("Ana", keep), ("Ben", lose), ("Cy", lose)] {
        let body = json!({"first_name": who, "last_name": "X", "company_id": company});
        c.create("/api/v1/contacts", &token, body).await;
    }
    let res = merge(&mut c, "companies", &token, keep, json!({"merge_id": keep})).await;
    assert_eq!(res.status, 422, "not with itself: {}", res.text());
    let body = json!({"merge_id": lose, "take": ["domain", "industry"]});
    let res = merge(&mut c, "companies", &token, keep, body).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let merged = res.json();
    assert_eq!(merged["name"], "Acme");
    assert_eq!(merged["domain"], "acme.com");
    assert_eq!(merged["industry"], "software");
    assert_eq!(merged["contact_count"], 3, "every contact moved");
    assert_eq!(merged["tags"], json!(["key", "partner"]));
    assert_eq!(app.count("companies").await, 1);
    assert_eq!(
        app.count(&format!("contacts WHERE company_id = {keep}"))
            .await,
        3
    );

    let page = c.get(&format!("/companies/{keep}/merge")).await;
    assert_eq!(page.status, 200);
}

#[actix_web::test]
async fn the_merge_partner_is_picked_by_name_with_suggestions() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let a = c
        .add_contact(&token, "Ana", "Silva", "ana@one.example")
        .await;
    let b = c
        .add_contact(&token, "Anna", "Sylva", "anna@two.example")
        .await;
    let page = c.get(&format!("/contacts/{a}/merge")).await.text();
    assert!(
        page.contains("/pick/options") && !page.contains("number"),
        "a name field with suggestions, no internal number: {page}"
    );
    let opts = c
        .hx_get("/pick/options?kind=contact&with=sylva")
        .await
        .text();
    assert!(opts.contains(&format!("Anna Sylva (#{b})")), "{opts}");
    for typed in [
        format!("Anna%20Sylva%20(%23{b})"),
        "anna%20sylva".to_string(),
        "ANNA%40two.example".to_string(),
    ] {
        let res = c.get(&format!("/contacts/{a}/merge?with={typed}")).await;
        assert_eq!(res.status, 200, "{typed}: {}", res.text());
        assert!(
            res.text().contains(&format!("Merge and delete #{b}")),
            "{typed} picks Anna: {}",
            res.text()
        );
    }
}

#[actix_web::test]
async fn a_merge_partner_that_names_nothing_says_so_in_the_page() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let a = c
        .add_contact(&token, "Ana", "Silva", "ana@one.example")
        .await;
    for (typed, says) in [
        ("Nobody%20Here", "No contact matches “Nobody Here”"),
        ("%3C%3E%22%27%3B--", "No contact matches"),
        ("999999", "No contact matches “999999”"),
        ("Ana%20Silva", "cannot be merged with itself"),
    ] {
        let res = c.get(&format!("/contacts/{a}/merge?with={typed}")).await;
        let html = res.text();
        assert_eq!(res.status, 422, "{typed}");
        assert!(html.contains(says), "{typed}: {html}");
        assert!(
            html.contains("Merge Ana Silva") && html.contains("name=\"with\""),
            "{typed} keeps the merge page and its field: {html}"
        );
        assert!(!html.contains("Unprocessable"), "no HTTP jargon: {html}");
    }
    let res = c
        .post_form(&format!("/contacts/{a}/merge"), &[("title", "take")])
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("Choose the contact to merge.")
            && res.text().contains("Merge Ana Silva"),
        "a post without the other contact answers in the page: {}",
        res.text()
    );
}

#[actix_web::test]
async fn companies_are_merged_with_a_company_picked_by_name_or_domain() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let keep = c.add_company(&token, "Globex").await;
    let other = c
        .create(
            "/api/v1/companies",
            &token,
            json!({"name": "Globex Corporation, Ltd.", "domain": "globex.example"}),
        )
        .await;
    for typed in ["globex%20corporation", "globex.example"] {
        let res = c
            .get(&format!("/companies/{keep}/merge?with={typed}"))
            .await;
        assert_eq!(res.status, 200, "{typed}: {}", res.text());
        assert!(
            res.text().contains(&format!("Merge and delete #{other}")),
            "{typed}"
        );
    }
    let res = c
        .get(&format!("/companies/{keep}/merge?with=Initech"))
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.text().contains("No company matches “Initech”"),
        "{}",
        res.text()
    );
}
