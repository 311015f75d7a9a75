//! CSV export of contacts and companies: the record's tags and its custom fields are
//! columns, after the record's own, in an order that does not move.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// An admin's client (signed in) and token, with `fields` (label, kind, options) defined
/// for `entity` in this order.
async fn admin_with_fields(
    app: &TestApp,
    entity: &str,
    fields: &[(&str, &str, &str)],
) -> (Client<impl TestService>, String) {
    let mut c = app.signed_in("admin-api@example.com", "admin").await;
    let token = app.token("admin-api@example.com").await;
    c.get("/settings/fields").await;
    for (label, kind, options) in fields {
        let form = [
            ("entity", entity),
            ("label", *label),
            ("kind", *kind),
            ("options", *options),
        ];
        c.post_form_ok("/settings/fields", &form).await;
    }
    (c, token)
}

/// The export's header and its first record's line, split into cells (no cell in these
/// tests holds a comma or a quote).
fn header_and_first(csv: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = csv.split("\r\n");
    let mut cells = |what: &str| -> Vec<String> {
        lines
            .next()
            .unwrap_or_else(|| panic!("the export has no {what}: {csv}"))
            .split(',')
            .map(str::to_string)
            .collect()
    };
    (cells("header"), cells("record"))
}

/// The cell under `column`.
fn cell<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    &row[i]
}

#[actix_web::test]
async fn a_contact_export_has_its_tags_sorted_in_one_column() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_fields(&app, "contact", &[]).await;
    let ana =
        json!({"first_name": "Ana", "last_name": "S", "tags": ["vip", "Partner", "churn-risk"]});
    c.api_ok(Method::POST, "/api/v1/contacts", &token, Some(ana))
        .await;
    let (header, row) = header_and_first(&c.get("/contacts/export.csv").await.text());
    assert_eq!(
        header.last().map(String::as_str),
        Some("tags"),
        "{header:?}"
    );
    assert_eq!(cell(&header, &row, "tags"), "churn-risk; Partner; vip");
}

#[actix_web::test]
async fn a_contact_export_has_a_column_per_custom_field_formatted_as_shown() {
    let app = TestApp::new().await;
    let fields = [
        ("Renewal", "date", ""),
        ("Newsletter", "checkbox", ""),
        ("Segment", "select", "SMB\nEnterprise"),
        ("Interests", "multiselect", "CRM\nAPI"),
        ("Seats", "number", ""),
    ];
    let (mut c, token) = admin_with_fields(&app, "contact", &fields).await;
    let ana = json!({"first_name": "Ana", "last_name": "S", "custom_fields": {
        "renewal": "2027-01-31", "newsletter": false, "segment": "Enterprise",
        "interests": ["CRM", "API"], "seats": 12}});
    c.api_ok(Method::POST, "/api/v1/contacts", &token, Some(ana))
        .await;
    let (header, row) = header_and_first(&c.get("/contacts/export.csv").await.text());
    assert_eq!(
        header[header.len() - 6..],
        [
            "tags",
            "Renewal",
            "Newsletter",
            "Segment",
            "Interests",
            "Seats"
        ],
        "tags, then the fields in the order they were defined"
    );
    let shown: Vec<&str> = row[row.len() - 5..].iter().map(String::as_str).collect();
    assert_eq!(shown, ["2027-01-31", "No", "Enterprise", "CRM; API", "12"]);
}

#[actix_web::test]
async fn a_company_export_ends_with_tags_and_its_own_custom_fields() {
    let app = TestApp::new().await;
    let (mut c, token) = admin_with_fields(&app, "company", &[("Tier", "text", "")]).await;
    // A contact field is not a company column.
    c.post_form_ok(
        "/settings/fields",
        &[
            ("entity", "contact"),
            ("label", "Birthday"),
            ("kind", "date"),
            ("options", ""),
        ],
    )
    .await;
    let acme = json!({"name": "Acme", "tags": ["b2b"], "custom_fields": {"tier": "Gold"}});
    c.api_ok(Method::POST, "/api/v1/companies", &token, Some(acme))
        .await;
    let (header, row) = header_and_first(&c.get("/companies/export.csv").await.text());
    assert_eq!(header[header.len() - 3..], ["updated_at", "tags", "Tier"]);
    assert_eq!(row[row.len() - 2..], ["b2b", "Gold"]);
}

#[actix_web::test]
async fn a_custom_field_named_like_a_column_gets_a_header_of_its_own() {
    let app = TestApp::new().await;
    let (mut c, _) = admin_with_fields(&app, "contact", &[("Phone", "text", "")]).await;
    let (header, _) = header_and_first(&c.get("/contacts/export.csv").await.text());
    assert_eq!(
        header.last().map(String::as_str),
        Some("Phone (custom field)")
    );
}
