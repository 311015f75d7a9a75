//! The Stripe event job: each event type, events out of order, a currency mismatch, an
//! unknown type, a job run twice, and the job run by the real queue.
use std::time::{Duration, Instant};

use cairn::config::Secret;
use cairn::domain::Db;
use cairn::domain::stripe::apply::{self, Outcome};
use cairn::domain::stripe::{events as stripe_events, ingest};
use cairn::entities::{contact, contact_billing};
use cairn::jobs::{Options, Runner, kinds};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::stripe_in::{SECRET, events, invoice_paid, now, stripe_app, stripe_header};
use crate::support::*;

/// Stores `body` as the webhook would (signed with `SECRET`); returns its row id.
pub(crate) async fn deliver(db: &Db, body: &str) -> i64 {
    let header = stripe_header(SECRET, now(), body);
    let secret = Secret(SECRET.into());
    match ingest::receive(db, Some(&secret), Some(&header), body.as_bytes()).await {
        Ok(ingest::Received::New(id)) => id,
        other => panic!("the event was not stored as new: {other:?}"),
    }
}

/// Stores and applies `body` at once; returns what came of it.
async fn apply_now(db: &Db, body: &str) -> Outcome {
    let id = deliver(db, body).await;
    apply::process(db, id)
        .await
        .unwrap()
        .expect("the event was waiting")
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": created,
           "data": {"object": object}})
    .to_string()
}

fn customer(id: &str, kind: &str, cus: &str, email: &str, created: i64) -> String {
    let obj = json!({"id": cus, "object": "customer", "email": email, "name": "Grace Hopper"});
    event(id, kind, created, obj)
}

/// A subscription of one price: `amount` per `count` `interval`s, `qty` units.
#[allow(clippy::too_many_arguments)]
fn subscription(
    id: &str,
    kind: &str,
    cus: &str,
    status: &str,
    (amount, qty, interval, count): (i64, i64, &str, i64),
    created: i64,
) -> String {
    let obj = json!({"id": "sub_1", "object": "subscription", "customer": cus, "status": status,
        "items": {"object": "list", "data": [{"id": "si_1", "quantity": qty, "price": {
            "id": "price_1", "nickname": "Pro", "unit_amount": amount, "currency": "usd",
            "recurring": {"interval": interval, "interval_count": count}}}]}});
    event(id, kind, created, obj)
}

pub(crate) fn refund(id: &str, cus: &str, refunded: i64, currency: &str, created: i64) -> String {
    let obj = json!({"id": "ch_1", "object": "charge", "customer": cus, "amount": 5000,
        "amount_refunded": refunded, "currency": currency, "refunded": false,
        "billing_details": {"email": "ada@example.com", "name": "Ada Lovelace"}});
    event(id, "charge.refunded", created, obj)
}

pub(crate) async fn billing(db: &Db, cus: &str) -> contact_billing::Model {
    contact_billing::Entity::find()
        .filter(contact_billing::Column::StripeCustomerId.eq(cus))
        .one(&db.read)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no contact has customer {cus}"))
}

async fn activities(app: &TestApp, kind: &str) -> i64 {
    app.count_where("activities", &format!(" WHERE kind = '{kind}'"))
        .await
}

#[actix_web::test]
async fn invoice_paid_creates_a_stripe_contact_with_its_payment() {
    let (app, admin) = stripe_app().await;
    let t = now();
    let body = invoice_paid("evt_1", "cus_1", "Ada@Example.com", 1999, "usd", t);
    assert_eq!(apply_now(&app.db, &body).await, Outcome::Processed);
    let b = billing(&app.db, "cus_1").await;
    assert_eq!(
        (b.ltv_minor, b.ltv_currency.as_deref()),
        (1999, Some("USD"))
    );
    assert_eq!(
        (
            b.last_payment_minor,
            b.last_payment_at.map(|t| t.timestamp())
        ),
        (Some(1999), Some(t))
    );
    let c = contact::Entity::find_by_id(b.id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.source.as_str(), c.owner_id, c.last_name.as_str()),
        ("stripe", admin.id, "Lovelace")
    );
    assert_eq!(c.email_norm.as_deref(), Some("ada@example.com"));
    let body: String = app
        .count_where(
            "activities",
            " WHERE kind = 'payment' AND body LIKE '%USD 19.99%in_evt_1%'",
        )
        .await
        .to_string();
    assert_eq!(
        body, "1",
        "a payment activity with amount, currency and invoice id"
    );
    assert_eq!(events(&app.db).await[0].status, "processed");
}

#[actix_web::test]
async fn invoice_paid_finds_an_existing_contact_by_email_in_any_case() {
    let (app, _) = stripe_app().await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    let id = c
        .create(
            "/api/v1/contacts",
            &token,
            contact_json("Ada", "Lovelace", "ada@example.com"),
        )
        .await;
    let body = invoice_paid("evt_1", "cus_1", "ADA@example.COM", 500, "eur", now());
    assert_eq!(apply_now(&app.db, &body).await, Outcome::Processed);
    assert_eq!(
        billing(&app.db, "cus_1").await.id,
        id,
        "linked to the contact with that email"
    );
    assert_eq!(app.count("contacts").await, 1, "no contact created");
}

#[actix_web::test]
async fn payments_add_up_and_the_last_payment_is_the_latest_paid_whatever_the_order() {
    let (app, _) = stripe_app().await;
    let t = now();
    apply_now(
        &app.db,
        &invoice_paid("evt_new", "cus_1", "a@example.com", 300, "usd", t),
    )
    .await;
    apply_now(
        &app.db,
        &invoice_paid("evt_old", "cus_1", "a@example.com", 100, "usd", t - 86400),
    )
    .await;
    let b = billing(&app.db, "cus_1").await;
    assert_eq!(b.ltv_minor, 400, "lifetime value counts both");
    assert_eq!(
        b.last_payment_minor,
        Some(300),
        "the older payment did not become the last"
    );
    assert_eq!(activities(&app, "payment").await, 2);
}

#[actix_web::test]
async fn a_payment_in_another_currency_fails_with_its_reason_and_applies_nothing() {
    let (app, _) = stripe_app().await;
    apply_now(
        &app.db,
        &invoice_paid("evt_1", "cus_1", "a@example.com", 300, "usd", now()),
    )
    .await;
    let out = apply_now(
        &app.db,
        &invoice_paid("evt_2", "cus_1", "a@example.com", 900, "eur", now()),
    )
    .await;
    assert!(
        matches!(&out, Outcome::Failed(why) if why.contains("EUR") && why.contains("USD")),
        "{out:?}"
    );
    let stored = &events(&app.db).await[1];
    assert_eq!(stored.status, "failed");
    assert!(
        stored
            .error
            .as_deref()
            .is_some_and(|e| e.contains("does not convert")),
        "{stored:?}"
    );
    let b = billing(&app.db, "cus_1").await;
    assert_eq!(
        (b.ltv_minor, b.last_payment_minor),
        (300, Some(300)),
        "nothing half-applied"
    );
    assert_eq!(
        activities(&app, "payment").await,
        1,
        "no payment recorded for it"
    );
}

#[actix_web::test]
async fn a_job_run_twice_applies_its_event_once() {
    let (app, _) = stripe_app().await;
    let id = deliver(
        &app.db,
        &invoice_paid("evt_1", "cus_1", "a@example.com", 300, "usd", now()),
    )
    .await;
    assert_eq!(
        apply::process(&app.db, id).await.unwrap(),
        Some(Outcome::Processed)
    );
    assert_eq!(
        apply::process(&app.db, id).await.unwrap(),
        None,
        "the second run finds it done"
    );
    assert_eq!(activities(&app, "payment").await, 1);
    assert_eq!(billing(&app.db, "cus_1").await.ltv_minor, 300);
}

#[actix_web::test]
async fn customer_events_link_or_create_and_an_older_one_does_not_overwrite() {
    let (app, _) = stripe_app().await;
    let t = now();
    // The update arrives before the create.
    apply_now(
        &app.db,
        &customer("evt_u", "customer.updated", "cus_9", "grace@example.com", t),
    )
    .await;
    apply_now(
        &app.db,
        &customer(
            "evt_c",
            "customer.created",
            "cus_9",
            "old@example.com",
            t - 60,
        ),
    )
    .await;
    let b = billing(&app.db, "cus_9").await;
    assert_eq!(
        b.customer_at.map(|t| t.timestamp()),
        Some(t),
        "the newer event's time is kept"
    );
    assert_eq!(
        app.count("contacts").await,
        1,
        "one contact for the customer"
    );
    let c = contact::Entity::find_by_id(b.id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.email.as_deref(), Some("grace@example.com"));
    // An invoice of the customer with no email finds the contact by the customer id.
    apply_now(&app.db, &invoice_paid("evt_i", "cus_9", "", 100, "usd", t)).await;
    assert_eq!(billing(&app.db, "cus_9").await.ltv_minor, 100);
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn a_subscription_sets_plan_status_and_monthly_mrr() {
    let (app, _) = stripe_app().await;
    let t = now();
    // 3 seats at 120.00 a year: 30.00 a month.
    let body = subscription(
        "evt_s",
        "customer.subscription.created",
        "cus_1",
        "active",
        (12000, 3, "year", 1),
        t,
    );
    assert_eq!(apply_now(&app.db, &body).await, Outcome::Processed);
    let b = billing(&app.db, "cus_1").await;
    assert_eq!(
        (
            b.subscription_plan.as_deref(),
            b.subscription_status.as_deref(),
            b.mrr_minor,
            b.mrr_currency.as_deref()
        ),
        (Some("Pro"), Some("active"), Some(3000), Some("USD"))
    );
    // Weekly at 10.00: 52 weeks / 12 months.
    let body = subscription(
        "evt_w",
        "customer.subscription.updated",
        "cus_1",
        "active",
        (1000, 1, "week", 1),
        t + 1,
    );
    apply_now(&app.db, &body).await;
    assert_eq!(billing(&app.db, "cus_1").await.mrr_minor, Some(4333));
}

#[actix_web::test]
async fn an_older_subscription_update_after_a_newer_one_is_ignored() {
    let (app, _) = stripe_app().await;
    let t = now();
    let newer = subscription(
        "evt_2",
        "customer.subscription.updated",
        "cus_1",
        "past_due",
        (1000, 2, "month", 1),
        t,
    );
    let older = subscription(
        "evt_1",
        "customer.subscription.updated",
        "cus_1",
        "active",
        (1000, 1, "month", 1),
        t - 10,
    );
    apply_now(&app.db, &newer).await;
    assert!(matches!(
        apply_now(&app.db, &older).await,
        Outcome::Ignored(_)
    ));
    let b = billing(&app.db, "cus_1").await;
    assert_eq!(
        (b.subscription_status.as_deref(), b.mrr_minor),
        (Some("past_due"), Some(2000))
    );
    assert_eq!(events(&app.db).await[1].status, "ignored");
}

#[actix_web::test]
async fn a_deleted_subscription_is_canceled_with_no_mrr_even_when_an_update_of_the_same_second_follows()
 {
    let (app, _) = stripe_app().await;
    let t = now();
    let deleted = subscription(
        "evt_d",
        "customer.subscription.deleted",
        "cus_1",
        "canceled",
        (1000, 1, "month", 1),
        t,
    );
    let update = subscription(
        "evt_u",
        "customer.subscription.updated",
        "cus_1",
        "active",
        (1000, 1, "month", 1),
        t,
    );
    apply_now(&app.db, &deleted).await;
    apply_now(&app.db, &update).await;
    let b = billing(&app.db, "cus_1").await;
    assert_eq!(
        (b.subscription_status.as_deref(), b.mrr_minor),
        (Some("canceled"), Some(0))
    );
}

#[actix_web::test]
async fn a_refund_lowers_lifetime_value_once_per_amount_refunded() {
    let (app, _) = stripe_app().await;
    let t = now();
    apply_now(
        &app.db,
        &invoice_paid("evt_p", "cus_1", "ada@example.com", 5000, "usd", t),
    )
    .await;
    // Two partial refunds; Stripe's amount_refunded is the charge's total so far, and the
    // later one arrives first.
    assert_eq!(
        apply_now(&app.db, &refund("evt_r2", "cus_1", 3000, "usd", t + 20)).await,
        Outcome::Processed
    );
    assert!(matches!(
        apply_now(&app.db, &refund("evt_r1", "cus_1", 1000, "usd", t + 10)).await,
        Outcome::Ignored(_)
    ));
    assert_eq!(billing(&app.db, "cus_1").await.ltv_minor, 2000);
    assert_eq!(activities(&app, "refund").await, 1, "one refund activity");
    let out = apply_now(&app.db, &refund("evt_r3", "cus_1", 3500, "eur", t + 30)).await;
    assert!(
        matches!(out, Outcome::Failed(_)),
        "a refund in another currency fails: {out:?}"
    );
}

#[actix_web::test]
async fn an_unknown_event_type_is_stored_and_ignored() {
    let (app, _) = stripe_app().await;
    let body = event(
        "evt_x",
        "payment_intent.created",
        now(),
        json!({"id": "pi_1"}),
    );
    let out = apply_now(&app.db, &body).await;
    assert!(
        matches!(&out, Outcome::Ignored(why) if why.contains("payment_intent.created")),
        "{out:?}"
    );
    let stored = &events(&app.db).await[0];
    assert_eq!(
        (stored.status.as_str(), stored.object_id.as_deref()),
        ("ignored", Some("pi_1"))
    );
}

#[actix_web::test]
async fn a_valid_signature_over_an_unexpected_shape_fails_with_the_reason() {
    let (app, _) = stripe_app().await;
    let body = event(
        "evt_s",
        "invoice.paid",
        now(),
        json!({"id": "in_1", "amount_paid": "lots"}),
    );
    let out = apply_now(&app.db, &body).await;
    assert!(
        matches!(&out, Outcome::Failed(why) if why.contains("cannot be read")),
        "{out:?}"
    );
    assert_eq!(app.count("contacts").await, 0, "nothing applied");
}

/// Waits until the queue has taken up every stored event.
async fn applied(db: &Db) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while events(db).await.iter().any(|e| e.status == "received") {
        assert!(
            Instant::now() < deadline,
            "events not applied: {:?}",
            events(db).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn the_queue_applies_delivered_events_and_a_failed_one_can_be_reprocessed() {
    let (app, admin) = stripe_app().await;
    let runner = Runner::new(
        app.db.clone(),
        kinds::registry(),
        Options {
            poll: Duration::from_millis(20),
            ..Default::default()
        },
    );
    let running = runner.start();
    // One after the other: two jobs run at once would apply them in either order, and
    // the second currency is the one refused.
    deliver(
        &app.db,
        &invoice_paid("evt_1", "cus_1", "a@example.com", 300, "usd", now()),
    )
    .await;
    applied(&app.db).await;
    let failed = deliver(
        &app.db,
        &invoice_paid("evt_2", "cus_1", "a@example.com", 300, "eur", now()),
    )
    .await;
    applied(&app.db).await;
    let statuses: Vec<String> = events(&app.db)
        .await
        .into_iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, ["processed", "failed"]);
    let first = events(&app.db).await[0].id;
    assert!(
        stripe_events::reprocess(&app.db, &admin, first)
            .await
            .is_err(),
        "a processed event is not run again"
    );
    let again = stripe_events::reprocess(&app.db, &admin, failed)
        .await
        .unwrap();
    assert_eq!(again.status, "received");
    running.finish(Duration::from_secs(5)).await;
}
