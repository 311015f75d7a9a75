//! Settings → Users and the account's API tokens, as an admin and as others would use them.
use actix_web::http::Method;

use crate::support::*;

/// An admin's client, signed in, on Settings → Users.
async fn admin_on_users(app: &TestApp) -> Client<impl TestService> {
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    let page = admin.get("/settings/users").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Add a user"), "the users page's form");
    admin
}

/// The users page's form sent for Rita Rep (a rep) with `name` and `email`.
async fn add_user(admin: &mut Client<impl TestService>, name: &str, email: &str) -> Response {
    let fields = [
        ("name", name),
        ("email", email),
        ("role", "rep"),
        ("password", PASSWORD),
    ];
    admin.post_form("/settings/users", &fields).await
}

#[actix_web::test]
async fn the_users_page_refuses_a_bad_email_keeping_what_was_typed() {
    let app = TestApp::new().await;
    let mut admin = admin_on_users(&app).await;
    let res = add_user(&mut admin, "Rita Rep", "not-an-email").await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Enter a valid email address"));
    assert!(
        res.text().contains("value=\"Rita Rep\""),
        "what was typed is kept"
    );
}

/// Rita, added from the page, signs in and can write, but settings are for admins.
#[actix_web::test]
async fn a_user_added_on_the_users_page_signs_in_and_writes() {
    let app = TestApp::new().await;
    let mut admin = admin_on_users(&app).await;
    let res = add_user(&mut admin, "Rita Rep", "rita@example.com").await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(
        admin
            .get("/settings/users")
            .await
            .text()
            .contains("Rita Rep can now sign in")
    );
    let mut rita = app.client().await;
    assert_eq!(rita.sign_in("rita@example.com", PASSWORD).await.status, 303);
    assert_eq!(rita.get("/contacts/new").await.status, 200);
    assert_eq!(
        rita.get("/settings/users").await.status,
        403,
        "settings are for admins"
    );
}

#[actix_web::test]
async fn a_new_users_email_must_be_unique_in_any_case() {
    let app = TestApp::new().await;
    let mut admin = admin_on_users(&app).await;
    let res = add_user(&mut admin, "Rita Rep", "rita@example.com").await;
    assert_eq!(res.status, 303, "{}", res.text());
    let res = add_user(&mut admin, "Rita Again", "RITA@example.com").await;
    assert_eq!(res.status, 409, "duplicate email in another case");
}

/// An admin on the users page, and Rita (a rep) signed in; Rita's id.
async fn admin_and_rita(
    app: &TestApp,
) -> (Client<impl TestService>, Client<impl TestService>, i64) {
    let admin = admin_on_users(app).await;
    let rita = app.user("rita@example.com", "rep").await;
    let mut rita_client = app.client().await;
    let res = rita_client.sign_in("rita@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "Rita signs in: {}", res.text());
    (admin, rita_client, rita.id)
}

/// Made a viewer: her open session reads on, under the new role at once.
#[actix_web::test]
async fn a_user_made_a_viewer_reads_on_but_cannot_write_at_once() {
    let app = TestApp::new().await;
    let (mut admin, mut rita, rita_id) = admin_and_rita(&app).await;
    assert_eq!(rita.get("/contacts/new").await.status, 200, "a rep writes");
    let path = format!("/settings/users/{rita_id}/role");
    let res = admin.post_form(&path, &[("role", "viewer")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(rita.get("/contacts").await.status, 200, "she still reads");
    assert_eq!(
        rita.get("/contacts/new").await.status,
        403,
        "but cannot write"
    );
}

#[actix_web::test]
async fn an_unknown_role_is_refused() {
    let app = TestApp::new().await;
    let (mut admin, _, rita_id) = admin_and_rita(&app).await;
    let path = format!("/settings/users/{rita_id}/role");
    let res = admin.post_form(&path, &[("role", "pope")]).await;
    assert_eq!(res.status, 422, "{}", res.text());
}

/// Deactivated: signed out and locked out; reactivated: back in.
#[actix_web::test]
async fn a_deactivated_user_is_signed_out_and_locked_out_until_reactivated() {
    let app = TestApp::new().await;
    let (mut admin, mut rita, rita_id) = admin_and_rita(&app).await;
    admin
        .post_form_ok(&format!("/settings/users/{rita_id}/deactivate"), &[])
        .await;
    assert_eq!(rita.get("/contacts").await.status, 303, "signed out");
    assert_eq!(rita.sign_in("rita@example.com", PASSWORD).await.status, 401);
    admin
        .post_form_ok(&format!("/settings/users/{rita_id}/activate"), &[])
        .await;
    assert_eq!(rita.sign_in("rita@example.com", PASSWORD).await.status, 303);
}

#[actix_web::test]
async fn the_last_admin_cannot_be_demoted_or_deactivated() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let other = app.user("other@example.com", "admin").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    c.get("/settings/users").await;
    // Two admins: demoting the other one is fine.
    assert_eq!(
        c.post_form(
            &format!("/settings/users/{}/role", other.id),
            &[("role", "manager")]
        )
        .await
        .status,
        303
    );
    // Now the signed-in admin is the last one.
    let res = c
        .post_form(
            &format!("/settings/users/{}/role", admin.id),
            &[("role", "rep")],
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(res.text().contains("last active admin"));
    let res = c
        .post_form(&format!("/settings/users/{}/deactivate", admin.id), &[])
        .await;
    assert_eq!(res.status, 400, "nobody deactivates themselves");
    assert_eq!(
        app.count("users WHERE role = 'admin' AND active = true")
            .await,
        1
    );
}

#[actix_web::test]
async fn a_rep_cannot_use_the_settings_actions() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/contacts").await;
    assert_eq!(
        c.post_form(
            "/settings/users",
            &[
                ("name", "X"),
                ("email", "x@example.com"),
                ("role", "admin"),
                ("password", PASSWORD)
            ]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        c.post_form(
            &format!("/settings/users/{}/role", admin.id),
            &[("role", "viewer")]
        )
        .await
        .status,
        403
    );
    assert_eq!(
        c.post_form(&format!("/settings/users/{}/deactivate", admin.id), &[])
            .await
            .status,
        403
    );
    assert_eq!(app.count("users").await, 2);
    assert_eq!(
        app.count("users WHERE role = 'admin' AND active = true")
            .await,
        1
    );
}

#[actix_web::test]
async fn api_tokens_are_shown_once_listed_by_prefix_and_revocable() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    app.user("other@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/account").await;
    assert_eq!(
        c.post_form("/account/tokens", &[("name", "")]).await.status,
        422
    );
    let res = c.post_form("/account/tokens", &[("name", "Zapier")]).await;
    assert_eq!(res.status, 200);
    let html = res.text();
    let at = html.find("cairn_").expect("the new token is shown");
    let token: String = html[at..]
        .chars()
        .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
        .collect();
    assert_eq!(token.len(), "cairn_".len() + 64);
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", &token, None)
            .await
            .status,
        200
    );

    // Afterwards only its prefix is ever shown.
    let html = c.get("/account").await.text();
    assert!(html.contains("<td>Zapier</td>"));
    assert!(!html.contains(&token));
    assert!(html.contains(&token[..12]));

    // Someone else cannot revoke it; its owner can, and it stops working at once.
    let id: i64 = html
        .split("/account/tokens/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut other = app.client().await;
    other.sign_in("other@example.com", PASSWORD).await;
    other.get("/account").await;
    assert_eq!(
        other
            .post_form(&format!("/account/tokens/{id}/revoke"), &[])
            .await
            .status,
        403
    );
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", &token, None)
            .await
            .status,
        200
    );
    assert_eq!(
        c.post_form(&format!("/account/tokens/{id}/revoke"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", &token, None)
            .await
            .status,
        401
    );
    assert!(
        !c.get("/account").await.text().contains("<td>Zapier</td>"),
        "revoked tokens leave the list"
    );
}

/// Two admins demoting each other at the same moment: one of them stays admin, on
/// PostgreSQL (row locks) as on SQLite (one writer).
#[actix_web::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::new().await;
    for round in 0..5 {
        let a = app.user(&format!("a{round}@example.com"), "admin").await;
        let b = app.user(&format!("b{round}@example.com"), "admin").await;
        // Only these two are admins in this round.
        exec(
            &app.db,
            &format!(
                "UPDATE users SET role = 'rep' WHERE role = 'admin' AND id NOT IN ({}, {})",
                a.id, b.id
            ),
        )
        .await;
        let (x, y) = tokio::join!(
            cairn::domain::users::set_role(&app.db, &a, b.id, "rep"),
            cairn::domain::users::set_role(&app.db, &b, a.id, "rep"),
        );
        assert!(
            x.is_ok() != y.is_ok(),
            "exactly one demotion goes through (round {round}): {} {}",
            x.is_ok(),
            y.is_ok()
        );
        let admins = app.count("users WHERE role = 'admin' AND active").await;
        assert_eq!(admins, 1);
    }
}
