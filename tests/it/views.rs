//! Saved views: personal or shared, a default per user, validated like the list itself.
use serde_json::json;

use crate::support::*;

/// A rep's client, signed in, with contacts Ana (paid) and Ben (event).
async fn rep_with_contacts(app: &TestApp) -> Client<impl TestService> {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    for (first, source) in [("Ana", "paid"), ("Ben", "event")] {
        let body = json!({"first_name": first, "last_name": "X", "source": source});
        c.create("/api/v1/contacts", &token, body).await;
    }
    c
}

/// The views form sent for the contact list.
async fn save_view(c: &mut Client<impl TestService>, fields: &[(&str, &str)]) -> Response {
    let mut all = vec![("list", "contacts")];
    all.extend_from_slice(fields);
    c.post_form("/views", &all).await
}

/// The rep's client, with a shared view "Paid leads" (source=paid&sort=name) and a
/// personal default "Events" (source=event); and a teammate's client, signed in.
async fn rep_views_and_a_mate(
    app: &TestApp,
) -> (Client<impl TestService>, Client<impl TestService>) {
    let mut c = rep_with_contacts(app).await;
    c.get("/contacts").await;
    for fields in [
        [
            ("name", "Paid leads"),
            ("query", "source=paid&sort=name"),
            ("shared", "1"),
        ],
        [
            ("name", "Events"),
            ("query", "source=event"),
            ("make_default", "1"),
        ],
    ] {
        let res = save_view(&mut c, &fields).await;
        assert_eq!(res.status, 303, "save {fields:?}: {}", res.text());
    }
    let mate = app.signed_in("mate@example.com", "rep").await;
    (c, mate)
}

/// The id of the shared view Paid leads, as the teammate's list offers it.
async fn paid_leads(app: &TestApp) -> i64 {
    let mate = cairn::domain::users::find_by_email(&app.db.read, "mate@example.com")
        .await
        .unwrap()
        .expect("the teammate");
    cairn::domain::views::for_list(&app.db, &cairn::domain::Actor::from(&mate), "contacts")
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.name == "Paid leads")
        .expect("the teammate sees Paid leads")
        .id
}

#[actix_web::test]
async fn a_saved_view_keeps_only_the_lists_own_parameters() {
    let app = TestApp::new().await;
    let mut c = rep_with_contacts(&app).await;
    let page = c.get("/contacts?source=paid&sort=name").await.text();
    assert!(page.contains("Save this view"));
    let fields = [
        ("name", "Paid leads"),
        ("query", "source=paid&sort=name&page=3&evil=1"),
        ("shared", "1"),
    ];
    let res = save_view(&mut c, &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        res.location(),
        "/contacts?source=paid&sort=name",
        "only the list's own parameters are kept"
    );
}

/// A view the list would refuse is refused when saved; so is one without a name.
#[actix_web::test]
async fn a_view_the_list_would_refuse_or_without_a_name_is_refused() {
    let app = TestApp::new().await;
    let mut c = rep_with_contacts(&app).await;
    c.get("/contacts").await;
    let res = save_view(
        &mut c,
        &[("name", "Bad"), ("query", "source=carrier-pigeon")],
    )
    .await;
    assert_eq!(res.status, 422, "an unknown source");
    let res = save_view(&mut c, &[("name", ""), ("query", "source=paid")]).await;
    assert_eq!(res.status, 422, "no name");
}

/// The default view opens on a bare visit; explicit filters are left alone.
#[actix_web::test]
async fn the_default_view_opens_on_a_bare_visit_only() {
    let app = TestApp::new().await;
    let (mut c, _) = rep_views_and_a_mate(&app).await;
    let res = c.get("/contacts").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/contacts?source=event");
    let list = c.get("/contacts?sort=newest").await.text();
    assert!(list.contains("Paid leads") && list.contains("★ Events"));
}

/// A teammate sees the shared view, not the personal one, and has no default.
#[actix_web::test]
async fn a_teammate_sees_a_shared_view_but_not_a_personal_one() {
    let app = TestApp::new().await;
    let (_, mut mate) = rep_views_and_a_mate(&app).await;
    let res = mate.get("/contacts").await;
    assert_eq!(res.status, 200, "no default: {}", res.text());
    let text = res.text();
    assert!(text.contains("Paid leads") && !text.contains("Events</a>"));
}

/// They may make it their default, but not delete someone else's view.
#[actix_web::test]
async fn a_teammate_may_make_a_shared_view_their_default_but_not_delete_it() {
    let app = TestApp::new().await;
    let (_, mut mate) = rep_views_and_a_mate(&app).await;
    let shared_id = paid_leads(&app).await.to_string();
    mate.get("/contacts").await;
    let fields = [("list", "contacts"), ("view", shared_id.as_str())];
    let res = mate.post_form("/views/default", &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(
        mate.get("/contacts").await.location(),
        "/contacts?source=paid&sort=name"
    );
    let path = format!("/views/{shared_id}/delete");
    let res = mate.post_form(&path, &[("list", "contacts")]).await;
    assert_eq!(res.status, 403, "{}", res.text());
}

/// Its owner deletes it; the teammate's default goes with it.
#[actix_web::test]
async fn a_deleted_shared_view_takes_a_teammates_default_with_it() {
    let app = TestApp::new().await;
    let (mut c, mut mate) = rep_views_and_a_mate(&app).await;
    let shared_id = paid_leads(&app).await.to_string();
    mate.get("/contacts").await;
    let fields = [("list", "contacts"), ("view", shared_id.as_str())];
    mate.post_form_ok("/views/default", &fields).await;
    c.get("/contacts?sort=newest").await;
    let path = format!("/views/{shared_id}/delete");
    let res = c.post_form(&path, &[("list", "contacts")]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(mate.get("/contacts").await.status, 200, "no default left");
    assert_eq!(app.count("saved_views").await, 1);
}

/// Companies have views too; deals have none.
#[actix_web::test]
async fn companies_have_saved_views_and_deals_do_not() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    c.get("/companies").await;
    let fields = [
        ("list", "companies"),
        ("name", "Software"),
        ("query", "industry=software"),
    ];
    let res = c.post_form("/views", &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "/companies?industry=software");
    let res = c
        .post_form("/views", &[("list", "deals"), ("name", "X"), ("query", "")])
        .await;
    assert_eq!(res.status, 404);
}
