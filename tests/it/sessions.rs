//! Sessions live on the server: signing out, a password change and a deactivation end
//! them in every process, and a copied cookie is worth nothing afterwards.
use actix_web::http::Method;
use cairn::domain::users;
use sea_orm::ConnectionTrait;

use crate::support::*;

#[actix_web::test]
async fn a_cookie_copied_before_sign_out_stops_working() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut owner = app.client().await;
    owner.sign_in("rep@example.com", PASSWORD).await;
    owner.get("/contacts").await;
    let mut thief = app.client().await;
    thief.cookie = owner.cookie.clone();
    assert_eq!(thief.get("/contacts").await.status, 200, "the copy works");

    let res = owner.post_form("/logout", &[]).await;
    assert_eq!(res.status, 303, "sign-out: {}", res.text());
    assert_eq!(app.count("sessions").await, 0, "the session row is gone");
    let res = thief.get("/contacts").await;
    assert_eq!(res.status, 303, "the copied cookie must not read any more");
    assert!(res.location().starts_with("/login"));
}

#[actix_web::test]
async fn a_copied_cookie_cannot_write_after_sign_out() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut owner = app.client().await;
    owner.sign_in("rep@example.com", PASSWORD).await;
    owner.get("/contacts/new").await;
    let mut thief = app.client().await;
    thief.cookie = owner.cookie.clone();
    thief.csrf = owner.csrf.clone();
    owner.post_form_ok("/logout", &[]).await;

    let res = thief
        .post_form("/contacts", &[("first_name", "Eve"), ("last_name", "X")])
        .await;
    assert!(
        res.status == 303 && res.location().starts_with("/login"),
        "a write with the old cookie must be sent to sign in, got {}",
        res.status
    );
    assert_eq!(app.count("contacts").await, 0, "nothing was written");
}

#[actix_web::test]
async fn signing_out_through_one_process_ends_the_session_in_another() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut here = app.client().await;
    here.sign_in("rep@example.com", PASSWORD).await;
    here.get("/contacts").await;
    let mut there = other.client().await;
    there.cookie = here.cookie.clone();
    assert_eq!(there.get("/contacts").await.status, 200);

    assert_eq!(here.post_form("/logout", &[]).await.status, 303);
    assert_eq!(
        there.get("/contacts").await.status,
        303,
        "the other process must refuse the session on its next request"
    );
}

#[actix_web::test]
async fn a_session_records_where_it_signed_in_from() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.peer = "198.51.100.7:5000".parse().unwrap();
    c.sign_in("rep@example.com", PASSWORD).await;
    let row = app
        .db
        .read
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.backend(),
            "SELECT ip, token_hash FROM sessions".to_string(),
        ))
        .await
        .unwrap()
        .expect("one session row");
    assert_eq!(row.try_get::<String>("", "ip").unwrap(), "198.51.100.7");
    let hash = row.try_get::<String>("", "token_hash").unwrap();
    assert_eq!(hash.len(), 64, "only a SHA-256 of the secret is stored");
    assert!(
        !c.cookie.clone().unwrap_or_default().contains(&hash),
        "the cookie does not carry the stored hash"
    );
}

#[actix_web::test]
async fn a_role_change_applies_to_open_sessions_at_once() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let rep = app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    let admin = app.user("boss@example.com", "admin").await;
    users::set_role(&app.db, &admin, rep.id, "viewer")
        .await
        .expect("role change");
    let page = c.get("/contacts/new").await;
    assert_eq!(
        page.status, 403,
        "a viewer cannot open the new-contact form"
    );
}

#[actix_web::test]
async fn deactivation_revokes_tokens_so_reactivation_brings_none_back() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let token = app.token("rep@example.com").await;
    let mut c = app.client().await;
    users::set_active(&app.db, None, rep.id, false)
        .await
        .expect("deactivate");
    users::set_active(&app.db, None, rep.id, true)
        .await
        .expect("reactivate");
    let res = c.api(Method::GET, "/api/v1/contacts", &token, None).await;
    assert_eq!(
        res.status,
        401,
        "an old token must stay dead: {}",
        res.text()
    );
    assert_eq!(c.sign_in("rep@example.com", PASSWORD).await.status, 303);
}
