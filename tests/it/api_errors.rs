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

/// What a rep's `POST /api/v1/contacts` of `payload` (None: no body) sent as
/// `content_type` (None: no header) answers; every such body here is refused, so the
/// request must have written no contact.
async fn post_contact(content_type: Option<&str>, payload: Option<&str>) -> Response {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let mut req = TestRequest::post()
        .uri("/api/v1/contacts")
        .insert_header(("authorization", format!("Bearer {token}")));
    if let Some(content_type) = content_type {
        req = req.insert_header(("content-type", content_type));
    }
    if let Some(payload) = payload {
        req = req.set_payload(payload.to_string());
    }
    let res = c.send(req).await;
    assert_eq!(
        app.count("contacts").await,
        0,
        "a refused body wrote a contact"
    );
    res
}

/// What a rep's `method` request to `path` answers.
async fn rep_asks(method: Method, path: &str) -> Response {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    c.api(method, path, &token, None).await
}

const JSON: Option<&str> = Some("application/json");

#[actix_web::test]
async fn a_body_that_is_not_json_is_400() {
    for payload in [Some("{\"first_name\": "), Some("not json"), None] {
        let res = post_contact(JSON, payload).await;
        assert_error_shape(&res, 400, "bad_request");
    }
}

#[actix_web::test]
async fn a_body_not_sent_as_json_is_415() {
    for content_type in [Some("text/plain"), None] {
        let res = post_contact(content_type, Some("{}")).await;
        assert_error_shape(&res, 415, "unsupported_media_type");
    }
}

#[actix_web::test]
async fn a_body_over_1_mib_is_413() {
    let huge = format!(
        "{{\"first_name\": \"{}\", \"last_name\": \"B\"}}",
        "a".repeat(1024 * 1024)
    );
    let res = post_contact(JSON, Some(&huge)).await;
    assert_error_shape(&res, 413, "payload_too_large");
}

#[actix_web::test]
async fn valid_json_of_the_wrong_shape_is_422() {
    for payload in ["{\"first_name\": 5}", "[1, 2]"] {
        let res = post_contact(JSON, Some(payload)).await;
        assert_error_shape(&res, 422, "validation_failed");
    }
}

#[actix_web::test]
async fn an_unknown_field_is_422_naming_it() {
    let payload = "{\"first_name\": \"A\", \"last_name\": \"B\", \"shoe_size\": 9}";
    let res = post_contact(JSON, Some(payload)).await;
    assert_error_shape(&res, 422, "validation_failed");
    assert!(res.text().contains("shoe_size"), "{}", res.text());
}

#[actix_web::test]
async fn unknown_ids_and_routes_are_404() {
    for path in [
        "/api/v1/contacts/424242",
        "/api/v1/contacts/abc",
        "/api/v1/contacts/99999999999999999999999",
        "/api/v1/nothing-here",
    ] {
        let res = rep_asks(Method::GET, path).await;
        assert_error_shape(&res, 404, "not_found");
    }
}

#[actix_web::test]
async fn a_method_a_resource_does_not_take_is_405() {
    for (method, path) in [
        (Method::PUT, "/api/v1/contacts/1"),
        (Method::DELETE, "/api/v1/contacts"),
    ] {
        let res = rep_asks(method, path).await;
        assert_error_shape(&res, 405, "method_not_allowed");
    }
}

#[actix_web::test]
async fn without_a_token_the_401_comes_first() {
    let app = TestApp::new().await;
    app.api_user("rep").await;
    let res = app.client().await.get("/api/v1/contacts/1").await;
    assert_error_shape(&res, 401, "unauthorized");
}

#[actix_web::test]
async fn browser_errors_are_html_pages() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
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
}

#[actix_web::test]
async fn htmx_errors_are_toasts() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    let res = c.hx_get("/contacts/424242").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.header("hx-reswap").as_deref(), Some("none"));
    assert_eq!(res.text(), "Contact not found.");
}
