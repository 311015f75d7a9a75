//! A task about a contact, company or deal in the trash is hidden with it: My tasks,
//! the overdue count and the API leave it out until the record is restored, and purging
//! the record deletes it. The record's page (for managers, who see the trash) lists its
//! tasks read only, and changing one says the record is in the trash.
use actix_web::http::Method;
use serde_json::json;

use crate::given::yesterday;
use crate::support::*;
use crate::tasks_pages::{badge, group};

/// A task due yesterday about record `id` of `field` ("contact_id" …), as `token`; its id.
async fn late_task_about<S: TestService>(
    c: &mut Client<S>,
    token: &str,
    title: &str,
    field: &str,
    id: i64,
) -> i64 {
    c.add_task(
        token,
        json!({"title": title, "due_date": yesterday(), field: id}),
    )
    .await
}

#[actix_web::test]
async fn a_task_about_a_trashed_contact_leaves_my_tasks_and_the_overdue_count() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let ana = c.add_contact(&token, "Ana", "Adeyemi", "ana@x.test").await;
    late_task_about(&mut c, &token, "Call Ana", "contact_id", ana).await;
    c.add_task(&token, json!({"title": "Plan", "due_date": yesterday()}))
        .await;
    let before = c.get("/tasks").await.text();
    assert_eq!(badge(&before), "2", "both count before the trash");
    c.trash("contacts", ana, &token).await;
    let page = c.get("/tasks").await.text();
    let overdue = group(&page, "overdue");
    assert!(
        overdue.contains("Plan") && !overdue.contains("Call Ana"),
        "only the task about no record stays: {overdue}"
    );
    assert_eq!(badge(&page), "1", "the navigation counts only the live one");
}

#[actix_web::test]
async fn the_task_comes_back_when_its_record_is_restored() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let (manager, mut m) = app.api_client("manager").await;
    let deal = c.add_deal(&token, "Pilot").await;
    late_task_about(&mut c, &token, "Send the quote", "deal_id", deal).await;
    c.get("/tasks").await;
    c.trash("deals", deal, &token).await;
    assert_eq!(
        badge(&c.get("/tasks").await.text()),
        "",
        "hidden in the trash"
    );
    m.restore("deals", deal, &manager).await;
    let page = c.get("/tasks").await.text();
    assert!(
        group(&page, "overdue").contains("Send the quote"),
        "back in its group: {page}"
    );
    assert_eq!(badge(&page), "1", "and counted again");
}

#[actix_web::test]
async fn the_api_hides_a_task_whose_company_is_in_the_trash() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let co = c.add_company(&manager, "Acme").await;
    let about = late_task_about(&mut c, &manager, "Renew Acme", "company_id", co).await;
    let other = c.add_task(&manager, json!({"title": "Expenses"})).await;
    c.trash("companies", co, &manager).await;
    let list = c.get_json("/api/v1/tasks", &manager).await;
    assert_eq!(
        (list["total"].clone(), list["items"][0]["id"].clone()),
        (json!(1), json!(other)),
        "only the task about no record is listed: {list}"
    );
    c.api(
        Method::GET,
        &format!("/api/v1/tasks/{about}"),
        &manager,
        None,
    )
    .await
    .refuses(404, "Task");
}

#[actix_web::test]
async fn a_hidden_task_cannot_be_changed_until_its_record_is_back() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let ana = c
        .add_contact(&manager, "Ana", "Adeyemi", "ana@x.test")
        .await;
    let task = late_task_about(&mut c, &manager, "Call Ana", "contact_id", ana).await;
    c.trash("contacts", ana, &manager).await;
    let path = format!("/api/v1/tasks/{task}");
    c.api(Method::PATCH, &path, &manager, Some(json!({"done": true})))
        .await
        .refuses(409, "in the trash");
    c.restore("contacts", ana, &manager).await;
    let res = c
        .api_ok(Method::PATCH, &path, &manager, Some(json!({"done": true})))
        .await;
    assert_eq!(res.json()["done"], true, "{}", res.text());
}

#[actix_web::test]
async fn contacts_deleted_in_bulk_take_their_tasks_along() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let ana = c
        .add_contact(&manager, "Ana", "Adeyemi", "ana@x.test")
        .await;
    late_task_about(&mut c, &manager, "Call Ana", "contact_id", ana).await;
    c.api_ok(
        Method::POST,
        "/api/v1/contacts/bulk",
        &manager,
        Some(json!({"action": "delete", "ids": [ana]})),
    )
    .await;
    let list = c.get_json("/api/v1/tasks", &manager).await;
    assert_eq!(list["total"], 0, "the task left with its contact: {list}");
    c.restore("contacts", ana, &manager).await;
    let list = c.get_json("/api/v1/tasks", &manager).await;
    assert_eq!(list["total"], 1, "and came back with it: {list}");
}

#[actix_web::test]
async fn purging_the_record_deletes_its_tasks() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let deal = c.add_deal(&token, "Pilot").await;
    late_task_about(&mut c, &token, "Send the quote", "deal_id", deal).await;
    c.add_task(&token, json!({"title": "Expenses"})).await;
    c.trash("deals", deal, &token).await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    admin.get("/settings/trash").await;
    admin
        .post_form_ok(&format!("/settings/trash/deal/{deal}/purge"), &[])
        .await;
    assert_eq!(
        app.count_where("tasks", &format!(" WHERE deal_id = {deal}"))
            .await,
        0,
        "the deal's task went with it"
    );
    assert_eq!(app.count("tasks").await, 1, "the other task stays");
}

#[actix_web::test]
async fn a_rep_changing_a_hidden_task_gets_404() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let ana = c.add_contact(&token, "Ana", "Adeyemi", "ana@x.test").await;
    let task = late_task_about(&mut c, &token, "Call Ana", "contact_id", ana).await;
    c.trash("contacts", ana, &token).await;
    c.api(
        Method::PATCH,
        &format!("/api/v1/tasks/{task}"),
        &token,
        Some(json!({"done": true})),
    )
    .await
    .refuses(404, "Task");
}

#[actix_web::test]
async fn a_trashed_records_page_lists_its_tasks_read_only() {
    let app = TestApp::new().await;
    let mut m = app.signed_in("m@example.com", "manager").await;
    let token = app.token("m@example.com").await;
    let ana = m.add_contact(&token, "Ana", "Adeyemi", "ana@x.test").await;
    let body = json!({"title": "Call Ana", "notes": "Bring **the contract**", "contact_id": ana});
    let task = m.add("tasks", &token, body).await;
    m.trash("contacts", ana, &token).await;
    let page = m.get(&format!("/contacts/{ana}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("is in the trash") && html.contains("Call Ana"),
        "the notice lists the task: {html}"
    );
    assert!(
        html.contains("<strong>the contract</strong>"),
        "its notes are shown, not fetched: {html}"
    );
    for offered in ["done", "edit", "notes"] {
        assert!(
            !html.contains(&format!("/tasks/{task}/{offered}")),
            "nothing to tick, edit or open: /tasks/{task}/{offered} in {html}"
        );
    }
}

#[actix_web::test]
async fn ticking_a_task_whose_record_went_to_the_trash_meanwhile_says_so() {
    let app = TestApp::new().await;
    let mut m = app.signed_in("m@example.com", "manager").await;
    let token = app.token("m@example.com").await;
    let deal = m.add_deal(&token, "Pilot").await;
    let task = late_task_about(&mut m, &token, "Send the quote", "deal_id", deal).await;
    let page = m.get(&format!("/deals/{deal}")).await.text();
    assert!(
        page.contains(&format!("/tasks/{task}/done")),
        "offered: {page}"
    );
    m.trash("deals", deal, &token).await;
    let res = m
        .hx_post_form(
            &format!("/tasks/{task}/done"),
            &[("done", "true"), ("deal_id", &deal.to_string())],
        )
        .await;
    assert_eq!(res.status, 409, "not 404: {}", res.text());
    assert!(
        res.text().contains("deal is in the trash"),
        "says why: {}",
        res.text()
    );
}
