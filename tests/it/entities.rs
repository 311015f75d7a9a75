//! Every table of the migrated schema has a sea-orm entity, and every entity decodes its
//! table's rows on this engine (a column type that does not match fails here).
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::Method;
use cairn::domain::{Actor, custom_fields, settings, views};
use cairn::entities::*;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, FromQueryResult, Statement};
use serde_json::json;

use crate::support::*;

type Rows<'a> = Pin<Box<dyn Future<Output = Result<usize, DbErr>> + Send + 'a>>;
type Reader = for<'a> fn(&'a DatabaseConnection) -> Rows<'a>;

fn read<E: EntityTrait>(db: &DatabaseConnection) -> Rows<'_> {
    Box::pin(async move { Ok(E::find().all(db).await?.len()) })
}

fn entry<E: EntityTrait + Default>() -> (&'static str, Reader) {
    (E::default().table_name(), read::<E>)
}

/// Every entity: its table's name and a reader of all its rows.
fn entities() -> Vec<(&'static str, Reader)> {
    vec![
        entry::<activity::Entity>(),
        entry::<activity_hour::Entity>(),
        entry::<activity_revision::Entity>(),
        entry::<api_token::Entity>(),
        entry::<audit_log::Entity>(),
        entry::<billing_entry::Entity>(),
        entry::<change_counter::Entity>(),
        entry::<company::Entity>(),
        entry::<company_tag::Entity>(),
        entry::<contact::Entity>(),
        entry::<contact_billing::Entity>(),
        entry::<contact_score::Entity>(),
        entry::<contact_tag::Entity>(),
        entry::<custom_field::Entity>(),
        entry::<deal::Entity>(),
        entry::<deal_contact::Entity>(),
        entry::<deal_score::Entity>(),
        entry::<deal_stage_change::Entity>(),
        entry::<form::Entity>(),
        entry::<form_submission::Entity>(),
        entry::<import::Entity>(),
        entry::<import_change::Entity>(),
        entry::<import_file::Entity>(),
        entry::<import_pending_link::Entity>(),
        entry::<import_source::Entity>(),
        entry::<invite::Entity>(),
        entry::<job::Entity>(),
        entry::<login_attempt::Entity>(),
        entry::<mrr_change::Entity>(),
        entry::<notification_pref::Entity>(),
        entry::<outbox::Entity>(),
        entry::<password_reset::Entity>(),
        entry::<pending_sign_in::Entity>(),
        entry::<pipeline::Entity>(),
        entry::<pipeline_stage::Entity>(),
        entry::<record_count::Entity>(),
        entry::<recovery_code::Entity>(),
        entry::<reset_request::Entity>(),
        entry::<saved_view::Entity>(),
        entry::<scoring_model::Entity>(),
        entry::<session::Entity>(),
        entry::<setting::Entity>(),
        entry::<stripe_event::Entity>(),
        entry::<stripe_pruned_event::Entity>(),
        entry::<tag::Entity>(),
        entry::<task::Entity>(),
        entry::<two_factor::Entity>(),
        entry::<user::Entity>(),
        entry::<view_default::Entity>(),
        entry::<webhook_delivery::Entity>(),
        entry::<webhook_endpoint::Entity>(),
    ]
}

#[derive(FromQueryResult)]
struct TableName {
    name: String,
}

#[actix_web::test]
async fn every_table_has_an_entity() {
    let app = TestApp::new().await;
    let sql = if app.db.is_sqlite() {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    };
    let tables: BTreeSet<String> =
        TableName::find_by_statement(Statement::from_string(app.db.backend(), sql))
            .all(&app.db.read)
            .await
            .expect("list the tables")
            .into_iter()
            .map(|t| t.name)
            // SQLite's own tables, the migrations' bookkeeping, and the FTS5 search
            // indexes with their shadow tables (contacts_fts, contacts_fts_data, ...).
            .filter(|n| !n.starts_with("sqlite_") && n != "seaql_migrations" && !n.contains("_fts"))
            .collect();
    let named: BTreeSet<String> = entities().iter().map(|(t, _)| t.to_string()).collect();
    let without_entity: Vec<_> = tables.difference(&named).collect();
    let without_table: Vec<_> = named.difference(&tables).collect();
    assert!(
        without_entity.is_empty() && without_table.is_empty(),
        "tables without an entity: {without_entity:?}; entities without a table: {without_table:?}"
    );
}

#[actix_web::test]
async fn every_entity_reads_its_table() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let token = app.token("admin@example.com").await;
    let mut c = app.client().await;
    seed_records(&mut c, &token).await;
    let rep = seed_settings(&app, &mut c, &token, &admin).await;
    seed_accounts(&app, &mut c, &admin, &rep).await;
    seed_forms(&app, &admin).await;
    seed_stripe(&app).await;
    seed_import(&app, &admin).await;
    // Too few deals: a refused run, stored all the same; and a score as the scoring
    // job writes them (it needs a model, which needs 60 closed deals).
    cairn::domain::scoring::train(&app.db, cairn::domain::scoring::Kind::Deal)
        .await
        .expect("a scoring run");
    let deal = deal::Entity::find()
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("a deal");
    deal_score::Entity::insert(deal_score::ActiveModel {
        deal_id: sea_orm::Set(deal.id),
        model_version: sea_orm::Set(1),
        probability: sea_orm::Set(0.5),
        factors: sea_orm::Set(r#"{"up":[],"down":[]}"#.into()),
        scored_at: sea_orm::Set(chrono::Utc::now()),
    })
    .exec(&app.db.write)
    .await
    .expect("a deal score");
    let contact = contact::Entity::find()
        .one(&app.db.read)
        .await
        .expect("read")
        .expect("a contact");
    contact_score::Entity::insert(contact_score::ActiveModel {
        id: sea_orm::Set(contact.id),
        model_version: sea_orm::Set(1),
        probability: sea_orm::Set(0.5),
        factors: sea_orm::Set(r#"{"up":[],"down":[]}"#.into()),
        scored_at: sea_orm::Set(chrono::Utc::now()),
    })
    .exec(&app.db.write)
    .await
    .expect("a contact score");
    let mut failures = Vec::new();
    for (table, read) in entities() {
        match read(&app.db.read).await {
            Ok(0) => failures.push(format!("{table}: no row read back after seeding")),
            Ok(_) => {}
            Err(e) => failures.push(format!("{table}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "entities that do not read their table on {:?}:\n{}",
        app.db.backend(),
        failures.join("\n")
    );
}

/// Through the API: a tagged contact and company, a deal with the contact that moves to
/// another stage, an activity on it with a revision, and two tasks.
async fn seed_records(c: &mut Client<impl TestService>, token: &str) {
    let contact = c
        .create(
            "/api/v1/contacts",
            token,
            json!({"first_name": "Ana", "last_name": "S", "tags": ["vip"]}),
        )
        .await;
    let company = c
        .create(
            "/api/v1/companies",
            token,
            json!({"name": "Acme", "tags": ["enterprise"]}),
        )
        .await;
    let deal = c
        .create(
            "/api/v1/deals",
            token,
            json!({"title": "Pilot", "amount": 1000, "currency": "EUR", "company_id": company,
                   "contact_ids": [contact], "expected_close": "2026-12-31"}),
        )
        .await;
    let pipelines = c
        .api(Method::GET, "/api/v1/pipelines", token, None)
        .await
        .json();
    let qualified = pipelines[0]["stages"][1]["id"]
        .as_i64()
        .expect("the default pipeline's second stage");
    let moved = c
        .api(
            Method::POST,
            &format!("/api/v1/deals/{deal}/move"),
            token,
            Some(json!({"stage_id": qualified, "version": 1})),
        )
        .await;
    assert_eq!(moved.status, 200, "move the deal: {}", moved.text());
    let note = c
        .create(
            "/api/v1/activities",
            token,
            json!({"kind": "note", "body": "Met the CTO.", "deal_id": deal}),
        )
        .await;
    // An edit keeps the replaced text as a revision.
    c.api_ok(
        Method::PATCH,
        &format!("/api/v1/activities/{note}"),
        token,
        Some(json!({"body": "Met the CTO and the CFO."})),
    )
    .await;

    // A task due on a date and one due at a time (the date and timestamp columns).
    c.create(
        "/api/v1/tasks",
        token,
        json!({"title": "Follow up", "due_date": "2026-12-03", "deal_id": deal}),
    )
    .await;
    c.create(
        "/api/v1/tasks",
        token,
        json!({"title": "Call", "due_at": "2026-12-03T09:30:00Z", "done": true}),
    )
    .await;
}

/// Through the domain: a default saved view, a custom field, a setting and the nightly
/// job; then a new rep, whom it returns.
async fn seed_settings(
    app: &TestApp,
    c: &mut Client<impl TestService>,
    token: &str,
    admin: &Actor,
) -> Actor {
    let view = views::create(&app.db, admin, "contacts", "Mine", "sort=name", true)
        .await
        .expect("save a view");
    views::set_default(&app.db, admin, "contacts", Some(view.id))
        .await
        .expect("make it the default");
    custom_fields::create(&app.db, admin, "contact", "Budget", "number", &[], false)
        .await
        .expect("define a custom field");
    settings::set(&app.db.write, "entities_test", "1")
        .await
        .expect("store a setting");
    cairn::jobs::kinds::ensure_recurring(&app.db)
        .await
        .expect("schedule the nightly clean-up job");

    // A webhook endpoint for deals, so the deal below queues a delivery.
    let hook = cairn::domain::webhooks::endpoints::EndpointInput {
        url: "https://example.com/hook".into(),
        kind: "json".into(),
        events: vec!["deal.created".into()],
    };
    cairn::domain::webhooks::endpoints::create(&app.db, admin, &hook)
        .await
        .expect("add a webhook endpoint");

    // Notification preferences, and a deal handed to a rep, which emails them (outbox).
    cairn::mail::prefs::save(&app.db, admin, &Default::default())
        .await
        .expect("save notification preferences");
    let rep = app.user("rep@example.com", "rep").await;
    c.create(
        "/api/v1/deals",
        token,
        json!({"title": "Handed over", "owner_id": rep.id}),
    )
    .await;
    rep
}

/// An import that created a contact with a source id: its file, change and source.
async fn seed_import(app: &TestApp, admin: &Actor) {
    use crate::import_given::{contacts, options, run};
    // Its company is in no file and not in Cairn: the link waits (a pending link).
    let file = contacts(&[&["c1", "Imported", "Person", "imported@example.com", "a9"]]);
    let (_, r) = run(
        app,
        admin,
        vec![file],
        &options(cairn::domain::import::OnMatch::Skip),
    )
    .await;
    assert!(r.written, "the import wrote: {r:#?}");
}

/// Accounts: an invitation, a password reset, the rep's two-factor with a sign-in
/// pending, a session and a failed sign-in.
/// A Stripe payment received and applied: an event and a contact's billing row.
async fn seed_stripe(app: &TestApp) {
    // One event applied long enough ago to be pruned (it leaves its id), then one kept.
    stripe_event(app, "evt_seed_pruned").await;
    let later = chrono::Utc::now() + chrono::Duration::days(91);
    cairn::domain::stripe::retention::prune(&app.db, later)
        .await
        .expect("prune Stripe events");
    stripe_event(app, "evt_seed").await;
    // A subscription, for the MRR ledger (the payment above is in the billing ledger).
    let sub = crate::stripe_ledger::subscription(
        "evt_seed_sub",
        "customer.subscription.created",
        "cus_seed",
        "sub_seed",
        "active",
        900,
        "usd",
        crate::stripe_in::now(),
    );
    apply_stripe(app, &sub).await;
}

/// A Stripe payment received and applied.
async fn stripe_event(app: &TestApp, event: &str) {
    use crate::stripe_in::{invoice_paid, now};
    let body = invoice_paid(event, "cus_seed", "payer@example.com", 100, "usd", now());
    apply_stripe(app, &body).await;
}

/// Stripe event `body` received and applied.
async fn apply_stripe(app: &TestApp, body: &str) {
    use crate::stripe_in::{SECRET, now, stripe_header};
    let header = stripe_header(SECRET, now(), body);
    let secret = cairn::config::Secret(SECRET.into());
    let received = cairn::domain::stripe::ingest::receive(
        &app.db,
        Some(&secret),
        Some(&header),
        body.as_bytes(),
    )
    .await
    .expect("store a Stripe event");
    let cairn::domain::stripe::ingest::Received::New(id) = received else {
        panic!("the Stripe event was not new");
    };
    cairn::domain::stripe::apply::process(&app.db, id)
        .await
        .expect("apply a Stripe event");
}

async fn seed_accounts(
    app: &TestApp,
    c: &mut Client<impl TestService>,
    admin: &Actor,
    rep: &Actor,
) {
    cairn::domain::invites::create(&app.db, admin, "new@example.com", "rep")
        .await
        .expect("invite");
    cairn::domain::resets::request(&app.db, "rep@example.com", "192.0.2.1")
        .await
        .expect("ask for a password reset");

    // Two-factor: the rep turns it on (a secret and recovery codes), then their password
    // leaves a sign-in pending until a code comes.
    cairn::domain::two_factor::begin_setup(&app.db, rep)
        .await
        .expect("begin two-factor set-up");
    let secret = cairn::domain::two_factor::enrolment(&app.db.read, rep.id, &rep.email)
        .await
        .expect("read the set-up")
        .expect("a set-up under way")
        .secret;
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).expect("base32"))
        .build()
        .expect("a TOTP")
        .generate_current()
        .to_string();
    cairn::domain::two_factor::confirm(&app.db, rep, &code)
        .await
        .expect("turn two-factor on");
    let pending = app
        .client()
        .await
        .sign_in("rep@example.com", PASSWORD)
        .await;
    assert_eq!(
        pending.location(),
        "/login/two-factor",
        "a code is asked for"
    );

    // Through the login form: a session, then a failed attempt (a successful sign-in
    // clears its own account's failures, so the failure comes after, on another address).
    let signed_in = c.sign_in("admin@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303, "sign in: {}", signed_in.text());
    let refused = app
        .client()
        .await
        .sign_in("nobody@example.com", PASSWORD)
        .await;
    assert_ne!(refused.status, 303, "an unknown address signed in");
}

/// A web form and one submission to it.
async fn seed_forms(app: &TestApp, admin: &Actor) {
    use cairn::domain::forms::{self, FormInput, submit};
    let input = FormInput {
        name: "Seeded form".into(),
        source: "organic".into(),
        owner_id: admin.id,
        active: true,
        ..FormInput::default()
    };
    let form = forms::create(&app.db, admin, &input).await.expect("a form");
    let sent: submit::Sent = [("email".to_string(), "seeded@example.com".to_string())].into();
    submit::submit(&app.db, &form, &sent, "10.0.0.1")
        .await
        .expect("a submission");
}
