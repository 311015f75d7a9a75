//! The contact form against duplicates: company suggestions and the "creates a new
//! company" note, saving a typed company links the existing one, look-alike warnings
//! while typing, a duplicate email linking the contact that has it, and adding a
//! contact from a company's page.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A signed-in rep who has added the company `body` through the API: their client,
/// token, and the company's id.
async fn rep_with_company(
    app: &TestApp,
    body: serde_json::Value,
) -> (Client<impl TestService>, String, i64) {
    let (mut c, token) = app.rep_signed_in().await;
    let id = c.create("/api/v1/companies", &token, body).await;
    (c, token, id)
}

/// A signed-in rep who has added the contact `saved` through the API, then submitted the
/// new contact form with `fields`: their client, the saved contact's id, and the form's
/// answer.
async fn submitted_beside(
    app: &TestApp,
    saved: serde_json::Value,
    fields: &[(&str, &str)],
) -> (Client<impl TestService>, i64, Response) {
    let (mut c, token) = app.rep_signed_in().await;
    let id = c.create("/api/v1/contacts", &token, saved).await;
    let res = submit_new(&mut c, fields).await;
    (c, id, res)
}

/// Opens the new-contact form (for its CSRF token) and posts `fields` as a person would.
async fn submit_new(c: &mut Client<impl TestService>, fields: &[(&str, &str)]) -> Response {
    c.get("/contacts/new").await;
    c.post_form("/contacts", fields).await
}

#[actix_web::test]
async fn company_suggestions_match_any_case_punctuation_and_domain() {
    let app = TestApp::new().await;
    let (mut c, _, id) = rep_with_company(
        &app,
        json!({"name": "Northwind Traders, Inc.", "domain": "northwind.com"}),
    )
    .await;
    let option = format!("value=\"Northwind Traders, Inc. (#{id})\"");
    for typed in [
        "company=northwind",
        "company=NORTHWIND%20traders",
        "company=northwind%20traders%20inc",
        "company=northwind.com",
        "company=https%3A%2F%2Fwww.northwind.com%2Fabout",
        "company=ann%40northwind.com",
        "company=&email=ann%40northwind.com",
        "kind=company&email=ann%40northwind.com&note=1",
        "kind=company&with=northwind",
    ] {
        let res = c.hx_get(&format!("/pick/options?{typed}")).await;
        assert_eq!(res.status, 200, "{typed}: {}", res.text());
        assert!(
            res.text().contains(&option),
            "{typed} suggests Northwind: {}",
            res.text()
        );
    }
    let res = c.hx_get("/pick/options?company=umbrella").await;
    assert!(!res.text().contains("Northwind"), "{}", res.text());
}

#[actix_web::test]
async fn the_company_note_says_when_saving_creates_a_new_company() {
    let app = TestApp::new().await;
    let (mut c, _, id) = rep_with_company(&app, json!({"name": "Northwind Traders"})).await;
    let res = c.hx_get("/pick/options?company=northwind&note=1").await;
    let html = res.text();
    assert!(
        html.contains("hx-swap-oob") && html.contains("creates a new company “northwind”"),
        "a name of no company says it creates one: {html}"
    );
    assert!(
        html.contains("Northwind Traders (#"),
        "and still suggests: {html}"
    );
    for typed in ["northwind%20traders", "Northwind%20Traders%2C%20Inc."] {
        let html = c
            .hx_get(&format!("/pick/options?company={typed}&note=1"))
            .await
            .text();
        assert!(
            !html.contains("creates a new company")
                && html.contains(&format!("href=\"/companies/{id}\"")),
            "{typed} links the existing company: {html}"
        );
    }
    let plain = c.hx_get("/pick/options?company=northwind").await.text();
    assert!(
        !plain.contains("hx-swap-oob"),
        "no note unless asked: {plain}"
    );
    // The form shown again with a new company's name says so too.
    let page = c.get("/contacts/new").await.text();
    assert!(page.contains("id=\"company-note\"") && page.contains("/pick/options"));
}

#[actix_web::test]
async fn saving_a_differently_written_company_links_the_existing_one() {
    let app = TestApp::new().await;
    let (mut c, token, id) =
        rep_with_company(&app, json!({"name": "Northwind Traders, Inc."})).await;
    c.get("/contacts/new").await;
    c.post_form_ok(
        "/contacts",
        &[
            ("first_name", "Ana"),
            ("last_name", "Silva"),
            ("company", "northwind traders"),
        ],
    )
    .await;
    let body =
        json!({"first_name": "Ben", "last_name": "Okafor", "company": "NORTHWIND TRADERS INC"});
    let ben = c
        .api_ok(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await
        .json();
    assert_eq!(ben["company_id"], id, "the API links it too: {ben}");
    assert_eq!(app.count("companies").await, 1, "no second company");
    let ana = c
        .get_json("/api/v1/contacts?q=Silva", &token)
        .await
        .to_string();
    assert!(ana.contains(&format!("\"company_id\":{id}")), "{ana}");
    // A chosen suggestion names its company by id.
    c.get("/contacts/new").await;
    c.post_form_ok(
        "/contacts",
        &[
            ("first_name", "Cy"),
            ("last_name", "Dee"),
            ("company", &format!("Northwind Traders, Inc. (#{id})")),
        ],
    )
    .await;
    assert_eq!(
        app.count("companies").await,
        1,
        "no company named “… (#id)”"
    );
}

#[actix_web::test]
async fn typing_an_email_or_name_of_another_contact_warns_with_a_link() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let ana = c.add_contact(&token, "Ana", "Silva", "ana@acme.com").await;
    let link = format!("href=\"/contacts/{ana}\"");
    let html = c.hx_get("/pick/contact?email=ANA%40acme.com").await.text();
    assert!(
        html.contains("Another contact already has this email") && html.contains(&link),
        "{html}"
    );
    assert!(html.contains("open Ana Silva"), "{html}");
    let html = c
        .hx_get("/pick/contact?first_name=ana&last_name=silva")
        .await
        .text();
    assert!(html.contains(&link), "the same name warns too: {html}");
    let html = c
        .hx_get(&format!("/pick/contact?email=ana%40acme.com&except={ana}"))
        .await
        .text();
    assert!(!html.contains(&link), "no warning about itself: {html}");
    let html = c.hx_get("/pick/contact?email=ben%40acme.com").await.text();
    assert!(html.trim().is_empty(), "nothing to say: {html}");
}

#[actix_web::test]
async fn a_refused_duplicate_email_links_the_contact_that_has_it() {
    let app = TestApp::new().await;
    let fields = [
        ("first_name", "Janet"),
        ("last_name", "Doe"),
        ("email", "JANE@acme.com"),
    ];
    let saved = contact_json("Jane", "Doe", "jane@acme.com");
    let (_, ana, res) = submitted_beside(&app, saved, &fields).await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(
        res.text().contains(&format!(
            "Another contact already has this email — <a href=\"/contacts/{ana}\""
        )) && res.text().contains("open Jane Doe"),
        "{}",
        res.text()
    );
}

#[actix_web::test]
async fn the_look_alike_panel_keeps_the_form_in_the_address_bar() {
    let app = TestApp::new().await;
    let saved = json!({"first_name": "Ana", "last_name": "Silva", "phone": "+1 555 0100"});
    let fields = [
        ("first_name", "Other"),
        ("last_name", "Person"),
        ("phone", "+1 555 0100"),
    ];
    let (mut c, _, res) = submitted_beside(&app, saved, &fields).await;
    assert!(res.text().contains("This may already be in Cairn"));
    let url = res.header("hx-replace-url").unwrap_or_default();
    assert_eq!(
        url, "/contacts/new?first_name=Other&last_name=Person&phone=%2B1+555+0100",
        "a reload shows the form with what was typed, not the list"
    );
    let html = c.get(&url).await.text();
    assert!(
        html.contains("value=\"Other\"") && html.contains("value=\"+1 555 0100\""),
        "the reloaded form keeps the typed values: {html}"
    );
}

#[actix_web::test]
async fn add_contact_on_a_company_page_prefills_it_and_returns_there() {
    let app = TestApp::new().await;
    let (mut c, _, id) = rep_with_company(&app, json!({"name": "Initech"})).await;
    let page = c.get(&format!("/companies/{id}")).await.text();
    assert!(
        page.contains(&format!("href=\"/contacts/new?company={id}\"")),
        "the company page offers Add contact"
    );
    let form = c.get(&format!("/contacts/new?company={id}")).await.text();
    assert!(
        form.contains(&format!("value=\"Initech (#{id})\"")),
        "{form}"
    );
    assert!(form.contains(&format!("name=\"return_to\" value=\"/companies/{id}\"")));
    let res = c
        .post_form_ok(
            "/contacts",
            &[
                ("first_name", "Bill"),
                ("last_name", "Lumbergh"),
                ("company", &format!("Initech (#{id})")),
                ("return_to", &format!("/companies/{id}")),
            ],
        )
        .await;
    assert_eq!(res.location(), format!("/companies/{id}"));
    let page = c.get(&res.location()).await.text();
    assert!(page.contains("Bill Lumbergh"), "listed at the company");
    assert_eq!(app.count("companies").await, 1);
}

#[actix_web::test]
async fn cancel_on_a_contact_started_from_a_company_goes_back_to_it() {
    let app = TestApp::new().await;
    let (mut c, _, id) = rep_with_company(&app, json!({"name": "Initech"})).await;
    let form = c.get(&format!("/contacts/new?company={id}")).await.text();
    assert!(
        form.contains(&format!(
            "<a class=\"btn\" href=\"/companies/{id}\">Cancel</a>"
        )),
        "Cancel goes back to the company: {form}"
    );
    let plain = c.get("/contacts/new").await.text();
    assert!(
        plain.contains("<a class=\"btn\" href=\"/contacts\">Cancel</a>"),
        "from the list, Cancel goes to the list: {plain}"
    );
}

#[actix_web::test]
async fn a_return_address_elsewhere_is_not_followed_after_saving() {
    let app = TestApp::new().await;
    let (mut c, _) = app.rep_signed_in().await;
    c.get("/contacts/new").await;
    let res = c
        .post_form_ok(
            "/contacts",
            &[
                ("first_name", "Pete"),
                ("last_name", "Gibbons"),
                ("return_to", "https://evil.example/companies/1"),
            ],
        )
        .await;
    assert!(
        res.location().starts_with("/contacts/"),
        "{}",
        res.location()
    );
}

#[actix_web::test]
async fn the_same_name_at_a_company_spelt_otherwise_is_flagged_before_saving() {
    let app = TestApp::new().await;
    let saved = json!({"first_name": "Ana", "last_name": "Silva", "company": "Northwind Traders"});
    let fields = [
        ("first_name", "Ana"),
        ("last_name", "Silva"),
        ("company", "northwind"),
    ];
    let (_, _, res) = submitted_beside(&app, saved, &fields).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text().contains("This may already be in Cairn"),
        "flagged: {}",
        res.text()
    );
    assert_eq!(app.count("contacts").await, 1, "nothing saved yet");
}
