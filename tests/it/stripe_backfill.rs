//! The billing ledger's backfill (`stripe::backfill`): for events applied with no ledger
//! rows (as those applied before migration 000044), it writes back exactly the rows the
//! apply wrote, and a second run writes nothing; `cairn serve` queues it until a run
//! has finished.
use cairn::domain::Db;
use cairn::domain::stripe::apply::{self, Outcome};
use cairn::domain::stripe::{backfill, group};
use cairn::jobs::{Options, Runner, kinds};
use chrono::{DateTime, Utc};

use crate::stripe_apply::{billing, deliver, refund};
use crate::stripe_in::{invoice_paid, now, stripe_app};
use crate::stripe_ledger::{changes, entries, subscription};
use crate::support::*;

/// A ledger row as the apply and the backfill both write it: everything but its id and
/// the time it was written.
#[derive(Debug, PartialEq)]
enum Written {
    Entry {
        event: String,
        kind: String,
        amount: i64,
        currency: String,
        at: DateTime<Utc>,
        invoice: Option<String>,
        charge: Option<String>,
        contact: Option<i64>,
    },
    Change {
        event: String,
        subscription: String,
        mrr: i64,
        currency: Option<String>,
        status: String,
        at: DateTime<Utc>,
        contact: Option<i64>,
    },
}

/// Every ledger row, by event id.
async fn ledger(db: &Db) -> Vec<Written> {
    let mut rows: Vec<Written> = entries(db)
        .await
        .into_iter()
        .map(|e| Written::Entry {
            event: e.stripe_event_id,
            kind: e.kind,
            amount: e.amount_minor,
            currency: e.currency,
            at: e.occurred_at,
            invoice: e.invoice_id,
            charge: e.charge_id,
            contact: e.contact_id,
        })
        .collect();
    rows.extend(changes(db).await.into_iter().map(|c| Written::Change {
        event: c.stripe_event_id,
        subscription: c.subscription_id,
        mrr: c.mrr_minor,
        currency: c.currency,
        status: c.status,
        at: c.effective_at,
        contact: c.contact_id,
    }));
    let event = |w: &Written| match w {
        Written::Entry { event, .. } | Written::Change { event, .. } => event.clone(),
    };
    rows.sort_by_key(event);
    rows
}

async fn apply_alone(db: &Db, body: &str) -> Outcome {
    let id = deliver(db, body).await;
    apply::process(db, id)
        .await
        .expect("the event applies")
        .expect("the event was waiting")
}

/// Payments in two currencies, two refunds of one charge (the second counting only its
/// new part), a subscription created, changed and deleted, applied alone and in a group;
/// then a refund and a subscription change older than what was applied (ignored).
async fn applied_history(db: &Db) {
    let t = now() - 3600;
    let first = invoice_paid("evt_p1", "cus_1", "ada@example.com", 5000, "eur", t);
    assert_eq!(apply_alone(db, &first).await, Outcome::Processed);
    let sub = |id: &str, kind: &str, status: &str, amount: i64, at: i64| {
        subscription(id, kind, "cus_1", "sub_1", status, amount, "eur", at)
    };
    let bodies = [
        refund("evt_r1", "cus_1", 1500, "eur", t + 1),
        refund("evt_r2", "cus_1", 2000, "eur", t + 2),
        invoice_paid("evt_p2", "cus_2", "bob@example.com", 700, "usd", t + 3),
        sub(
            "evt_s1",
            "customer.subscription.created",
            "active",
            2000,
            t + 4,
        ),
        sub(
            "evt_s2",
            "customer.subscription.updated",
            "active",
            3000,
            t + 5,
        ),
        sub(
            "evt_s3",
            "customer.subscription.deleted",
            "canceled",
            3000,
            t + 6,
        ),
    ];
    let mut ids = Vec::new();
    for b in &bodies {
        ids.push(deliver(db, b).await);
    }
    group::process(db, &ids).await.expect("the group applies");
    let late_refund = refund("evt_r0", "cus_1", 1000, "eur", t);
    let late_change = sub("evt_s0", "customer.subscription.updated", "active", 1000, t);
    for late in [late_refund, late_change] {
        let out = apply_alone(db, &late).await;
        assert!(
            matches!(out, Outcome::Ignored(_)),
            "older, ignored: {out:?}"
        );
    }
}

#[actix_web::test]
async fn the_backfill_writes_back_exactly_the_rows_the_apply_wrote_and_only_once() {
    let (app, _) = stripe_app().await;
    applied_history(&app.db).await;
    let by_apply = ledger(&app.db).await;
    assert_eq!(
        by_apply.len(),
        7,
        "four entries and three changes: {by_apply:#?}"
    );
    let ada = billing(&app.db, "cus_1").await.id;
    let second_refund = by_apply
        .iter()
        .find(|w| matches!(w, Written::Entry { event, .. } if event == "evt_r2"));
    assert!(
        matches!(second_refund, Some(Written::Entry { amount: 500, contact: Some(c), .. }) if *c == ada),
        "the second refund counts its new part only, for its contact: {second_refund:?}"
    );

    // As before the ledger existed.
    exec(&app.db, "DELETE FROM billing_entries").await;
    exec(&app.db, "DELETE FROM mrr_changes").await;
    let written = backfill::backfill(&app.db)
        .await
        .expect("the backfill runs");
    assert_eq!(written, 7, "a row per applied payment, refund and change");
    assert_eq!(
        ledger(&app.db).await,
        by_apply,
        "the rows the apply wrote, no other"
    );

    let again = backfill::backfill(&app.db).await.expect("a second run");
    assert_eq!(again, 0, "a second run writes nothing");
    assert_eq!(ledger(&app.db).await, by_apply, "and changes nothing");
}

#[actix_web::test]
async fn start_up_queues_the_backfill_until_a_run_has_finished() {
    let (app, _) = stripe_app().await;
    let db = &app.db;
    let first = invoice_paid("evt_p1", "cus_1", "ada@example.com", 5000, "eur", now());
    assert_eq!(apply_alone(db, &first).await, Outcome::Processed);
    exec(db, "DELETE FROM billing_entries").await;
    backfill::ensure(db).await.expect("queued");
    backfill::ensure(db).await.expect("queued once");
    let queued = format!(" WHERE kind = '{}'", backfill::JOB);
    assert_eq!(
        app.count_where("jobs", &queued).await,
        1,
        "one job however often ensured"
    );

    let options = Options {
        poll: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let running = Runner::new(db.clone(), kinds::registry(), options).start();
    let done = format!("{queued} AND state = 'done'");
    for _ in 0..200 {
        if app.count_where("jobs", &done).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(running.finish(std::time::Duration::from_secs(5)).await);
    assert_eq!(app.count_where("jobs", &done).await, 1, "the job ran");
    assert_eq!(
        entries(db).await.len(),
        1,
        "the payment is back in the ledger"
    );

    exec(db, &format!("DELETE FROM jobs{queued}")).await;
    backfill::ensure(db).await.expect("nothing to queue");
    assert_eq!(
        app.count_where("jobs", &queued).await,
        0,
        "a finished backfill is not queued again"
    );
}

#[actix_web::test]
async fn a_refund_after_a_pruned_one_gets_back_only_its_new_part() {
    use cairn::entities::stripe_event;
    use chrono::Duration;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let (app, _) = stripe_app().await;
    let db = &app.db;
    let t = now() - 3600;
    let paid = invoice_paid("evt_p1", "cus_1", "ada@example.com", 5000, "eur", t);
    assert_eq!(apply_alone(db, &paid).await, Outcome::Processed);
    for (id, refunded, at) in [("evt_r1", 1500, t + 1), ("evt_r2", 2000, t + 2)] {
        let body = refund(id, "cus_1", refunded, "eur", at);
        assert_eq!(apply_alone(db, &body).await, Outcome::Processed);
    }
    let by_apply = ledger(db).await;
    // The first refund's event is older than the retention and pruned: its count stays.
    stripe_event::Entity::update_many()
        .col_expr(
            stripe_event::Column::ReceivedAt,
            Expr::value(Utc::now() - Duration::days(100)),
        )
        .filter(stripe_event::Column::EventId.eq("evt_r1"))
        .exec(&db.write)
        .await
        .expect("age the first refund");
    let pruned = cairn::domain::stripe::retention::prune(db, Utc::now())
        .await
        .expect("the prune runs");
    assert_eq!(pruned, 1, "the first refund's event is pruned");

    exec(db, "DELETE FROM billing_entries").await;
    assert_eq!(backfill::backfill(db).await.expect("the backfill runs"), 2);
    let kept: Vec<_> = by_apply
        .into_iter()
        .filter(|w| !matches!(w, Written::Entry { event, .. } if event == "evt_r1"))
        .collect();
    assert_eq!(
        ledger(db).await,
        kept,
        "the payment, and the second refund's 500 above the pruned 1 500"
    );
}
