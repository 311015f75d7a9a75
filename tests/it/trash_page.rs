//! Settings → Trash, and the nightly job that empties it.
use actix_web::http::Method;
use chrono::{Duration, Utc};
use serde_json::json;

use crate::support::*;
use crate::trash::{deal, trashed};

/// A manager's token and signed-in client, with one trashed deal; its id.
async fn manager_with_trashed_deal(app: &TestApp) -> (String, Client<impl TestService>, i64) {
    let token = app.api_user("manager").await;
    let mut c = app.client().await;
    let d = deal(&mut c, &token, "Binned pilot", &[]).await;
    c.api_ok(Method::DELETE, &format!("/api/v1/deals/{d}"), &token, None)
        .await;
    let res = c.sign_in("manager-api@example.com", PASSWORD).await;
    assert_eq!(res.status, 303, "sign in: {}", res.text());
    (token, c, d)
}

#[actix_web::test]
async fn the_trash_lists_what_was_deleted_by_whom_and_days_left() {
    let app = TestApp::new().await;
    let (_, mut c, _) = manager_with_trashed_deal(&app).await;
    let page = c.get("/settings/trash").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("Binned pilot"), "the name");
    assert!(
        text.contains("manager manager-api@example.com"),
        "who deleted it"
    );
    assert!(text.contains("<td>30</td>"), "days left: {text}");
}

#[actix_web::test]
async fn the_settings_nav_links_the_trash() {
    let app = TestApp::new().await;
    let (_, mut c, _) = manager_with_trashed_deal(&app).await;
    let page = c.get("/settings/tags").await.text();
    assert!(page.contains("href=\"/settings/trash\""));
}

#[actix_web::test]
async fn a_rep_may_not_open_the_trash() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(c.get("/settings/trash").await.status, 403);
}

#[actix_web::test]
async fn restore_from_the_trash_page_swaps_the_row() {
    let app = TestApp::new().await;
    let (_, mut c, d) = manager_with_trashed_deal(&app).await;
    c.get("/settings/trash").await;
    let token = c.csrf.clone().unwrap_or_default();
    let res = c
        .send(
            actix_web::test::TestRequest::post()
                .uri(&format!(
                    "/settings/trash/deal/{d}/restore?name=Binned%20pilot"
                ))
                .insert_header(("HX-Request", "true"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!("_csrf={token}")),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text().contains("Binned pilot was restored"),
        "{}",
        res.text()
    );
    assert_eq!(trashed(&app, "deals").await, 0);
}

#[actix_web::test]
async fn restore_from_a_plain_form_redirects_with_a_flash() {
    let app = TestApp::new().await;
    let (_, mut c, d) = manager_with_trashed_deal(&app).await;
    c.get(&format!("/deals/{d}")).await;
    let res = c
        .post_form_ok(&format!("/settings/trash/deal/{d}/restore"), &[])
        .await;
    assert_eq!(res.location(), "/settings/trash");
    assert_eq!(
        c.get(&format!("/deals/{d}")).await.status,
        200,
        "the deal is back"
    );
}

#[actix_web::test]
async fn only_an_admin_deletes_forever() {
    let app = TestApp::new().await;
    let (_, mut c, d) = manager_with_trashed_deal(&app).await;
    c.get("/settings/trash").await;
    let res = c
        .post_form(&format!("/settings/trash/deal/{d}/purge"), &[])
        .await;
    assert_eq!(res.status, 403, "a manager may not");
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    admin.get("/settings/trash").await;
    admin
        .post_form_ok(&format!("/settings/trash/deal/{d}/purge"), &[])
        .await;
    assert_eq!(app.count_where("deals", "").await, 0, "gone for good");
}

#[actix_web::test]
async fn the_purge_removes_only_what_is_older_than_30_days() {
    let app = TestApp::new().await;
    let (token, mut c, old) = manager_with_trashed_deal(&app).await;
    let recent = deal(&mut c, &token, "Recent", &[]).await;
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/deals/{recent}"),
        &token,
        None,
    )
    .await;
    let long_ago = (Utc::now() - Duration::days(31)).format("%Y-%m-%d %H:%M:%S+00:00");
    exec(
        &app.db,
        &format!("UPDATE deals SET deleted_at = '{long_ago}' WHERE id = {old}"),
    )
    .await;
    let purged = cairn::domain::trash::purge_expired(&app.db, Utc::now())
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    assert_eq!(
        app.count_where("deals", &format!(" WHERE id = {old}"))
            .await,
        0,
        "the old one went"
    );
    assert_eq!(trashed(&app, "deals").await, 1, "the recent one stays");
}

#[actix_web::test]
async fn the_purge_job_is_scheduled_nightly() {
    let app = TestApp::new().await;
    cairn::jobs::kinds::ensure_recurring(&app.db)
        .await
        .expect("schedule");
    cairn::jobs::kinds::ensure_recurring(&app.db)
        .await
        .expect("schedule again");
    let n = app
        .count(&format!(
            "jobs WHERE kind = '{}'",
            cairn::jobs::kinds::TRASH_PURGE
        ))
        .await;
    assert_eq!(n, 1, "scheduled once however often ensured");
}

#[actix_web::test]
async fn the_purge_job_runs_through_the_queue() {
    let app = TestApp::new().await;
    let (_, _, old) = manager_with_trashed_deal(&app).await;
    let long_ago = (Utc::now() - Duration::days(31)).format("%Y-%m-%d %H:%M:%S+00:00");
    exec(
        &app.db,
        &format!("UPDATE deals SET deleted_at = '{long_ago}' WHERE id = {old}"),
    )
    .await;
    let job = cairn::jobs::queue::enqueue_in(
        &app.db.write,
        &cairn::jobs::queue::NewJob::new(cairn::jobs::kinds::TRASH_PURGE, json!({})),
    )
    .await
    .expect("enqueue");
    let options = cairn::jobs::Options {
        poll: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let running =
        cairn::jobs::Runner::new(app.db.clone(), cairn::jobs::kinds::registry(), options).start();
    for _ in 0..100 {
        if app
            .count(&format!("jobs WHERE id = {job} AND state = 'done'"))
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(running.finish(std::time::Duration::from_secs(5)).await);
    assert_eq!(
        app.count(&format!("jobs WHERE id = {job} AND state = 'done'"))
            .await,
        1,
        "the job ran"
    );
    assert_eq!(
        app.count_where("deals", "").await,
        0,
        "it purged the old deal"
    );
}

#[actix_web::test]
async fn the_purge_empties_a_big_trash_in_batches() {
    let app = TestApp::new().await;
    app.api_user("admin").await;
    crate::bulk::seed(&app, 1200).await;
    let long_ago = (Utc::now() - Duration::days(31)).format("%Y-%m-%d %H:%M:%S+00:00");
    exec(
        &app.db,
        &format!("UPDATE contacts SET deleted_at = '{long_ago}'"),
    )
    .await;
    let purged = cairn::domain::trash::purge_expired(&app.db, Utc::now())
        .await
        .expect("purge");
    assert_eq!(purged, 1200, "more than one batch");
    assert_eq!(app.count_where("contacts", "").await, 0);
    assert_eq!(
        app.count("record_counts WHERE name = 'contacts' AND n = 0")
            .await,
        1,
        "the count stayed right"
    );
}
