//! A group of events applied by one job (`stripe::group`): together, by event time, a
//! failed one kept with its reason and nothing of it, and a group run twice changing
//! nothing the second time.
use cairn::domain::stripe::{Status, group};
use cairn::entities::stripe_event;
use sea_orm::EntityTrait;

use crate::stripe_apply::{billing, deliver, refund};
use crate::stripe_in::{invoice_paid, now, stripe_app};
use crate::support::*;

async fn status(app: &TestApp, id: i64) -> (String, Option<String>) {
    let e = stripe_event::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the event is stored");
    (e.status, e.error)
}

#[actix_web::test]
async fn a_group_applies_its_payments_by_event_time_and_keeps_a_failed_ones_reason() {
    let (app, _) = stripe_app().await;
    let t = now();
    // The later payment is delivered first: the last payment is still the later one.
    let later = deliver(
        &app.db,
        &invoice_paid("evt_g2", "cus_g", "g@example.com", 300, "usd", t + 60),
    )
    .await;
    let earlier = deliver(
        &app.db,
        &invoice_paid("evt_g1", "cus_g", "g@example.com", 200, "usd", t),
    )
    .await;
    let other = deliver(
        &app.db,
        &invoice_paid("evt_o1", "cus_o", "o@example.com", 500, "usd", t),
    )
    .await;
    // cus_g's value is kept in USD: a payment in EUR cannot be applied.
    let euros = deliver(
        &app.db,
        &invoice_paid("evt_g3", "cus_g", "g@example.com", 999, "eur", t + 30),
    )
    .await;
    group::process(&app.db, &[later, earlier, other, euros])
        .await
        .expect("the group applies");
    for id in [later, earlier, other] {
        assert_eq!(
            status(&app, id).await,
            ("processed".into(), None),
            "event {id}"
        );
    }
    let (st, why) = status(&app, euros).await;
    assert_eq!(st, Status::Failed.as_str(), "the EUR payment failed");
    assert!(
        why.unwrap_or_default().contains("EUR"),
        "its reason names the currency"
    );
    let g = billing(&app.db, "cus_g").await;
    assert_eq!(
        (g.ltv_minor, g.last_payment_minor),
        (500, Some(300)),
        "both USD payments, the later last"
    );
    assert_eq!(billing(&app.db, "cus_o").await.ltv_minor, 500);
    assert_eq!(
        app.count_where("activities", " WHERE kind = 'payment'")
            .await,
        3,
        "nothing of the failed one"
    );
    assert_eq!(
        app.count_where("audit_log", " WHERE entity = 'activity'")
            .await,
        3,
        "an audit row per payment"
    );
}

#[actix_web::test]
async fn a_group_run_twice_applies_each_event_once() {
    let (app, _) = stripe_app().await;
    let t = now();
    let mut ids = Vec::new();
    for n in 0..group::SIZE as i64 {
        let body = invoice_paid(
            &format!("evt_t{n}"),
            &format!("cus_{}", n % 3),
            &format!("p{}@example.com", n % 3),
            100,
            "usd",
            t,
        );
        ids.push(deliver(&app.db, &body).await);
    }
    group::process(&app.db, &ids)
        .await
        .expect("the group applies");
    group::process(&app.db, &ids)
        .await
        .expect("the second run does nothing");
    assert_eq!(
        app.count_where("activities", " WHERE kind = 'payment'")
            .await,
        group::SIZE as i64
    );
    let total: i64 = [
        billing(&app.db, "cus_0").await.ltv_minor,
        billing(&app.db, "cus_1").await.ltv_minor,
        billing(&app.db, "cus_2").await.ltv_minor,
    ]
    .iter()
    .sum();
    assert_eq!(
        total,
        100 * group::SIZE as i64,
        "every payment counted once"
    );
    for id in ids {
        let e = stripe_event::Entity::find_by_id(id)
            .one(&app.db.read)
            .await
            .unwrap()
            .expect("the event is stored");
        assert_eq!(
            e.attempts, 1,
            "event {id}: one attempt, the run that applied it"
        );
    }
}

#[actix_web::test]
async fn two_refunds_of_one_charge_in_a_group_take_off_the_larger_total_once() {
    let (app, _) = stripe_app().await;
    let t = now();
    let paid = deliver(
        &app.db,
        &invoice_paid("evt_rp", "cus_1", "ada@example.com", 5000, "usd", t),
    )
    .await;
    // `amount_refunded` is the charge's running total: 1 000, then 3 000 in all.
    let first = deliver(&app.db, &refund("evt_rf1", "cus_1", 1000, "usd", t + 10)).await;
    let second = deliver(&app.db, &refund("evt_rf2", "cus_1", 3000, "usd", t + 20)).await;
    group::process(&app.db, &[paid, first, second])
        .await
        .expect("the group applies");
    assert_eq!(
        billing(&app.db, "cus_1").await.ltv_minor,
        2000,
        "5 000 paid less 3 000 refunded in all, not 1 000 + 3 000"
    );
}
