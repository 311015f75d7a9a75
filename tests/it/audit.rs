//! The audit log: what is recorded (field diffs, the address, sign-ins), that a refused or
//! failed change leaves no row, the filters and pages of Settings → Audit log and
//! /api/v1/audit (admins only), and the retention job.
use actix_web::http::Method;
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

use cairn::domain::audit;
use cairn::entities::audit_log;

use crate::support::*;

/// Every row, oldest first.
async fn rows(app: &TestApp) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(&app.db.read)
        .await
        .unwrap()
}

/// The admin's view of the log through the API (`query` after `?`).
async fn api_log(c: &mut Client<impl TestService>, admin: &str, query: &str) -> serde_json::Value {
    c.get_json(&format!("/api/v1/audit?{query}"), admin).await
}

fn actions(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// Ana Costa added by `rep` through the API, then changed by `patch` (which must
/// succeed); her id.
async fn ana_changed(c: &mut Client<impl TestService>, rep: &str, patch: serde_json::Value) -> i64 {
    let id = c.add_contact(rep, "Ana", "Costa", "ana@x.test").await;
    let path = format!("/api/v1/contacts/{id}");
    c.api_ok(Method::PATCH, &path, rep, Some(patch)).await;
    id
}

#[actix_web::test]
async fn an_update_records_each_changed_fields_old_and_new_value_and_the_address() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    let patch = json!({"first_name": "Anna", "phone": "+1 555 0100"});
    let id = ana_changed(&mut c, &rep, patch).await;

    let page = api_log(
        &mut c,
        &admin,
        &format!("entity=contact&entity_id={id}&action=update"),
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one update row: {page}");
    let changes = &items[0]["detail"]["changes"];
    assert_eq!(
        changes["first_name"],
        json!({"old": "Ana", "new": "Anna"}),
        "{changes}"
    );
    assert_eq!(
        changes["phone"],
        json!({"old": null, "new": "+1 555 0100"}),
        "{changes}"
    );
    assert!(
        changes.get("last_name").is_none(),
        "unchanged fields stay out: {changes}"
    );
    assert!(
        changes.get("updated_at").is_none(),
        "bookkeeping stays out: {changes}"
    );
    assert_eq!(
        items[0]["ip"], "10.1.2.3",
        "the client's address: {}",
        items[0]
    );
    assert_eq!(items[0]["actor_name"], "rep rep-api@example.com");
}

#[actix_web::test]
async fn a_refused_change_leaves_no_row() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = c.add_contact(&rep, "Ana", "Costa", "ana@x.test").await;
    let before = rows(&app).await.len();
    let path = format!("/api/v1/contacts/{id}");
    let res = c
        .api(
            Method::PATCH,
            &path,
            &rep,
            Some(json!({"email": "not an email"})),
        )
        .await;
    res.refuses_field("email");
    assert_eq!(rows(&app).await.len(), before, "a 422 writes no audit row");
}

/// A trigger that makes inserts into `table` fail when `when` holds (SQL on NEW).
async fn refuse_inserts(app: &TestApp, table: &str, when: &str) {
    if app.db.backend() == sea_orm::DatabaseBackend::Postgres {
        exec(&app.db, "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$").await;
        exec(&app.db, &format!("CREATE TRIGGER refuse BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION refuse()")).await;
    } else {
        exec(&app.db, &format!("CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN {when} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")).await;
    }
}

/// Moves deal `id` (at `version`) to the default pipeline's stage called `stage`.
async fn move_to(
    c: &mut Client<impl TestService>,
    token: &str,
    id: i64,
    stage: &str,
    version: i64,
) -> Response {
    let pipelines = c.get_json("/api/v1/pipelines", token).await;
    let stage = stage_id(&pipelines[0], stage);
    let path = format!("/api/v1/deals/{id}/move");
    c.api(
        Method::POST,
        &path,
        token,
        Some(json!({"stage_id": stage, "version": version})),
    )
    .await
}

#[actix_web::test]
async fn a_stage_move_is_recorded_with_the_stage_it_left() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = c.add("deals", &rep, json!({"title": "Pilot"})).await;
    let res = move_to(&mut c, &rep, id, "Won", 1).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let moves: Vec<_> = rows(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "move")
        .collect();
    assert_eq!(moves.len(), 1);
    let detail: serde_json::Value =
        serde_json::from_str(moves[0].detail.as_deref().unwrap()).unwrap();
    assert!(detail["changes"]["stage_id"]["old"].is_i64(), "{detail}");
    assert_eq!(detail["changes"]["stage_id"]["new"], res.json()["stage_id"]);
}

/// A rep's token, a client, the id of their deal Pilot, and how many audit rows there
/// are then.
async fn rep_with_a_pilot(app: &TestApp) -> (String, Client<impl TestService>, i64, usize) {
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let id = c.add("deals", &rep, json!({"title": "Pilot"})).await;
    let before = rows(app).await.len();
    (rep, c, id, before)
}

/// Asserts the answer is a server error.
fn assert_server_error(res: &Response) {
    assert!(
        res.status.is_server_error(),
        "{}: {}",
        res.status,
        res.text()
    );
}

/// The audit row cannot be written: the move it records does not happen either.
#[actix_web::test]
async fn a_change_whose_audit_row_fails_is_undone() {
    let app = TestApp::new().await;
    let (rep, mut c, id, before) = rep_with_a_pilot(&app).await;
    refuse_inserts(&app, "audit_log", "NEW.action = 'move'").await;
    assert_server_error(&move_to(&mut c, &rep, id, "Won", 1).await);
    let deal = c.get_json(&format!("/api/v1/deals/{id}"), &rep).await;
    assert_eq!(deal["version"], 1, "the move was rolled back: {deal}");
    assert_eq!(rows(&app).await.len(), before);
}

/// The change itself fails (its stage history cannot be written): no audit row.
#[actix_web::test]
async fn a_failed_change_leaves_no_row() {
    let app = TestApp::new().await;
    let (rep, mut c, id, before) = rep_with_a_pilot(&app).await;
    refuse_inserts(&app, "deal_stage_changes", "1 = 1").await;
    assert_server_error(&move_to(&mut c, &rep, id, "Won", 1).await);
    assert_eq!(
        rows(&app).await.len(),
        before,
        "a failed change leaves no row"
    );
}

#[actix_web::test]
async fn sign_ins_that_succeed_and_fail_and_sign_outs_are_recorded_with_the_address() {
    let app = TestApp::new().await;
    let ana = app.user("ana@x.test", "rep").await;
    let mut c = app.client().await;
    c.peer = "192.0.2.7:5000".parse().unwrap();
    let res = c.sign_in("ana@x.test", "wrong password!").await;
    assert_eq!(res.status, 401);
    let res = c.sign_in("nobody@x.test", PASSWORD).await;
    assert_eq!(res.status, 401);
    let res = c.sign_in("ana@x.test", PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.text());
    c.get("/contacts").await;
    let res = c.post_form("/logout", &[]).await;
    assert_eq!(res.status, 303);

    let seen: Vec<(String, Option<i64>, Option<String>)> = rows(&app)
        .await
        .into_iter()
        .filter(|r| r.entity == "user" && r.action != "create")
        .map(|r| (r.action, r.actor_id, r.ip))
        .collect();
    let ip = Some("192.0.2.7".to_string());
    assert_eq!(
        seen,
        [
            ("sign_in_failed".to_string(), Some(ana.id), ip.clone()),
            ("sign_in_failed".to_string(), None, ip.clone()),
            ("sign_in".to_string(), Some(ana.id), ip.clone()),
            ("sign_out".to_string(), Some(ana.id), ip.clone()),
        ]
    );
    let failed = rows(&app)
        .await
        .into_iter()
        .find(|r| r.action == "sign_in_failed")
        .unwrap();
    assert!(
        failed.detail.unwrap().contains("wrong password"),
        "the reason is kept for admins"
    );
}

/// Rows straight through the domain: by `actor` (or none), `action` on (`entity`, `id`),
/// `days_ago` days back.
async fn put(
    app: &TestApp,
    actor: Option<i64>,
    action: &str,
    entity: &str,
    id: i64,
    days_ago: i64,
) {
    audit_log::Entity::insert(audit_log::ActiveModel {
        actor_id: Set(actor),
        action: Set(action.into()),
        entity: Set(entity.into()),
        entity_id: Set(id),
        detail: Set(None),
        created_at: Set(cairn::domain::now() - Duration::days(days_ago)),
        ip: Set(None),
        ..Default::default()
    })
    .exec(&app.db.write)
    .await
    .unwrap();
}

#[actix_web::test]
async fn the_api_filters_by_who_what_which_record_and_when() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let rep = app.user("rep@x.test", "rep").await;
    put(&app, Some(rep.id), "create", "contact", 7, 10).await;
    put(&app, Some(rep.id), "update", "contact", 7, 5).await;
    put(&app, Some(rep.id), "update", "contact", 8, 3).await;
    put(&app, None, "purge", "deal", 7, 1).await;
    let mut c = app.client().await;
    let who = api_log(&mut c, &admin, &format!("actor_id={}", rep.id)).await;
    assert_eq!(
        actions(&who),
        ["update", "update", "create"],
        "newest first: {who}"
    );
    let what = api_log(&mut c, &admin, "action=purge").await;
    assert_eq!(actions(&what), ["purge"]);
    let record = api_log(&mut c, &admin, "entity=contact&entity_id=7").await;
    assert_eq!(actions(&record), ["update", "create"]);
    let kind = api_log(&mut c, &admin, "entity=deal").await;
    assert_eq!(actions(&kind), ["purge"]);
    let from = (Utc::now() - Duration::days(6)).date_naive();
    let to = (Utc::now() - Duration::days(2)).date_naive();
    let when = api_log(
        &mut c,
        &admin,
        &format!("from={from}&to={to}&entity=contact"),
    )
    .await;
    assert_eq!(actions(&when), ["update", "update"], "{when}");
}

#[actix_web::test]
async fn the_api_refuses_a_record_id_without_its_type_and_a_date_it_cannot_read() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    let mut c = app.client().await;
    for (query, field) in [("entity_id=7", "entity"), ("from=yesterday", "from")] {
        let path = format!("/api/v1/audit?{query}");
        c.api(Method::GET, &path, &admin, None)
            .await
            .refuses_field(field);
    }
}

/// The page of two deal entries that `cursor` ("", `before=…` or `after=…`) names: its
/// entries' record ids, and the page.
async fn deal_page(
    c: &mut Client<impl TestService>,
    admin: &str,
    cursor: &str,
) -> (Vec<i64>, serde_json::Value) {
    let page = api_log(c, admin, &format!("entity=deal&per_page=2&{cursor}")).await;
    let ids = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entity_id"].as_i64().unwrap())
        .collect();
    (ids, page)
}

/// A page's cursor `which` ("older" or "newer") as the query that follows it.
fn follow(page: &serde_json::Value, which: &str) -> String {
    let cursor = page[which].as_str().unwrap();
    let param = if which == "older" { "before" } else { "after" };
    format!("{param}={cursor}")
}

#[actix_web::test]
async fn pages_follow_their_cursors_both_ways() {
    let app = TestApp::new().await;
    let admin = app.api_user("admin").await;
    for i in 1..=5 {
        put(&app, None, "purge", "deal", i, 10 - i).await;
    }
    let mut c = app.client().await;
    let (ids, first) = deal_page(&mut c, &admin, "").await;
    assert_eq!(ids, [5, 4]);
    assert!(first["newer"].is_null(), "the first page has nothing newer");
    let (ids, second) = deal_page(&mut c, &admin, &follow(&first, "older")).await;
    assert_eq!(ids, [3, 2]);
    let (ids, third) = deal_page(&mut c, &admin, &follow(&second, "older")).await;
    assert_eq!(ids, [1]);
    assert!(third["older"].is_null(), "the last page has nothing older");
    let (ids, back) = deal_page(&mut c, &admin, &follow(&second, "newer")).await;
    assert_eq!(ids, [5, 4], "newer goes back to the first page");
    assert!(back["newer"].is_null());
}

#[actix_web::test]
async fn only_admins_see_the_log_page_and_api() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let res = c.api(Method::GET, "/api/v1/audit", &manager, None).await;
    assert_eq!(res.status, 403, "{}", res.text());
    let mut page = app.signed_in("boss@x.test", "manager").await;
    assert_eq!(page.get("/settings/audit").await.status, 403);
    let res = page
        .post_form("/settings/audit/retention", &[("retention_days", "1")])
        .await;
    assert_eq!(res.status, 403);
}

#[actix_web::test]
async fn the_page_lists_entries_with_their_changes_and_pages_with_htmx() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("root@x.test", "admin").await;
    let rep = app.api_user("rep").await;
    let mut api = app.client().await;
    let id = ana_changed(&mut api, &rep, json!({"last_name": "Silva"})).await;
    let page = c.get("/settings/audit?entity=contact").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("Audit log") && html.contains("<html"),
        "a whole page"
    );
    assert!(
        html.contains("Costa") && html.contains("Silva"),
        "the change shows old and new"
    );
    assert!(
        html.contains(&format!("/contacts/{id}")),
        "the record links to its page"
    );
    let fragment = c.hx_get("/settings/audit?entity=contact").await;
    assert_eq!(fragment.status, 200);
    assert!(fragment.text().contains("id=\"audit-results\""));
    assert!(
        !fragment.text().contains("<html"),
        "htmx gets the results alone"
    );
}

#[actix_web::test]
async fn the_retention_job_removes_only_rows_older_than_the_setting() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("root@x.test", "admin").await;
    c.get("/settings/audit").await;
    let res = c
        .post_form("/settings/audit/retention", &[("retention_days", "0")])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    c.post_form_ok("/settings/audit/retention", &[("retention_days", "30")])
        .await;
    put(&app, None, "purge", "deal", 1, 45).await;
    put(&app, None, "purge", "deal", 2, 31).await;
    put(&app, None, "purge", "deal", 3, 29).await;
    let removed = audit::retention::purge(&app.db, Utc::now()).await.unwrap();
    assert_eq!(removed, 2);
    let kept: Vec<i64> = audit_log::Entity::find()
        .filter(audit_log::Column::Entity.eq("deal"))
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entity_id)
        .collect();
    assert_eq!(kept, [3]);
    assert_eq!(
        app.count("audit_log WHERE action = 'update' AND entity = 'settings'")
            .await,
        1,
        "the retention change is itself recorded"
    );
    assert_eq!(
        app.count("audit_log WHERE entity = 'audit_log'").await,
        1,
        "the purge is recorded"
    );
}
