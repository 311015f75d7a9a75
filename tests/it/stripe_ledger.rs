//! The billing ledger (`billing_entries`, `mrr_changes`) the Stripe apply path writes:
//! each payment, refund and subscription change lands once, with its amounts, whether
//! applied alone or in a group, delivered twice, run twice or reprocessed; an event
//! older than the subscription state applied leaves no row.
use cairn::config::Secret;
use cairn::domain::Db;
use cairn::domain::stripe::apply::{self, Outcome};
use cairn::domain::stripe::{events as stripe_events, group, ingest};
use cairn::entities::{billing_entry, mrr_change};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;

use crate::stripe_apply::{billing, deliver, refund};
use crate::stripe_in::{SECRET, invoice_paid, now, stripe_app, stripe_header};
use crate::support::*;

/// A subscription event of `sub` at `amount` a month in `currency`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn subscription(
    id: &str,
    kind: &str,
    cus: &str,
    sub: &str,
    status: &str,
    amount: i64,
    currency: &str,
    created: i64,
) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": created,
        "data": {"object": {"id": sub, "object": "subscription", "customer": cus,
        "status": status, "items": {"object": "list", "data": [{"id": "si_1", "quantity": 1,
        "price": {"id": "price_1", "nickname": "Pro", "unit_amount": amount,
        "currency": currency, "recurring": {"interval": "month", "interval_count": 1}}}]}}}})
    .to_string()
}

pub(crate) async fn entries(db: &Db) -> Vec<billing_entry::Model> {
    billing_entry::Entity::find()
        .order_by_asc(billing_entry::Column::Id)
        .all(&db.read)
        .await
        .unwrap()
}

pub(crate) async fn changes(db: &Db) -> Vec<mrr_change::Model> {
    mrr_change::Entity::find()
        .order_by_asc(mrr_change::Column::Id)
        .all(&db.read)
        .await
        .unwrap()
}

async fn apply_now(db: &Db, body: &str) -> Outcome {
    let id = deliver(db, body).await;
    apply::process(db, id)
        .await
        .unwrap()
        .expect("the event was waiting")
}

#[actix_web::test]
async fn a_payment_lands_once_with_its_amount_time_and_invoice_even_delivered_twice() {
    let (app, _) = stripe_app().await;
    let t = now() - 3600;
    let body = invoice_paid("evt_p", "cus_1", "ada@example.com", 1999, "usd", t);
    assert_eq!(apply_now(&app.db, &body).await, Outcome::Processed);
    let header = stripe_header(SECRET, now(), &body);
    let again = ingest::receive(
        &app.db,
        Some(&Secret(SECRET.into())),
        Some(&header),
        body.as_bytes(),
    )
    .await
    .unwrap();
    assert!(
        matches!(again, ingest::Received::Duplicate),
        "a repeated delivery is a duplicate"
    );
    let e = entries(&app.db).await;
    assert_eq!(e.len(), 1, "one ledger row for one payment: {e:?}");
    let contact = billing(&app.db, "cus_1").await.id;
    assert_eq!(
        (
            e[0].kind.as_str(),
            e[0].amount_minor,
            e[0].currency.as_str(),
            e[0].occurred_at.timestamp(),
            e[0].invoice_id.as_deref(),
            e[0].contact_id,
            e[0].stripe_event_id.as_str(),
        ),
        (
            "payment",
            1999,
            "USD",
            t,
            Some("in_evt_p"),
            Some(contact),
            "evt_p"
        )
    );
    assert!(changes(&app.db).await.is_empty(), "no MRR change");
}

#[actix_web::test]
async fn a_group_run_twice_writes_each_payment_refund_and_subscription_change_once() {
    let (app, _) = stripe_app().await;
    let t = now() - 600;
    let bodies = [
        invoice_paid("evt_p", "cus_1", "ada@example.com", 5000, "eur", t),
        refund("evt_r", "cus_1", 1500, "eur", t + 1),
        subscription(
            "evt_s1",
            "customer.subscription.created",
            "cus_1",
            "sub_1",
            "active",
            2000,
            "eur",
            t + 2,
        ),
        subscription(
            "evt_s2",
            "customer.subscription.updated",
            "cus_1",
            "sub_1",
            "active",
            3000,
            "eur",
            t + 3,
        ),
    ];
    let mut ids = Vec::new();
    for b in &bodies {
        ids.push(deliver(&app.db, b).await);
    }
    group::process(&app.db, &ids)
        .await
        .expect("the group applies");
    group::process(&app.db, &ids)
        .await
        .expect("the second run does nothing");
    let e: Vec<_> = entries(&app.db)
        .await
        .into_iter()
        .map(|e| (e.kind, e.amount_minor, e.currency, e.charge_id))
        .collect();
    assert_eq!(
        e,
        [
            ("payment".to_string(), 5000, "EUR".to_string(), None),
            (
                "refund".into(),
                1500,
                "EUR".into(),
                Some("ch_1".to_string())
            ),
        ],
        "a payment and the refunded part, once each"
    );
    let c: Vec<_> = changes(&app.db)
        .await
        .into_iter()
        .map(|c| {
            (
                c.subscription_id,
                c.mrr_minor,
                c.status,
                c.effective_at.timestamp(),
            )
        })
        .collect();
    assert_eq!(
        c,
        [
            ("sub_1".to_string(), 2000, "active".to_string(), t + 2),
            ("sub_1".into(), 3000, "active".into(), t + 3),
        ],
        "both changes, in order, once each"
    );
}

#[actix_web::test]
async fn a_failed_event_leaves_no_row_and_lands_once_when_reprocessed() {
    let (app, admin) = stripe_app().await;
    let t = now() - 60;
    let id = deliver(
        &app.db,
        &invoice_paid("evt_p", "cus_1", "ada@example.com", 700, "usd", t),
    )
    .await;
    // As a database failure leaves it: its transaction rolled back, its status failed.
    exec(
        &app.db,
        &format!("UPDATE stripe_events SET status = 'failed', attempts = 1 WHERE id = {id}"),
    )
    .await;
    assert!(entries(&app.db).await.is_empty());
    let listed = stripe_events::reprocess(&app.db, &admin, id)
        .await
        .expect("a failed event can be reprocessed");
    assert_eq!(listed.status, "received");
    assert_eq!(
        apply::process(&app.db, id).await.unwrap(),
        Some(Outcome::Processed)
    );
    assert!(
        stripe_events::reprocess(&app.db, &admin, id).await.is_err(),
        "a processed event is not run again"
    );
    assert_eq!(apply::process(&app.db, id).await.unwrap(), None);
    assert_eq!(entries(&app.db).await.len(), 1, "the payment landed once");
}

#[actix_web::test]
async fn a_refund_in_another_currency_fails_and_leaves_no_row() {
    let (app, _) = stripe_app().await;
    let t = now() - 60;
    let paid = invoice_paid("evt_p", "cus_1", "ada@example.com", 5000, "usd", t);
    assert_eq!(apply_now(&app.db, &paid).await, Outcome::Processed);
    let out = apply_now(&app.db, &refund("evt_r", "cus_1", 100, "eur", t + 1)).await;
    assert!(matches!(out, Outcome::Failed(_)), "refused: {out:?}");
    let kinds: Vec<_> = entries(&app.db).await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["payment"], "only the payment is in the ledger");
}

#[actix_web::test]
async fn an_older_subscription_event_applied_after_a_newer_one_leaves_no_row() {
    let (app, _) = stripe_app().await;
    let t = now() - 600;
    let newer = subscription(
        "evt_new",
        "customer.subscription.updated",
        "cus_1",
        "sub_1",
        "active",
        3000,
        "usd",
        t + 10,
    );
    let older = subscription(
        "evt_old",
        "customer.subscription.updated",
        "cus_1",
        "sub_1",
        "active",
        1000,
        "usd",
        t,
    );
    assert_eq!(apply_now(&app.db, &newer).await, Outcome::Processed);
    assert!(matches!(
        apply_now(&app.db, &older).await,
        Outcome::Ignored(_)
    ));
    let c: Vec<_> = changes(&app.db)
        .await
        .into_iter()
        .map(|c| (c.stripe_event_id, c.mrr_minor))
        .collect();
    assert_eq!(
        c,
        [("evt_new".to_string(), 3000)],
        "the ignored one left no row"
    );
}

#[actix_web::test]
async fn a_deleted_subscription_is_recorded_canceled_with_its_price() {
    let (app, _) = stripe_app().await;
    let t = now() - 600;
    let created = subscription(
        "evt_c",
        "customer.subscription.created",
        "cus_1",
        "sub_1",
        "trialing",
        1000,
        "usd",
        t,
    );
    let deleted = subscription(
        "evt_d",
        "customer.subscription.deleted",
        "cus_1",
        "sub_1",
        "active",
        1000,
        "usd",
        t + 5,
    );
    assert_eq!(apply_now(&app.db, &created).await, Outcome::Processed);
    assert_eq!(apply_now(&app.db, &deleted).await, Outcome::Processed);
    let c: Vec<_> = changes(&app.db)
        .await
        .into_iter()
        .map(|c| (c.status, c.mrr_minor, c.currency))
        .collect();
    assert_eq!(
        c,
        [
            ("trialing".to_string(), 1000, Some("USD".to_string())),
            ("canceled".into(), 1000, Some("USD".into())),
        ]
    );
}

#[actix_web::test]
async fn a_merge_moves_the_merged_contacts_ledger_rows_to_the_kept_one() {
    let (app, _) = stripe_app().await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    let keep = c
        .add_contact(&token, "Ada", "Kept", "kept@example.com")
        .await;
    let t = now() - 60;
    let paid = invoice_paid("evt_p", "cus_1", "ada@example.com", 900, "usd", t);
    assert_eq!(apply_now(&app.db, &paid).await, Outcome::Processed);
    let sub = subscription(
        "evt_s",
        "customer.subscription.created",
        "cus_1",
        "sub_1",
        "active",
        100,
        "usd",
        t + 1,
    );
    assert_eq!(apply_now(&app.db, &sub).await, Outcome::Processed);
    let lose = billing(&app.db, "cus_1").await.id;
    let res = c
        .api(
            actix_web::http::Method::POST,
            &format!("/api/v1/contacts/{keep}/merge"),
            &token,
            Some(json!({"merge_id": lose})),
        )
        .await;
    assert_eq!(res.status, 200, "merged: {}", res.text());
    let owners: Vec<_> = entries(&app.db)
        .await
        .into_iter()
        .map(|e| e.contact_id)
        .chain(changes(&app.db).await.into_iter().map(|c| c.contact_id))
        .collect();
    assert_eq!(
        owners,
        [Some(keep), Some(keep)],
        "the payment and the change moved"
    );
}
