//! One submission, one transaction: when a step after the contact's write fails, the
//! contact, its note and its audit rows are gone with it; only the rejected submission
//! and its reason stay.
use sea_orm::DatabaseBackend as Backend;
use serde_json::json;

use crate::forms_given::*;
use crate::support::*;

/// Makes every applied submission's row fail to insert (a rejected one still goes in).
async fn break_submission_rows(app: &TestApp) {
    let sql = match app.db.backend() {
        Backend::Sqlite => "CREATE TRIGGER refuse_applied BEFORE INSERT ON form_submissions \
             WHEN NEW.status <> 'rejected' BEGIN SELECT RAISE(ABORT, 'refused by test'); END;"
            .to_string(),
        _ => "CREATE FUNCTION refuse_applied() RETURNS trigger AS $$ BEGIN \
             IF NEW.status <> 'rejected' THEN RAISE EXCEPTION 'refused by test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_applied BEFORE INSERT ON form_submissions \
             FOR EACH ROW EXECUTE FUNCTION refuse_applied();"
            .to_string(),
    };
    exec(&app.db, &sql).await;
}

#[actix_web::test]
async fn a_submission_failing_after_its_contact_is_written_leaves_nothing_half_written() {
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |f| f.notify_owner = true).await;
    break_submission_rows(&app).await;
    let audit_before = app.count("audit_log").await;
    let mut c = app.client().await;
    let sent = json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@example.com"});
    let res = c
        .submit_json(&f.public_key, "https://www.example.com", &sent)
        .await;
    assert_eq!(res.status, 500, "{}", res.text());
    assert_eq!(app.count("contacts").await, 0, "no contact");
    assert_eq!(app.count("activities").await, 0, "no note");
    assert_eq!(app.count("contact_tags").await, 0, "no tag link");
    assert_eq!(app.count("outbox").await, 0, "no email");
    assert_eq!(app.count("audit_log").await, audit_before, "no audit row");
    assert_eq!(
        statuses(&app, f.id).await,
        ["rejected"],
        "the failure is logged"
    );
}

#[actix_web::test]
async fn two_submissions_racing_for_one_new_email_make_one_contact() {
    use cairn::domain::forms::submit::{self, Sent};
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let sent = |last: &str, email: &str| -> Sent {
        [("first_name", "Ana"), ("last_name", last), ("email", email)]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into()
    };
    let (one, two) = (
        sent("First", "ana@example.com"),
        sent("Second", "ANA@example.com"),
    );
    let (a, b) = tokio::join!(
        submit::submit(&app.db, &f, &one, "10.0.0.1"),
        submit::submit(&app.db, &f, &two, "10.0.0.2"),
    );
    assert!(a.is_ok() && b.is_ok(), "both are taken: {a:?} {b:?}");
    assert_eq!(app.count("contacts").await, 1, "one contact for one email");
    let mut got = statuses(&app, f.id).await;
    got.sort();
    assert_eq!(got, ["created", "updated"]);
    assert_eq!(app.count("activities").await, 2, "a note for each");
}
