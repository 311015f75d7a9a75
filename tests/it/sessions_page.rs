//! The account page lists where its user is signed in and ends any one session or all
//! the others; a role change and a deactivation apply on the next request in every
//! process.
use actix_web::test::TestRequest;
use cairn::domain::users;
use cairn::entities::session;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::support::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// Signs in as `email` from `peer` with browser `ua`.
async fn sign_in_with(c: &mut Client<impl TestService>, email: &str, ua: &str, peer: &str) {
    c.peer = peer.parse().unwrap();
    c.get("/login").await;
    let body = serde_html_form::to_string([
        ("email", email),
        ("password", PASSWORD),
        ("_csrf", &c.csrf.clone().unwrap_or_default()),
    ])
    .unwrap();
    let res = c
        .send(
            TestRequest::post()
                .uri("/login")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .insert_header(("user-agent", ua))
                .set_payload(body),
        )
        .await;
    assert_eq!(res.status, 303, "sign in from {peer}: {}", res.text());
}

/// The ids of `user_id`'s sessions, oldest first.
async fn session_ids(app: &TestApp, user_id: i64) -> Vec<i64> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .order_by_asc(session::Column::Id)
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

#[actix_web::test]
async fn the_account_page_lists_each_session_with_browser_and_address() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut laptop = app.client().await;
    let mut phone = app.client().await;
    sign_in_with(&mut laptop, "rep@example.com", FIREFOX, "198.51.100.7:4000").await;
    sign_in_with(&mut phone, "rep@example.com", IPHONE, "203.0.113.5:4000").await;
    let page = laptop.get("/account").await.text();
    for shown in [
        "Firefox on Linux",
        "Safari on iPhone",
        "198.51.100.7",
        "203.0.113.5",
        "this browser",
        "Sign out all other sessions",
    ] {
        assert!(page.contains(shown), "the page shows {shown}");
    }
}

#[actix_web::test]
async fn ending_another_session_signs_that_browser_out_only() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let mut laptop = app.client().await;
    let mut phone = app.client().await;
    sign_in_with(&mut laptop, "rep@example.com", FIREFOX, "198.51.100.7:4000").await;
    sign_in_with(&mut phone, "rep@example.com", IPHONE, "203.0.113.5:4000").await;
    let phone_session = session_ids(&app, rep.id).await[1];

    laptop.get("/account").await;
    let res = laptop
        .post_form_ok(&format!("/account/sessions/{phone_session}/end"), &[])
        .await;
    assert_eq!(res.location(), "/account#sessions");
    assert_eq!(phone.get("/contacts").await.status, 303, "the phone is out");
    assert_eq!(
        laptop.get("/contacts").await.status,
        200,
        "the laptop stays"
    );
    let audited = " WHERE action = 'end' AND entity = 'session'";
    assert_eq!(app.count_where("audit_log", audited).await, 1);
}

#[actix_web::test]
async fn another_users_session_cannot_be_ended() {
    let app = TestApp::new().await;
    let ana = app.user("ana@example.com", "rep").await;
    let mut ana_c = app.client().await;
    ana_c.sign_in("ana@example.com", PASSWORD).await;
    let ana_session = session_ids(&app, ana.id).await[0];
    let mut bob = app.signed_in("bob@example.com", "admin").await;
    bob.get("/account").await;
    let res = bob
        .post_form(&format!("/account/sessions/{ana_session}/end"), &[])
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(ana_c.get("/contacts").await.status, 200, "Ana stays in");
}

#[actix_web::test]
async fn signing_out_all_other_sessions_keeps_this_one() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut laptop = app.client().await;
    let mut phone = other.client().await;
    let mut tablet = app.client().await;
    for (c, peer) in [
        (&mut laptop, "198.51.100.7:1"),
        (&mut tablet, "198.51.100.8:1"),
    ] {
        sign_in_with(c, "rep@example.com", FIREFOX, peer).await;
    }
    sign_in_with(&mut phone, "rep@example.com", IPHONE, "203.0.113.5:1").await;
    laptop.get("/account").await;
    laptop
        .post_form_ok("/account/sessions/end-others", &[])
        .await;
    let page = laptop.get("/account").await.text();
    assert!(page.contains("Your 2 other sessions are signed out."));
    assert_eq!(laptop.get("/contacts").await.status, 200);
    assert_eq!(tablet.get("/contacts").await.status, 303);
    assert_eq!(
        phone.get("/contacts").await.status,
        303,
        "ended in the other process too"
    );
    assert!(!page.contains("Sign out all other sessions"), "none left");
}

#[actix_web::test]
async fn ending_this_session_from_the_list_signs_out() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    let mine = session_ids(&app, rep.id).await[0];
    c.get("/account").await;
    let res = c
        .post_form_ok(&format!("/account/sessions/{mine}/end"), &[])
        .await;
    assert!(res.location().starts_with("/login"));
    assert_eq!(c.get("/contacts").await.status, 303);
}

#[actix_web::test]
async fn a_role_change_applies_at_the_next_request_in_another_process() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut c = other.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(c.get("/contacts/new").await.status, 200);
    users::set_role(&app.db, &admin, rep.id, "viewer")
        .await
        .expect("role change");
    assert_eq!(c.get("/contacts/new").await.status, 403, "now a viewer");
}

#[actix_web::test]
async fn a_deactivation_applies_at_the_next_request_in_another_process() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut c = other.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(c.get("/contacts").await.status, 200);
    users::set_active(&app.db, Some(&admin), rep.id, false)
        .await
        .expect("deactivate");
    assert_eq!(c.get("/contacts").await.status, 303, "the session ended");
}
