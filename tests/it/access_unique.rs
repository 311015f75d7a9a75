//! Record-level access and uniqueness: with "reps see only their own records" on, a value
//! already held by another rep's record (a contact's email, a company's name or domain)
//! is refused as in use, without naming or linking the holder, and says to ask a manager.
use actix_web::http::Method;
use serde_json::json;

use crate::access::{rule, world};
use crate::support::*;

const IN_USE: &str = "already in use; ask a manager";

/// Asserts a 409 on `field` that says only that the value is taken.
fn refused_as_taken(res: &Response, field: &str) {
    assert_eq!(res.status, 409, "{}", res.text());
    let message = res.json()["error"]["fields"][field]
        .as_str()
        .map(str::to_string);
    let message = message.unwrap_or_else(|| panic!("names {field}: {}", res.text()));
    assert!(message.contains(IN_USE), "{message}");
    assert!(!res.text().contains("Quintessa"), "{}", res.text());
}

#[actix_web::test]
async fn another_rep_s_contact_email_is_in_use_without_a_name() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let body = contact_json("Copy", "Cat", "QUINTESSA@quintessa.example");
    let res = c
        .api(Method::POST, "/api/v1/contacts", &w.rep1, Some(body))
        .await;
    refused_as_taken(&res, "email");
    let path = format!("/api/v1/contacts/{}", w.zeb.contact);
    let patch = json!({"email": "quintessa@quintessa.example"});
    let res = c.api(Method::PATCH, &path, &w.rep1, Some(patch)).await;
    refused_as_taken(&res, "email");
    assert_eq!(app.count("contacts").await, 2, "nothing was added");
}

#[actix_web::test]
async fn another_rep_s_company_name_and_domain_are_in_use_without_a_name() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let path = format!("/api/v1/companies/{}", w.quin.company);
    let mut c = app.client().await;
    c.api_ok(
        Method::PATCH,
        &path,
        &w.rep2,
        Some(json!({"domain": "quintessa.example"})),
    )
    .await;
    rule(&app, true).await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &w.rep1,
            Some(json!({"name": "quintessa works"})),
        )
        .await;
    refused_as_taken(&res, "name");
    let path = format!("/api/v1/companies/{}", w.zeb.company);
    let res = c
        .api(
            Method::PATCH,
            &path,
            &w.rep1,
            Some(json!({"domain": "quintessa.example"})),
        )
        .await;
    refused_as_taken(&res, "domain");
}

#[actix_web::test]
async fn a_manager_gets_the_usual_message_for_a_taken_name() {
    let app = TestApp::new().await;
    world(&app).await;
    rule(&app, true).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &manager,
            Some(json!({"name": "quintessa works"})),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    assert!(!res.text().contains(IN_USE), "{}", res.text());
}
