//! The deal form started from a contact's or a company's page (pre-filled, and back to
//! that page once the deal is added), and those pages' own deal lists.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's signed-in client and the ids of a contact at "Acme Inc" and of that company.
async fn rep_with_contact(
    app: &TestApp,
) -> (
    Client<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    i64,
    i64,
) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let res = c.sign_in("rep-api@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.text());
    let contact = c
        .api_ok(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "Ana", "last_name": "Silva", "company": "Acme Inc"})),
        )
        .await
        .json();
    let company = contact["company_id"]
        .as_i64()
        .expect("the contact has a company");
    // The form's page gives the client its CSRF token.
    assert_eq!(c.get("/deals/new").await.status, 200);
    (c, contact["id"].as_i64().unwrap(), company)
}

#[actix_web::test]
async fn a_deal_started_from_a_contact_links_them_and_their_company() {
    let app = TestApp::new().await;
    let (mut c, contact, company) = rep_with_contact(&app).await;
    let html = c.get(&format!("/deals/new?contact={contact}")).await.text();
    assert!(
        html.contains(&format!(
            "name=\"contact_ids\" value=\"{contact}\" checked> Ana Silva"
        )),
        "the contact is not ticked: {html}"
    );
    assert!(
        html.contains(&format!("value=\"Acme Inc (#{company})\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("name=\"return_to\" value=\"/contacts/{contact}\"")),
        "{html}"
    );
}

#[actix_web::test]
async fn a_deal_started_from_a_company_has_that_company() {
    let app = TestApp::new().await;
    let (mut c, _, company) = rep_with_contact(&app).await;
    let html = c.get(&format!("/deals/new?company={company}")).await.text();
    assert!(
        html.contains(&format!("value=\"Acme Inc (#{company})\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "name=\"return_to\" value=\"/companies/{company}\""
        )),
        "{html}"
    );
}

#[actix_web::test]
async fn adding_it_goes_back_to_the_contact_it_was_started_from() {
    let app = TestApp::new().await;
    let (mut c, contact, company) = rep_with_contact(&app).await;
    let back = format!("/contacts/{contact}");
    let company_field = format!("Acme Inc (#{company})");
    let res = c
        .post_form_ok(
            "/deals",
            &[
                ("title", "From the contact"),
                ("currency", "USD"),
                ("company", &company_field),
                ("contact_ids", &contact.to_string()),
                ("return_to", &back),
            ],
        )
        .await;
    assert_eq!(res.location(), back);
}

#[actix_web::test]
async fn a_return_address_that_is_not_a_record_page_goes_to_the_board() {
    let app = TestApp::new().await;
    let (mut c, _, _) = rep_with_contact(&app).await;
    for elsewhere in [
        "https://evil.example/",
        "//evil.example/contacts/1",
        "/contacts/1/delete",
    ] {
        let res = c
            .post_form_ok(
                "/deals",
                &[
                    ("title", "Elsewhere"),
                    ("currency", "USD"),
                    ("return_to", elsewhere),
                ],
            )
            .await;
        assert_eq!(res.location(), "/deals", "went to {elsewhere}");
    }
}

#[actix_web::test]
async fn starting_from_a_contact_that_does_not_exist_is_not_found() {
    let app = TestApp::new().await;
    let (mut c, _, _) = rep_with_contact(&app).await;
    assert_eq!(c.get("/deals/new?contact=987654").await.status, 404);
}

#[actix_web::test]
async fn a_contacts_page_lists_their_deals_and_starts_a_new_one_for_them() {
    let app = TestApp::new().await;
    let (mut c, contact, _) = rep_with_contact(&app).await;
    let token = app.token("rep-api@example.com").await;
    c.create(
        "/api/v1/deals",
        &token,
        json!({"title": "Ana renewal", "contact_ids": [contact]}),
    )
    .await;
    c.create("/api/v1/deals", &token, json!({"title": "Someone else"}))
        .await;
    let html = c.get(&format!("/contacts/{contact}")).await.text();
    assert!(html.contains(">Ana renewal</a>"), "{html}");
    assert!(
        !html.contains("Someone else"),
        "another deal is listed: {html}"
    );
    assert!(
        html.contains(&format!("href=\"/deals/new?contact={contact}\"")),
        "{html}"
    );
}

#[actix_web::test]
async fn a_companys_page_starts_a_new_deal_for_it() {
    let app = TestApp::new().await;
    let (mut c, _, company) = rep_with_contact(&app).await;
    let html = c.get(&format!("/companies/{company}")).await.text();
    assert!(
        html.contains(&format!("href=\"/deals/new?company={company}\"")),
        "{html}"
    );
    assert!(html.contains("No deals with Acme Inc yet."), "{html}");
}

#[actix_web::test]
async fn a_company_typed_in_another_spelling_links_the_existing_one() {
    let app = TestApp::new().await;
    let (mut c, _, company) = rep_with_contact(&app).await;
    let res = c
        .post_form_ok(
            "/deals",
            &[
                ("title", "Typed loosely"),
                ("currency", "USD"),
                ("company", "acme, inc."),
            ],
        )
        .await;
    assert_eq!(res.location(), "/deals", "the deal was added");
    let token = app.token("rep-api@example.com").await;
    let deals = c.get_json("/api/v1/deals", &token).await;
    assert_eq!(
        deals["items"][0]["company_id"], company,
        "“acme, inc.” links Acme Inc: {deals}"
    );
    assert_eq!(app.count("companies").await, 1, "no second company");
}

#[actix_web::test]
async fn the_deal_forms_company_note_links_a_known_company_and_never_promises_a_new_one() {
    let app = TestApp::new().await;
    let (mut c, _, company) = rep_with_contact(&app).await;
    let known = c
        .hx_get("/pick/options?kind=company&note=pick&company=acme")
        .await
        .text();
    assert!(
        known.contains(&format!("Links to <a href=\"/companies/{company}\"")),
        "{known}"
    );
    let unknown = c
        .hx_get("/pick/options?kind=company&note=pick&company=Globex")
        .await
        .text();
    assert!(
        unknown.contains("No company called “Globex” yet"),
        "{unknown}"
    );
    assert!(!unknown.contains("creates a new company"), "{unknown}");
}

#[actix_web::test]
async fn cancel_on_a_deal_started_from_a_contact_goes_back_to_it() {
    let app = TestApp::new().await;
    let (mut c, contact, _) = rep_with_contact(&app).await;
    let form = c.get(&format!("/deals/new?contact={contact}")).await.text();
    assert!(
        form.contains(&format!(
            "<a class=\"btn\" href=\"/contacts/{contact}\">Cancel</a>"
        )),
        "Cancel goes back to the contact: {form}"
    );
    assert!(
        form.contains(&format!("<a href=\"/contacts/{contact}\">← Back</a>")),
        "so does ← Back: {form}"
    );
}

#[actix_web::test]
async fn an_unknown_company_is_refused_together_with_the_other_fields_problems() {
    let app = TestApp::new().await;
    let (mut c, _, _) = rep_with_contact(&app).await;
    let res = c
        .post_form(
            "/deals",
            &[
                ("title", ""),
                ("currency", "USD"),
                ("amount", "lots"),
                ("company", "Globex"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let html = res.text();
    assert!(html.contains("No company is called “Globex”"), "{html}");
    assert!(
        html.contains("Title is required."),
        "the title's problem too: {html}"
    );
    assert!(
        html.contains("Amount is"),
        "the amount's problem too: {html}"
    );
    assert_eq!(app.count("deals").await, 0, "nothing was written");
}
