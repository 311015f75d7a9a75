//! Saved views: personal or shared, a default per user, validated like the list itself.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn save_share_default_and_delete_views() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    app.user("mate@example.com", "rep").await;
    let mut c = app.client().await;
    for (first, source) in [("Ana", "paid"), ("Ben", "event")] {
        c.api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": first, "last_name": "X", "source": source})),
        )
        .await;
    }
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let page = c.get("/contacts?source=paid&sort=name").await.text();
    assert!(page.contains("Save this view"));

    let res = c
        .post_form(
            "/views",
            &[
                ("list", "contacts"),
                ("name", "Paid leads"),
                ("query", "source=paid&sort=name&page=3&evil=1"),
                ("shared", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        res.location(),
        "/contacts?source=paid&sort=name",
        "only the list's own parameters are kept"
    );
    c.post_form_ok(
        "/views",
        &[
            ("list", "contacts"),
            ("name", "Events"),
            ("query", "source=event"),
            ("make_default", "1"),
        ],
    )
    .await;
    // A view the list would refuse is refused when saved.
    let res = c
        .post_form(
            "/views",
            &[
                ("list", "contacts"),
                ("name", "Bad"),
                ("query", "source=carrier-pigeon"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let res = c
        .post_form(
            "/views",
            &[("list", "contacts"), ("name", ""), ("query", "source=paid")],
        )
        .await;
    assert_eq!(res.status, 422);

    // The default view opens on a bare visit; explicit filters are left alone.
    let res = c.get("/contacts").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/contacts?source=event");
    let list = c.get("/contacts?sort=newest").await.text();
    assert!(list.contains("Paid leads") && list.contains("★ Events"));

    // A teammate sees the shared view, not the personal one, and has no default.
    let mut mate = app.client().await;
    mate.sign_in("mate@example.com", PASSWORD).await;
    let res = mate.get("/contacts").await;
    assert_eq!(res.status, 200);
    let text = res.text();
    assert!(text.contains("Paid leads") && !text.contains("Events</a>"));
    let mate_user = cairn::domain::users::find_by_email(&app.db.read, "mate@example.com")
        .await
        .unwrap()
        .unwrap();
    let shared_id = cairn::domain::views::for_list(
        &app.db,
        &cairn::domain::Actor::from(&mate_user),
        "contacts",
    )
    .await
    .unwrap()
    .into_iter()
    .find(|v| v.name == "Paid leads")
    .unwrap()
    .id;
    // They may make it their default, but not delete someone else's view.
    mate.get("/contacts").await;
    assert_eq!(
        mate.post_form(
            "/views/default",
            &[("list", "contacts"), ("view", &shared_id.to_string())]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        mate.get("/contacts").await.location(),
        "/contacts?source=paid&sort=name"
    );
    assert_eq!(
        mate.post_form(
            &format!("/views/{shared_id}/delete"),
            &[("list", "contacts")]
        )
        .await
        .status,
        403
    );

    // Its owner deletes it; the teammate's default goes with it.
    c.get("/contacts?sort=newest").await;
    assert_eq!(
        c.post_form(
            &format!("/views/{shared_id}/delete"),
            &[("list", "contacts")]
        )
        .await
        .status,
        303
    );
    assert_eq!(mate.get("/contacts").await.status, 200);
    assert_eq!(app.count("saved_views").await, 1);

    // Companies have views too.
    c.get("/companies").await;
    let res = c
        .post_form(
            "/views",
            &[
                ("list", "companies"),
                ("name", "Software"),
                ("query", "industry=software"),
            ],
        )
        .await;
    assert_eq!(res.location(), "/companies?industry=software");
    let res = c
        .post_form("/views", &[("list", "deals"), ("name", "X"), ("query", "")])
        .await;
    assert_eq!(res.status, 404);
}
