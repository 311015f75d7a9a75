//! A form set to notify its owner emails the contact's owner at each submission, through
//! the outbox and a real SMTP server; a form not set to stays quiet.
use std::time::Duration as StdDuration;

use cairn::jobs::Clock;
use serde_json::json;

use crate::email::runner;
use crate::email_server::*;
use crate::forms_given::*;
use crate::support::*;

#[actix_web::test]
async fn a_submission_emails_the_owner_when_the_form_says_so() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(
        &app.db,
        &admin,
        &test_server_url(),
        "Acme CRM <crm@acme.test>",
        "Acme",
    )
    .await;
    let to = unique_address("olive");
    let olive = app.user(&to, "rep").await;
    let f = form_for(&app, &olive, |f| f.notify_owner = true).await;
    let running = runner(&app.db, &Clock::system());
    let mut c = app.client().await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let mail = wait_for_mail(&to, 1).await;
    let m = unfolded(&mail[0]);
    assert!(
        m.contains("Webinar sign-up") && m.contains("Ana Silva"),
        "{m}"
    );
    let id = contact_with(&app, "ana@example.com").await.unwrap();
    assert!(
        m.contains(&format!("/contacts/{id}")),
        "a link to the contact: {m}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_form_not_set_to_notify_sends_no_email() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |f| f.notify_owner = false).await;
    let mut c = app.client().await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.count("outbox").await, 0);
}
