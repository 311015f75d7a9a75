//! Stored Stripe events are kept for the retention set on Settings → Integrations →
//! Stripe: the prune deletes processed and ignored ones older than it, in batches, keeps
//! failed and dead ones, and what it leaves behind keeps a redelivered event from being
//! applied twice (a payment, a refund of the same charge).
use cairn::config::Secret;
use cairn::domain::Db;
use cairn::domain::stripe::{apply, ingest, retention};
use cairn::entities::stripe_event;
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::stripe_apply::{billing, deliver};
use crate::stripe_in::{SECRET, events, invoice_paid, now, stripe_app, stripe_header};
use crate::support::*;

/// Stores and applies `body`.
async fn applied(db: &Db, body: &str) -> i64 {
    let id = deliver(db, body).await;
    apply::process(db, id).await.unwrap();
    id
}

/// Delivers `body` again as the webhook takes it.
async fn redeliver(db: &Db, body: &str) -> ingest::Received {
    let header = stripe_header(SECRET, now(), body);
    ingest::receive(
        db,
        Some(&Secret(SECRET.into())),
        Some(&header),
        body.as_bytes(),
    )
    .await
    .expect("the redelivery is answered")
}

/// The prune as the job runs it, `days` from now.
async fn prune_in(db: &Db, days: i64) -> u64 {
    retention::prune(db, Utc::now() + Duration::days(days))
        .await
        .unwrap()
}

fn refund(id: &str, refunded: i64) -> String {
    json!({"id": id, "object": "event", "type": "charge.refunded", "created": now(),
        "data": {"object": {"id": "ch_1", "object": "charge", "customer": "cus_1",
        "amount": 5000, "amount_refunded": refunded, "currency": "usd"}}})
    .to_string()
}

async fn statuses(db: &Db) -> Vec<String> {
    events(db).await.into_iter().map(|e| e.status).collect()
}

#[actix_web::test]
async fn the_prune_deletes_only_processed_and_ignored_events_older_than_the_retention() {
    let (app, _) = stripe_app().await;
    let db = &app.db;
    applied(
        db,
        &invoice_paid("evt_paid", "cus_1", "a@example.com", 100, "usd", now()),
    )
    .await;
    let other = json!({"id": "evt_other", "object": "event", "type": "product.created",
                       "created": now(), "data": {"object": {"id": "prod_1"}}});
    applied(db, &other.to_string()).await;
    applied(
        db,
        &invoice_paid("evt_bad", "cus_1", "a@example.com", 100, "u$d", now()),
    )
    .await;
    let dead = applied(
        db,
        &invoice_paid("evt_dead", "cus_2", "b@example.com", 1, "u$d", now()),
    )
    .await;
    stripe_event::Entity::update_many()
        .col_expr(stripe_event::Column::Status, Expr::value("dead"))
        .filter(stripe_event::Column::Id.eq(dead))
        .exec(&db.write)
        .await
        .unwrap();
    assert_eq!(
        statuses(db).await,
        ["processed", "ignored", "failed", "dead"]
    );
    assert_eq!(
        prune_in(db, 89).await,
        0,
        "nothing is older than 90 days yet"
    );
    assert_eq!(
        prune_in(db, 91).await,
        2,
        "the processed and the ignored one go"
    );
    assert_eq!(
        statuses(db).await,
        ["failed", "dead"],
        "failed and dead stay"
    );
    assert_eq!(app.count("stripe_pruned_events").await, 2, "their ids stay");
}

#[actix_web::test]
async fn a_pruned_payment_delivered_again_is_a_repeat_and_changes_nothing() {
    let (app, _) = stripe_app().await;
    let db = &app.db;
    // Made by Stripe two days ago: only an event a day old or more can have been pruned,
    // and the prune below stands for the 91 days that passed before the redelivery.
    let made = now() - 2 * 86_400;
    let body = invoice_paid("evt_1", "cus_1", "a@example.com", 1999, "usd", made);
    applied(db, &body).await;
    assert_eq!(prune_in(db, 91).await, 1);
    assert_eq!(
        redeliver(db, &body).await,
        ingest::Received::Duplicate,
        "the pruned id is known"
    );
    assert!(events(db).await.is_empty(), "nothing stored for the repeat");
    let jobs = app
        .count_where("jobs", " WHERE kind = 'stripe.event'")
        .await;
    assert_eq!(
        jobs, 1,
        "no job queued for the repeat (only the first delivery's)"
    );
    assert_eq!(billing(db, "cus_1").await.ltv_minor, 1999, "counted once");
    let payments = app
        .count_where("activities", " WHERE kind = 'payment'")
        .await;
    assert_eq!(payments, 1, "one payment on the timeline");
}

#[actix_web::test]
async fn a_refund_after_the_charge_s_earlier_refund_was_pruned_takes_off_only_the_new_part() {
    let (app, _) = stripe_app().await;
    let db = &app.db;
    applied(
        db,
        &invoice_paid("evt_1", "cus_1", "a@example.com", 5000, "usd", now()),
    )
    .await;
    applied(db, &refund("evt_r1", 1000)).await;
    assert_eq!(prune_in(db, 91).await, 2);
    applied(db, &refund("evt_r2", 1500)).await;
    assert_eq!(
        billing(db, "cus_1").await.ltv_minor,
        3500,
        "5000 paid, 1000 then 500 more refunded"
    );
}

#[actix_web::test]
async fn a_retention_of_zero_keeps_events_forever() {
    let (app, admin) = stripe_app().await;
    let db = &app.db;
    assert_eq!(retention::set_days(db, &admin, "0").await.unwrap(), 0);
    applied(
        db,
        &invoice_paid("evt_1", "cus_1", "a@example.com", 100, "usd", now()),
    )
    .await;
    assert_eq!(prune_in(db, 5000).await, 0);
    assert_eq!(events(db).await.len(), 1);
}

#[actix_web::test]
async fn the_prune_goes_through_more_events_than_one_batch() {
    let (app, _) = stripe_app().await;
    let db = &app.db;
    let n = retention::BATCH as usize * 2 + 5;
    let t = Utc::now();
    let rows = (0..n).map(|i| stripe_event::ActiveModel {
        event_id: Set(format!("evt_bulk_{i}")),
        kind: Set("product.created".into()),
        object_id: Set(None),
        created: Set(t),
        body: Set("{}".into()),
        status: Set("ignored".into()),
        error: Set(None),
        attempts: Set(1),
        received_at: Set(t),
        processed_at: Set(Some(t)),
        ..Default::default()
    });
    stripe_event::Entity::insert_many(rows)
        .exec_without_returning(&db.write)
        .await
        .unwrap();
    assert_eq!(prune_in(db, 91).await, n as u64, "every batch ran");
    assert_eq!(app.count("stripe_events").await, 0);
    assert_eq!(app.count("stripe_pruned_events").await, n as i64);
}

#[actix_web::test]
async fn an_admin_sets_the_retention_on_the_stripe_page() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("admin@example.com", "admin").await;
    let page = c.get("/settings/integrations/stripe").await;
    assert!(
        page.text().contains(r#"name="retention_days" value="90""#),
        "90 days by default: {}",
        page.text()
    );
    c.post_form_ok(
        "/settings/integrations/stripe/retention",
        &[("retention_days", "30")],
    )
    .await;
    assert_eq!(retention::days(&app.db.read).await.unwrap(), 30);
    let audited = app
        .count_where("audit_log", " WHERE detail LIKE '%stripe.retention_days%'")
        .await;
    assert_eq!(audited, 1, "the change is audited");
    let bad = c
        .post_form(
            "/settings/integrations/stripe/retention",
            &[("retention_days", "-1")],
        )
        .await;
    assert_eq!(
        bad.status,
        422,
        "a negative number is refused: {}",
        bad.text()
    );
}

#[actix_web::test]
async fn the_prune_job_is_scheduled_hourly_and_runs_through_the_queue() {
    use cairn::jobs::queue::{NewJob, enqueue_in};
    use cairn::jobs::{Options, Runner, kinds};
    let (app, _) = stripe_app().await;
    let db = &app.db;
    kinds::ensure_recurring(db).await.unwrap();
    kinds::ensure_recurring(db).await.unwrap();
    let prune = cairn::domain::stripe::PRUNE_JOB;
    let scheduled = cairn::entities::job::Entity::find()
        .filter(cairn::entities::job::Column::Kind.eq(prune))
        .all(&db.read)
        .await
        .unwrap();
    assert_eq!(scheduled.len(), 1, "scheduled once however often ensured");
    let due = scheduled[0].run_after.expect("a time to run");
    assert!(
        due > Utc::now() && due - Utc::now() <= Duration::hours(1),
        "within the hour: {due}"
    );
    applied(
        db,
        &invoice_paid("evt_1", "cus_1", "a@example.com", 100, "usd", now()),
    )
    .await;
    stripe_event::Entity::update_many()
        .col_expr(
            stripe_event::Column::ReceivedAt,
            Expr::value(Utc::now() - Duration::days(100)),
        )
        .exec(&db.write)
        .await
        .unwrap();
    let job = enqueue_in(&db.write, &NewJob::new(prune, json!({})))
        .await
        .unwrap();
    let options = Options {
        poll: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let running = Runner::new(db.clone(), kinds::registry(), options).start();
    let done = format!(" WHERE id = {job} AND state = 'done'");
    for _ in 0..200 {
        if app.count_where("jobs", &done).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(running.finish(std::time::Duration::from_secs(5)).await);
    assert_eq!(app.count_where("jobs", &done).await, 1, "the job ran");
    assert!(
        events(db).await.is_empty(),
        "it pruned the 100-day-old event"
    );
}
