//! The round trip the export promises: a workspace's ZIP, uploaded as it is into an empty
//! Cairn, gives every record and every link back (compared row by row through the
//! importer's source ids), whatever ids the new records got; and workspace.json's
//! custom fields, pipelines with their stages, and tags.
use cairn::domain::import::apply::{Options, Outcome, job, store};
use cairn::domain::import::{OnMatch, System, presets};
use cairn::domain::{Actor, custom_fields, users};
use cairn::entities::import_source;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::export_compare::{differences, snapshot};
use crate::export_zip::{Export, export_as};
use crate::support::*;

/// Columns not compared: when a row was last written, which an import writes anew; and
/// whether a user may sign in: the import makes the users Cairn lacks deactivated, until
/// an admin takes them up (checked on its own below).
const WRITTEN: &[&str] = &["updated_at", "active"];

/// workspace.json's definitions, without the ids of pipelines and stages (the second
/// workspace's own) and the time and counts of the export.
fn definitions(zip: &Export) -> serde_json::Value {
    let mut ws = zip.workspace();
    for p in ws["pipelines"].as_array_mut().expect("pipelines") {
        p["id"] = json!(null);
        for s in p["stages"].as_array_mut().expect("stages") {
            s["id"] = json!(null);
        }
    }
    json!({"custom_fields": ws["custom_fields"], "pipelines": ws["pipelines"], "tags": ws["tags"]})
}

/// Each user's email and `active`, from an export's users.csv, by email.
fn active_by_email(zip: &Export) -> Vec<(String, String)> {
    let csv = zip.csv("users.csv");
    let col = |name: &str| {
        csv.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("users.csv has no {name}"))
    };
    let (email, active) = (col("email"), col("active"));
    let mut out: Vec<(String, String)> = csv
        .rows
        .iter()
        .map(|r| (r[email].clone(), r[active].clone()))
        .collect();
    out.sort();
    out
}

/// A small workspace with every kind of link: a company, a contact at it (with tags and a
/// select custom field, which workspace.json brings along), a deal on both, a note on
/// the contact and a task on the deal, assigned to a rep (whom the import brings back
/// deactivated, as every user it creates).
async fn workspace(app: &TestApp) -> (Export, Vec<u8>) {
    let (token, mut c) = app.api_client("admin").await;
    let rep = app.user("rep-api@example.com", "rep").await;
    let admin = users::find_by_email(&app.db.read, "admin-api@example.com")
        .await
        .expect("read the admin")
        .map(|u| Actor::from(&u))
        .expect("the API client's admin");
    let tiers = ["Gold".to_string(), "Silver".to_string()];
    custom_fields::create(&app.db, &admin, "contact", "Tier", "select", &tiers, false)
        .await
        .expect("a select field on contacts");
    let acme = c.add_company(&token, "Acme").await;
    let ana = c
        .add(
            "contacts",
            &token,
            json!({"first_name": "Ana", "last_name": "Silva", "email": "ana@acme.example", "company_id": acme,
                "tags": ["vip", "key account"], "custom_fields": {"tier": "Gold"}}),
        )
        .await;
    let deal = c
        .add(
            "deals",
            &token,
            json!({"title": "=Renewal", "amount": 125_000, "currency": "EUR",
                "company_id": acme, "contact_ids": [ana]}),
        )
        .await;
    c.add(
        "activities",
        &token,
        json!({"kind": "note", "body": "Met Ana", "contact_id": ana}),
    )
    .await;
    c.add(
        "tasks",
        &token,
        json!({"title": "Send the quote", "deal_id": deal, "assignee_id": rep.id}),
    )
    .await;
    let res = export_as(&mut c, &token).await;
    (Export::read(&res), res.body.to_vec())
}

/// Uploads `zip` into `app` as its admin and runs the import; the report's failures.
async fn import_zip(app: &TestApp, zip: Vec<u8>) -> Vec<String> {
    let admin = app.user("admin-api@example.com", "admin").await;
    let options = Options {
        on_match: OnMatch::Skip,
        valid_rows_only: false,
        zone: None,
        system: System::Cairn,
        add_stages: true,
        unknown_owners_to_me: false,
    };
    let upload = store::Upload {
        name: "cairn-export.zip".into(),
        bytes: zip,
    };
    let id = store::create(&app.db, &admin, vec![upload], &options)
        .await
        .expect("upload the ZIP");
    let specs: Vec<_> = store::preview(&app.db, &admin, id)
        .await
        .expect("the ZIP's files")
        .iter()
        .map(|p| {
            presets::describe(&p.name, &p.headers, Some(System::Cairn), None, &[])
                .unwrap_or_else(|| panic!("{} is a Cairn export's file", p.name))
        })
        .collect();
    store::set_files(&app.db, &admin, id, &specs, &options)
        .await
        .expect("describe the files");
    let report = job::run(&app.db, id).await.expect("run the import");
    report
        .rows
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .map(|r| format!("{} row {}: {:?}", r.file, r.row, r.reasons))
        .collect()
}

#[actix_web::test]
async fn an_export_imported_into_an_empty_cairn_gives_every_record_and_link_back() {
    let from = TestApp::new().await;
    let (zip, bytes) = workspace(&from).await;
    let into = TestApp::new().await;
    assert_eq!(
        import_zip(&into, bytes).await,
        Vec::<String>::new(),
        "every row imports"
    );

    let sources = import_source::Entity::find()
        .all(&into.db.read)
        .await
        .expect("source ids");
    let back = |file: &str, id: &str| {
        let kind = file.trim_end_matches(".csv");
        sources
            .iter()
            .find(|s| s.kind == kind && s.record_id.to_string() == id)
            .map_or_else(|| format!("new {id}"), |s| s.source_id.clone())
    };
    let token = into.token("admin-api@example.com").await;
    let mut c = into.client().await;
    let again = Export::read(&export_as(&mut c, &token).await);
    assert_eq!(
        definitions(&again),
        definitions(&zip),
        "workspace.json's definitions came back"
    );
    let pair = |e: &str, a: &str| (e.to_string(), a.to_string());
    assert_eq!(
        active_by_email(&again),
        [
            pair("admin-api@example.com", "true"),
            pair("rep-api@example.com", "false")
        ],
        "the admin was matched; the rep the import made cannot sign in until taken up"
    );
    assert_eq!(
        differences(
            &snapshot(&zip, |_, id| id.to_string(), WRITTEN),
            &snapshot(&again, back, WRITTEN)
        ),
        Vec::<String>::new(),
        "the second workspace differs from the first"
    );
}
