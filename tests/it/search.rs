//! Global search: contacts and companies by name, email, domain or phone.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's token and client, with Acme Robotics and three of its people: Élodie Martin,
/// Ben Okafor and Ana Silva.
async fn acme_people(app: &TestApp) -> (String, Client<impl TestService>) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let acme =
        json!({"name": "Acme Robotics", "domain": "acme-robots.io", "phone": "+44 20 7946 0000"});
    let acme = c.create("/api/v1/companies", &token, acme).await;
    for (first, last, email, phone) in [
        (
            "Élodie",
            "Martin",
            "elodie@acme-robots.io",
            "+33 1 23 45 67 89",
        ),
        ("Ben", "Okafor", "ben@globex.com", "+1 555 0100"),
        ("Ana", "Silva", "ana.silva@initech.com", ""),
    ] {
        let body = json!({"first_name": first, "last_name": last, "email": email, "phone": phone, "company_id": acme});
        c.create("/api/v1/contacts", &token, body).await;
    }
    (token, c)
}

fn find(q: &str) -> String {
    format!("/api/v1/search?q={}", cairn::web::errors::url_encode(q))
}

/// What a search for `q` answers (which must be a success).
async fn search(c: &mut Client<impl TestService>, token: &str, q: &str) -> serde_json::Value {
    c.get_json(&find(q), token).await
}

#[actix_web::test]
async fn search_finds_a_name_by_its_prefix_accents_folded_words_in_any_order() {
    let app = TestApp::new().await;
    let (token, mut c) = acme_people(&app).await;
    let r = search(&mut c, &token, "elo").await;
    assert_eq!(
        r["contacts"][0]["title"], "Élodie Martin",
        "prefix of a name, accents folded"
    );
    let r = search(&mut c, &token, "martin elodie").await;
    assert_eq!(
        r["contacts"].as_array().unwrap().len(),
        1,
        "words in any order"
    );
}

#[actix_web::test]
async fn search_finds_a_contact_by_email_or_phone() {
    let app = TestApp::new().await;
    let (token, mut c) = acme_people(&app).await;
    let r = search(&mut c, &token, "ben@globex").await;
    assert_eq!(r["contacts"][0]["title"], "Ben Okafor", "by email");
    let r = search(&mut c, &token, "0100").await;
    assert_eq!(r["contacts"][0]["title"], "Ben Okafor", "by phone");
}

#[actix_web::test]
async fn search_finds_a_company_by_domain_or_name_and_the_contacts_on_its_domain() {
    let app = TestApp::new().await;
    let (token, mut c) = acme_people(&app).await;
    let r = search(&mut c, &token, "acme-robots").await;
    assert_eq!(r["companies"][0]["title"], "Acme Robotics", "by domain");
    assert_eq!(
        r["contacts"][0]["title"], "Élodie Martin",
        "and the contact whose email has it"
    );
    let r = search(&mut c, &token, "robotics").await;
    assert_eq!(r["companies"].as_array().unwrap().len(), 1, "by name");
}

/// Search syntax typed by users is just text.
#[actix_web::test]
async fn search_takes_what_users_type_as_plain_text() {
    let app = TestApp::new().await;
    let (token, mut c) = acme_people(&app).await;
    for q in ["\"", "AND", "ana -silva", "a:b", "*", "(", "NEAR(ana"] {
        let res = c.api(Method::GET, &find(q), &token, None).await;
        assert_eq!(res.status, 200, "{q}: {}", res.text());
    }
    let r = search(&mut c, &token, "nobody-here").await;
    assert!(
        r["contacts"].as_array().unwrap().is_empty()
            && r["companies"].as_array().unwrap().is_empty(),
        "nothing matches: {r}"
    );
    let res = c.api(Method::GET, &find("a\u{0}"), &token, None).await;
    assert_eq!(res.status, 422, "a NUL: {}", res.text());
}

/// Whether a search for `q` finds no contact.
async fn finds_no_contact(c: &mut Client<impl TestService>, token: &str, q: &str) -> bool {
    search(c, token, q).await["contacts"]
        .as_array()
        .expect("a list of contacts")
        .is_empty()
}

#[actix_web::test]
async fn the_search_index_follows_edits_and_deletes() {
    let app = TestApp::new().await;
    let (token, mut c) = acme_people(&app).await;
    let ben = c.get_json("/api/v1/contacts?q=okafor", &token).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/contacts/{ben}");
    let body = json!({"last_name": "Adeyemi"});
    c.api_ok(Method::PATCH, &path, &token, Some(body)).await;
    assert!(
        finds_no_contact(&mut c, &token, "okafor").await,
        "the old name"
    );
    assert_eq!(
        search(&mut c, &token, "adeyemi").await["contacts"][0]["id"],
        ben,
        "the new name"
    );
    c.api_ok(Method::DELETE, &path, &token, None).await;
    assert!(finds_no_contact(&mut c, &token, "adeyemi").await, "deleted");
}

#[actix_web::test]
async fn the_top_bar_search_answers_htmx_with_a_dropdown_and_browsers_with_a_page() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    c.api(
        Method::POST,
        "/api/v1/contacts",
        &token,
        Some(contact_json("Ana", "Silva", "ana@example.com")),
    )
    .await;
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let page = c.get("/contacts").await.text();
    assert!(page.contains("data-hotkey=\"/\"") && page.contains("hx-get=\"/search\""));
    let frag = c.hx_get("/search?q=silv").await;
    assert_eq!(frag.status, 200);
    let html = frag.text();
    assert!(!html.contains("<html") && html.contains("Ana Silva") && html.contains("Contacts"));
    let full = c.get("/search?q=silv").await.text();
    assert!(full.contains("<html") && full.contains("Ana Silva"));
    assert!(
        c.hx_get("/search?q=zzz")
            .await
            .text()
            .contains("Nothing matches")
    );
}

/// More matches than a kind shows: each kind answers its eight, every one a match (the
/// ranked matches are a bounded first set; see `search::RANKED`).
#[actix_web::test]
async fn a_search_matching_more_than_eight_of_a_kind_answers_eight_matches_of_each() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for i in 0..10 {
        let company = json!({"name": format!("Kowal Works {i}")});
        c.create("/api/v1/companies", &token, company).await;
        let contact = json!({"first_name": "Zed", "last_name": format!("Kowalski{i}")});
        c.create("/api/v1/contacts", &token, contact).await;
    }
    let r = search(&mut c, &token, "kowal").await;
    for kind in ["contacts", "companies"] {
        let hits = r[kind].as_array().unwrap();
        assert_eq!(hits.len(), 8, "eight {kind} of ten matches: {r}");
        for h in hits {
            let title = h["title"].as_str().unwrap().to_lowercase();
            assert!(title.contains("kowal"), "{title} is not a match for kowal");
        }
    }
}

/// A renamed company and a retitled deal are found by their new words only.
#[actix_web::test]
async fn a_renamed_company_or_deal_is_found_by_its_new_name_only() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let company = c
        .create("/api/v1/companies", &token, json!({"name": "Zephyr Labs"}))
        .await;
    let deal = json!({"title": "Orchid renewal", "amount": 1000, "currency": "EUR"});
    let deal = c.create("/api/v1/deals", &token, deal).await;
    for (path, body) in [
        (
            format!("/api/v1/companies/{company}"),
            json!({"name": "Zenith Labs"}),
        ),
        (
            format!("/api/v1/deals/{deal}"),
            json!({"title": "Lotus renewal"}),
        ),
    ] {
        c.api_ok(Method::PATCH, &path, &token, Some(body)).await;
    }
    for (kind, old) in [("companies", "zephyr"), ("deals", "orchid")] {
        let r = search(&mut c, &token, old).await;
        let hits = r[kind].as_array().expect("a list");
        assert!(hits.is_empty(), "{kind} found by the old word {old}: {r}");
    }
    let new = search(&mut c, &token, "zenith").await;
    assert_eq!(new["companies"][0]["id"], company, "the new name: {new}");
    let new = search(&mut c, &token, "lotus").await;
    assert_eq!(new["deals"][0]["id"], deal, "the new title: {new}");
}
