//! Every malformed request gets the one error shape with the right status, never a 500.
use actix_web::http::Method;
use actix_web::test::TestRequest;

use crate::support::*;

fn assert_error_shape(res: &Response, status: u16, code: &str) {
    assert_eq!(res.status, status, "{}", res.text());
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = res.json();
    assert_eq!(body["error"]["code"], code);
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
}

#[actix_web::test]
async fn malformed_bodies_get_400_415_413_and_422() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let auth = ("authorization", format!("Bearer {token}"));
    let post = || {
        TestRequest::post()
            .uri("/api/v1/contacts")
            .insert_header(auth.clone())
    };

    let res = c
        .send(
            post()
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"first_name\": "),
        )
        .await;
    assert_error_shape(&res, 400, "bad_request");
    let res = c
        .send(
            post()
                .insert_header(("content-type", "application/json"))
                .set_payload("not json"),
        )
        .await;
    assert_error_shape(&res, 400, "bad_request");
    let res = c
        .send(post().insert_header(("content-type", "application/json")))
        .await;
    assert_error_shape(&res, 400, "bad_request");
    let res = c
        .send(
            post()
                .insert_header(("content-type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
    assert_error_shape(&res, 415, "unsupported_media_type");
    let res = c.send(post().set_payload("{}")).await;
    assert_error_shape(&res, 415, "unsupported_media_type");
    let huge = format!(
        "{{\"first_name\": \"{}\", \"last_name\": \"B\"}}",
        "a".repeat(1024 * 1024)
    );
    let res = c
        .send(
            post()
                .insert_header(("content-type", "application/json"))
                .set_payload(huge),
        )
        .await;
    assert_error_shape(&res, 413, "payload_too_large");
    // Valid JSON of the wrong shape is a validation error.
    let res = c
        .send(
            post()
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"first_name\": 5}"),
        )
        .await;
    assert_error_shape(&res, 422, "validation_failed");
    let res = c
        .send(
            post()
                .insert_header(("content-type", "application/json"))
                .set_payload("[1, 2]"),
        )
        .await;
    assert_error_shape(&res, 422, "validation_failed");
    let res = c
        .send(
            post()
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"first_name\": \"A\", \"last_name\": \"B\", \"shoe_size\": 9}"),
        )
        .await;
    assert_error_shape(&res, 422, "validation_failed");
    assert!(res.text().contains("shoe_size"));
    assert_eq!(app.count("contacts").await, 0);
}

#[actix_web::test]
async fn unknown_ids_routes_and_methods() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    assert_error_shape(
        &c.api(Method::GET, "/api/v1/contacts/424242", &token, None)
            .await,
        404,
        "not_found",
    );
    assert_error_shape(
        &c.api(Method::GET, "/api/v1/contacts/abc", &token, None)
            .await,
        404,
        "not_found",
    );
    assert_error_shape(
        &c.api(
            Method::GET,
            "/api/v1/contacts/99999999999999999999999",
            &token,
            None,
        )
        .await,
        404,
        "not_found",
    );
    assert_error_shape(
        &c.api(Method::GET, "/api/v1/nothing-here", &token, None)
            .await,
        404,
        "not_found",
    );
    assert_error_shape(
        &c.api(Method::PUT, "/api/v1/contacts/1", &token, None).await,
        405,
        "method_not_allowed",
    );
    assert_error_shape(
        &c.api(Method::DELETE, "/api/v1/contacts", &token, None)
            .await,
        405,
        "method_not_allowed",
    );
    // Without a token, the 401 comes first.
    let res = c.get("/api/v1/contacts/1").await;
    assert_error_shape(&res, 401, "unauthorized");
}

#[actix_web::test]
async fn browser_errors_are_pages_and_htmx_errors_are_toasts() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    let res = c.get("/contacts/424242").await;
    assert_eq!(res.status, 404);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert!(res.text().contains("Contact not found."));
    assert!(res.text().contains("<html"));
    let res = c.get("/no/such/page").await;
    assert_eq!(res.status, 404);
    assert!(res.text().contains("<html"));
    let res = c.get("/contacts?per_page=500").await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("per_page must be between 1 and 100"));

    let res = c.hx_get("/contacts/424242").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.header("hx-reswap").as_deref(), Some("none"));
    assert_eq!(res.text(), "Contact not found.");
}
