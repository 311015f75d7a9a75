//! Deleting moves a contact, company or deal to the trash, under the owner rules;
//! managers restore it whole.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// How many rows of `table` are in the trash.
pub async fn trashed(app: &TestApp, table: &str) -> i64 {
    app.count_where(table, " WHERE deleted_at IS NOT NULL")
        .await
}

/// A deal through the API, linked to `contacts`; its id.
pub async fn deal(
    c: &mut Client<impl TestService>,
    token: &str,
    title: &str,
    contacts: &[i64],
) -> i64 {
    c.create(
        "/api/v1/deals",
        token,
        json!({"title": title, "amount": 1000, "currency": "USD", "contact_ids": contacts}),
    )
    .await
}

#[actix_web::test]
async fn deleting_a_contact_moves_it_to_the_trash() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("rep").await;
    let id = c.add_contact(&token, "Ana", "Costa", "ana@x.test").await;
    let path = format!("/api/v1/contacts/{id}");
    let res = c.api(Method::DELETE, &path, &token, None).await;
    assert_eq!(
        res.status,
        204,
        "the delete contract stays 204: {}",
        res.text()
    );
    assert_eq!(
        c.api(Method::GET, &path, &token, None).await.status,
        404,
        "gone from reads"
    );
    assert_eq!(
        trashed(&app, "contacts").await,
        1,
        "the row waits in the trash"
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'delete' AND entity = 'contact'")
            .await,
        1,
        "the delete is audited"
    );
}

#[actix_web::test]
async fn a_rep_cannot_delete_someone_elses_contact() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let (rep, mut c) = app.api_client("rep").await;
    let id = c.add_contact(&manager, "Ana", "Costa", "ana@x.test").await;
    let res = c.delete_as("contacts", id, &rep).await;
    res.refuses(403, "only their own");
    assert_eq!(trashed(&app, "contacts").await, 0, "nothing was trashed");
}

#[actix_web::test]
async fn a_rep_deletes_their_own_deal() {
    let app = TestApp::new().await;
    let (rep, mut c) = app.api_client("rep").await;
    let d = deal(&mut c, &rep, "Pilot", &[]).await;
    let res = c.delete_as("deals", d, &rep).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(trashed(&app, "deals").await, 1);
}

#[actix_web::test]
async fn a_viewer_cannot_delete() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let (viewer, mut c) = app.api_client("viewer").await;
    let id = c.add_company(&manager, "Northwind").await;
    let res = c.delete_as("companies", id, &viewer).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(trashed(&app, "companies").await, 0);
}

#[actix_web::test]
async fn a_manager_deletes_anyones_deal() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let (manager, mut c) = app.api_client("manager").await;
    let d = deal(&mut c, &rep, "Pilot", &[]).await;
    c.trash("deals", d, &manager).await;
    assert_eq!(trashed(&app, "deals").await, 1);
}

#[actix_web::test]
async fn a_restored_contact_has_its_tags_custom_values_and_activities() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let mut body = contact_json("Ana", "Costa", "ana@x.test");
    body["tags"] = json!(["vip"]);
    let id = c.create("/api/v1/contacts", &manager, body).await;
    c.api_ok(
        Method::POST,
        "/api/v1/activities",
        &manager,
        Some(json!({"kind": "note", "body": "Met", "contact_id": id})),
    )
    .await;
    let path = format!("/api/v1/contacts/{id}");
    c.api_ok(Method::DELETE, &path, &manager, None).await;
    let res = c
        .api(Method::POST, &format!("{path}/restore"), &manager, None)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let back = c.get_json(&path, &manager).await;
    assert_eq!(back["tags"], json!(["vip"]), "tags came back: {back}");
    let notes = c
        .get_json(&format!("/api/v1/activities?contact_id={id}"), &manager)
        .await;
    assert_eq!(notes["total"], 1, "the note came back: {notes}");
    assert_eq!(
        app.count("audit_log WHERE action = 'restore'").await,
        1,
        "audited"
    );
}

#[actix_web::test]
async fn a_rep_cannot_restore() {
    let app = TestApp::new().await;
    let (rep, mut c) = app.api_client("rep").await;
    let d = deal(&mut c, &rep, "Pilot", &[]).await;
    c.trash("deals", d, &rep).await;
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{d}/restore"),
            &rep,
            None,
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(trashed(&app, "deals").await, 1, "still in the trash");
}

#[actix_web::test]
async fn restoring_a_live_record_is_404() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let d = deal(&mut c, &manager, "Pilot", &[]).await;
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{d}/restore"),
            &manager,
            None,
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
}

#[actix_web::test]
async fn a_restored_deal_keeps_its_contacts() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let ana = c.add_contact(&manager, "Ana", "Costa", "ana@x.test").await;
    let d = deal(&mut c, &manager, "Pilot", &[ana]).await;
    let path = format!("/api/v1/deals/{d}");
    c.api_ok(Method::DELETE, &path, &manager, None).await;
    c.api_ok(Method::POST, &format!("{path}/restore"), &manager, None)
        .await;
    let back = c.get_json(&path, &manager).await;
    assert_eq!(back["contacts"][0]["id"], ana, "the link survived: {back}");
}

#[actix_web::test]
async fn a_deal_edited_while_its_contact_is_trashed_keeps_the_link() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let ana = c.add_contact(&manager, "Ana", "Costa", "ana@x.test").await;
    let d = deal(&mut c, &manager, "Pilot", &[ana]).await;
    c.trash("contacts", ana, &manager).await;
    let path = format!("/api/v1/deals/{d}");
    let shown = c.get_json(&path, &manager).await;
    assert_eq!(
        shown["contacts"],
        json!([]),
        "the trashed contact is not shown: {shown}"
    );
    c.api_ok(
        Method::PATCH,
        &path,
        &manager,
        Some(json!({"title": "Pilot 2"})),
    )
    .await;
    c.restore("contacts", ana, &manager).await;
    let back = c.get_json(&path, &manager).await;
    assert_eq!(back["contacts"][0]["id"], ana, "the link is back: {back}");
}

#[actix_web::test]
async fn a_trashed_contacts_email_stays_taken_and_says_where() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let id = c.add_contact(&manager, "Ana", "Costa", "ana@x.test").await;
    c.trash("contacts", id, &manager).await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &manager,
            Some(contact_json("Ann", "C", "ANA@x.test")),
        )
        .await;
    res.refuses(409, "in the trash");
    c.restore("contacts", id, &manager).await;
}

#[actix_web::test]
async fn a_trashed_companys_name_stays_taken_and_says_where() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let id = c.add_company(&manager, "Northwind").await;
    c.trash("companies", id, &manager).await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &manager,
            Some(json!({"name": "northwind"})),
        )
        .await;
    res.refuses(409, "in the trash");
}

#[actix_web::test]
async fn deleting_a_trashed_record_again_is_404() {
    let app = TestApp::new().await;
    let (rep, mut c) = app.api_client("rep").await;
    let d = deal(&mut c, &rep, "Pilot", &[]).await;
    let path = format!("/api/v1/deals/{d}");
    c.api_ok(Method::DELETE, &path, &rep, None).await;
    assert_eq!(c.api(Method::DELETE, &path, &rep, None).await.status, 404);
}

#[actix_web::test]
async fn a_reps_bulk_delete_over_others_records_is_refused_whole() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let (rep, mut c) = app.api_client("rep").await;
    let mine = c.add_contact(&rep, "Ana", "Costa", "ana@x.test").await;
    let theirs = c.add_contact(&manager, "Ben", "Lee", "ben@x.test").await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &rep,
            Some(json!({"action": "delete", "ids": [mine, theirs]})),
        )
        .await;
    res.refuses(403, "1 of them belongs to someone else");
    assert_eq!(trashed(&app, "contacts").await, 0, "nothing was trashed");
}

#[actix_web::test]
async fn a_bulk_delete_moves_the_selection_to_the_trash() {
    let app = TestApp::new().await;
    let (rep, mut c) = app.api_client("rep").await;
    let a = c.add_contact(&rep, "Ana", "Costa", "ana@x.test").await;
    let b = c.add_contact(&rep, "Ben", "Lee", "ben@x.test").await;
    c.api_ok(
        Method::POST,
        "/api/v1/contacts/bulk",
        &rep,
        Some(json!({"action": "delete", "ids": [a, b]})),
    )
    .await;
    assert_eq!(trashed(&app, "contacts").await, 2);
    assert_eq!(
        app.count_where(
            "contacts",
            &format!(" WHERE deleted_by IS NOT NULL AND id IN ({a}, {b})")
        )
        .await,
        2,
        "who deleted them is kept"
    );
}

#[actix_web::test]
async fn the_unfiltered_total_follows_trash_and_restore() {
    let app = TestApp::new().await;
    let (manager, mut c) = app.api_client("manager").await;
    let a = c.add_contact(&manager, "Ana", "Costa", "ana@x.test").await;
    c.add_contact(&manager, "Ben", "Lee", "ben@x.test").await;
    let total = |v: serde_json::Value| v["total"].as_i64().unwrap();
    c.trash("contacts", a, &manager).await;
    assert_eq!(
        total(c.get_json("/api/v1/contacts", &manager).await),
        1,
        "trashed: not counted"
    );
    c.restore("contacts", a, &manager).await;
    assert_eq!(
        total(c.get_json("/api/v1/contacts", &manager).await),
        2,
        "restored: counted"
    );
}

#[actix_web::test]
async fn the_record_page_hides_delete_from_a_rep_who_does_not_own_it() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let (mut c, rep) = app.rep_signed_in().await;
    let theirs = c.add_contact(&manager, "Ana", "Costa", "ana@x.test").await;
    let mine = c.add_contact(&rep, "Ben", "Lee", "ben@x.test").await;
    let page = c.get(&format!("/contacts/{theirs}")).await.text();
    assert!(
        !page.contains(&format!("/contacts/{theirs}/delete")),
        "no Delete on another's contact"
    );
    let page = c.get(&format!("/contacts/{mine}")).await.text();
    assert!(
        page.contains(&format!("/contacts/{mine}/delete")),
        "Delete on their own"
    );
}

#[actix_web::test]
async fn the_delete_page_refuses_a_rep_who_does_not_own_the_company() {
    let app = TestApp::new().await;
    let manager = app.api_user("manager").await;
    let (mut c, _) = app.rep_signed_in().await;
    let co = c.add_company(&manager, "Northwind").await;
    let res = c.get(&format!("/companies/{co}/delete")).await;
    assert_eq!(res.status, 403, "{}", res.text());
    assert!(res.text().contains("only their own"), "says why");
}
