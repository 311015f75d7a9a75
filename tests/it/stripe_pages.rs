//! Settings → Integrations → Stripe, and a contact's billing on its page.
use cairn::config::Secret;
use cairn::domain::Db;
use cairn::domain::stripe::{apply, ingest};
use cairn::entities::contact_billing;
use sea_orm::EntityTrait;

use crate::stripe_in::{SECRET, invoice_paid, now, stripe_header};
use crate::support::*;

async fn received(db: &Db, body: &str) -> i64 {
    let header = stripe_header(SECRET, now(), body);
    match ingest::receive(
        db,
        Some(&Secret(SECRET.into())),
        Some(&header),
        body.as_bytes(),
    )
    .await
    {
        Ok(ingest::Received::New(id)) => id,
        other => panic!("not stored: {other:?}"),
    }
}

#[actix_web::test]
async fn an_admin_sets_a_secret_and_sees_it_masked() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/integrations/stripe").await;
    c.post_form_ok(
        "/settings/integrations/stripe/secret",
        &[("secret", "whsec_abcdefgh1234")],
    )
    .await;
    let page = c.get("/settings/integrations/stripe").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(
        text.contains("whsec_…1234"),
        "the secret is shown masked: {text}"
    );
    assert!(!text.contains("abcdefgh"), "never whole");
    assert!(text.contains("Refused signatures"), "the counter is shown");
}

#[actix_web::test]
async fn a_short_secret_is_refused() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/integrations/stripe").await;
    let res = c
        .post_form(
            "/settings/integrations/stripe/secret",
            &[("secret", "short")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
}

#[actix_web::test]
async fn received_events_are_listed_by_status_and_a_failed_one_is_reprocessed_in_place() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let ok = received(
        &app.db,
        &invoice_paid("evt_ok", "cus_1", "a@example.com", 100, "usd", now()),
    )
    .await;
    let bad = received(
        &app.db,
        &invoice_paid("evt_bad", "cus_1", "a@example.com", 100, "eur", now()),
    )
    .await;
    apply::process(&app.db, ok).await.unwrap();
    apply::process(&app.db, bad).await.unwrap();
    let failed = c
        .get("/settings/integrations/stripe?status=failed")
        .await
        .text();
    assert!(
        failed.contains("evt_bad") && !failed.contains("evt_ok"),
        "only failed events: {failed}"
    );
    assert!(failed.contains("does not convert"), "with the reason");
    let row = c
        .hx_post_form(
            &format!("/settings/integrations/stripe/events/{bad}/reprocess"),
            &[],
        )
        .await;
    assert_eq!(row.status, 200, "{}", row.text());
    assert!(
        row.text().contains("stripe-event-") && row.text().contains("received"),
        "{}",
        row.text()
    );
    let again = c
        .hx_post_form(
            &format!("/settings/integrations/stripe/events/{ok}/reprocess"),
            &[],
        )
        .await;
    assert_eq!(
        again.status,
        409,
        "a processed event is not run again: {}",
        again.text()
    );
}

#[actix_web::test]
async fn a_rep_may_not_see_the_stripe_settings() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(c.get("/settings/integrations/stripe").await.status, 403);
}

#[actix_web::test]
async fn the_contact_page_shows_payments_subscription_and_the_payment_in_its_timeline() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let id = received(
        &app.db,
        &invoice_paid("evt_1", "cus_1", "ada@example.com", 4200, "usd", now()),
    )
    .await;
    apply::process(&app.db, id).await.unwrap();
    let cid = contact_billing::Entity::find()
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap()
        .id;
    let page = c.get(&format!("/contacts/{cid}")).await.text();
    assert!(
        page.contains("Lifetime value") && page.contains("USD 42.00"),
        "billing shown: {page}"
    );
    assert!(page.contains("cus_1"), "the customer id");
    assert!(
        page.contains("Payment of USD 42.00 received"),
        "the payment in the timeline"
    );
}

/// A subscription event for `customer` at `created`: `mrr` minor units a month.
fn subscribed(event: &str, customer: &str, status: &str, mrr: i64) -> String {
    serde_json::json!({"id": event, "type": "customer.subscription.updated", "created": now(),
        "data": {"object": {"id": format!("sub_{customer}"), "customer": customer, "status": status,
            "items": {"data": [{"quantity": 1, "price": {"id": "price_1", "unit_amount": mrr,
                "currency": "usd", "recurring": {"interval": "month"}}}]}}}})
    .to_string()
}

#[actix_web::test]
async fn the_contact_list_filters_by_subscription_status_and_least_mrr() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    for (n, status, mrr) in [
        (1, "active", 5000),
        (2, "active", 900),
        (3, "canceled", 5000),
    ] {
        let id = received(
            &app.db,
            &subscribed(&format!("evt_{n}"), &format!("cus_{n}"), status, mrr),
        )
        .await;
        apply::process(&app.db, id).await.unwrap();
    }
    let active = c
        .get_json("/api/v1/contacts?subscription=active", &token)
        .await;
    assert_eq!(active["total"], 2, "two active subscriptions: {active}");
    let big = c
        .get_json("/api/v1/contacts?subscription=active&mrr_min=1000", &token)
        .await;
    assert_eq!(big["total"], 1, "one of them at least 10.00 a month: {big}");
    let bad = c
        .api(
            actix_web::http::Method::GET,
            "/api/v1/contacts?mrr_min=lots",
            &token,
            None,
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text());
}

/// Contact `cus_1` (ada@example.com) paid 42.00 and subscribes at 49.00 a month.
async fn paying_subscriber(db: &Db) {
    for body in [
        invoice_paid("evt_p", "cus_1", "ada@example.com", 4200, "usd", now()),
        subscribed("evt_s", "cus_1", "active", 4900),
    ] {
        let id = received(db, &body).await;
        apply::process(db, id).await.unwrap();
    }
}

#[actix_web::test]
async fn the_contact_list_shows_mrr_subscription_lifetime_value_and_last_payment() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    paying_subscriber(&app.db).await;
    let page = c.get("/contacts").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    for head in ["MRR", "Subscription", "Lifetime value", "Last payment"] {
        assert!(
            text.contains(&format!(">{head}</th>")),
            "column {head}: {text}"
        );
    }
    assert!(
        text.contains("USD 49.00"),
        "the MRR in its currency: {text}"
    );
    assert!(
        text.contains("USD 42.00"),
        "lifetime value and last payment: {text}"
    );
    assert!(text.contains(">active</span>"), "the status: {text}");
}

#[actix_web::test]
async fn a_contact_list_without_billing_has_no_billing_columns() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    c.add_contact(&token, "Bo", "Plain", "bo@example.com").await;
    let text = c.get("/contacts").await.text();
    assert!(text.contains("Plain"), "the contact is listed: {text}");
    assert!(!text.contains(">MRR</th>"), "no billing columns: {text}");
}

#[actix_web::test]
async fn the_contact_list_api_gives_each_contacts_billing() {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    paying_subscriber(&app.db).await;
    let created = c
        .api(
            actix_web::http::Method::POST,
            "/api/v1/contacts",
            &token,
            Some(serde_json::json!({"first_name": "Bo", "last_name": "Plain"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let list = c.get_json("/api/v1/contacts?sort=name", &token).await;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    let paid = items
        .iter()
        .find(|i| i["email"] == "ada@example.com")
        .expect("the Stripe contact");
    assert_eq!(paid["mrr_minor"], 4900, "{paid}");
    assert_eq!(paid["mrr_currency"], "USD", "{paid}");
    assert_eq!(paid["subscription_status"], "active", "{paid}");
    assert_eq!(paid["ltv_minor"], 4200, "{paid}");
    assert_eq!(paid["last_payment_minor"], 4200, "{paid}");
    assert!(paid["last_payment_at"].is_string(), "{paid}");
    let plain = items
        .iter()
        .find(|i| i["last_name"] == "Plain")
        .expect("the plain contact");
    assert!(
        plain["mrr_minor"].is_null() && plain["ltv_minor"].is_null(),
        "no billing: {plain}"
    );
}

#[actix_web::test]
async fn the_billing_columns_show_on_every_page_once_any_contact_is_billed() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    paying_subscriber(&app.db).await;
    for i in 0..26 {
        let email = format!("plain{i}@example.com");
        c.add_contact(&token, "Bo", &format!("Plain{i}"), &email)
            .await;
    }
    // Newest first: the first page holds only contacts Stripe never named.
    let text = c.get("/contacts").await.text();
    assert!(text.contains("Plain25"), "the first page: {text}");
    assert!(
        !text.contains("ada@example.com"),
        "the billed one is further on: {text}"
    );
    assert!(
        text.contains(">MRR</th>"),
        "the billing columns all the same: {text}"
    );
}
