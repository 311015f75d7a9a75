//! `POST /webhooks/stripe`: signatures made here exactly as Stripe makes them (not with
//! Cairn's own code), good, bad, stale and rotated; duplicates; bodies that are not
//! events or are too large. Nothing refused is stored.
use actix_web::test::TestRequest;
use cairn::config::{Config, Secret};
use cairn::domain::stripe::{self, ingest};
use cairn::domain::{Actor, Db};
use cairn::entities::stripe_event;
use hmac::{Hmac, Mac};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use sha2::Sha256;

use crate::support::*;

pub(crate) const SECRET: &str = "whsec_test_cairn_in_0123456789";

/// Stripe's `Stripe-Signature`: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`, keyed with
/// the whole secret string, followed (in test mode) by a `v0` Cairn must skip.
pub(crate) fn stripe_header(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let v1 = hex::encode(mac.finalize().into_bytes());
    format!("t={t},v1={v1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39")
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An `invoice.paid` event as Stripe sends one (the fields Cairn reads, and some more).
pub(crate) fn invoice_paid(
    event: &str,
    customer: &str,
    email: &str,
    amount: i64,
    currency: &str,
    created: i64,
) -> String {
    json!({
        "id": event, "object": "event", "api_version": "2024-06-20", "created": created,
        "livemode": false, "type": "invoice.paid",
        "data": {"object": {
            "id": format!("in_{event}"), "object": "invoice", "customer": customer,
            "customer_email": email, "customer_name": "Ada Lovelace",
            "amount_paid": amount, "amount_due": amount, "currency": currency,
            "status": "paid", "status_transitions": {"paid_at": created},
        }}
    })
    .to_string()
}

/// A test app with an admin (who owns contacts Stripe creates) and a client whose
/// environment sets `SECRET`.
pub(crate) async fn stripe_app() -> (TestApp, Actor) {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    (app, admin)
}

pub(crate) fn with_secret(app: &TestApp) -> Config {
    let mut config = Config::for_database(&app.url);
    config.stripe_secret = Some(Secret(SECRET.into()));
    config
}

pub(crate) fn webhook(body: &str, header: Option<&str>) -> TestRequest {
    let mut req = TestRequest::post()
        .uri("/webhooks/stripe")
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string());
    if let Some(h) = header {
        req = req.insert_header(("Stripe-Signature", h.to_string()));
    }
    req
}

pub(crate) async fn events(db: &Db) -> Vec<stripe_event::Model> {
    stripe_event::Entity::find()
        .order_by_asc(stripe_event::Column::Id)
        .all(&db.read)
        .await
        .unwrap()
}

#[actix_web::test]
async fn a_signed_event_is_stored_with_its_job_before_the_answer() {
    let (app, _) = stripe_app().await;
    let mut c = app.client_with(with_secret(&app)).await;
    let body = invoice_paid("evt_1", "cus_1", "ada@example.com", 1200, "usd", now());
    let res = c
        .send(webhook(&body, Some(&stripe_header(SECRET, now(), &body))))
        .await;
    assert_eq!(
        res.status,
        200,
        "a signed event is accepted: {}",
        res.text()
    );
    let stored = events(&app.db).await;
    assert_eq!(stored.len(), 1, "one event stored");
    assert_eq!(
        (
            stored[0].event_id.as_str(),
            stored[0].kind.as_str(),
            stored[0].status.as_str()
        ),
        ("evt_1", "invoice.paid", "received")
    );
    assert_eq!(stored[0].body, body, "the raw body is kept as signed");
    let jobs = app
        .count_where("jobs", " WHERE kind = 'stripe.event'")
        .await;
    assert_eq!(jobs, 1, "its job was queued with it");
}

#[actix_web::test]
async fn a_repeated_event_id_answers_200_and_changes_nothing() {
    let (app, _) = stripe_app().await;
    let mut c = app.client_with(with_secret(&app)).await;
    let body = invoice_paid("evt_dup", "cus_1", "ada@example.com", 1200, "usd", now());
    for n in 0..3 {
        let res = c
            .send(webhook(&body, Some(&stripe_header(SECRET, now(), &body))))
            .await;
        assert_eq!(res.status, 200, "delivery {n}: {}", res.text());
        assert_eq!(
            res.json()["duplicate"].as_bool().is_some(),
            n > 0,
            "delivery {n}"
        );
    }
    assert_eq!(events(&app.db).await.len(), 1, "stored once");
    assert_eq!(
        app.count_where("jobs", " WHERE kind = 'stripe.event'")
            .await,
        1
    );
}

async fn refused(app: &TestApp, header: Option<&str>, body: &str) -> Response {
    let mut c = app.client_with(with_secret(app)).await;
    let before = ingest::rejected();
    let res = c.send(webhook(body, header)).await;
    assert_eq!(res.status, 400, "refused: {}", res.text());
    assert_eq!(res.code(), "bad_request", "the JSON error: {}", res.text());
    assert!(ingest::rejected() > before, "the refusal is counted");
    assert!(events(&app.db).await.is_empty(), "nothing stored");
    assert_eq!(app.count("jobs").await, 0, "nothing queued");
    res
}

#[actix_web::test]
async fn a_signature_with_another_secret_is_400_and_nothing_is_stored() {
    let (app, _) = stripe_app().await;
    let body = invoice_paid("evt_bad", "cus_1", "a@example.com", 1, "usd", now());
    let res = refused(
        &app,
        Some(&stripe_header("whsec_other", now(), &body)),
        &body,
    )
    .await;
    assert!(res.text().contains("does not match"), "{}", res.text());
}

#[actix_web::test]
async fn a_missing_signature_is_400_and_nothing_is_stored() {
    let (app, _) = stripe_app().await;
    let body = invoice_paid("evt_none", "cus_1", "a@example.com", 1, "usd", now());
    refused(&app, None, &body).await;
}

#[actix_web::test]
async fn a_changed_body_is_400_and_nothing_is_stored() {
    let (app, _) = stripe_app().await;
    let body = invoice_paid("evt_x", "cus_1", "a@example.com", 1, "usd", now());
    let header = stripe_header(SECRET, now(), &body);
    refused(
        &app,
        Some(&header),
        &body.replace("\"amount_paid\":1", "\"amount_paid\":9"),
    )
    .await;
}

#[actix_web::test]
async fn a_timestamp_over_five_minutes_old_is_400_and_nothing_is_stored() {
    let (app, _) = stripe_app().await;
    let body = invoice_paid("evt_old", "cus_1", "a@example.com", 1, "usd", now());
    let res = refused(
        &app,
        Some(&stripe_header(SECRET, now() - 301, &body)),
        &body,
    )
    .await;
    assert!(res.text().contains("tolerance"), "{}", res.text());
}

#[actix_web::test]
async fn both_secrets_of_a_rotation_verify_and_a_dropped_one_no_longer_does() {
    let (app, admin) = stripe_app().await;
    let mut c = app.client().await;
    stripe::secrets::rotate(&app.db, &admin, "whsec_old_secret")
        .await
        .unwrap();
    stripe::secrets::rotate(&app.db, &admin, "whsec_new_secret")
        .await
        .unwrap();
    for (n, secret) in ["whsec_old_secret", "whsec_new_secret"].iter().enumerate() {
        let body = invoice_paid(
            &format!("evt_r{n}"),
            "cus_1",
            "a@example.com",
            1,
            "usd",
            now(),
        );
        let res = c
            .send(webhook(&body, Some(&stripe_header(secret, now(), &body))))
            .await;
        assert_eq!(res.status, 200, "{secret} verifies: {}", res.text());
    }
    stripe::secrets::drop_previous(&app.db, &admin)
        .await
        .unwrap();
    let body = invoice_paid("evt_r9", "cus_1", "a@example.com", 1, "usd", now());
    let res = c
        .send(webhook(
            &body,
            Some(&stripe_header("whsec_old_secret", now(), &body)),
        ))
        .await;
    assert_eq!(
        res.status,
        400,
        "the dropped secret no longer verifies: {}",
        res.text()
    );
    assert_eq!(events(&app.db).await.len(), 2);
}

#[actix_web::test]
async fn with_no_secret_configured_every_delivery_is_refused() {
    let (app, _) = stripe_app().await;
    let mut c = app.client().await;
    let body = invoice_paid("evt_ns", "cus_1", "a@example.com", 1, "usd", now());
    let res = c
        .send(webhook(&body, Some(&stripe_header(SECRET, now(), &body))))
        .await;
    assert_eq!(res.status, 400, "{}", res.text());
    assert!(res.text().contains("No signing secret"), "{}", res.text());
}

#[actix_web::test]
async fn signed_malformed_json_is_400_with_the_reason_and_nothing_is_stored() {
    let (app, _) = stripe_app().await;
    let mut c = app.client_with(with_secret(&app)).await;
    for body in [
        "{\"id\": \"evt_1\", \"type\": ",
        "[1,2]",
        "{\"type\":\"invoice.paid\"}",
        "{\"id\":\"evt_9\"}",
    ] {
        let res = c
            .send(webhook(body, Some(&stripe_header(SECRET, now(), body))))
            .await;
        assert_eq!(res.status, 400, "{body}: {}", res.text());
        assert!(
            res.text().contains("not a Stripe event"),
            "{body}: {}",
            res.text()
        );
    }
    assert!(events(&app.db).await.is_empty(), "nothing stored");
}

#[actix_web::test]
async fn a_body_over_1_mib_is_413_with_the_json_error() {
    let (app, _) = stripe_app().await;
    let mut c = app.client_with(with_secret(&app)).await;
    let body = format!(
        "{{\"id\":\"evt_big\",\"type\":\"x\",\"pad\":\"{}\"}}",
        "a".repeat(1024 * 1024)
    );
    let res = c
        .send(webhook(&body, Some(&stripe_header(SECRET, now(), &body))))
        .await;
    assert_eq!(
        res.status,
        413,
        "{}",
        &res.text()[..200.min(res.text().len())]
    );
    assert_eq!(res.code(), "payload_too_large");
    assert!(events(&app.db).await.is_empty(), "nothing stored");
}

#[actix_web::test]
async fn concurrent_deliveries_are_stored_once_each_in_groups() {
    let (app, _) = stripe_app().await;
    let secret = Secret(SECRET.into());
    let bodies: Vec<String> = (0..60)
        .map(|n| {
            invoice_paid(
                &format!("evt_c{}", n % 20),
                "cus_1",
                "a@example.com",
                1,
                "usd",
                now(),
            )
        })
        .collect();
    let results = futures_util::future::join_all(bodies.iter().map(|b| {
        let header = stripe_header(SECRET, now(), b);
        let (db, secret) = (app.db.clone(), secret.clone());
        async move { ingest::receive(&db, Some(&secret), Some(&header), b.as_bytes()).await }
    }))
    .await;
    let new = results
        .iter()
        .filter(|r| matches!(r, Ok(ingest::Received::New(_))))
        .count();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(new, 20, "each of the 20 ids is new once");
    assert_eq!(events(&app.db).await.len(), 20);
    // One job per group of at most group::SIZE events, each stored event in one of them.
    let jobs = cairn::entities::job::Entity::find()
        .filter(cairn::entities::job::Column::Kind.eq(stripe::JOB))
        .all(&app.db.write)
        .await
        .unwrap();
    let mut queued: Vec<i64> = Vec::new();
    for j in &jobs {
        let p: serde_json::Value = serde_json::from_str(&j.payload).unwrap();
        let ids: Vec<i64> = serde_json::from_value(p["events"].clone()).unwrap();
        assert!(
            (1..=stripe::group::SIZE).contains(&ids.len()),
            "a job holds 1 to {} events, not {}",
            stripe::group::SIZE,
            ids.len()
        );
        queued.extend(ids);
    }
    queued.sort_unstable();
    let mut stored: Vec<i64> = events(&app.db).await.iter().map(|e| e.id).collect();
    stored.sort_unstable();
    assert_eq!(queued, stored, "every stored event is in exactly one job");
}
