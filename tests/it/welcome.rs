//! The first steps an admin of a new install is offered (`/welcome`): at sign-in until
//! they are done or dismissed, with demo data for an empty workspace.
use crate::support::*;

/// Signs `email` in with no page asked for; gives where the sign-in sent the browser.
async fn landing(app: &TestApp, email: &str) -> String {
    let mut c = app.client().await;
    let res = c.sign_in(email, PASSWORD).await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.text());
    res.location()
}

#[actix_web::test]
async fn an_admin_of_a_new_install_is_sent_to_the_first_steps() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    assert_eq!(landing(&app, "admin@example.com").await, "/welcome");
}

#[actix_web::test]
async fn a_rep_goes_to_the_dashboard() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    assert_eq!(landing(&app, "rep@example.com").await, "/");
}

#[actix_web::test]
async fn a_page_asked_for_wins_over_the_first_steps() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let mut c = app.client().await;
    c.get("/login?next=%2Fdeals").await;
    let res = c
        .post_form(
            "/login",
            &[
                ("email", "admin@example.com"),
                ("password", PASSWORD),
                ("next", "/deals"),
            ],
        )
        .await;
    assert_eq!(res.location(), "/deals");
}

#[actix_web::test]
async fn once_every_step_is_done_sign_in_goes_to_the_dashboard() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    app.user("rep@example.com", "rep").await;
    assert_eq!(c.get("/settings/pipelines").await.status, 200);
    c.add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    let page = c.get("/welcome").await.text();
    assert!(page.contains("3 of 3 first steps done"), "{page}");
    assert_eq!(landing(&app, "admin@example.com").await, "/");
}

#[actix_web::test]
async fn the_welcome_page_counts_what_is_done() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    app.user("rep@example.com", "rep").await;
    let page = c.get("/welcome").await.text();
    assert!(page.contains("1 of 3 first steps done"), "{page}");
    assert!(page.contains("✓ Bring in your team"), "{page}");
}

#[actix_web::test]
async fn dismissing_the_steps_stops_the_offer() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/welcome").await;
    let res = c.post_form_ok("/welcome/dismiss", &[]).await;
    assert_eq!(res.location(), "/", "on to the dashboard");
    assert_eq!(landing(&app, "admin@example.com").await, "/");
}

#[actix_web::test]
async fn demo_data_fills_an_empty_workspace_once() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/welcome").await;
    c.post_form_ok("/welcome/demo", &[]).await;
    assert_eq!(app.count("contacts").await, 200);
    assert_eq!(app.count("deals").await, 40);
    let again = c.post_form("/welcome/demo", &[]).await;
    assert_eq!(
        again.status,
        409,
        "demo data loaded twice: {}",
        again.text()
    );
    assert_eq!(app.count("contacts").await, 200);
}

#[actix_web::test]
async fn only_admins_see_the_first_steps() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(c.get("/welcome").await.status, 403);
}
