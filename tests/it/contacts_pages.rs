use actix_web::http::Method;
use actix_web::test::TestRequest;

use crate::support::*;

async fn signed_in_rep(app: &TestApp) -> String {
    app.user("rep@example.com", "rep").await;
    app.token("rep@example.com").await
}

#[actix_web::test]
async fn create_show_edit_and_delete_through_the_pages() {
    let app = TestApp::new().await;
    signed_in_rep(&app).await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;

    let empty = c.get("/contacts").await;
    assert!(empty.text().contains("No contacts yet."));
    let form = c.get("/contacts/new").await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("name=\"first_name\""));

    let res = c
        .post_form(
            "/contacts",
            &[
                ("first_name", "Ana"),
                ("last_name", "Silva"),
                ("email", "ana@example.com"),
                ("phone", "+351 21 000 0000"),
                ("company", "Acme Inc"),
                ("title", "CTO"),
                ("source", "event"),
                ("owner_id", ""),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let url = res.location();
    assert!(url.starts_with("/contacts/"));
    let page = c.get(&url).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Ana Silva was added."), "flash message");
    for expected in [
        "Ana Silva",
        "ana@example.com",
        "+351 21 000 0000",
        "Acme Inc",
        "CTO",
        "event",
    ] {
        assert!(html.contains(expected), "{expected}");
    }

    let edit = c.get(&format!("{url}/edit")).await;
    assert!(edit.text().contains("value=\"Ana\""));
    let res = c
        .post_form(
            &url,
            &[
                ("first_name", "Ana"),
                ("last_name", "Costa"),
                ("email", "ana@example.com"),
                ("phone", ""),
                ("company", ""),
                ("title", "CEO"),
                ("source", "event"),
                ("owner_id", ""),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let html = c.get(&url).await.text();
    assert!(html.contains("Ana Costa"));
    assert!(html.contains("CEO"));
    assert!(!html.contains("Acme Inc"), "company cleared");

    let confirm = c.get(&format!("{url}/delete")).await;
    assert!(confirm.text().contains("Delete Ana Costa?"));
    let res = c.post_form(&format!("{url}/delete"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/contacts");
    assert!(
        c.get("/contacts")
            .await
            .text()
            .contains("Ana Costa was deleted.")
    );
    assert_eq!(c.get(&url).await.status, 404);
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn a_bad_form_shows_errors_inline_and_keeps_what_was_typed() {
    let app = TestApp::new().await;
    signed_in_rep(&app).await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/contacts/new").await;
    let res = c
        .post_form(
            "/contacts",
            &[
                ("first_name", ""),
                ("last_name", "Silva <script>"),
                ("email", "not-an-email"),
                ("company", "Acme"),
                ("source", "organic"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("First name is required."));
    assert!(html.contains("Enter a valid email address"));
    assert!(
        html.contains("value=\"Silva &#60;script&#62;\"")
            || html.contains("value=\"Silva &lt;script&gt;\""),
        "escaped and kept"
    );
    assert!(html.contains("value=\"not-an-email\""));
    assert!(html.contains("value=\"Acme\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(app.count("contacts").await, 0);

    // A duplicate email is shown on the field too.
    c.post_form_ok(
        "/contacts",
        &[
            ("first_name", "Ana"),
            ("last_name", "Silva"),
            ("email", "ana@example.com"),
        ],
    )
    .await;
    let res = c
        .post_form(
            "/contacts",
            &[
                ("first_name", "Other"),
                ("last_name", "Ana"),
                ("email", "ANA@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(
        res.text()
            .contains("Another contact already has this email.")
    );
    assert!(res.text().contains("value=\"Other\""));
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn the_list_searches_filters_and_answers_htmx_with_a_fragment() {
    let app = TestApp::new().await;
    let token = signed_in_rep(&app).await;
    let mut c = app.client().await;
    for (first, last, company, source) in [
        ("Ana", "Silva", "Acme", "paid"),
        ("Ben", "Okafor", "Globex", "organic"),
        ("Chloé", "Dubois", "Acme", "event"),
    ] {
        let body = serde_json::json!({"first_name": first, "last_name": last, "company": company, "source": source});
        assert_eq!(
            c.api(Method::POST, "/api/v1/contacts", &token, Some(body))
                .await
                .status,
            201
        );
    }
    c.sign_in("rep@example.com", PASSWORD).await;

    let full = c.get("/contacts").await;
    let html = full.text();
    assert!(html.contains("<html") && html.contains("3 contacts"));
    assert!(html.contains("id=\"results\""));
    assert_eq!(full.header("vary").as_deref(), Some("HX-Request"));

    let frag = c.hx_get("/contacts?q=acme").await;
    assert_eq!(frag.status, 200);
    let html = frag.text();
    assert!(!html.contains("<html"), "a fragment, not a page");
    assert!(html.contains("2 contacts match"));
    assert!(
        html.contains("Ana Silva") && html.contains("Chloé Dubois") && !html.contains("Ben Okafor")
    );

    let html = c.hx_get("/contacts?source=paid").await.text();
    assert!(html.contains("Ana Silva") && !html.contains("Chloé"));
    let html = c.hx_get("/contacts?company=glob").await.text();
    assert!(html.contains("Ben Okafor") && !html.contains("Ana"));
    let html = c.hx_get("/contacts?q=nobody").await.text();
    assert!(html.contains("No contacts match these filters."));

    // A boosted navigation is a whole page.
    let boosted = c
        .send(
            TestRequest::get()
                .uri("/contacts")
                .insert_header(("HX-Request", "true"))
                .insert_header(("HX-Boosted", "true")),
        )
        .await;
    assert!(boosted.text().contains("<html"));
}

#[actix_web::test]
async fn the_list_pages_through_results() {
    let app = TestApp::new().await;
    let token = signed_in_rep(&app).await;
    let mut c = app.client().await;
    for i in 0..27 {
        let body = serde_json::json!({"first_name": format!("P{i:02}"), "last_name": "Z"});
        c.api(Method::POST, "/api/v1/contacts", &token, Some(body))
            .await;
    }
    c.sign_in("rep@example.com", PASSWORD).await;
    let html = c.get("/contacts?sort=name").await.text();
    assert!(html.contains("Page 1 of 2"));
    assert!(html.contains("P00 Z") && !html.contains("P26 Z"));
    let next = html.split("rel=\"next\"").next().unwrap();
    let href = next.rsplit("href=\"").next().unwrap();
    assert!(
        href.starts_with("/contacts?sort=name&") && href.contains("page=2&#38;after="),
        "the next link keeps the sort and seeks after the last row: {href}"
    );
    let html = c.hx_get("/contacts?sort=name&page=2").await.text();
    assert!(html.contains("P26 Z") && !html.contains("P00 Z"));
}

#[actix_web::test]
async fn the_row_delete_button_removes_the_contact() {
    let app = TestApp::new().await;
    let token = signed_in_rep(&app).await;
    let mut c = app.client().await;
    let id = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/contacts").await;
    let csrf = c.csrf.clone().unwrap();
    let res = c
        .send(
            TestRequest::delete()
                .uri(&format!("/contacts/{id}"))
                .insert_header(("HX-Request", "true"))
                .insert_header(("X-CSRF-Token", csrf.as_str())),
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.body.is_empty());
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn static_assets_are_versioned_and_cached() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let html = c.get("/login").await.text();
    let at = html
        .find("/static/htmx.min.js?v=")
        .expect("a versioned htmx URL");
    let url: String = html[at..].chars().take_while(|ch| *ch != '"').collect();
    let res = c.get(&url).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().contains("javascript"));
    assert!(
        res.header("cache-control")
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(res.text().contains("htmx"));
    let css = c.get("/static/app.css").await;
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(c.get("/static/missing.js").await.status, 404);
}

#[actix_web::test]
async fn the_list_exports_every_matching_contact_as_csv() {
    let app = TestApp::new().await;
    let token = signed_in_rep(&app).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .env("CAIRN_DATABASE_URL", &app.url)
        .args(["seed", "--contacts", "2500", "--seed", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = app.client().await;
    let tricky = serde_json::json!({"first_name": "=HYPERLINK(\"x\")", "last_name": "O'Neil, \"Jr\"", "title": "-1 Chief", "source": "paid"});
    assert_eq!(
        c.api(Method::POST, "/api/v1/contacts", &token, Some(tricky))
            .await
            .status,
        201
    );
    c.sign_in("rep@example.com", PASSWORD).await;

    let all = c.get("/contacts/export.csv").await;
    assert_eq!(all.status, 200);
    assert!(all.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        all.header("content-disposition")
            .unwrap()
            .contains("attachment; filename=\"contacts-")
    );
    let text = all.text();
    assert!(text.starts_with("id,first_name,last_name,email,phone,company,company_id,title,source,owner,owner_id,created_at,updated_at,tags\r\n"));
    assert_eq!(
        text.matches("\r\n").count(),
        1 + 2501,
        "a header and every contact, across chunks"
    );
    // Formulas are defused, quotes and commas survive.
    assert!(
        text.contains("\"'=HYPERLINK(\"\"x\"\")\",\"O'Neil, \"\"Jr\"\"\""),
        "{}",
        &text[text.len() - 400..]
    );

    // The list's filters apply.
    let paid_total = c
        .api(
            Method::GET,
            "/api/v1/contacts?source=paid&per_page=1",
            &token,
            None,
        )
        .await
        .json()["total"]
        .as_u64()
        .unwrap();
    let paid = c.get("/contacts/export.csv?source=paid").await.text();
    assert_eq!(paid.matches("\r\n").count() as u64, 1 + paid_total);
    assert!(
        paid.lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .all(|l| l.contains(",paid,"))
    );
    assert!(
        paid.contains(",\"'-1 Chief\",paid,"),
        "a leading minus is defused too"
    );
    assert_eq!(c.get("/contacts/export.csv?source=bogus").await.status, 422);
    // The export is for signed-in users only.
    let mut stranger = app.client().await;
    assert_eq!(stranger.get("/contacts/export.csv").await.status, 303);
}
