//! Events from what arrives from outside: a web form's submission sends `form.submitted`,
//! a Stripe payment `payment.received` (each with the contact's own event) to the
//! endpoints subscribed to them, signed like any other.
use crate::forms_given::*;
use crate::stripe_in::{
    SECRET, invoice_paid, now, stripe_app, stripe_header, webhook, with_secret,
};
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

#[actix_web::test]
async fn a_stripe_payment_sends_payment_received_and_the_new_contact() {
    let (app, _) = stripe_app().await;
    let rx = Receiver::start().await;
    let events = ["payment.received", "contact.created"];
    let (_, secret) = endpoint(&app, &rx.url, "json", &events).await;
    rx.expect_secret(&secret);
    let _running = runner(&app.db, &cairn::jobs::Clock::system(), true);
    let mut c = app.client_with(with_secret(&app)).await;
    let paid_at = now() - 60;
    let body = invoice_paid(
        "evt_pay",
        "cus_9",
        "grace@example.com",
        4900,
        "eur",
        paid_at,
    );
    let res = c
        .send(webhook(&body, Some(&stripe_header(SECRET, now(), &body))))
        .await;
    assert_eq!(res.status, 200, "the event is accepted: {}", res.text());
    let got = rx.wait_for(2).await;
    assert!(got.iter().all(|g| g.signed), "signed: {got:?}");
    let id = crate::forms_given::contact_with(&app, "grace@example.com")
        .await
        .expect("a contact made for the payment");
    let paid = got
        .iter()
        .map(|g| g.json())
        .find(|b| b["type"] == "payment.received")
        .unwrap_or_else(|| panic!("no payment.received among {got:?}"));
    let data = &paid["data"];
    assert_eq!(data["contact_id"], id, "{paid}");
    assert_eq!(
        (data["amount"].as_i64(), data["currency"].as_str()),
        (Some(4900), Some("EUR")),
        "{paid}"
    );
    assert_eq!(data["invoice_id"], "in_evt_pay", "{paid}");
    assert_eq!(data["stripe_event_id"], "evt_pay", "{paid}");
    assert_eq!(data["paid_at"], paid_at, "{paid}");
    let created = got
        .iter()
        .map(|g| g.json())
        .find(|b| b["type"] == "contact.created");
    assert_eq!(
        created.map(|b| b["data"]["id"].clone()),
        Some(serde_json::json!(id)),
        "the contact Stripe's payment created: {got:?}"
    );
}
