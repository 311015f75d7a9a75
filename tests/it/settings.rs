//! Settings → Users and the account's API tokens, as an admin and as others would use them.
use actix_web::http::Method;

use crate::support::*;

#[actix_web::test]
async fn an_admin_adds_users_and_changes_roles_from_the_settings_page() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let mut admin = app.client().await;
    admin.sign_in("admin@example.com", PASSWORD).await;
    let page = admin.get("/settings/users").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Add a user"));

    let res = admin
        .post_form(
            "/settings/users",
            &[
                ("name", "Rita Rep"),
                ("email", "not-an-email"),
                ("role", "rep"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Enter a valid email address"));
    assert!(
        res.text().contains("value=\"Rita Rep\""),
        "what was typed is kept"
    );
    let res = admin
        .post_form(
            "/settings/users",
            &[
                ("name", "Rita Rep"),
                ("email", "rita@example.com"),
                ("role", "rep"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(
        admin
            .get("/settings/users")
            .await
            .text()
            .contains("Rita Rep can now sign in")
    );
    let res = admin
        .post_form(
            "/settings/users",
            &[
                ("name", "Rita Again"),
                ("email", "RITA@example.com"),
                ("role", "rep"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 409, "duplicate email in another case");

    // Rita signs in and can write.
    let mut rita = app.client().await;
    assert_eq!(rita.sign_in("rita@example.com", PASSWORD).await.status, 303);
    assert_eq!(rita.get("/contacts/new").await.status, 200);
    assert_eq!(
        rita.get("/settings/users").await.status,
        403,
        "settings are for admins"
    );

    // Made a viewer: her open session reads on, under the new role at once.
    let rita_id = cairn::domain::users::find_by_email(&app.db.read, "rita@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let res = admin
        .post_form(
            &format!("/settings/users/{rita_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(rita.get("/contacts").await.status, 200, "she still reads");
    assert_eq!(
        rita.get("/contacts/new").await.status,
        403,
        "but cannot write"
    );
    let res = admin
        .post_form(
            &format!("/settings/users/{rita_id}/role"),
            &[("role", "pope")],
        )
        .await;
    assert_eq!(res.status, 422);

    // Deactivated: signed out and locked out; reactivated: back in.
    assert_eq!(
        admin
            .post_form(&format!("/settings/users/{rita_id}/deactivate"), &[])
            .await
            .status,
        303
    );
    assert_eq!(rita.get("/contacts").await.status, 303);
    assert_eq!(rita.sign_in("rita@example.com", PASSWORD).await.status, 401);
    assert_eq!(
        admin
            .post_form(&format!("/settings/users/{rita_id}/activate"), &[])
            .await
            .status,
        303
    );
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
