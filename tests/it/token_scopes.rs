//! API tokens have a scope and may expire; a token never does more than its scope, and
//! admins see and revoke everyone's.
use actix_web::http::Method;
use cairn::domain::users;
use cairn::entities::api_token;
use sea_orm::EntityTrait;
use sea_orm::sea_query::Expr;
use serde_json::json;

use crate::support::*;

async fn rep_token(app: &TestApp, scope: &str, days: &str) -> String {
    app.user("rep@example.com", "rep").await;
    app.token_with("rep@example.com", scope, days).await
}

#[actix_web::test]
async fn a_read_only_token_reads() {
    let app = TestApp::new().await;
    let token = rep_token(&app, "read", "").await;
    let mut c = app.client().await;
    c.get_json("/api/v1/contacts", &token).await;
}

#[actix_web::test]
async fn a_read_only_token_cannot_write_and_nothing_is_written() {
    let app = TestApp::new().await;
    let token = rep_token(&app, "read", "").await;
    let mut c = app.client().await;
    let body = contact_json("Ada", "Lovelace", "ada@example.com");
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.code(), "forbidden");
    assert_eq!(app.count("contacts").await, 0, "nothing may be created");
}

#[actix_web::test]
async fn a_read_write_token_writes() {
    let app = TestApp::new().await;
    let token = rep_token(&app, "write", "").await;
    let mut c = app.client().await;
    let body = contact_json("Ada", "Lovelace", "ada@example.com");
    c.api_ok(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::new().await;
    let token = rep_token(&app, "write", "1").await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    api_token::Entity::update_many()
        .col_expr(api_token::Column::ExpiresAt, Expr::value(past))
        .exec(&app.db.write)
        .await
        .unwrap();
    let mut c = app.client().await;
    let res = c.api(Method::GET, "/api/v1/contacts", &token, None).await;
    assert_eq!(
        res.status,
        401,
        "an expired token must not read: {}",
        res.text()
    );
}

/// A rep asks for a token on their account page, as the form sends it; the answer.
async fn ask_on_account_page(app: &TestApp, name: &str, scope: &str, days: &str) -> Response {
    let mut c = app.signed_in("rep@example.com", "rep").await;
    c.get("/account").await;
    let form = [("name", name), ("scope", scope), ("expires_in_days", days)];
    c.post_form("/account/tokens", &form).await
}

#[actix_web::test]
async fn a_bad_scope_or_expiry_is_refused_on_the_account_page() {
    let app = TestApp::new().await;
    let res = ask_on_account_page(&app, "Zapier", "admin", "-3").await;
    assert_eq!(res.status, 422, "{}", res.text());
    let page = res.text();
    assert!(page.contains("Scope must be read or write."));
    assert!(page.contains("Expiry must be a number of days"));
    assert_eq!(app.count("api_tokens").await, 0);
}

#[actix_web::test]
async fn the_account_page_creates_a_read_only_token_that_expires() {
    let app = TestApp::new().await;
    let res = ask_on_account_page(&app, "Reporting", "read", "30").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let page = res.text();
    assert!(page.contains("read-only"), "the list shows the scope");
    assert_eq!(
        app.count_where(
            "api_tokens",
            " WHERE scope = 'read' AND expires_at IS NOT NULL"
        )
        .await,
        1
    );
}

#[actix_web::test]
async fn admins_see_every_users_tokens() {
    let app = TestApp::new().await;
    rep_token(&app, "read", "").await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    let page = admin.get("/settings/tokens").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("rep@example.com"),
        "the rep's token should be listed with its owner"
    );
}

#[actix_web::test]
async fn others_may_not_see_the_token_list() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("manager@example.com", "manager").await;
    assert_eq!(c.get("/settings/tokens").await.status, 403);
}

#[actix_web::test]
async fn an_admin_revokes_anyones_token_and_it_stops_at_once() {
    let app = TestApp::new().await;
    let token = rep_token(&app, "write", "").await;
    let mut c = app.client().await;
    c.get_json("/api/v1/contacts", &token).await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    admin.get("/settings/tokens").await;
    let id = app.count("api_tokens").await;
    admin
        .post_form_ok(&format!("/settings/tokens/{id}/revoke"), &[])
        .await;
    let res = c.api(Method::GET, "/api/v1/contacts", &token, None).await;
    assert_eq!(res.status, 401, "a revoked token must stop: {}", res.text());
}

#[actix_web::test]
async fn deactivating_the_owner_stops_the_token_in_another_process() {
    let app = TestApp::new().await;
    let token = rep_token(&app, "write", "").await;
    let other = app.other_process().await;
    let mut there = other.client().await;
    there.get_json("/api/v1/contacts", &token).await;
    let rep = users::find_by_email(&app.db.read, "rep@example.com")
        .await
        .unwrap()
        .unwrap();
    users::set_active(&app.db, None, rep.id, false)
        .await
        .unwrap();
    let res = there
        .api(Method::GET, "/api/v1/contacts", &token, None)
        .await;
    assert_eq!(
        res.status, 401,
        "the other process must refuse the token on its next request"
    );
}

#[actix_web::test]
async fn a_read_only_token_cannot_delete() {
    let app = TestApp::new().await;
    let writer = rep_token(&app, "write", "").await;
    let reader = app.token_with("rep@example.com", "read", "").await;
    let mut c = app.client().await;
    let id = c
        .create(
            "/api/v1/contacts",
            &writer,
            json!({"first_name": "Ada", "last_name": "Lovelace"}),
        )
        .await;
    let path = format!("/api/v1/contacts/{id}");
    let res = c.api(Method::DELETE, &path, &reader, None).await;
    assert_eq!(res.status, 403, "{}", res.text());
    c.get_json(&path, &reader).await;
}
