//! The workspace export's files: each CSV with its header and rows, links as ids, tags
//! and custom fields as columns, formula-looking cells escaped, the trash left out.
use serde_json::json;

use crate::export_zip::{Export, export_as};
use crate::support::*;

/// An admin's signed-in client and token, with a text custom field `Tier` on contacts,
/// companies and deals.
async fn admin_with_tiers(app: &TestApp) -> (Client<impl TestService>, String) {
    let mut c = app.signed_in("admin-export@example.com", "admin").await;
    let token = app.token("admin-export@example.com").await;
    c.get("/settings/fields").await;
    for entity in ["contact", "company", "deal"] {
        let form = [
            ("entity", entity),
            ("label", "Tier"),
            ("kind", "text"),
            ("options", ""),
        ];
        c.post_form_ok("/settings/fields", &form).await;
    }
    (c, token)
}

#[actix_web::test]
async fn every_file_is_there_with_its_header_and_counted_rows() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_tiers(&app).await;
    c.add_contact(&token, "Ana", "Silva", "ana@example.com")
        .await;
    let zip = Export::read(&export_as(&mut c, &token).await);
    let headers = [
        ("users.csv", "id,email,name,role,active"),
        (
            "companies.csv",
            "id,name,domain,industry,size_band,website,phone,address,owner_id,created_at,updated_at,tags,custom.tier",
        ),
        (
            "contacts.csv",
            "id,first_name,last_name,email,phone,company_id,title,source,owner_id,created_at,updated_at,tags,custom.tier",
        ),
        (
            "deals.csv",
            "id,title,pipeline,stage,amount,currency,company_id,owner_id,expected_close,probability,source,closed_at,lost_reason,stage_entered_at,created_at,updated_at,custom.tier",
        ),
        ("deal_contacts.csv", "deal_id,contact_id"),
        (
            "activities.csv",
            "id,kind,body,occurred_at,deal_id,contact_id,company_id,author_id,created_at,edited_at",
        ),
        (
            "tasks.csv",
            "id,title,notes,due_at,due_date,priority,assignee_id,created_by,contact_id,company_id,deal_id,done,done_at,created_at,updated_at",
        ),
    ];
    let counts = &zip.workspace()["counts"];
    for (file, header) in headers {
        let csv = zip.csv(file);
        assert_eq!(csv.header.join(","), header, "the header of {file}");
        assert_eq!(
            counts[file],
            csv.rows.len(),
            "{file}'s count in workspace.json"
        );
    }
    assert_eq!(zip.csv("contacts.csv").rows.len(), 1, "the one contact");
    assert_eq!(zip.workspace()["format_version"], 1);
}

#[actix_web::test]
async fn links_tags_and_custom_values_are_written_as_ids_and_columns() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_tiers(&app).await;
    let acme = json!({"name": "Acme", "tags": ["b2b"], "custom_fields": {"tier": "Gold"}});
    let acme = c.add("companies", &token, acme).await;
    let ana = json!({"first_name": "Ana", "last_name": "S", "company_id": acme,
        "tags": ["vip", "churn-risk"], "custom_fields": {"tier": "Silver"}});
    let ana = c.add("contacts", &token, ana).await;
    let deal = json!({"title": "Pilot", "amount": 1250000, "currency": "EUR",
        "company_id": acme, "contact_ids": [ana], "custom_fields": {"tier": "Bronze"}});
    let deal = c.add("deals", &token, deal).await;
    let note = json!({"kind": "note", "body": "Met Ana", "contact_id": ana});
    let note = c.add("activities", &token, note).await;
    let task = c
        .add_task(&token, json!({"title": "Call Ana", "deal_id": deal}))
        .await;
    let zip = Export::read(&export_as(&mut c, &token).await);

    let company = zip.csv("companies.csv");
    let company = company.row(acme);
    assert_eq!((company["tags"], company["custom.tier"]), ("b2b", "Gold"));
    let contacts = zip.csv("contacts.csv");
    let contact = contacts.row(ana);
    assert_eq!(contact["company_id"], acme.to_string());
    assert_eq!(
        contact["tags"], "churn-risk;vip",
        "tags in name order, joined by ;"
    );
    assert_eq!(contact["custom.tier"], "Silver");
    let deals = zip.csv("deals.csv");
    let d = deals.row(deal);
    assert_eq!((d["pipeline"], d["stage"]), ("Sales", "Lead"), "{d:?}");
    assert_eq!((d["amount"], d["currency"]), ("1250000", "EUR"));
    assert_eq!(
        (d["company_id"], d["custom.tier"]),
        (acme.to_string().as_str(), "Bronze")
    );
    let links = zip.csv("deal_contacts.csv").rows;
    assert_eq!(links, [[deal.to_string(), ana.to_string()]]);
    let activities = zip.csv("activities.csv");
    assert_eq!(activities.row(note)["contact_id"], ana.to_string());
    let tasks = zip.csv("tasks.csv");
    assert_eq!(tasks.row(task)["deal_id"], deal.to_string());
    let owner = contact["owner_id"].parse::<i64>().expect("an owner id");
    assert!(
        zip.csv("users.csv").ids().contains(&owner),
        "the owner is in users.csv"
    );
}

#[actix_web::test]
async fn a_cell_a_spreadsheet_would_run_is_escaped_with_a_quote() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_tiers(&app).await;
    let body = json!({"first_name": "Ana", "last_name": "S",
        "custom_fields": {"tier": "=HYPERLINK(\"http://x.example\")"}});
    c.add("contacts", &token, body).await;
    let zip = Export::read(&export_as(&mut c, &token).await);
    assert!(
        zip.text("contacts.csv")
            .contains(r#","'=HYPERLINK(""http://x.example"")""#),
        "the formula is quoted with a ' in front: {}",
        zip.text("contacts.csv")
    );
}

#[actix_web::test]
async fn the_trash_stays_out_and_links_to_it_are_empty() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_tiers(&app).await;
    let gone = c.add_company(&token, "Gone Ltd").await;
    let ana = c.add_contact(&token, "Ana", "S", "ana@example.com").await;
    let bo = c.add_contact(&token, "Bo", "T", "bo@example.com").await;
    let deal = json!({"title": "Pilot", "company_id": gone, "contact_ids": [bo]});
    let deal = c.add("deals", &token, deal).await;
    let note = json!({"kind": "note", "body": "About Bo", "contact_id": bo});
    c.add("activities", &token, note).await;
    c.trash("companies", gone, &token).await;
    c.trash("contacts", bo, &token).await;
    let zip = Export::read(&export_as(&mut c, &token).await);
    assert!(
        zip.csv("companies.csv").rows.is_empty(),
        "the trashed company"
    );
    assert_eq!(
        zip.csv("contacts.csv").ids(),
        [ana],
        "only the live contact"
    );
    let deals = zip.csv("deals.csv");
    assert_eq!(
        deals.row(deal)["company_id"],
        "",
        "the deal's link to the trash"
    );
    assert!(
        zip.csv("deal_contacts.csv").rows.is_empty(),
        "the link to Bo"
    );
    assert!(
        zip.csv("activities.csv").rows.is_empty(),
        "the trashed contact's note"
    );
}

#[actix_web::test]
async fn users_are_exported_without_their_passwords() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_tiers(&app).await;
    app.user("gone@example.com", "rep").await;
    let zip = Export::read(&export_as(&mut c, &token).await);
    let users = zip.csv("users.csv");
    assert_eq!(users.rows.len(), 2, "{:?}", users.rows);
    for (name, text) in &zip.files {
        assert!(!text.contains("$argon2"), "a password hash in {name}");
    }
}
