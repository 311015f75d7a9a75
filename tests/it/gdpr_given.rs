//! A person with something in every table that refers to a contact, and a bystander
//! with their own, for the GDPR tests; and a search of every text column of the
//! database (from its catalog) for a string.
use actix_web::http::Method;
use cairn::domain::stripe::apply;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::json;

use crate::forms_given::form_for;
use crate::stripe_apply::deliver;
use crate::stripe_in::{invoice_paid, now};
use crate::support::*;
use crate::webhooks_receiver::endpoint;

pub const EMAIL: &str = "zelda.quillfeather@example.test";
pub const FIRST: &str = "Zelda";
pub const LAST: &str = "Quillfeather";
pub const PHONE: &str = "+44 20 7946 0123";
/// What must be found nowhere after the erase.
pub const TRACES: [&str; 4] = [EMAIL, "Zelda Quillfeather", LAST, PHONE];

/// The ids a test looks for afterwards.
pub struct Person {
    pub token: String,
    pub id: i64,
    pub other: i64,
    pub deal: i64,
    pub company: i64,
    pub note: i64,
    pub task: i64,
    pub other_note: i64,
}

/// As an admin: the person (tags, a title changed once), a note and a task of theirs, a
/// deal and company they share with a bystander, a note on the deal naming them, a
/// Stripe payment by their email and a form submission.
pub async fn person(app: &TestApp, c: &mut Client<impl TestService>) -> Person {
    let admin = app.user("gdpr-admin@example.com", "admin").await;
    let token = app.token("gdpr-admin@example.com").await;
    // Deliveries queue (no worker runs): their payloads hold the person too.
    let events = [
        "contact.created",
        "contact.updated",
        "contact.deleted",
        "payment.received",
    ];
    endpoint(app, "https://hooks.example.test/cairn", "json", &events).await;
    let company = c.add_company(&token, "Lighthouse Ltd").await;
    let mut body = contact_json(FIRST, LAST, EMAIL);
    body["phone"] = json!(PHONE);
    body["tags"] = json!(["vip"]);
    body["company_id"] = json!(company);
    let id = c.add("contacts", &token, body).await;
    let other = c
        .add_contact(&token, "Bob", "Bystander", "bob@example.test")
        .await;
    let path = format!("/api/v1/contacts/{id}");
    c.api_ok(
        Method::PATCH,
        &path,
        &token,
        Some(json!({"title": "Buyer"})),
    )
    .await;
    let note = c
        .add(
            "activities",
            &token,
            json!({"kind": "note", "body": "Met at the fair", "contact_id": id}),
        )
        .await;
    let other_note = c
        .add(
            "activities",
            &token,
            json!({"kind": "note", "body": "Bob's own note", "contact_id": other}),
        )
        .await;
    let task = c
        .add_task(
            &token,
            json!({"title": "Send the brochure", "contact_id": id}),
        )
        .await;
    let deal = c
        .add(
            "deals",
            &token,
            json!({"title": "Lighthouse pilot", "amount": 5000, "currency": "USD",
            "company_id": company, "contact_ids": [id, other]}),
        )
        .await;
    c.add(
        "activities",
        &token,
        json!({"kind": "note", "deal_id": deal,
        // Written in another case than the record: the erase finds it all the same.
        "body": format!("ZELDA QUILLFEATHER ({}) asked for a quote", EMAIL.to_uppercase())}),
    )
    .await;
    let event = deliver(
        &app.db,
        &invoice_paid("evt_gdpr_1", "cus_gdpr", EMAIL, 4900, "usd", now()),
    )
    .await;
    apply::process(&app.db, event)
        .await
        .expect("the payment applies")
        .expect("the event was waiting");
    let form = form_for(app, &admin, |_| {}).await;
    let res = c
        .submit_form(
            &form.public_key,
            &[("first_name", FIRST), ("last_name", LAST), ("email", EMAIL)],
        )
        .await;
    assert_eq!(
        res.status,
        200,
        "the form takes the submission: {}",
        res.text()
    );
    Person {
        token,
        id,
        other,
        deal,
        company,
        note,
        task,
        other_note,
    }
}

/// Every (table, column) of the database whose values can hold text, from the catalog.
pub async fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    let db = &app.db.read;
    match app.db.backend() {
        DatabaseBackend::Sqlite => {
            let tables = rows(
                db,
                "SELECT name AS a, '' AS b FROM sqlite_master WHERE type = 'table'",
            )
            .await;
            let mut all = Vec::new();
            for (table, _) in tables {
                // Every column: SQLite keeps text in a column of any declared type.
                let sql = format!("SELECT name AS a, type AS b FROM pragma_table_info('{table}')");
                for (column, _) in rows(db, &sql).await {
                    all.push((table.clone(), column));
                }
            }
            all
        }
        _ => rows(
            db,
            "SELECT table_name::text AS a, column_name::text AS b FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type IN \
             ('text', 'character varying', 'character', 'json', 'jsonb')",
        )
        .await,
    }
}

/// Where `needle` occurs (any case): "table.column" for each column holding it.
pub async fn found(app: &TestApp, needle: &str) -> Vec<String> {
    let columns = text_columns(app).await;
    assert!(
        columns.len() > 100,
        "the catalog lists too few columns: {}",
        columns.len()
    );
    let mut hits = Vec::new();
    for (table, column) in columns {
        let cast = match app.db.backend() {
            DatabaseBackend::Sqlite => format!("CAST(\"{column}\" AS TEXT)"),
            _ => format!("\"{column}\"::text"),
        };
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE LOWER({cast}) LIKE '%{}%'",
            needle.to_lowercase().replace('\'', "''")
        );
        let n = app
            .db
            .read
            .query_one_raw(Statement::from_string(app.db.backend(), sql))
            .await
            .unwrap_or_else(|e| panic!("search {table}.{column}: {e}"))
            .map(|r| r.try_get::<i64>("", "n").unwrap_or(0))
            .unwrap_or(0);
        if n > 0 {
            hits.push(format!("{table}.{column} ({n} rows)"));
        }
    }
    hits
}

async fn rows(db: &impl ConnectionTrait, sql: &str) -> Vec<(String, String)> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| {
            (
                r.try_get::<String>("", "a").unwrap_or_default(),
                r.try_get::<String>("", "b").unwrap_or_default(),
            )
        })
        .collect()
}
