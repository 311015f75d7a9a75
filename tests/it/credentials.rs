//! Sessions and API tokens kept between requests (`domain::credentials`): what is kept
//! never outlives a change made by another process, the command line included, and the
//! keeping is bounded.
use actix_web::http::Method;
use cairn::domain::credentials::{Generation, Kept};
use cairn::domain::{tokens, users};
use serde_json::json;

use crate::cli::{cairn, succeeded};
use crate::support::*;

/// How many entries `app`'s process should keep: `sqlite` on SQLite, none on
/// PostgreSQL, where every request looks its credentials up.
fn expect_kept(app: &TestApp, sqlite: usize) -> usize {
    if app.db.credentials.generation.keeps() {
        sqlite
    } else {
        0
    }
}

#[actix_web::test]
async fn the_command_line_deactivating_a_user_ends_their_kept_session() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(c.get("/contacts").await.status, 200);
    assert_eq!(c.get("/contacts").await.status, 200);
    let kept = app.db.credentials.sessions.len();
    assert_eq!(kept, expect_kept(&app, 1), "the session is kept");
    let out = succeeded(cairn(&app.url).args(["user", "deactivate", "--email", "rep@example.com"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("deactivated"));
    assert_eq!(
        c.get("/contacts").await.status,
        303,
        "the next request after the command must be refused"
    );
}

#[actix_web::test]
async fn the_command_line_deactivating_a_user_stops_their_kept_token() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let token = app.token("rep@example.com").await;
    let mut c = app.client().await;
    c.get_json("/api/v1/contacts", &token).await;
    c.get_json("/api/v1/contacts", &token).await;
    let kept = app.db.credentials.tokens.len();
    assert_eq!(kept, expect_kept(&app, 1), "the token is kept");
    succeeded(cairn(&app.url).args(["user", "deactivate", "--email", "rep@example.com"]));
    let res = c.api(Method::GET, "/api/v1/contacts", &token, None).await;
    assert_eq!(
        res.status,
        401,
        "a deactivated owner's token: {}",
        res.text()
    );
}

#[actix_web::test]
async fn revoking_a_token_in_one_process_stops_it_in_another() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let token = app.token("rep@example.com").await;
    let other = app.other_process().await;
    let mut there = other.client().await;
    there.get_json("/api/v1/contacts", &token).await;
    let id = tokens::list_for_user(&app.db, rep.id).await.unwrap()[0].id;
    tokens::revoke(&app.db, &rep, id).await.expect("revoke");
    let res = there
        .api(Method::GET, "/api/v1/contacts", &token, None)
        .await;
    assert_eq!(res.status, 401, "a revoked token: {}", res.text());
}

#[actix_web::test]
async fn a_role_change_in_one_process_limits_a_kept_token_in_another() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let rep = app.user("rep@example.com", "rep").await;
    let token = app.token("rep@example.com").await;
    let other = app.other_process().await;
    let mut there = other.client().await;
    let contact = json!({"first_name": "Ada", "last_name": "Lovelace"});
    there
        .api_ok(Method::POST, "/api/v1/contacts", &token, Some(contact))
        .await;
    users::set_role(&app.db, &admin, rep.id, "viewer")
        .await
        .expect("role change");
    let contact = json!({"first_name": "Grace", "last_name": "Hopper"});
    let res = there
        .api(Method::POST, "/api/v1/contacts", &token, Some(contact))
        .await;
    assert_eq!(res.status, 403, "now a viewer: {}", res.text());
    assert_eq!(app.count("contacts").await, 1, "only the first was written");
}

#[actix_web::test]
async fn a_password_change_in_one_process_ends_kept_sessions_in_another() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut there = other.client().await;
    there.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(there.get("/contacts").await.status, 200);
    users::change_password(
        &app.db,
        &rep,
        PASSWORD,
        "a new long passphrase 42",
        "",
        None,
    )
    .await
    .expect("password change");
    assert_eq!(there.get("/contacts").await.status, 303, "signed out");
}

#[actix_web::test]
async fn a_time_zone_change_in_one_process_is_seen_by_kept_sessions_in_another() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut there = other.client().await;
    there.sign_in("rep@example.com", PASSWORD).await;
    let chosen = "<option selected>Asia/Tokyo</option>";
    assert!(!there.get("/account").await.text().contains(chosen));
    users::set_time_zone(&app.db, &rep, "Asia/Tokyo")
        .await
        .expect("time zone");
    let page = there.get("/account").await.text();
    assert!(page.contains(chosen), "the new zone is the chosen one");
}

#[actix_web::test]
async fn a_change_written_by_one_generation_is_seen_by_another_on_the_same_file() {
    let db = crate::support::fresh_database().await;
    let url = if db.url.starts_with("sqlite:") {
        db.url.clone()
    } else {
        // The generation lives beside a SQLite file; PostgreSQL keeps nothing.
        assert!(Generation::open(&db.url).read().is_none());
        return;
    };
    let (here, there) = (Generation::open(&url), Generation::open(&url));
    let seen = there.read().expect("a generation");
    assert_eq!(there.read(), Some(seen), "unchanged while nothing changes");
    here.bump();
    assert_ne!(
        there.read(),
        Some(seen),
        "another handle sees the bump at once"
    );
}

#[actix_web::test]
async fn kept_entries_never_exceed_the_capacity() {
    let generation = Generation::open("sqlite::memory:");
    let stamp = generation.read().expect("an in-memory database keeps");
    let kept: Kept<u32> = Kept::new(3);
    for n in 0..50 {
        kept.insert(format!("secret-{n}"), stamp, n);
        assert!(kept.len() <= 3, "{} kept after {n} inserts", kept.len());
    }
    assert_eq!(kept.get("secret-49", stamp), Some(49), "the newest is kept");
}

#[actix_web::test]
async fn an_entry_kept_before_a_change_is_not_used_after_it() {
    let generation = Generation::open("sqlite::memory:");
    let before = generation.read().expect("a generation");
    let kept: Kept<&str> = Kept::new(3);
    kept.insert("secret".into(), before, "rep");
    generation.bump();
    let now = generation.read().expect("a generation");
    assert_eq!(kept.get("secret", now), None, "stale after the bump");
    assert_eq!(kept.get("secret", before), Some("rep"));
}

#[actix_web::test]
async fn ending_a_session_from_the_list_ends_it_in_another_process() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.other_process().await;
    let mut phone = other.client().await;
    phone.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(phone.get("/contacts").await.status, 200);
    let phone_session = cairn::domain::sessions::list_for_user(&app.db, rep.id)
        .await
        .unwrap()[0]
        .id;
    let mut laptop = app.client().await;
    laptop.sign_in("rep@example.com", PASSWORD).await;
    laptop.get("/account").await;
    laptop
        .post_form_ok(&format!("/account/sessions/{phone_session}/end"), &[])
        .await;
    assert_eq!(phone.get("/contacts").await.status, 303, "the phone is out");
    assert_eq!(
        laptop.get("/contacts").await.status,
        200,
        "the laptop stays"
    );
}

#[actix_web::test]
async fn nothing_is_trusted_once_the_generation_file_is_removed() {
    let db = crate::support::fresh_database().await;
    let Some(path) = db.url.strip_prefix("sqlite://") else {
        return; // PostgreSQL keeps nothing (see above).
    };
    let generation = Generation::open(&db.url);
    assert!(generation.read().is_some(), "kept while the file is there");
    std::fs::remove_file(format!("{path}-auth")).unwrap();
    assert_eq!(
        generation.read(),
        None,
        "a new file's bumps would go unseen: nothing may be kept"
    );
}
