//! Full error pages: in plain words, inside the app's header when someone is signed in.
use crate::support::*;

#[actix_web::test]
async fn a_refused_page_keeps_the_signed_in_header_and_speaks_plainly() {
    let app = TestApp::new().await;
    app.user("viewer@example.com", "viewer").await;
    let mut c = app.client().await;
    let res = c.sign_in("viewer@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.text());
    let res = c.get("/contacts/new").await;
    assert_eq!(res.status, 403);
    let html = res.text();
    assert!(
        html.contains("<nav class=\"nav\" aria-label=\"Main\">"),
        "no navigation on the 403 page: {html}"
    );
    assert!(html.contains("You can’t do that"), "{html}");
    assert!(
        !html.contains("Forbidden"),
        "HTTP jargon on the page: {html}"
    );
}

#[actix_web::test]
async fn a_missing_record_says_not_found_inside_the_header() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let res = c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.text());
    let res = c.get("/deals/987654").await;
    assert_eq!(res.status, 404);
    let html = res.text();
    assert!(html.contains("<h1>Not found</h1>"), "{html}");
    assert!(
        html.contains("Sign out"),
        "no account menu on the 404 page: {html}"
    );
}

#[actix_web::test]
async fn an_unknown_address_without_a_session_gets_a_plain_page() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let res = c.get("/no-such-page").await;
    assert_eq!(res.status, 404);
    let html = res.text();
    assert!(html.contains("There is nothing at this address."), "{html}");
    assert!(!html.contains("Sign out"), "{html}");
}
