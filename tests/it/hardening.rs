//! The security review's smaller findings: NUL characters refused before any query (a 500
//! on PostgreSQL before), exports check filters before streaming, settings check the role
//! before the form, HSTS behind https, private database files, viewers' personal views.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn nul_characters_in_api_queries_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    for (path, field) in [
        ("/api/v1/contacts?cf.a=%00", "cf.a"),
        ("/api/v1/companies?cf.a=%00", "cf.a"),
        ("/api/v1/deals?company=a%00b", "company"),
        ("/api/v1/contacts?q=a%00", "q"),
    ] {
        let res = c.api(Method::GET, path, &token, None).await;
        assert_eq!(res.status, 422, "{path}: {}", res.text());
        assert!(
            res.json()["error"]["fields"][field].is_string(),
            "{path} names {field}: {}",
            res.text()
        );
    }
}

#[actix_web::test]
async fn nul_characters_in_json_bodies_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "a\u{0}b", "last_name": "X"})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.json()["error"]["fields"]["first_name"].is_string());
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "A", "last_name": "X", "tags": ["ok", "b\u{0}"]})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.json()["error"]["fields"]["tags.1"].is_string(),
        "{}",
        res.text()
    );
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn nul_characters_in_pages_and_forms_are_422() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    for path in [
        "/contacts?cf.a=%00",
        "/deals?company=a%00b",
        "/contacts/export.csv?cf.a=%00",
    ] {
        assert_eq!(c.get(path).await.status, 422, "{path}");
    }
    c.get("/contacts/new").await;
    for (path, fields) in [
        ("/deals", vec![("title", "Deal"), ("company", "a\u{0}b")]),
        (
            "/contacts",
            vec![
                ("first_name", "A"),
                ("last_name", "B"),
                ("company", "a\u{0}b"),
            ],
        ),
        ("/account/tokens", vec![("name", "a\u{0}b")]),
    ] {
        let res = c.post_form(path, &fields).await;
        assert_eq!(res.status, 422, "POST {path}: {}", res.text());
    }
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("deals").await, 0);
    assert_eq!(app.count("api_tokens").await, 0);
}

#[actix_web::test]
async fn other_control_characters_in_filters_are_422() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    for path in [
        "/api/v1/contacts?cf.a=x%01",
        "/api/v1/companies?cf.a=%1B",
        "/api/v1/deals?company=a%07",
    ] {
        let res = c.api(Method::GET, path, &token, None).await;
        assert_eq!(res.status, 422, "{path}: {}", res.text());
    }
}

#[actix_web::test]
async fn an_export_checks_its_filters_before_the_first_byte() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    for path in [
        "/contacts/export.csv?cf.a%22b=1",
        "/companies/export.csv?cf.nope=1",
        "/contacts/export.csv?tags=never-made",
    ] {
        let res = c.get(path).await;
        assert_eq!(res.status, 422, "{path}: {}", res.text());
    }
}

#[actix_web::test]
async fn settings_refuse_other_roles_before_reading_the_form() {
    let app = TestApp::new().await;
    app.user("viewer@example.com", "viewer").await;
    app.user("rep@example.com", "rep").await;
    for who in ["viewer@example.com", "rep@example.com"] {
        let mut c = app.client().await;
        c.sign_in(who, PASSWORD).await;
        c.get("/contacts").await;
        for (path, fields) in [
            ("/settings/pipelines/1/stages", vec![("probability", "abc")]),
            ("/settings/stages/1", vec![("probability", "abc")]),
            ("/settings/tags/1/merge", vec![("into", "x")]),
            ("/settings/fields", vec![("label", "")]),
            ("/settings/users", vec![("email", "bad")]),
        ] {
            let res = c.post_form(path, &fields).await;
            assert_eq!(res.status, 403, "{who} POST {path}");
            assert!(!res.text().contains("Pipelines</h1>"), "no admin page");
        }
    }
}

#[actix_web::test]
async fn https_installs_send_strict_transport_security() {
    let app = TestApp::new().await;
    let plain = app.client().await.get("/login").await;
    assert_eq!(
        plain.header("strict-transport-security"),
        None,
        "not over http"
    );
    let res = app.https_client().await.get("/login").await;
    let hsts = res.header("strict-transport-security").unwrap_or_default();
    assert!(
        hsts.starts_with("max-age="),
        "https answers carry HSTS: {hsts:?}"
    );
}

#[actix_web::test]
async fn a_new_sqlite_database_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("cairn-perm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = dir.join("data").join("cairn.db");
    let db = cairn::domain::Db::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("open a new database");
    db.migrate().await.expect("migrate");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(file.parent().unwrap()), 0o700, "the data folder");
    assert_eq!(mode(&file), 0o600, "the database file");
    assert_eq!(
        mode(&dir.join("data").join("cairn.db-wal")),
        0o600,
        "its WAL"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn viewers_keep_personal_views_but_cannot_share_one() {
    let app = TestApp::new().await;
    app.user("viewer@example.com", "viewer").await;
    let mut c = app.client().await;
    c.sign_in("viewer@example.com", PASSWORD).await;
    c.get("/contacts").await;
    let view = [
        ("list", "contacts"),
        ("name", "Mine"),
        ("query", "sort=name"),
    ];
    let res = c.post_form("/views", &view).await;
    assert_eq!(
        res.status,
        303,
        "a personal view is a preference: {}",
        res.text()
    );
    let mut shared = view.to_vec();
    shared.push(("shared", "1"));
    assert_eq!(c.post_form("/views", &shared).await.status, 403);
    assert_eq!(app.count("saved_views").await, 1);
}
