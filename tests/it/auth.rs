use actix_web::http::Method;
use actix_web::test::TestRequest;
use cairn::domain::users;

use crate::support::*;

#[actix_web::test]
async fn pages_need_a_session_and_login_logout_work() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;

    let res = c.get("/contacts?q=x").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/login?next=%2Fcontacts%3Fq%3Dx");
    // htmx requests are told to go to the login page instead of getting a redirect.
    let res = c.hx_get("/contacts").await;
    assert!(res.header("hx-redirect").unwrap().starts_with("/login"));

    let res = c.sign_in("REP@example.com", PASSWORD).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/", "a sign-in lands on the dashboard");
    assert_eq!(c.get("/contacts").await.status, 200);

    let res = c.post_form("/logout", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(c.get("/contacts").await.status, 303);
}

/// A sign-in from the login page that asks to go on to `next`; the answer.
async fn sign_in_then(c: &mut Client<impl TestService>, next: &str) -> Response {
    c.get("/login").await;
    let fields = [
        ("email", "rep@example.com"),
        ("password", PASSWORD),
        ("next", next),
    ];
    c.post_form("/login", &fields).await
}

#[actix_web::test]
async fn login_follows_a_local_next_link() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let res = sign_in_then(&mut c, "/contacts/new").await;
    assert_eq!(res.location(), "/contacts/new");
}

#[actix_web::test]
async fn login_ignores_a_next_link_to_another_site() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let res = sign_in_then(&mut c, "//evil.example/").await;
    assert_eq!(res.location(), "/", "on the dashboard, not away");
}

#[actix_web::test]
async fn a_failed_login_never_reveals_whether_the_email_exists() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let wrong_password = c.sign_in("rep@example.com", "wrong password").await;
    let unknown_email = c.sign_in("nobody@example.com", "wrong password").await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(unknown_email.status, 401);
    assert!(
        wrong_password
            .text()
            .contains("Email or password is incorrect.")
    );
    assert!(
        unknown_email
            .text()
            .contains("Email or password is incorrect.")
    );
    assert_eq!(c.get("/contacts").await.status, 303);
}

/// A signed-in rep's client that has loaded the contacts page, and the CSRF token it gave.
async fn rep_with_csrf(app: &TestApp) -> (Client<impl TestService>, String) {
    let mut c = app.signed_in("rep@example.com", "rep").await;
    c.get("/contacts").await;
    let token = c
        .csrf
        .clone()
        .expect("the contacts page carries a CSRF token");
    (c, token)
}

/// A form POST to /contacts of `body` with `headers`, outside the client's own token
/// handling; the answer.
async fn post_contact(
    c: &mut Client<impl TestService>,
    headers: &[(&str, &str)],
    body: String,
) -> Response {
    let mut req = TestRequest::post()
        .uri("/contacts")
        .insert_header(("content-type", "application/x-www-form-urlencoded"));
    for &header in headers {
        req = req.insert_header(header);
    }
    c.send(req.set_payload(body)).await
}

#[actix_web::test]
async fn a_form_post_without_the_csrf_token_or_with_a_forged_one_is_403() {
    let app = TestApp::new().await;
    let (mut c, _) = rep_with_csrf(&app).await;
    let res = c
        .post_form_raw(
            "/contacts",
            &[("first_name", "Ana"), ("last_name", "Silva")],
        )
        .await;
    assert_eq!(res.status, 403, "no token");
    let forged = [
        ("first_name", "Ana"),
        ("last_name", "Silva"),
        ("_csrf", "forged"),
    ];
    let res = c.post_form_raw("/contacts", &forged).await;
    assert_eq!(res.status, 403, "wrong token");
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn the_right_csrf_token_from_another_site_is_403() {
    let app = TestApp::new().await;
    let (mut c, good) = rep_with_csrf(&app).await;
    let body = format!("first_name=Ana&last_name=Silva&_csrf={good}");
    let res = post_contact(&mut c, &[("origin", "https://evil.example")], body.clone()).await;
    assert_eq!(res.status, 403, "cross-site origin");
    let res = post_contact(&mut c, &[("sec-fetch-site", "cross-site")], body).await;
    assert_eq!(res.status, 403, "cross-site fetch");
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn an_htmx_delete_without_the_csrf_header_is_403() {
    let app = TestApp::new().await;
    let (mut c, _) = rep_with_csrf(&app).await;
    let req = TestRequest::delete()
        .uri("/contacts/1")
        .insert_header(("HX-Request", "true"));
    assert_eq!(c.send(req).await.status, 403);
}

#[actix_web::test]
async fn the_csrf_token_as_a_form_field_or_as_htmxs_header_is_accepted() {
    let app = TestApp::new().await;
    let (mut c, good) = rep_with_csrf(&app).await;
    let res = c
        .post_form(
            "/contacts",
            &[("first_name", "Ana"), ("last_name", "Silva")],
        )
        .await;
    assert_eq!(res.status, 303, "form field: {}", res.text());
    let headers = [
        ("x-csrf-token", good.as_str()),
        ("origin", "http://localhost"),
    ];
    let res = post_contact(&mut c, &headers, "first_name=Ben&last_name=Okafor".into()).await;
    assert_eq!(res.status, 303, "header: {}", res.text());
    assert_eq!(app.count("contacts").await, 2);
}

/// A boosted form from a page loaded before sign-in sends a stale header and a fresh
/// field: the form's own token counts.
#[actix_web::test]
async fn a_fresh_form_token_beside_a_stale_header_is_accepted() {
    let app = TestApp::new().await;
    let (mut c, good) = rep_with_csrf(&app).await;
    let headers = [("x-csrf-token", "token-of-an-older-page")];
    let body = format!("first_name=Cy&last_name=Lee&_csrf={good}");
    let res = post_contact(&mut c, &headers, body).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(app.count("contacts").await, 1);
}

/// Tokens for a rep and a viewer, and Ana Silva, a contact the rep added; her id.
async fn ana_and_a_viewer(
    app: &TestApp,
    c: &mut Client<impl TestService>,
) -> (String, String, i64) {
    let rep_token = app.api_user("rep").await;
    let viewer_token = app.api_user("viewer").await;
    let id = c
        .add_contact(&rep_token, "Ana", "Silva", "ana@example.com")
        .await;
    (rep_token, viewer_token, id)
}

/// Ana is still the only contact, as she was.
async fn ana_unchanged(app: &TestApp, c: &mut Client<impl TestService>, rep: &str, id: i64) {
    assert_eq!(
        app.count("contacts").await,
        1,
        "no contact was added or removed"
    );
    let ana = c.get_json(&format!("/api/v1/contacts/{id}"), rep).await;
    assert_eq!(ana["first_name"], "Ana", "the contact was not edited");
}

#[actix_web::test]
async fn a_viewer_reads_through_the_api_but_every_api_write_is_403() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let (rep_token, viewer_token, id) = ana_and_a_viewer(&app, &mut c).await;
    let one = format!("/api/v1/contacts/{id}");
    for path in ["/api/v1/contacts", one.as_str()] {
        let res = c.api(Method::GET, path, &viewer_token, None).await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
    }
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &viewer_token,
            Some(contact_json("V", "W", "v@example.com")),
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(res.code(), "forbidden");
    let body = serde_json::json!({"title": "X"});
    let res = c.api(Method::PATCH, &one, &viewer_token, Some(body)).await;
    assert_eq!(res.status, 403, "PATCH: {}", res.text());
    let res = c.api(Method::DELETE, &one, &viewer_token, None).await;
    assert_eq!(res.status, 403, "DELETE: {}", res.text());
    ana_unchanged(&app, &mut c, &rep_token, id).await;
}

#[actix_web::test]
async fn a_viewer_sees_no_write_buttons_and_every_write_page_is_403() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let (rep_token, _, id) = ana_and_a_viewer(&app, &mut c).await;
    let res = c.sign_in("viewer-api@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign in: {}", res.text());
    let list = c.get("/contacts").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("Ana Silva"));
    assert!(!list.text().contains("New contact"));
    for path in [
        "/contacts/new".to_string(),
        format!("/contacts/{id}/edit"),
        format!("/contacts/{id}/delete"),
    ] {
        assert_eq!(c.get(&path).await.status, 403, "GET {path}");
    }
    let res = c
        .post_form("/contacts", &[("first_name", "V"), ("last_name", "W")])
        .await;
    assert_eq!(res.status, 403);
    assert!(res.text().contains("viewer"), "the 403 page says why");
    let res = c
        .post_form(
            &format!("/contacts/{id}"),
            &[("first_name", "X"), ("last_name", "Y")],
        )
        .await;
    assert_eq!(res.status, 403, "the edit form: {}", res.text());
    let res = c.post_form(&format!("/contacts/{id}/delete"), &[]).await;
    assert_eq!(res.status, 403, "the delete form: {}", res.text());
    ana_unchanged(&app, &mut c, &rep_token, id).await;
}

#[actix_web::test]
async fn the_api_needs_a_valid_bearer_token_and_ignores_cookies() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let res = c.get("/api/v1/contacts").await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "unauthorized");
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", "cairn_0000", None)
            .await
            .status,
        401
    );
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", "something-else", None)
            .await
            .status,
        401
    );
    // A signed-in browser session is not an API credential.
    c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(c.get("/contacts").await.status, 200);
    assert_eq!(c.get("/api/v1/contacts").await.status, 401);
    // A POST with the session cookie and no token is refused before anything is written.
    let res = c
        .send(
            TestRequest::post()
                .uri("/api/v1/contacts")
                .insert_header(("content-type", "application/json"))
                .set_payload(contact_json("A", "B", "ab@example.com").to_string()),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn deactivation_ends_sessions_and_tokens() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let token = app.token("rep@example.com").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(c.get("/contacts").await.status, 200);
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", &token, None)
            .await
            .status,
        200
    );

    users::set_active(&app.db, None, rep.id, false)
        .await
        .unwrap();
    assert_eq!(c.get("/contacts").await.status, 303, "the session ended");
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", &token, None)
            .await
            .status,
        401
    );
    assert_eq!(c.sign_in("rep@example.com", PASSWORD).await.status, 401);
}

#[actix_web::test]
async fn changing_the_password_ends_other_sessions() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut laptop = app.client().await;
    let mut phone = app.client().await;
    laptop.sign_in("rep@example.com", PASSWORD).await;
    phone.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(phone.get("/contacts").await.status, 200);

    laptop.get("/account").await;
    let res = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "a new password"),
                ("new_password_confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Current password is incorrect."));
    let res = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new password"),
                ("new_password_confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        laptop.get("/contacts").await.status,
        200,
        "this session goes on"
    );
    assert_eq!(
        phone.get("/contacts").await.status,
        303,
        "the other one ended"
    );
    assert_eq!(phone.sign_in("rep@example.com", PASSWORD).await.status, 401);
    assert_eq!(
        phone
            .sign_in("rep@example.com", "a new password")
            .await
            .status,
        303
    );
}

#[actix_web::test]
async fn pages_carry_security_headers_and_a_strict_csp() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let res = c.get("/login").await;
    assert_eq!(res.status, 200);
    let csp = res.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        res.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
    let html = res.text();
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style=\""), "no inline style");
    assert!(!html.contains("https://"), "no CDN");
    let cookie = res.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP installs keep their session"
    );
}

#[actix_web::test]
async fn next_links_that_would_leave_the_site_are_ignored() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    for next in [
        "//evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "/\n/evil.example",
        "https://evil.example/",
    ] {
        let mut c = app.client().await;
        c.get("/login").await;
        let res = c
            .post_form(
                "/login",
                &[
                    ("email", "rep@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.location(), "/", "{next:?} is not followed");
    }
}

#[actix_web::test]
async fn signing_out_says_so_and_odd_input_at_login_is_a_plain_failure() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/contacts").await;
    let res = c.post_form("/logout", &[]).await;
    let page = c.get(&res.location()).await;
    assert!(page.text().contains("You are signed out."));
    // A NUL is refused as input before anything reads it; other control characters are
    // a plain failed sign-in. Neither is an error of ours.
    let res = c.sign_in("rep\0@example.com", PASSWORD).await;
    assert_eq!(res.status, 422);
    let res = c.sign_in("rep\u{1}@example.com", PASSWORD).await;
    assert_eq!(res.status, 401);
}

#[actix_web::test]
async fn a_bad_token_is_401_before_anything_else_is_looked_at() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let res = c
        .send(
            TestRequest::post()
                .uri("/api/v1/contacts")
                .insert_header(("authorization", "Bearer cairn_nope"))
                .insert_header(("content-type", "text/plain"))
                .set_payload("x".repeat(2 * 1024 * 1024)),
        )
        .await;
    assert_eq!(res.status, 401);
}

#[actix_web::test]
async fn session_cookies_are_secure_behind_https() {
    let app = TestApp::new().await;
    let res = app.https_client().await.get("/login").await;
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[actix_web::test]
async fn healthz_is_503_when_the_database_does_not_answer() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let res = c.get("/healthz").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "ok");
    app.db.read.clone().close().await.unwrap();
    let res = c.get("/healthz").await;
    assert_eq!(res.status, 503);
    assert_eq!(res.json()["status"], "unavailable");
}
