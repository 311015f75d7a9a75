//! Settings → Email and the notifications: the outbox is an admin's, the test button
//! reports the server's answer or its error, the SMTP password is never shown or logged,
//! and a deal's new owner is told once, if they want it.
use std::time::{Duration, Instant};

use actix_web::http::Method;
use actix_web::test::TestRequest;
use cairn::jobs::Clock;
use serde_json::json;

use crate::cli::Server;
use crate::email::{enqueue, outbox_row, runner};
use crate::email_server::*;
use crate::support::*;

async fn hx_post<S: TestService>(c: &mut Client<S>, path: &str) -> Response {
    let token = c.csrf.clone().unwrap_or_default();
    let body = serde_html_form::to_string([("_csrf", token.as_str())]).unwrap();
    c.send(
        TestRequest::post()
            .uri(path)
            .insert_header(("HX-Request", "true"))
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body),
    )
    .await
}

#[actix_web::test]
async fn held_mail_is_readable_by_an_admin_and_not_by_a_rep() {
    let app = TestApp::new().await;
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let id = enqueue(&app.db, "held-reader@example.com", "held-page").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while outbox_row(&app.db, id).await.state != "held" {
        assert!(
            Instant::now() < deadline,
            "never held: {:?}",
            outbox_row(&app.db, id).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    let list = admin.get("/settings/email").await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert!(
        list.text().contains("held-reader@example.com") && list.text().contains("Big renewal"),
        "the outbox lists it"
    );
    assert!(
        list.text().contains("<strong>None</strong>"),
        "the page says no server is configured"
    );
    let one = admin.get(&format!("/settings/email/outbox/{id}")).await;
    assert_eq!(one.status, 200);
    assert!(
        one.text().contains("Ada Admin made you the owner"),
        "the plain text is shown: {}",
        one.text()
    );
    let mut rep = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(
        rep.get("/settings/email").await.status,
        403,
        "a rep cannot list the outbox"
    );
    assert_eq!(
        rep.get(&format!("/settings/email/outbox/{id}"))
            .await
            .status,
        403,
        "nor read a message"
    );
    assert!(running.finish(Duration::from_secs(5)).await);
}

#[actix_web::test]
async fn the_test_button_reports_the_servers_answer() {
    let app = TestApp::new().await;
    let me = unique_address("admin");
    let admin = app.user(&me, "admin").await;
    configure(&app.db, &admin, &test_server_url(), "crm@acme.test", "Acme").await;
    let mut c = app.client().await;
    c.sign_in(&me, PASSWORD).await;
    c.get("/settings/email").await;
    let res = hx_post(&mut c, "/settings/email/test").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text().contains("The server answered: <code>250"),
        "{}",
        res.text()
    );
    assert!(
        !res.text().contains("<html"),
        "an htmx fragment, not a page"
    );
    let mail = wait_for_mail(&me, 1).await;
    assert!(mail[0].contains("Test email"), "{}", mail[0]);
    let page = c.get("/settings/email?state=sent").await.text();
    assert!(
        page.contains("[Acme] Test email"),
        "the outbox keeps the sent test email"
    );
}

#[actix_web::test]
async fn the_test_button_reports_a_server_that_is_down() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(&app.db, &admin, &down_server_url(), "", "").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/settings/email").await;
    let started = Instant::now();
    let res = hx_post(&mut c, "/settings/email/test").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text().contains("was not sent") && res.text().contains("SMTP server at 127.0.0.1"),
        "{}",
        res.text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the timeout"
    );
    assert_eq!(
        app.count("outbox").await,
        0,
        "nothing went out, nothing to retry"
    );
}

#[actix_web::test]
async fn the_smtp_password_is_never_shown_again() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/email").await;
    let secret = "hunter2-very-secret";
    c.post_form_ok(
        "/settings/email",
        &[
            (
                "smtp_url",
                &format!("smtp://mailer:{secret}@mail.example.com:587"),
            ),
            ("smtp_password", ""),
            ("mail_from", "Acme <crm@acme.test>"),
        ],
    )
    .await;
    let page = c.get("/settings/email").await.text();
    assert!(!page.contains(secret), "the password is on the page");
    assert!(
        page.contains("smtp://mailer@mail.example.com:587"),
        "the URL without it is"
    );
    assert!(
        page.contains("saved; type to replace"),
        "the page says one is saved"
    );
    let audit = app.count("audit_log").await;
    assert!(audit > 0);
    let kept = cairn::mail::settings::effective(&app.db.read, &Default::default())
        .await
        .unwrap();
    assert!(
        kept.smtp.is_some_and(|s| s.has_password()),
        "the password is kept for sending"
    );
    // An empty password field keeps it; the audit trail never has it.
    c.post_form_ok(
        "/settings/email",
        &[
            ("smtp_url", "smtp://mailer@mail.example.com"),
            ("smtp_password", ""),
        ],
    )
    .await;
    let kept = cairn::mail::settings::effective(&app.db.read, &Default::default())
        .await
        .unwrap();
    assert!(kept.smtp.is_some_and(|s| s.has_password()), "still kept");
    let trail = c.get("/settings/email").await.text();
    assert!(!trail.contains(secret));
    let bad = c
        .post_form(
            "/settings/email",
            &[("smtp_url", &format!("ftp://x:{secret}@h"))],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        !bad.text().contains(secret),
        "a refused URL is not echoed with its password"
    );
}

#[actix_web::test]
async fn the_smtp_password_never_reaches_the_log() {
    let database = fresh_database().await;
    let secret = "pw-in-the-url-7781";
    let url = format!(
        "smtp://mailer:{secret}@127.0.0.1:{}?tls=opportunistic&timeout=2",
        crate::cli::free_port()
    );
    let server = Server::start_with(
        &database.url,
        &[("CAIRN_SMTP_URL", &url), ("CAIRN_LOG", "debug")],
    );
    let db = cairn::domain::Db::connect(&database.url).await.unwrap();
    let id = enqueue(&db, "log@example.com", "log-check").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while outbox_row(&db, id).await.state != "failed" {
        assert!(Instant::now() < deadline, "never failed: {}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = server.log();
    assert!(
        log.contains("email goes out through this SMTP server"),
        "{log}"
    );
    assert!(!log.contains(secret), "the password is in the log:\n{log}");
    let bad = crate::cli::cairn(&database.url)
        .env(
            "CAIRN_SMTP_URL",
            format!("smtp://u:{secret}@h?tls=sometimes"),
        )
        .arg("migrate")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a bad URL is a bad setting: {said}"
    );
    assert!(
        said.contains("CAIRN_SMTP_URL") && !said.contains(secret),
        "{said}"
    );
}

#[actix_web::test]
async fn a_deals_new_owner_is_told_once_if_they_want_it() {
    let app = TestApp::new().await;
    let admin_token = app.api_user("admin").await;
    let rep_email = unique_address("owner");
    let rep = app.user(&rep_email, "rep").await;
    let mut c = app.client().await;
    let deal = c
        .create(
            "/api/v1/deals",
            &admin_token,
            json!({"title": "Renewal", "owner_id": rep.id}),
        )
        .await;
    let path = format!("/api/v1/deals/{deal}");
    c.api_ok(
        Method::PATCH,
        &path,
        &admin_token,
        Some(json!({"title": "Renewal 2027"})),
    )
    .await;
    assert_eq!(
        app.count("outbox").await,
        1,
        "one email for one assignment, not for an edit"
    );
    // The rep turns the notification off; another deal assigned to them sends nothing.
    let mut rc = app.client().await;
    rc.sign_in(&rep_email, PASSWORD).await;
    let page = rc.get("/account").await.text();
    assert!(
        page.contains("name=\"deal_assigned\" value=\"1\" checked"),
        "on by default"
    );
    assert!(
        !page.contains("name=\"daily_digest\" value=\"1\" checked"),
        "the digest is off by default"
    );
    rc.post_form_ok(
        "/account/notifications",
        &[("task_assigned", "1"), ("task_due_lead_minutes", "30")],
    )
    .await;
    let page = rc.get("/account").await.text();
    assert!(
        !page.contains("name=\"deal_assigned\" value=\"1\" checked")
            && page.contains("value=\"30\""),
        "saved"
    );
    c.create(
        "/api/v1/deals",
        &admin_token,
        json!({"title": "Quiet", "owner_id": rep.id}),
    )
    .await;
    assert_eq!(app.count("outbox").await, 1, "the preference is honoured");
    let bad = rc
        .post_form(
            "/account/notifications",
            &[("task_due_lead_minutes", "soon")],
        )
        .await;
    assert_eq!(bad.status, 422, "a lead time that is not a number");
    // The one email goes out once.
    let admin = app.user("mail-admin@example.com", "admin").await;
    configure(&app.db, &admin, &test_server_url(), "", "Acme").await;
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let mail = wait_for_mail(&rep_email, 1).await;
    assert!(unfolded(&mail[0]).contains("Renewal"), "{}", mail[0]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(messages_to(&rep_email).len(), 1, "sent once");
    assert!(running.finish(Duration::from_secs(5)).await);
}

#[actix_web::test]
async fn nobody_is_told_of_a_deal_they_gave_themselves() {
    let app = TestApp::new().await;
    let (mut c, rep_token) = app.rep_signed_in().await;
    let deal = c
        .create("/api/v1/deals", &rep_token, json!({"title": "Mine"}))
        .await;
    let other = app.user("other@example.com", "rep").await;
    c.api_ok(
        Method::PATCH,
        &format!("/api/v1/deals/{deal}"),
        &rep_token,
        Some(json!({"owner_id": other.id})),
    )
    .await;
    assert_eq!(
        app.count("outbox").await,
        1,
        "only the handed-over deal is emailed"
    );
}

#[actix_web::test]
async fn start_up_warns_once_that_email_is_held() {
    let database = fresh_database().await;
    let server = Server::start_with(&database.url, &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("email is not being sent") {
        assert!(Instant::now() < deadline, "no warning: {}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    assert_eq!(log.matches("email is not being sent").count(), 1, "{log}");
    assert!(log.contains("WARN"), "a warning: {log}");
}
