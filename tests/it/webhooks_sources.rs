//! Events from what arrives from outside: a web form's submission sends `form.submitted`
//! (and the contact's own event) to the endpoints subscribed to it, signed like any other.
use crate::forms_given::*;
use crate::support::*;
use crate::webhooks_receiver::*;

#[actix_web::test]
async fn a_form_submission_sends_form_submitted_and_contact_created() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let events = ["form.submitted", "contact.created"];
    let (_, secret) = endpoint(&app, &rx.url, "json", &events).await;
    rx.expect_secret(&secret);
    let _running = runner(&app.db, &cairn::jobs::Clock::system(), true);
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |_| {}).await;
    let mut c = app.client().await;
    let sent = [
        ("first_name", "Ana"),
        ("last_name", "Silva"),
        ("email", "ana@example.com"),
    ];
    let res = c.submit_form(&f.public_key, &sent).await;
    assert_eq!(res.status, 200, "the thank-you page: {}", res.text());
    let got = rx.wait_for(2).await;
    assert!(got.iter().all(|g| g.signed), "signed: {got:?}");
    let form = got
        .iter()
        .map(|g| g.json())
        .find(|b| b["type"] == "form.submitted")
        .unwrap_or_else(|| panic!("no form.submitted among {got:?}"));
    let id = contact_with(&app, "ana@example.com")
        .await
        .expect("a contact");
    assert_eq!(form["data"]["form_id"], f.id, "{form}");
    assert_eq!(form["data"]["contact_id"], id, "{form}");
    assert_eq!(form["data"]["contact_name"], "Ana Silva", "{form}");
    assert_eq!(form["data"]["created_contact"], true, "{form}");
    assert_eq!(form["data"]["fields"]["email"], "ana@example.com", "{form}");
    assert!(
        got.iter().any(|g| g.json()["type"] == "contact.created"),
        "the contact's own event: {got:?}"
    );
}
