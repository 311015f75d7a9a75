//! Tasks in the browser's pages: My tasks, quick add, the one-click done toggle (htmx),
//! the overdue count in the navigation, the panel on record pages, the time zone.
use actix_web::http::Method;
use serde_json::json;

use crate::given::yesterday;
use crate::support::*;

/// The overdue badge's text in a page (empty when none are overdue).
pub fn badge(html: &str) -> String {
    let at = html
        .find("id=\"overdue-badge\"")
        .expect("the overdue badge");
    let rest = &html[at..];
    let open = rest.find('>').unwrap() + 1;
    rest[open..].split('<').next().unwrap().to_string()
}

/// The part of My tasks holding one group.
pub fn group<'a>(html: &'a str, key: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"group-{key}\""))
        .unwrap_or_else(|| panic!("no {key} group in {html}"));
    let rest = &html[at..];
    &rest[..rest.find("</section>").unwrap()]
}

#[actix_web::test]
async fn my_tasks_shows_a_task_due_yesterday_as_overdue() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let yesterday = yesterday();
    c.add_task(&token, json!({"title": "Late one", "due_date": yesterday}))
        .await;
    let page = c.get("/tasks").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        group(&page.text(), "overdue").contains("Late one"),
        "{}",
        page.text()
    );
}

#[actix_web::test]
async fn the_navigation_counts_overdue_tasks() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let yesterday = yesterday();
    for title in ["A", "B"] {
        c.add_task(&token, json!({"title": title, "due_date": yesterday}))
            .await;
    }
    c.add_task(&token, json!({"title": "Later", "due_date": "2070-01-01"}))
        .await;
    let page = c.get("/contacts").await;
    assert_eq!(badge(&page.text()), "2", "two overdue tasks");
}

#[actix_web::test]
async fn quick_add_creates_a_task_due_on_the_typed_day() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    c.get("/tasks").await;
    c.post_form_ok(
        "/tasks",
        &[
            ("title", "Prepare demo"),
            ("due_date", "2070-03-04"),
            ("due_time", ""),
        ],
    )
    .await;
    let list = c.get_json("/api/v1/tasks", &token).await;
    assert_eq!(list["items"][0]["title"], "Prepare demo");
    assert_eq!(list["items"][0]["due_date"], "2070-03-04");
}

#[actix_web::test]
async fn quick_add_reads_the_time_in_the_users_zone() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let rep = cairn::domain::users::find_by_email(&app.db.read, "rep-api@example.com")
        .await
        .unwrap()
        .unwrap();
    app.set_zone(&(&rep).into(), "Pacific/Auckland").await;
    c.get("/tasks").await;
    c.post_form_ok(
        "/tasks",
        &[
            ("title", "Call"),
            ("due_date", "2070-01-10"),
            ("due_time", "23:30"),
        ],
    )
    .await;
    let list = c.get_json("/api/v1/tasks", &token).await;
    // Auckland is UTC+13 in January.
    assert_eq!(list["items"][0]["due_at"], "2070-01-10T10:30:00Z");
}

#[actix_web::test]
async fn quick_add_with_a_bad_date_shows_the_form_again_with_422() {
    let app = TestApp::new().await;
    let (mut c, _) = app.rep_signed_in().await;
    c.get("/tasks").await;
    let res = c
        .hx_post_form(
            "/tasks",
            &[("title", "X"), ("due_date", "31/12/2026"), ("view", "mine")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("not a date"), "{}", res.text());
    assert_eq!(app.count("tasks").await, 0, "nothing saved");
}

#[actix_web::test]
async fn the_done_toggle_answers_htmx_with_the_task_moved_to_done_and_the_badge() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let yesterday = yesterday();
    let id = c
        .add_task(&token, json!({"title": "Tick me", "due_date": yesterday}))
        .await;
    c.get("/tasks").await;
    let res = c
        .hx_post_form(
            &format!("/tasks/{id}/done"),
            &[("done", "true"), ("view", "mine")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    assert!(
        html.starts_with("<div id=\"tasks\""),
        "a fragment, not a page: {html}"
    );
    assert!(group(&html, "done").contains("Tick me"), "{html}");
    assert!(!group(&html, "overdue").contains("Tick me"), "{html}");
    assert!(
        html.contains("hx-swap-oob=\"true\""),
        "the badge is updated: {html}"
    );
    assert_eq!(badge(&html), "", "nothing overdue any more");
    let t = c.get_json(&format!("/api/v1/tasks/{id}"), &token).await;
    assert_eq!(t["done"], true);
}

#[actix_web::test]
async fn the_done_toggle_reopens_a_done_task() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let id = c
        .add_task(&token, json!({"title": "Again", "done": true}))
        .await;
    c.get("/tasks").await;
    c.post_form_ok(&format!("/tasks/{id}/done"), &[("done", "false")])
        .await;
    let t = c.get_json(&format!("/api/v1/tasks/{id}"), &token).await;
    assert_eq!(t["done"], false);
    assert!(t["done_at"].is_null(), "{t}");
}

#[actix_web::test]
async fn a_deal_page_shows_its_open_tasks_and_offers_add_task() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let (deal, _) = c.deal_with_task(&token).await;
    c.add_task(
        &token,
        json!({"title": "Old news", "deal_id": deal, "done": true}),
    )
    .await;
    let page = c.get(&format!("/deals/{deal}")).await;
    let html = page.text();
    let at = html.find("id=\"tasks-panel\"").expect("the tasks panel");
    let panel = &html[at..at + html[at..].find("</section>").unwrap()];
    assert!(panel.contains("Send contract"), "the open task: {panel}");
    assert!(
        !panel.contains("Old news"),
        "done tasks are not open: {panel}"
    );
    assert!(
        html.contains(&format!("name=\"deal_id\" value=\"{deal}\"")),
        "Add task is pre-filled"
    );
}

#[actix_web::test]
async fn adding_a_task_on_a_contact_page_links_it_and_answers_the_panel() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let contact = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    c.get(&format!("/contacts/{contact}")).await;
    let id = contact.to_string();
    let res = c
        .hx_post_form(
            "/tasks",
            &[
                ("title", "Follow up"),
                ("view", "record"),
                ("contact_id", &id),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text()
            .starts_with("<section class=\"card tasks-panel\""),
        "{}",
        res.text()
    );
    assert!(res.text().contains("Follow up"), "{}", res.text());
    let list = c
        .get_json(&format!("/api/v1/tasks?contact_id={contact}"), &token)
        .await;
    assert_eq!(list["total"], 1, "{list}");
}

#[actix_web::test]
async fn ticking_a_task_on_a_deal_page_logs_it_on_the_deals_timeline() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let (deal, id) = c.deal_with_task(&token).await;
    c.get(&format!("/deals/{deal}")).await;
    let d = deal.to_string();
    let res = c
        .hx_post_form(
            &format!("/tasks/{id}/done"),
            &[("done", "true"), ("view", "record"), ("deal_id", &d)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        !res.text().contains("Send contract"),
        "no longer open: {}",
        res.text()
    );
    let page = c.get(&format!("/deals/{deal}")).await;
    assert!(
        page.text().contains("Completed task: Send contract"),
        "{}",
        page.text()
    );
}

#[actix_web::test]
async fn completing_twice_logs_once() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let deal = c.add_deal(&token, "Pilot").await;
    let id = c
        .add_task(&token, json!({"title": "Once", "deal_id": deal}))
        .await;
    c.get("/tasks").await;
    for _ in 0..2 {
        c.post_form_ok(&format!("/tasks/{id}/done"), &[("done", "true")])
            .await;
    }
    assert_eq!(app.count("activities").await, 1);
}

#[actix_web::test]
async fn a_manager_filters_my_tasks_by_assignee() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("boss@example.com", "manager").await;
    let token = app.token("boss@example.com").await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.user("other@example.com", "rep").await;
    c.add_task(&token, json!({"title": "Rep task", "assignee_id": rep.id}))
        .await;
    c.add_task(
        &token,
        json!({"title": "Other task", "assignee_id": other.id}),
    )
    .await;
    let page = c.get(&format!("/tasks?assignee={}", rep.id)).await;
    assert!(page.text().contains("Rep task"), "{}", page.text());
    assert!(!page.text().contains("Other task"), "{}", page.text());
    let everyone = c.get("/tasks?assignee=all").await;
    assert!(everyone.text().contains("Other task") && everyone.text().contains("Rep task"));
}

#[actix_web::test]
async fn a_rep_asking_for_someone_elses_tasks_sees_their_own() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let other = app.user("other@example.com", "rep").await;
    c.add_task(&token, json!({"title": "Theirs", "assignee_id": other.id}))
        .await;
    let page = c.get(&format!("/tasks?assignee={}", other.id)).await;
    assert!(!page.text().contains("Theirs"), "{}", page.text());
}

#[actix_web::test]
async fn done_tasks_come_in_batches_with_show_more() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    for n in 0..25 {
        c.add_task(&token, json!({"title": format!("Done {n}"), "done": true}))
            .await;
    }
    let page = c.get("/tasks").await;
    let done = group(&page.text(), "done").to_string();
    assert_eq!(done.matches("class=\"task done").count(), 20, "{done}");
    assert!(done.contains("/tasks/done?offset=20"), "{done}");
    let more = c.hx_get("/tasks/done?offset=20&assignee=").await;
    assert_eq!(
        more.text().matches("class=\"task done").count(),
        5,
        "{}",
        more.text()
    );
    assert!(!more.text().contains("Show more"), "{}", more.text());
}

#[actix_web::test]
async fn a_task_is_edited_on_its_page() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let id = c
        .add_task(&token, json!({"title": "Draft", "due_date": "2070-01-01"}))
        .await;
    let page = c.get(&format!("/tasks/{id}/edit")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("value=\"2070-01-01\""),
        "{}",
        page.text()
    );
    c.post_form_ok(
        &format!("/tasks/{id}"),
        &[
            ("title", "Final"),
            ("due_date", "2070-02-02"),
            ("due_time", ""),
            ("priority", "high"),
            ("version", "1"),
        ],
    )
    .await;
    let t = c.get_json(&format!("/api/v1/tasks/{id}"), &token).await;
    assert_eq!(
        (
            t["title"].as_str(),
            t["due_date"].as_str(),
            t["priority"].as_str()
        ),
        (Some("Final"), Some("2070-02-02"), Some("high"))
    );
}

#[actix_web::test]
async fn a_task_is_deleted_from_its_page() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let id = c.add_task(&token, json!({"title": "Drop me"})).await;
    c.get(&format!("/tasks/{id}/edit")).await;
    c.post_form_ok(&format!("/tasks/{id}/delete"), &[]).await;
    let res = c
        .api(Method::GET, &format!("/api/v1/tasks/{id}"), &token, None)
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
}

#[actix_web::test]
async fn a_viewer_sees_no_quick_add_and_cannot_post_one() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("v@example.com", "viewer").await;
    let page = c.get("/tasks").await;
    assert!(!page.text().contains("Add a task"), "{}", page.text());
    let res = c.post_form("/tasks", &[("title", "Nope")]).await;
    assert_eq!(res.status, 403, "{}", res.text());
}

#[actix_web::test]
async fn the_account_page_sets_the_time_zone() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("u@example.com", "rep").await;
    let page = c.get("/account").await;
    assert!(
        page.text().contains("<option>Pacific/Auckland</option>"),
        "the zones are offered"
    );
    c.post_form_ok("/account/time-zone", &[("time_zone", "Pacific/Auckland")])
        .await;
    let page = c.get("/account").await;
    assert!(
        page.text()
            .contains("<option selected>Pacific/Auckland</option>"),
        "{}",
        page.text()
    );
}

#[actix_web::test]
async fn an_unknown_time_zone_is_422() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("u@example.com", "rep").await;
    c.get("/account").await;
    let res = c
        .post_form("/account/time-zone", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
}
