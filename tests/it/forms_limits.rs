//! What a form's endpoint lets through: CORS headers only for the origins the form
//! lists (exact match), its preflight, the per-address rate limit and the body size.
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::forms_given::*;
use crate::support::*;

const SITE: &str = "https://www.example.com";

async fn preflight(c: &mut Client<impl TestService>, key: &str, origin: &str) -> Response {
    let req = TestRequest::default()
        .method(Method::OPTIONS)
        .uri(&format!("/f/{key}"))
        .insert_header(("origin", origin))
        .insert_header(("access-control-request-method", "POST"))
        .insert_header(("access-control-request-headers", "content-type"));
    c.send(req).await
}

fn person(n: usize) -> serde_json::Value {
    json!({"first_name": "P", "last_name": format!("{n}"), "email": format!("p{n}@example.com")})
}

#[actix_web::test]
async fn a_listed_origin_gets_cors_headers_and_another_gets_none() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |f| f.allowed_origins = vec![SITE.into()]).await;
    let mut c = app.client().await;
    let res = c.submit_json(&f.public_key, SITE, &person(1)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("access-control-allow-origin").as_deref(),
        Some(SITE)
    );
    for other in [
        "https://evil.example",
        "https://www.example.com.evil.example",
        "http://www.example.com",
    ] {
        let res = c.submit_json(&f.public_key, other, &person(2)).await;
        assert!(
            res.header("access-control-allow-origin").is_none(),
            "no CORS header for {other}"
        );
    }
}

#[actix_web::test]
async fn the_preflight_allows_a_listed_origin_only() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |f| f.allowed_origins = vec![SITE.into()]).await;
    let mut c = app.client().await;
    let ok = preflight(&mut c, &f.public_key, SITE).await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some(SITE)
    );
    let methods = ok
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let headers = ok
        .header("access-control-allow-headers")
        .unwrap_or_default();
    assert!(headers.to_lowercase().contains("content-type"), "{headers}");
    let denied = preflight(&mut c, &f.public_key, "https://evil.example").await;
    assert!(denied.header("access-control-allow-origin").is_none());
    assert!(denied.header("access-control-allow-methods").is_none());
    let unknown = preflight(&mut c, &"0".repeat(32), SITE).await;
    assert_eq!(unknown.status, 404);
}

#[actix_web::test]
async fn the_eleventh_submission_in_a_minute_from_one_address_is_429() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    for n in 0..10 {
        let res = c.submit_json(&f.public_key, SITE, &person(n)).await;
        assert_eq!(res.status, 200, "submission {n}: {}", res.text());
    }
    let res = c.submit_json(&f.public_key, SITE, &person(10)).await;
    assert_eq!(res.status, 429, "{}", res.text());
    let wait: u64 = res
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        app.count("contacts").await,
        10,
        "the refused one wrote nothing"
    );
    c.peer = "10.9.9.9:4000".parse().unwrap();
    let res = c.submit_json(&f.public_key, SITE, &person(11)).await;
    assert_eq!(
        res.status,
        200,
        "another address is not held back: {}",
        res.text()
    );
}

#[actix_web::test]
async fn a_body_over_64_kib_is_413_and_stores_nothing() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let big = "x".repeat(65 * 1024);
    let sent = json!({"first_name": "A", "last_name": "B", "email": "a@example.com", "phone": big});
    let res = c.submit_json(&f.public_key, SITE, &sent).await;
    assert_eq!(res.status, 413, "{}", res.text());
    assert_eq!(res.code(), "payload_too_large");
    let page = c
        .submit_form(
            &f.public_key,
            &[("email", "a@example.com"), ("phone", &big)],
        )
        .await;
    assert_eq!(page.status, 413, "{}", page.text());
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("form_submissions").await, 0);
}
