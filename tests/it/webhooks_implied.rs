//! Events of records a write brings about beside its own: a company a contact names for
//! the first time (`company.created`), a record restored from the trash
//! (`<entity>.created`, with its old id).
use actix_web::http::Method;
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks_receiver::*;

/// The event types of endpoint `id`'s deliveries, oldest first.
async fn sent_types(app: &TestApp, id: i64) -> Vec<String> {
    deliveries(&app.db, id)
        .await
        .into_iter()
        .map(|d| d.event_type)
        .collect()
}

/// The body of the event of `kind` among `got`.
fn body_of(got: &[Got], kind: &str) -> Value {
    got.iter()
        .map(Got::json)
        .find(|b| b["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} among {got:?}"))
}

#[actix_web::test]
async fn a_contact_naming_a_new_company_sends_company_created() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (_, secret) = endpoint(
        &app,
        &rx.url,
        "json",
        &["company.created", "contact.created"],
    )
    .await;
    rx.expect_secret(&secret);
    let _running = runner(&app.db, &cairn::jobs::Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    let body = json!({"first_name": "Ann", "last_name": "Lee", "company": "Globex Corp"});
    let contact = c.add("contacts", &token, body).await;
    let got = rx.wait_for(2).await;
    assert!(got.iter().all(|g| g.signed), "signed: {got:?}");
    let company = body_of(&got, "company.created");
    assert_eq!(company["data"]["name"], "Globex Corp", "{company}");
    let made = body_of(&got, "contact.created");
    assert_eq!(made["data"]["id"], contact, "{made}");
    assert_eq!(made["data"]["company_id"], company["data"]["id"], "{made}");
}

#[actix_web::test]
async fn a_contact_naming_a_known_company_sends_no_company_created() {
    let app = TestApp::new().await;
    let (hook, _) = endpoint(
        &app,
        "https://hooks.example.com/in",
        "json",
        &["company.created"],
    )
    .await;
    let (token, mut c) = app.api_client("admin").await;
    c.add_company(&token, "Initech").await;
    assert_eq!(
        sent_types(&app, hook).await,
        ["company.created"],
        "the company's own"
    );
    let body = json!({"first_name": "Bo", "last_name": "Ray", "company": "initech"});
    c.add("contacts", &token, body).await;
    assert_eq!(sent_types(&app, hook).await.len(), 1, "nothing more");
}

#[actix_web::test]
async fn an_update_naming_a_new_company_sends_company_created() {
    let app = TestApp::new().await;
    let (hook, _) = endpoint(
        &app,
        "https://hooks.example.com/in",
        "json",
        &["company.created"],
    )
    .await;
    let (token, mut c) = app.api_client("admin").await;
    let id = c.add_contact(&token, "Cy", "Moss", "cy@example.com").await;
    let path = format!("/api/v1/contacts/{id}");
    let body = json!({"company": "Umbrella Ltd"});
    let res = c.api(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let rows = deliveries(&app.db, hook).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let sent: Value = serde_json::from_str(&rows[0].payload).expect("JSON");
    assert_eq!(sent["data"]["name"], "Umbrella Ltd", "{sent}");
    assert_eq!(sent["data"]["id"], res.json()["company_id"], "{sent}");
}

#[actix_web::test]
async fn a_restored_contact_is_sent_as_created_again_with_its_id() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let events = ["contact.created", "contact.deleted"];
    let (_, secret) = endpoint(&app, &rx.url, "json", &events).await;
    rx.expect_secret(&secret);
    let _running = runner(&app.db, &cairn::jobs::Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    let id = c.add_contact(&token, "Di", "Vale", "di@example.com").await;
    c.trash("contacts", id, &token).await;
    c.restore("contacts", id, &token).await;
    let got = rx.wait_for(3).await;
    assert!(got.iter().all(|g| g.signed), "signed: {got:?}");
    // Two workers deliver: the arrival order of the trash's and the restore's is free.
    let created: Vec<Value> = got
        .iter()
        .map(Got::json)
        .filter(|b| b["type"] == "contact.created")
        .collect();
    assert_eq!(created.len(), 2, "created, and created again: {got:?}");
    body_of(&got, "contact.deleted");
    for b in &created {
        assert_eq!(b["data"]["id"], id, "the same record: {b}");
        assert_eq!(b["data"]["email"], "di@example.com", "{b}");
    }
    assert_ne!(
        created[0]["id"], created[1]["id"],
        "two events: {created:?}"
    );
}

#[actix_web::test]
async fn a_restored_deal_sends_deal_created() {
    let app = TestApp::new().await;
    let (hook, _) = endpoint(
        &app,
        "https://hooks.example.com/in",
        "json",
        &["deal.created"],
    )
    .await;
    let (token, mut c) = app.api_client("admin").await;
    let deal = c.add_deal(&token, "Pilot").await;
    c.trash("deals", deal, &token).await;
    c.restore("deals", deal, &token).await;
    let rows = deliveries(&app.db, hook).await;
    assert_eq!(rows.len(), 2, "created, then created again: {rows:?}");
    let sent: Value = serde_json::from_str(&rows[1].payload).expect("JSON");
    assert_eq!(sent["data"]["id"], deal, "{sent}");
}

#[actix_web::test]
async fn a_form_submission_naming_a_new_company_sends_company_created() {
    use crate::forms_given::*;
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (_, secret) = endpoint(&app, &rx.url, "json", &["company.created"]).await;
    rx.expect_secret(&secret);
    let _running = runner(&app.db, &cairn::jobs::Clock::system(), true);
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |i| {
        i.fields.push(field("company", "Company", false))
    })
    .await;
    let sent = [
        ("first_name", "Ana"),
        ("last_name", "Silva"),
        ("email", "ana@example.com"),
        ("company", "Hooli"),
    ];
    let res = app.client().await.submit_form(&f.public_key, &sent).await;
    assert_eq!(res.status, 200, "the thank-you page: {}", res.text());
    let got = rx.wait_for(1).await;
    assert!(got[0].signed, "signed: {got:?}");
    assert_eq!(body_of(&got, "company.created")["data"]["name"], "Hooli");
}
