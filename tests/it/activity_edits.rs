//! Editing an activity: its author, managers and admins may (other reps and viewers may
//! not), the replaced text is kept and viewable, the timeline says "edited", and the
//! edit happens in place with htmx.
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::*;

/// A rep's token, their signed-in client, and a note they logged on a deal of theirs
/// (its JSON).
async fn rep_with_note(app: &TestApp) -> (String, Client<impl TestService>, serde_json::Value) {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let rep = app.token("rep-api@example.com").await;
    let deal = c
        .create("/api/v1/deals", &rep, json!({"title": "Pilot"}))
        .await;
    let note = json!({"kind": "note", "body": "Budget is 10k.", "deal_id": deal});
    let note = c
        .api_ok(Method::POST, "/api/v1/activities", &rep, Some(note))
        .await
        .json();
    (rep, c, note)
}

fn path_of(note: &serde_json::Value) -> String {
    format!("/api/v1/activities/{}", note["id"])
}

#[actix_web::test]
async fn the_author_edits_their_note() {
    let app = TestApp::new().await;
    let (rep, mut c, note) = rep_with_note(&app).await;
    let body = json!({"version": 1, "body": "Budget is 12k."});
    let res = c
        .api_ok(Method::PATCH, &path_of(&note), &rep, Some(body))
        .await;
    let edited = res.json();
    assert_eq!(edited["body"], "Budget is 12k.");
    assert_eq!(edited["version"], 2);
    assert!(edited["edited_at"].is_string(), "marked edited: {edited}");
}

#[actix_web::test]
async fn a_rep_cannot_edit_another_reps_note() {
    let app = TestApp::new().await;
    let (_, mut c, note) = rep_with_note(&app).await;
    app.user("rep2@example.com", "rep").await;
    let other = app.token("rep2@example.com").await;
    let body = json!({"body": "Rewritten."});
    let res = c
        .api(Method::PATCH, &path_of(&note), &other, Some(body))
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(app.count("activity_revisions").await, 0, "nothing was kept");
}

#[actix_web::test]
async fn a_viewer_cannot_edit_a_note() {
    let app = TestApp::new().await;
    let (_, mut c, note) = rep_with_note(&app).await;
    let viewer = app.api_user("viewer").await;
    let body = json!({"body": "Rewritten."});
    let res = c
        .api(Method::PATCH, &path_of(&note), &viewer, Some(body))
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
}

#[actix_web::test]
async fn a_manager_edits_a_reps_note() {
    let app = TestApp::new().await;
    let (_, mut c, note) = rep_with_note(&app).await;
    let manager = app.api_user("manager").await;
    let body = json!({"kind": "call", "body": "Called: budget 12k."});
    let res = c
        .api_ok(Method::PATCH, &path_of(&note), &manager, Some(body))
        .await;
    assert_eq!(res.json()["kind"], "call");
    assert_eq!(
        res.json()["author_name"],
        note["author_name"],
        "the author stays"
    );
}

#[actix_web::test]
async fn the_history_keeps_the_previous_text_and_who_replaced_it() {
    let app = TestApp::new().await;
    let (rep, mut c, note) = rep_with_note(&app).await;
    let body = json!({"body": "Budget is 12k."});
    c.api_ok(Method::PATCH, &path_of(&note), &rep, Some(body))
        .await;
    let history = c
        .get_json(&format!("{}/revisions", path_of(&note)), &rep)
        .await;
    let items = history["items"].as_array().expect("revisions");
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(items[0]["body"], "Budget is 10k.");
    assert_eq!(items[0]["editor_name"], note["author_name"]);
    let page = c.get(&format!("/activities/{}/history", note["id"])).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Budget is 10k."), "{}", page.text());
}

#[actix_web::test]
async fn an_edit_from_an_older_version_is_refused() {
    let app = TestApp::new().await;
    let (rep, mut c, note) = rep_with_note(&app).await;
    let body = json!({"version": 1, "body": "First edit."});
    c.api_ok(Method::PATCH, &path_of(&note), &rep, Some(body))
        .await;
    let body = json!({"version": 1, "body": "Second edit."});
    let res = c
        .api(Method::PATCH, &path_of(&note), &rep, Some(body))
        .await;
    assert_eq!(res.status, 409, "{}", res.text());
    let now = c
        .get_json(&format!("{}/revisions", path_of(&note)), &rep)
        .await;
    assert_eq!(now["items"].as_array().map(Vec::len), Some(1), "{now}");
}

#[actix_web::test]
async fn an_empty_edit_is_refused_naming_the_body() {
    let app = TestApp::new().await;
    let (rep, mut c, note) = rep_with_note(&app).await;
    let res = c
        .api(
            Method::PATCH,
            &path_of(&note),
            &rep,
            Some(json!({"body": "  "})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.json()["error"]["fields"]["body"].is_string());
}

/// The timeline's Edit swaps in a form; saving swaps back the entry, marked edited.
#[actix_web::test]
async fn the_timeline_edits_an_entry_in_place() {
    let app = TestApp::new().await;
    let (_, mut c, note) = rep_with_note(&app).await;
    let id = note["id"].as_i64().unwrap();
    let form = c.hx_get(&format!("/activities/{id}/edit")).await;
    assert_eq!(form.status, 200);
    assert!(
        form.text()
            .starts_with(&format!("<li id=\"activity-{id}\" class=\"editing\">")),
        "a fragment to swap for the entry: {}",
        form.text()
    );
    let csrf = c.csrf.clone().expect("the form's CSRF token");
    let body = serde_html_form::to_string([
        ("_csrf", csrf.as_str()),
        ("version", "1"),
        ("kind", "note"),
        ("body", "Budget is 12k."),
    ])
    .unwrap();
    let res = c
        .send(
            TestRequest::post()
                .uri(&format!("/activities/{id}"))
                .insert_header(("HX-Request", "true"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let entry = res.text();
    assert!(
        entry.starts_with(&format!("<li id=\"activity-{id}\">")),
        "{entry}"
    );
    assert!(
        entry.contains("Budget is 12k.") && entry.contains("edited <time"),
        "{entry}"
    );
}

#[actix_web::test]
async fn a_rep_is_refused_another_reps_edit_form() {
    let app = TestApp::new().await;
    let (_, _, note) = rep_with_note(&app).await;
    let mut other = app.signed_in("rep2@example.com", "rep").await;
    let res = other
        .hx_get(&format!("/activities/{}/edit", note["id"]))
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
}

#[actix_web::test]
async fn a_rep_cannot_delete_another_reps_note_from_the_page() {
    let app = TestApp::new().await;
    let (_, _, note) = rep_with_note(&app).await;
    let mut other = app.signed_in("rep2@example.com", "rep").await;
    other.get("/deals").await;
    let res = other
        .post_form(&format!("/activities/{}/delete", note["id"]), &[])
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(app.count("activities").await, 1);
}

/// Without htmx the edit form is a page, and saving goes back to the entry on its record.
#[actix_web::test]
async fn without_htmx_an_edit_goes_back_to_the_entry_on_its_record() {
    let app = TestApp::new().await;
    let (_, mut c, note) = rep_with_note(&app).await;
    let id = note["id"].as_i64().unwrap();
    let page = c.get(&format!("/activities/{id}/edit")).await;
    assert!(
        page.text().contains("<title>"),
        "a whole page: {}",
        page.text()
    );
    let fields = [
        ("version", "1"),
        ("kind", "note"),
        ("body", "Budget is 12k."),
    ];
    let res = c.post_form_ok(&format!("/activities/{id}"), &fields).await;
    assert_eq!(
        res.location(),
        format!("/deals/{}#activity-{id}", note["deal_id"])
    );
}
