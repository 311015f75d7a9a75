//! /api/v1/tasks: create, read, change, delete, the list's filters, and the errors the
//! issue names (a bad date or time, a deactivated assignee, a viewer writing).
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's POST /api/v1/tasks with `body`, answered as it is.
async fn rep_posts(app: &TestApp, body: serde_json::Value) -> Response {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    c.api(Method::POST, "/api/v1/tasks", &token, Some(body))
        .await
}

/// A rep's new task `body` on a fresh install is refused with a 422 naming `field`.
async fn refused(body: serde_json::Value, field: &str) {
    rep_posts(&TestApp::new().await, body)
        .await
        .refuses_field(field);
}

/// PATCH /api/v1/tasks/`id` with `body` as `token`, answered as it is.
async fn patch(
    c: &mut Client<impl TestService>,
    token: &str,
    id: i64,
    body: serde_json::Value,
) -> Response {
    let path = format!("/api/v1/tasks/{id}");
    c.api(Method::PATCH, &path, token, Some(body)).await
}

/// A rep's token, a client, and the id of their task "Call Ana" due on 3 December with
/// high priority.
async fn rep_with_a_task(app: &TestApp) -> (String, Client<impl TestService>, i64) {
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let body = json!({"title": "Call Ana", "due_date": "2026-12-03", "priority": "high"});
    let id = c.add_task(&token, body).await;
    (token, c, id)
}

#[actix_web::test]
async fn a_task_created_reads_back_as_given() {
    let app = TestApp::new().await;
    let (token, mut c, id) = rep_with_a_task(&app).await;
    let t = c.get_json(&format!("/api/v1/tasks/{id}"), &token).await;
    assert_eq!(t["title"], "Call Ana");
    assert_eq!(t["due_date"], "2026-12-03");
    assert_eq!(t["priority"], "high");
    assert!(t["due_at"].is_null(), "a date-only task has no time: {t}");
}

#[actix_web::test]
async fn a_task_changed_to_a_time_stores_it_in_utc_and_drops_its_date() {
    let app = TestApp::new().await;
    let (token, mut c, id) = rep_with_a_task(&app).await;
    let body = json!({"title": "Call Ana back", "due_at": "2026-12-03T09:30:00+01:00", "due_date": null, "done": true, "version": 1});
    let res = patch(&mut c, &token, id, body).await;
    assert_eq!(res.status, 200, "the change: {}", res.text());
    let changed = res.json();
    assert_eq!(changed["title"], "Call Ana back");
    assert_eq!(changed["due_at"], "2026-12-03T08:30:00Z", "stored in UTC");
    assert!(
        changed["due_date"].is_null(),
        "a timed task has no date: {changed}"
    );
    assert_eq!(changed["done"], true);
    assert_eq!(changed["version"], 2);
}

#[actix_web::test]
async fn a_deleted_task_is_404() {
    let app = TestApp::new().await;
    let (token, mut c, id) = rep_with_a_task(&app).await;
    c.api_ok(Method::DELETE, &format!("/api/v1/tasks/{id}"), &token, None)
        .await;
    let gone = c
        .api(Method::GET, &format!("/api/v1/tasks/{id}"), &token, None)
        .await;
    assert_eq!(gone.status, 404, "deleted: {}", gone.text());
}

#[actix_web::test]
async fn a_task_is_assigned_to_its_creator_unless_it_names_someone() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let other = app.user("other@example.com", "rep").await;
    let mut c = app.client().await;
    let mine = c.add_task(&token, json!({"title": "Mine"})).await;
    let body = json!({"title": "Theirs", "assignee_id": other.id});
    let theirs = c.add_task(&token, body).await;
    let mine = c.get_json(&format!("/api/v1/tasks/{mine}"), &token).await;
    let theirs = c.get_json(&format!("/api/v1/tasks/{theirs}"), &token).await;
    assert_eq!(mine["assignee_id"], mine["created_by"]);
    assert_eq!(theirs["assignee_id"], other.id);
}

#[actix_web::test]
async fn a_due_date_that_is_not_a_date_is_422_naming_the_field() {
    refused(json!({"title": "X", "due_date": "2026-13-45"}), "due_date").await;
}

#[actix_web::test]
async fn a_due_time_that_is_not_a_time_is_422_naming_the_field() {
    refused(json!({"title": "X", "due_at": "tomorrow"}), "due_at").await;
}

#[actix_web::test]
async fn a_due_time_and_a_due_date_together_are_refused() {
    let body = json!({"title": "X", "due_at": "2026-12-03T09:00:00Z", "due_date": "2026-12-03"});
    refused(body, "due_at").await;
}

#[actix_web::test]
async fn a_deactivated_assignee_is_422() {
    let app = TestApp::new().await;
    let gone = app.user("gone@example.com", "rep").await;
    cairn::domain::users::set_active(&app.db, None, gone.id, false)
        .await
        .expect("deactivate");
    let res = rep_posts(&app, json!({"title": "X", "assignee_id": gone.id})).await;
    res.refuses_field("assignee_id");
}

#[actix_web::test]
async fn an_assignee_who_does_not_exist_is_422() {
    refused(json!({"title": "X", "assignee_id": 999_999}), "assignee_id").await;
}

#[actix_web::test]
async fn a_viewer_creating_a_task_is_403() {
    let app = TestApp::new().await;
    let token = app.api_user("viewer").await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/tasks",
            &token,
            Some(json!({"title": "X"})),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(app.count("tasks").await, 0, "nothing was saved");
}

#[actix_web::test]
async fn a_rep_cannot_change_a_task_neither_assigned_to_nor_created_by_them() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let rep = app.api_user("rep").await;
    let other = app.user("other@example.com", "rep").await;
    let mut c = app.client().await;
    let deal = c.add_deal(&manager, "Pilot").await;
    let id = c
        .add_task(
            &manager,
            json!({"title": "Theirs", "assignee_id": other.id, "deal_id": deal}),
        )
        .await;
    let res = patch(&mut c, &rep, id, json!({"done": true})).await;
    assert_eq!(res.status, 403, "{}", res.text());
}

#[actix_web::test]
async fn a_change_from_an_old_version_is_409() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = c.add_task(&token, json!({"title": "X"})).await;
    let res = patch(&mut c, &token, id, json!({"title": "Y", "version": 1})).await;
    assert_eq!(res.status, 200, "the first change: {}", res.text());
    let res = patch(&mut c, &token, id, json!({"title": "Z", "version": 1})).await;
    assert_eq!(res.status, 409, "{}", res.text());
}

#[actix_web::test]
async fn the_list_filters_by_assignee_record_and_done() {
    let app = TestApp::new().await;
    let token = app.api_user("manager").await;
    let rep = app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    let deal = c.add_deal(&token, "Pilot").await;
    c.add_task(&token, json!({"title": "On deal", "deal_id": deal}))
        .await;
    c.add_task(&token, json!({"title": "For rep", "assignee_id": rep.id}))
        .await;
    c.add_task(&token, json!({"title": "Done", "done": true}))
        .await;
    let on_deal = c
        .titles(&format!("/api/v1/tasks?deal_id={deal}"), &token)
        .await;
    assert_eq!(on_deal, ["On deal"]);
    let for_rep = c
        .titles(&format!("/api/v1/tasks?assignee_id={}", rep.id), &token)
        .await;
    assert_eq!(for_rep, ["For rep"]);
    let done = c.titles("/api/v1/tasks?done=true", &token).await;
    assert_eq!(done, ["Done"]);
    let open = c.titles("/api/v1/tasks?done=false", &token).await;
    assert_eq!(open, ["On deal", "For rep"]);
}

#[actix_web::test]
async fn the_list_filters_by_due_before_and_after_for_times_and_dates() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    c.add_task(&token, json!({"title": "1 Dec", "due_date": "2026-12-01"}))
        .await;
    c.add_task(
        &token,
        json!({"title": "2 Dec 09:00", "due_at": "2026-12-02T09:00:00Z"}),
    )
    .await;
    c.add_task(&token, json!({"title": "3 Dec", "due_date": "2026-12-03"}))
        .await;
    c.add_task(&token, json!({"title": "No due"})).await;
    let before = c
        .titles("/api/v1/tasks?due_before=2026-12-02T12:00:00Z", &token)
        .await;
    assert_eq!(before, ["1 Dec", "2 Dec 09:00"]);
    let after = c.titles("/api/v1/tasks?due_after=2026-12-02", &token).await;
    assert_eq!(after, ["2 Dec 09:00", "3 Dec"]);
}

#[actix_web::test]
async fn a_bad_due_filter_is_422_naming_it() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let res = c
        .api(Method::GET, "/api/v1/tasks?due_before=soon", &token, None)
        .await;
    res.refuses_field("due_before");
}

#[actix_web::test]
async fn the_list_is_paginated() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for n in 0..3 {
        c.add_task(&token, json!({"title": format!("T{n}")})).await;
    }
    let page = c.get_json("/api/v1/tasks?per_page=2&page=2", &token).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
}

#[actix_web::test]
async fn completing_a_task_logs_it_on_its_records_timeline() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let (deal, id) = c.deal_with_task(&token).await;
    let res = patch(&mut c, &token, id, json!({"done": true})).await;
    assert_eq!(res.status, 200, "the change: {}", res.text());
    let timeline = c
        .get_json(&format!("/api/v1/activities?deal_id={deal}"), &token)
        .await;
    let bodies: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Completed task: Send contract"]);
}

#[actix_web::test]
async fn a_job_reads_a_tasks_assignee_due_done_and_version() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = c
        .add_task(&token, json!({"title": "Remind", "due_date": "2026-12-03"}))
        .await;
    let state = cairn::domain::tasks::reminder_state(&app.db.read, id)
        .await
        .unwrap()
        .expect("the task");
    assert_eq!(
        state.due_date.map(|d| d.to_string()).as_deref(),
        Some("2026-12-03")
    );
    assert!(!state.done);
    assert_eq!(state.version, 1);
}
