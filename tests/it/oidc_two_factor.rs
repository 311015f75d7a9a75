//! Single sign-on and two-factor: the provider stands in for the password only, so a
//! user with two-factor on gives a code after it, and the organisation's requirement
//! sends one without it to set it up, as after a password.
use crate::oidc_provider::*;
use crate::support::*;
use crate::totp::{between, code, give_code, signed_in, steady, user_with_two_factor};

/// An app with the test provider configured, and a subject there for `email`.
async fn app_and_person(email: &str) -> (TestApp, String) {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(&app.db, &admin, |_| {}).await;
    let sub = unique_subject(email.split('@').next().unwrap_or("x"));
    set_user(
        &sub,
        serde_json::json!({"email": email, "email_verified": true, "name": "Ana Lima"}),
    )
    .await;
    (app, sub)
}

#[actix_web::test]
async fn a_user_with_two_factor_gives_a_code_after_the_provider() {
    let (app, sub) = app_and_person("ana@example.com").await;
    let (secret, _) = user_with_two_factor(&app, "ana@example.com").await;
    let sessions_before = app.count("sessions").await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/login/two-factor", "sent to the code step");
    assert_eq!(
        app.count("sessions").await,
        sessions_before,
        "no session yet"
    );
    let page = c.get("/login/two-factor").await;
    assert_eq!(page.status, 200, "the code page: {}", page.text());
    steady().await;
    let res = give_code(&mut c, &code(&secret, 0)).await;
    assert_eq!(res.status, 303, "the right code: {}", res.text());
    assert!(signed_in(&mut c).await, "signed in after the code");
}

#[actix_web::test]
async fn when_required_a_single_sign_on_user_sets_two_factor_up_first() {
    let (app, sub) = app_and_person("ana@example.com").await;
    app.user("ana@example.com", "rep").await;
    let mut admin = app.client().await;
    admin.sign_in("admin@example.com", PASSWORD).await;
    crate::organisation::set_organisation(&mut admin, &[("require_2fa", "1")]).await;
    let mut c = app.client().await;
    let res = sign_in_via(&mut c, &sub, |u| u).await;
    assert_eq!(res.location(), "/login/two-factor", "{}", res.text());
    let page = c.get("/login/two-factor").await.text();
    assert!(page.contains("requires two-factor"), "{page}");
    assert!(!signed_in(&mut c).await, "no way in before set-up");
    let secret = between(&page, "id=\"two-factor-secret\">", "<").to_string();
    steady().await;
    let res = give_code(&mut c, &code(&secret, 0)).await;
    assert_eq!(res.status, 200, "set up with a first code: {}", res.text());
    assert!(signed_in(&mut c).await, "signed in once set up");
}
