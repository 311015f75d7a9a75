use cairn::domain::setup as domain_setup;

use crate::support::*;

#[actix_web::test]
async fn setup_needs_the_token_and_closes_for_good_once_a_user_exists() {
    let app = TestApp::new().await;
    let token = domain_setup::begin(&app.db)
        .await
        .unwrap()
        .expect("a token while no user exists");
    let mut c = app.client().await;

    assert_eq!(c.get("/setup").await.status, 403);
    assert_eq!(c.get("/setup?token=wrong").await.status, 403);
    let page = c.get(&format!("/setup?token={token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Create admin account"));

    // A posted form with a wrong token is refused too, and creates nothing.
    let res = c
        .post_form(
            "/setup",
            &[
                ("token", "nope"),
                ("email", "a@example.com"),
                ("name", "A"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(app.count("users").await, 0);

    // Bad input shows the form again with the field's message and what was typed.
    let res = c
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("email", "not-an-email"),
                ("name", "Ada"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let html = res.text();
    assert!(html.contains("Enter a valid email address"), "{html}");
    assert!(html.contains("at least 10 characters"));
    assert!(html.contains("value=\"Ada\""));
    assert_eq!(app.count("users").await, 0);

    let res = c
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("email", "Ada@Example.com"),
                ("name", "Ada Admin"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/welcome", "setup leads to the first steps");
    // Signed in as the new admin.
    let list = c.get("/contacts").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("Ada Admin"));
    assert!(list.text().contains("admin"));

    // Setup is over: 404 with or without the old token, from any browser.
    let mut other = app.client().await;
    assert_eq!(
        other.get(&format!("/setup?token={token}")).await.status,
        404
    );
    assert_eq!(other.get("/setup").await.status, 404);
    assert!(domain_setup::begin(&app.db).await.unwrap().is_none());
    assert_eq!(app.count("users").await, 1);
}

#[actix_web::test]
async fn setup_refuses_mismatched_passwords() {
    let app = TestApp::new().await;
    let token = domain_setup::begin(&app.db).await.unwrap().unwrap();
    let mut c = app.client().await;
    c.get(&format!("/setup?token={token}")).await;
    let res = c
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("email", "a@example.com"),
                ("name", "A"),
                ("password", PASSWORD),
                ("password_confirm", "different one"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("The two passwords differ."));
    assert_eq!(app.count("users").await, 0);
}
