//! A web form's submissions: a form post or JSON creates a contact with the form's
//! source, owner and tags and a note of what was sent; the next one with the same email
//! (any case) updates that contact; a missing required field, a filled honeypot and an
//! inactive or unknown form are answered without writing a contact.
use serde_json::{Value, json};

use crate::forms_given::*;
use crate::support::*;

/// The contact `id` as the API shows it, read with `token`.
async fn contact(c: &mut Client<impl TestService>, token: &str, id: i64) -> Value {
    c.get_json(&format!("/api/v1/contacts/{id}"), token).await
}

/// The bodies of the notes on contact `id`.
async fn notes(c: &mut Client<impl TestService>, token: &str, id: i64) -> Vec<String> {
    let list = c
        .get_json(&format!("/api/v1/activities?contact_id={id}"), token)
        .await;
    list["items"]
        .as_array()
        .expect("a list of activities")
        .iter()
        .filter(|a| a["kind"] == "note")
        .map(|a| a["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[actix_web::test]
async fn a_form_post_creates_a_contact_with_the_form_s_source_owner_tags_and_a_note() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let token = app.api_user("admin").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let fields = [
        ("first_name", "Ana"),
        ("last_name", "Silva"),
        ("email", "ana@example.com"),
        ("phone", "+351 21 000 0000"),
        ("utm_campaign", "winter"),
    ];
    let res = c.submit_form(&f.public_key, &fields).await;
    assert_eq!(res.status, 200, "the thank-you page: {}", res.text());
    assert!(res.text().contains("Thank you"), "{}", res.text());
    assert!(
        res.header("set-cookie").is_none(),
        "no session for a sender"
    );
    let id = contact_with(&app, "ana@example.com")
        .await
        .expect("a contact");
    let ana = contact(&mut c, &token, id).await;
    assert_eq!(ana["first_name"], "Ana", "{ana}");
    assert_eq!(ana["phone"], "+351 21 000 0000", "{ana}");
    assert_eq!(ana["source"], "event", "the form's source: {ana}");
    assert_eq!(ana["owner_id"], olive.id, "the form's owner: {ana}");
    assert_eq!(ana["tags"], json!(["webinar"]), "the form's tags: {ana}");
    let notes = notes(&mut c, &token, id).await;
    assert_eq!(notes.len(), 1, "one note: {notes:?}");
    assert!(
        notes[0].contains("Webinar sign-up") && notes[0].contains("Phone: +351 21 000 0000"),
        "the note says what was sent: {}",
        notes[0]
    );
    assert!(notes[0].contains("utm_campaign: winter"), "{}", notes[0]);
    assert_eq!(statuses(&app, f.id).await, ["created"]);
}

#[actix_web::test]
async fn a_json_submission_updates_the_contact_holding_the_email_in_any_case() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let token = app.api_user("admin").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let body = json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com",
        "tags": ["vip"], "source": "referral"});
    let id = c.create("/api/v1/contacts", &token, body).await;
    let before = contact(&mut c, &token, id).await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva-Costa",
        "email": "ANA@Example.COM", "phone": "555 0101"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json(), json!({"ok": true}), "no id is given away");
    assert_eq!(app.count("contacts").await, 1, "no second contact");
    let ana = contact(&mut c, &token, id).await;
    assert_eq!(ana["last_name"], "Silva-Costa", "{ana}");
    assert_eq!(ana["phone"], "555 0101", "{ana}");
    assert_eq!(
        ana["email"], "ana@example.com",
        "the email as stored: {ana}"
    );
    assert_eq!(ana["tags"], json!(["vip", "webinar"]), "tags added: {ana}");
    assert_eq!(
        ana["source"], before["source"],
        "an existing contact keeps its source"
    );
    assert_eq!(ana["owner_id"], before["owner_id"], "and its owner");
    assert_eq!(notes(&mut c, &token, id).await.len(), 1, "a note");
    assert_eq!(statuses(&app, f.id).await, ["updated"]);
    let audit = app
        .count_where(
            "audit_log",
            &format!(" WHERE entity = 'contact' AND entity_id = {id} AND action = 'update' AND actor_id IS NULL"),
        )
        .await;
    assert_eq!(audit, 1, "the update's audit row names no user");
}

#[actix_web::test]
async fn a_missing_required_field_is_422_listing_it_stored_rejected_with_nothing_created() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let sent = json!({"first_name": "Ana", "email": "ana@example.com"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    res.refuses_field("last_name");
    let page = c
        .submit_form(&f.public_key, &[("email", "ana@example.com")])
        .await;
    assert_eq!(page.status, 422, "{}", page.text());
    let text = page.text();
    assert!(!text.contains("Thank you"), "no thank-you page: {text}");
    assert!(
        text.contains("First name is required") && text.contains("Last name is required"),
        "the page names the fields: {text}"
    );
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("activities").await, 0);
    assert_eq!(statuses(&app, f.id).await, ["rejected", "rejected"]);
}

#[actix_web::test]
async fn a_filled_honeypot_is_answered_as_accepted_and_stored_rejected_with_nothing_created() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let bot = [
        ("first_name", "Bot"),
        ("last_name", "Bot"),
        ("email", "bot@example.com"),
        ("website", "http://spam.example"),
    ];
    let res = c.submit_form(&f.public_key, &bot).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.text().contains("Thank you"), "{}", res.text());
    assert_eq!(app.count("contacts").await, 0, "no contact for a bot");
    assert_eq!(app.count("activities").await, 0, "no note");
    let (rows, _) = cairn::domain::forms::log::page(
        &app.db,
        &app.user("a@example.com", "admin").await,
        f.id,
        None,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "rejected");
    assert!(
        rows[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("hidden field")),
        "the reason is kept: {:?}",
        rows[0].reason
    );
    assert_eq!(
        rows[0].data["website"], "http://spam.example",
        "a copy of what was sent"
    );
}

#[actix_web::test]
async fn an_inactive_or_unknown_form_is_404() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let off = form_for(&app, &olive, |f| f.active = false).await;
    let mut c = app.client().await;
    let sent = [
        ("first_name", "A"),
        ("last_name", "B"),
        ("email", "a@example.com"),
    ];
    assert_eq!(c.submit_form(&off.public_key, &sent).await.status, 404);
    let json = json!({"first_name": "A", "last_name": "B", "email": "a@example.com"});
    let res = c
        .submit_json(&"0".repeat(32), "https://www.example.com", &json)
        .await;
    assert_eq!(res.status, 404, "{}", res.text());
    assert_eq!(res.code(), "not_found", "JSON for a JSON sender");
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("form_submissions").await, 0);
}

#[actix_web::test]
async fn a_form_post_goes_on_to_the_thank_you_address() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |f| {
        f.thank_you_url = "https://www.example.com/thanks".into();
    })
    .await;
    let mut c = app.client().await;
    let sent = [
        ("first_name", "A"),
        ("last_name", "B"),
        ("email", "a@example.com"),
    ];
    let res = c.submit_form(&f.public_key, &sent).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), "https://www.example.com/thanks");
    assert!(contact_with(&app, "a@example.com").await.is_some());
}

#[actix_web::test]
async fn a_value_the_contact_rules_refuse_is_422_and_writes_no_contact() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let sent = json!({"first_name": "A", "last_name": "B", "email": "not an email"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    res.refuses_field("email");
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(statuses(&app, f.id).await, ["rejected"]);
}

#[actix_web::test]
async fn an_email_held_by_a_trashed_contact_is_kept_as_rejected_and_answered_as_accepted() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let token = app.api_user("admin").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let id = c
        .add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    c.trash("contacts", id, &token).await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva", "email": "Ana@example.com"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 200, "the sender learns nothing: {}", res.text());
    assert_eq!(
        app.count_where("contacts", "").await,
        1,
        "no second contact"
    );
    assert_eq!(app.count("activities").await, 0, "no note");
    let (rows, _) = cairn::domain::forms::log::page(
        &app.db,
        &app.user("a@example.com", "admin").await,
        f.id,
        None,
    )
    .await
    .unwrap();
    assert_eq!(rows[0].status, "rejected");
    let why = rows[0].reason.clone().unwrap_or_default();
    assert!(why.contains("trash"), "the reason names the trash: {why}");
}

#[actix_web::test]
async fn a_form_whose_owner_was_deactivated_answers_503_and_logs_why() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    cairn::domain::users::set_active(&app.db, None, olive.id, false)
        .await
        .expect("deactivate the owner");
    let mut c = app.client().await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 503, "{}", res.text());
    assert!(
        !res.text().contains("owner"),
        "the settings are not shown: {}",
        res.text()
    );
    let fields = [
        ("first_name", "Bo"),
        ("last_name", "B"),
        ("email", "bo@example.com"),
    ];
    let page = c.submit_form(&f.public_key, &fields).await;
    assert_eq!(page.status, 503, "a page too: {}", page.text());
    assert_eq!(app.count("contacts").await, 0);
    let (rows, _) = cairn::domain::forms::log::page(
        &app.db,
        &app.user("a@example.com", "admin").await,
        f.id,
        None,
    )
    .await
    .unwrap();
    let why = rows[0].reason.clone().unwrap_or_default();
    assert!(why.contains("owner_id"), "the log says why: {why}");
}
