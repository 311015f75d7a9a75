//! A customer event fills the empty fields of the contact Stripe created as a
//! placeholder (from a payment of a customer it did not know), and nothing else: what a
//! salesperson typed stays, and an older customer event undoes nothing.
use cairn::domain::Db;
use cairn::domain::stripe::apply::{self, Outcome};
use cairn::entities::contact;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::stripe_apply::{billing, deliver};
use crate::stripe_in::{now, stripe_app};
use crate::support::*;

fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": created,
           "data": {"object": object}})
    .to_string()
}

/// An `invoice.paid` naming only what `who` holds (a customer id, an email).
fn invoice(id: &str, who: Value, created: i64) -> String {
    let mut obj = json!({"id": format!("in_{id}"), "object": "invoice", "amount_paid": 900,
        "currency": "usd", "status_transitions": {"paid_at": created}});
    if let (Value::Object(o), Value::Object(w)) = (&mut obj, who) {
        o.extend(w);
    }
    event(id, "invoice.paid", created, obj)
}

fn customer(id: &str, kind: &str, cus: &str, created: i64, fields: Value) -> String {
    let mut obj = json!({"id": cus, "object": "customer"});
    if let (Value::Object(o), Value::Object(f)) = (&mut obj, fields) {
        o.extend(f);
    }
    event(id, kind, created, obj)
}

async fn apply_now(db: &Db, body: &str) {
    let id = deliver(db, body).await;
    let out = apply::process(db, id).await.unwrap();
    assert_eq!(out, Some(Outcome::Processed), "the event was applied");
}

async fn contact_of(db: &Db, cus: &str) -> contact::Model {
    let id = billing(db, cus).await.id;
    contact::Entity::find_by_id(id)
        .one(&db.read)
        .await
        .unwrap()
        .expect("the contact exists")
}

fn fields(c: &contact::Model) -> (&str, &str, Option<&str>, Option<&str>) {
    (
        c.first_name.as_str(),
        c.last_name.as_str(),
        c.email.as_deref(),
        c.phone.as_deref(),
    )
}

#[actix_web::test]
async fn a_customer_event_fills_a_placeholder_known_only_by_its_customer_id() {
    let (app, _) = stripe_app().await;
    let t = now();
    apply_now(&app.db, &invoice("evt_1", json!({"customer": "cus_9"}), t)).await;
    assert_eq!(
        fields(&contact_of(&app.db, "cus_9").await),
        ("", "cus_9", None, None),
        "the placeholder is named after the customer id"
    );
    let full = json!({"name": "Grace Brewster Hopper", "email": "Grace@Example.com",
                      "phone": "+1 555 0100"});
    apply_now(
        &app.db,
        &customer("evt_2", "customer.updated", "cus_9", t + 1, full),
    )
    .await;
    let c = contact_of(&app.db, "cus_9").await;
    assert_eq!(
        fields(&c),
        (
            "Grace Brewster",
            "Hopper",
            Some("Grace@Example.com"),
            Some("+1 555 0100")
        ),
        "name split at its last space, email and phone filled"
    );
    assert_eq!(c.email_norm.as_deref(), Some("grace@example.com"));
    let audited = app
        .count_where(
            "audit_log",
            &format!(
                " WHERE entity = 'contact' AND entity_id = {} AND action = 'update'",
                c.id
            ),
        )
        .await;
    assert_eq!(audited, 1, "the fill has its audit row");
}

#[actix_web::test]
async fn a_customer_event_fills_a_placeholder_known_only_by_its_email() {
    let (app, _) = stripe_app().await;
    let t = now();
    let who = json!({"customer": "cus_5", "customer_email": "lin@example.com"});
    apply_now(&app.db, &invoice("evt_1", who, t)).await;
    let named = json!({"name": "Lin Chen", "email": "other@example.com", "phone": "020 7946 0000"});
    apply_now(
        &app.db,
        &customer("evt_2", "customer.created", "cus_5", t, named),
    )
    .await;
    assert_eq!(
        fields(&contact_of(&app.db, "cus_5").await),
        (
            "Lin",
            "Chen",
            Some("lin@example.com"),
            Some("020 7946 0000")
        ),
        "name and phone filled; the email it was found by kept"
    );
}

#[actix_web::test]
async fn a_customer_event_overwrites_nothing_a_salesperson_typed() {
    let (app, _) = stripe_app().await;
    let token = app.token("admin@example.com").await;
    let mut client = app.client().await;
    let mut typed = contact_json("Ada", "Lovelace", "ada@example.com");
    typed["phone"] = json!("+44 20 1234 5678");
    let id = client.create("/api/v1/contacts", &token, typed).await;
    let t = now();
    let who = json!({"customer": "cus_1", "customer_email": "ada@example.com"});
    apply_now(&app.db, &invoice("evt_1", who, t)).await;
    let other = json!({"name": "Augusta King", "email": "augusta@example.com",
                       "phone": "+1 555 0199"});
    apply_now(
        &app.db,
        &customer("evt_2", "customer.updated", "cus_1", t + 1, other),
    )
    .await;
    let c = contact_of(&app.db, "cus_1").await;
    assert_eq!(c.id, id, "the event is about the typed contact");
    assert_eq!(
        fields(&c),
        (
            "Ada",
            "Lovelace",
            Some("ada@example.com"),
            Some("+44 20 1234 5678")
        ),
        "the typed name, email and phone stay"
    );
}

#[actix_web::test]
async fn an_older_customer_event_does_not_overwrite_what_a_newer_one_filled() {
    let (app, _) = stripe_app().await;
    let t = now();
    apply_now(&app.db, &invoice("evt_1", json!({"customer": "cus_2"}), t)).await;
    let newer = json!({"name": "Katherine Johnson", "phone": "+1 555 0111"});
    apply_now(
        &app.db,
        &customer("evt_3", "customer.updated", "cus_2", t + 60, newer),
    )
    .await;
    let older = json!({"name": "Katherine Coleman", "email": "kc@example.com",
                       "phone": "+1 555 0000"});
    apply_now(
        &app.db,
        &customer("evt_2", "customer.created", "cus_2", t, older),
    )
    .await;
    assert_eq!(
        fields(&contact_of(&app.db, "cus_2").await),
        (
            "Katherine",
            "Johnson",
            Some("kc@example.com"),
            Some("+1 555 0111")
        ),
        "the newer name and phone stay; only the still empty email is filled"
    );
}
