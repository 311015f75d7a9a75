//! Who may own a contact or a company: active users who can edit. Viewers own nothing,
//! as with deals; a record keeps an owner it already has.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn a_contact_cannot_be_given_to_a_viewer() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let viewer = app.user("viewer@example.com", "viewer").await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "Ana", "owner_id": viewer.id})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.json()["error"]["fields"]["owner_id"]
            .as_str()
            .unwrap()
            .contains("viewer")
    );
    assert_eq!(app.count("contacts").await, 0, "nothing was written");
}

#[actix_web::test]
async fn a_company_cannot_be_given_to_a_viewer() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let viewer = app.user("viewer@example.com", "viewer").await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "Initech", "owner_id": viewer.id})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
}

#[actix_web::test]
async fn the_contact_form_does_not_offer_viewers_as_owners() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    app.user("viewer@example.com", "viewer").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    let html = c.get("/contacts/new").await.text();
    assert!(html.contains("rep rep@example.com"), "{html}");
    assert!(
        !html.contains("viewer viewer@example.com"),
        "a viewer is offered: {html}"
    );
}
