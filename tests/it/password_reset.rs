//! Password reset by email: the link arrives through a real SMTP server and works once,
//! for an hour, and only while the password is the one it was sent for; asking answers
//! the same for an unknown address and is throttled per address and per client in every
//! process; a reset ends every session; new passwords must be long and uncommon.
use std::time::{Duration as StdDuration, Instant};

use cairn::entities::outbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use cairn::domain::resets;
use cairn::jobs::Clock;
use cairn::mail::content::REDACTED;

use crate::email::runner;
use crate::email_server::*;
use crate::invites::{minutes_ago, secret_sent_to};
use crate::support::*;

const NEW: &str = "a fresh long passphrase";

async fn ask(c: &mut Client<impl TestService>, email: &str) -> Response {
    c.get("/password/forgot").await;
    c.post_form("/password/forgot", &[("email", email)]).await
}

async fn reset(c: &mut Client<impl TestService>, secret: &str, password: &str) -> Response {
    c.get("/login").await;
    c.post_form(
        &format!("/password/reset/{secret}"),
        &[("password", password), ("password_confirm", password)],
    )
    .await
}

/// A rep, and the secret of a reset link asked for them.
async fn rep_with_link(app: &TestApp) -> String {
    app.user("rep@example.com", "rep").await;
    let res = ask(&mut app.client().await, "rep@example.com").await;
    assert_eq!(res.status, 200, "asking: {}", res.text());
    secret_sent_to(app, "rep@example.com").await
}

#[actix_web::test]
async fn a_reset_link_arrives_by_email_and_sets_a_new_password() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(
        &app.db,
        &admin,
        &test_server_url(),
        "crm@example.com",
        "Acme",
    )
    .await;
    let address = unique_address("forgetful");
    app.user(&address, "rep").await;
    let running = runner(&app.db, &Clock::system());

    let mut c = app.client().await;
    assert_eq!(ask(&mut c, &address).await.status, 200);
    let mail = unfolded(&wait_for_mail(&address, 1).await[0]);
    let at = mail
        .find("/password/reset/")
        .expect("a reset link in the email")
        + 16;
    let secret: String = mail[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    assert_eq!(secret.len(), 64, "the link's secret: {mail}");

    assert_eq!(
        c.get(&format!("/password/reset/{secret}")).await.status,
        200
    );
    let res = reset(&mut c, &secret, NEW).await;
    assert_eq!(res.status, 303, "resetting: {}", res.text());
    assert_eq!(res.location(), "/login");
    assert_eq!(c.sign_in(&address, PASSWORD).await.status, 401);
    assert_eq!(c.sign_in(&address, NEW).await.status, 303);
    let kept = sent_row(&app, &address).await;
    let all = format!("{}{:?}{:?}", kept.content, kept.html_body, kept.text_body);
    assert!(
        !all.contains(&secret) && all.contains(REDACTED),
        "the outbox keeps no usable link once sent: {all}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

/// The outbox row of the email to `to`, once its job has recorded it sent.
async fn sent_row(app: &TestApp, to: &str) -> outbox::Model {
    let deadline = Instant::now() + StdDuration::from_secs(20);
    loop {
        let row = outbox::Entity::find()
            .filter(outbox::Column::ToEmail.eq(to))
            .one(&app.db.read)
            .await
            .unwrap()
            .expect("the email's outbox row");
        if row.state == "sent" {
            return row;
        }
        assert!(Instant::now() < deadline, "never recorded sent: {row:?}");
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
}

#[actix_web::test]
async fn an_unknown_address_gets_the_same_answer_in_about_the_same_time() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let started = Instant::now();
    let known = ask(&mut c, "rep@example.com").await;
    let known_took = started.elapsed();
    let started = Instant::now();
    let unknown = ask(&mut c, "nobody@example.com").await;
    let unknown_took = started.elapsed();
    assert_eq!(known.status, 200);
    assert_eq!(unknown.status, 200);
    // One client, so one CSRF token: the pages may differ by the address alone.
    let strip = |r: &Response, who: &str| r.text().replace(who, "ADDRESS");
    assert_eq!(
        strip(&known, "rep@example.com"),
        strip(&unknown, "nobody@example.com"),
        "the answers must not tell the addresses apart"
    );
    for took in [known_took, unknown_took] {
        assert!(
            took >= resets::MIN_ANSWER,
            "every answer takes the floor: {took:?}"
        );
    }
    assert_eq!(
        app.count("outbox").await,
        1,
        "one email, to the known address"
    );
}

#[actix_web::test]
async fn asking_is_limited_per_address_known_or_not_in_every_process() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    for address in ["rep@example.com", "nobody@example.com"] {
        let mut here = app.client().await;
        let mut there = other.client().await;
        for i in 0..resets::PER_ADDRESS {
            let c = if i % 2 == 0 { &mut here } else { &mut there };
            assert_eq!(
                ask(c, address).await.status,
                200,
                "request {i} for {address}"
            );
        }
        let res = ask(&mut there, address).await;
        assert_eq!(
            res.status,
            429,
            "one too many for {address}: {}",
            res.text()
        );
        assert!(res.header("retry-after").is_some());
        assert!(res.text().contains("Too many password reset requests"));
    }
    assert_eq!(
        app.count("password_resets").await,
        resets::PER_ADDRESS as i64,
        "the refused request made no link"
    );
}

#[actix_web::test]
async fn asking_is_limited_per_client_address() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    for i in 0..resets::PER_CLIENT {
        let res = ask(&mut c, &format!("n{i}@example.com")).await;
        assert_eq!(res.status, 200, "request {i}");
    }
    assert_eq!(ask(&mut c, "one-more@example.com").await.status, 429);
    let mut elsewhere = app.client().await;
    elsewhere.peer = "203.0.113.9:1234".parse().unwrap();
    assert_eq!(
        ask(&mut elsewhere, "one-more@example.com").await.status,
        200,
        "another client is not held back"
    );
}

#[actix_web::test]
async fn a_reset_link_works_once() {
    let app = TestApp::new().await;
    let secret = rep_with_link(&app).await;
    let mut c = app.client().await;
    assert_eq!(reset(&mut c, &secret, NEW).await.status, 303);
    let res = reset(&mut c, &secret, "yet another passphrase").await;
    assert_eq!(res.status, 404, "the second use: {}", res.text());
    assert!(res.text().contains("was used already"));
    assert_eq!(c.sign_in("rep@example.com", NEW).await.status, 303);
}

#[actix_web::test]
async fn an_expired_reset_link_is_refused() {
    let app = TestApp::new().await;
    let secret = rep_with_link(&app).await;
    exec(
        &app.db,
        &format!(
            "UPDATE password_resets SET expires_at = '{}'",
            minutes_ago(1)
        ),
    )
    .await;
    let mut c = app.client().await;
    let page = c.get(&format!("/password/reset/{secret}")).await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("has expired"), "{}", page.text());
    assert_eq!(reset(&mut c, &secret, NEW).await.status, 404);
    assert_eq!(c.sign_in("rep@example.com", PASSWORD).await.status, 303);
}

#[actix_web::test]
async fn a_reset_link_is_refused_after_the_password_changed() {
    let app = TestApp::new().await;
    let secret = rep_with_link(&app).await;
    let mut rep = app.client().await;
    rep.sign_in("rep@example.com", PASSWORD).await;
    rep.get("/account").await;
    rep.post_form_ok(
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", NEW),
            ("new_password_confirm", NEW),
        ],
    )
    .await;
    let mut thief = app.client().await;
    let res = reset(&mut thief, &secret, "the thief's passphrase").await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert!(res.text().contains("the password was changed since"));
    assert_eq!(thief.sign_in("rep@example.com", NEW).await.status, 303);
}

#[actix_web::test]
async fn a_reset_ends_every_session_of_the_user() {
    let app = TestApp::new().await;
    let secret = rep_with_link(&app).await;
    let mut laptop = app.client().await;
    laptop.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(laptop.get("/contacts").await.status, 200);
    assert_eq!(
        reset(&mut app.client().await, &secret, NEW).await.status,
        303
    );
    assert_eq!(
        laptop.get("/contacts").await.status,
        303,
        "the old session ended"
    );
    assert_eq!(app.count("sessions").await, 0);
    let audited = " WHERE action IN ('request_password_reset', 'reset_password')";
    assert_eq!(app.count_where("audit_log", audited).await, 2);
}

#[actix_web::test]
async fn a_common_or_short_new_password_is_refused_naming_the_field() {
    let app = TestApp::new().await;
    let secret = rep_with_link(&app).await;
    let mut c = app.client().await;
    for bad in ["qwertyuiop123", "Password123", "nine char"] {
        let res = reset(&mut c, &secret, bad).await;
        assert_eq!(res.status, 422, "{bad}: {}", res.text());
        let text = res.text();
        assert!(
            text.contains("name=\"password\" required minlength=\"10\" autocomplete=\"new-password\" aria-invalid=\"true\""),
            "the password field is marked for {bad}"
        );
    }
    assert_eq!(
        c.sign_in("rep@example.com", PASSWORD).await.status,
        303,
        "the password did not change"
    );
}

#[actix_web::test]
async fn the_account_page_refuses_a_common_new_password() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    c.get("/account").await;
    let res = c
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "1234567890"),
                ("new_password_confirm", "1234567890"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("list of the most common"));
}

#[actix_web::test]
async fn the_login_page_offers_a_reset() {
    let app = TestApp::new().await;
    let page = app.client().await.get("/login").await.text();
    assert!(page.contains("href=\"/password/forgot\""));
}
