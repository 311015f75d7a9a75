//! Global search: contacts and companies by name, email, domain or phone.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn finds_contacts_and_companies_by_name_email_domain_and_phone() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let acme = c
        .api(Method::POST, "/api/v1/companies", &token, Some(json!({"name": "Acme Robotics", "domain": "acme-robots.io", "phone": "+44 20 7946 0000"})))
        .await
        .json();
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
        let body = json!({"first_name": first, "last_name": last, "email": email, "phone": phone, "company_id": acme["id"]});
        assert_eq!(
            c.api(Method::POST, "/api/v1/contacts", &token, Some(body))
                .await
                .status,
            201
        );
    }
    let find = |q: &str| format!("/api/v1/search?q={}", cairn::web::errors::url_encode(q));
    let r = c.api(Method::GET, &find("elo"), &token, None).await.json();
    assert_eq!(
        r["contacts"][0]["title"], "Élodie Martin",
        "prefix of a name, accents folded"
    );
    let r = c
        .api(Method::GET, &find("martin elodie"), &token, None)
        .await
        .json();
    assert_eq!(
        r["contacts"].as_array().unwrap().len(),
        1,
        "words in any order"
    );
    let r = c
        .api(Method::GET, &find("ben@globex"), &token, None)
        .await
        .json();
    assert_eq!(r["contacts"][0]["title"], "Ben Okafor", "by email");
    let r = c.api(Method::GET, &find("0100"), &token, None).await.json();
    assert_eq!(r["contacts"][0]["title"], "Ben Okafor", "by phone");
    let r = c
        .api(Method::GET, &find("acme-robots"), &token, None)
        .await
        .json();
    assert_eq!(r["companies"][0]["title"], "Acme Robotics", "by domain");
    assert_eq!(
        r["contacts"][0]["title"], "Élodie Martin",
        "and the contact whose email has it"
    );
    let r = c
        .api(Method::GET, &find("robotics"), &token, None)
        .await
        .json();
    assert_eq!(r["companies"].as_array().unwrap().len(), 1);
    // Search syntax typed by users is just text.
    for q in ["\"", "AND", "ana -silva", "a:b", "*", "(", "NEAR(ana"] {
        let res = c.api(Method::GET, &find(q), &token, None).await;
        assert_eq!(res.status, 200, "{q}: {}", res.text());
    }
    let r = c
        .api(Method::GET, &find("nobody-here"), &token, None)
        .await
        .json();
    assert!(
        r["contacts"].as_array().unwrap().is_empty()
            && r["companies"].as_array().unwrap().is_empty()
    );
    assert_eq!(
        c.api(Method::GET, &find("a\u{0}"), &token, None)
            .await
            .status,
        422
    );

    // The index follows edits and deletes.
    let ben = c
        .api(Method::GET, "/api/v1/contacts?q=okafor", &token, None)
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    c.api_ok(
        Method::PATCH,
        &format!("/api/v1/contacts/{ben}"),
        &token,
        Some(json!({"last_name": "Adeyemi"})),
    )
    .await;
    assert!(
        c.api(Method::GET, &find("okafor"), &token, None)
            .await
            .json()["contacts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        c.api(Method::GET, &find("adeyemi"), &token, None)
            .await
            .json()["contacts"][0]["id"],
        ben
    );
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/contacts/{ben}"),
        &token,
        None,
    )
    .await;
    assert!(
        c.api(Method::GET, &find("adeyemi"), &token, None)
            .await
            .json()["contacts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
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
