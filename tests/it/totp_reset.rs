//! An admin resets someone's two-factor sign-in from Settings → Users (a lost phone and
//! no recovery code left): a button with a confirmation, the same domain function as
//! `cairn user reset-two-factor`, an audit row with the admin and their address, the
//! user's sessions ended, and where two-factor is required they set it up again.
use crate::support::*;
use crate::totp::{password_step, user_with_two_factor};

/// Ana (a rep with two-factor on) and a signed-in admin who has opened Settings → Users.
async fn ana_and_admin(app: &TestApp) -> (i64, Client<impl TestService>) {
    user_with_two_factor(app, "ana@example.com").await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    let page = admin.get("/settings/users").await;
    assert_eq!(page.status, 200);
    let id = user_id(app, "ana@example.com").await;
    let action = format!("/settings/users/{id}/two-factor/reset");
    assert!(
        page.text().contains(&action),
        "a reset button: {}",
        page.text()
    );
    assert!(
        page.text().contains("hx-confirm=\"Reset the two-factor"),
        "confirmed first"
    );
    (id, admin)
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    cairn::domain::users::find_by_email(&app.db.read, email)
        .await
        .unwrap()
        .expect("the user")
        .id
}

#[actix_web::test]
async fn an_admin_resets_two_factor_and_it_is_audited_with_the_address() {
    let app = TestApp::new().await;
    let (ana, mut admin) = ana_and_admin(&app).await;
    let res = admin
        .post_form(&format!("/settings/users/{ana}/two-factor/reset"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        app.count("two_factor").await,
        0,
        "the authenticator is gone"
    );
    assert_eq!(
        app.count("recovery_codes").await,
        0,
        "and its recovery codes"
    );
    let admin_id = user_id(&app, "admin@example.com").await;
    let rows = app
        .count_where(
            "audit_log",
            &format!(
                " WHERE action = 'reset_two_factor' AND entity_id = {ana} \
                 AND actor_id = {admin_id} AND ip IS NOT NULL"
            ),
        )
        .await;
    assert_eq!(rows, 1, "one audit row with the admin and their address");
    let live = app
        .count_where("sessions", &format!(" WHERE user_id = {ana}"))
        .await;
    assert_eq!(live, 0, "Ana's sessions ended");
}

#[actix_web::test]
async fn after_a_reset_under_the_rule_the_user_sets_two_factor_up_again() {
    let app = TestApp::new().await;
    let (ana, mut admin) = ana_and_admin(&app).await;
    crate::organisation::set_organisation(&mut admin, &[("require_2fa", "1")]).await;
    admin.get("/settings/users").await;
    let res = admin
        .post_form(&format!("/settings/users/{ana}/two-factor/reset"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let mut c = app.client().await;
    password_step(&mut c, "ana@example.com").await;
    let page = c.get("/login/two-factor").await.text();
    assert!(
        page.contains("requires two-factor"),
        "sent to set it up: {page}"
    );
}

#[actix_web::test]
async fn only_admins_reset_someone_s_two_factor() {
    let app = TestApp::new().await;
    let (ana, _) = ana_and_admin(&app).await;
    let mut manager = app.signed_in("boss@example.com", "manager").await;
    manager.get("/account").await;
    let res = manager
        .post_form(&format!("/settings/users/{ana}/two-factor/reset"), &[])
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(app.count("two_factor").await, 1, "still on");
    let rows = app
        .count_where("audit_log", " WHERE action = 'reset_two_factor'")
        .await;
    assert_eq!(rows, 0);
}
