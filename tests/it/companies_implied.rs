//! A company a contact's write creates by naming it (from the API's create and update,
//! which the contact form shares, and from a web form) gets its own audit row, naming
//! the writer, in the write's transaction.
use actix_web::http::Method;
use cairn::entities::{company, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::support::*;

/// The id of the company called `name`.
async fn company_called(app: &TestApp, name: &str) -> i64 {
    company::Entity::find()
        .filter(company::Column::Name.eq(name))
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the company {name} was created"))
        .id
}

/// The id of the API user of `role` (`api_client`'s).
async fn api_user_id(app: &TestApp, role: &str) -> i64 {
    user::Entity::find()
        .filter(user::Column::Email.eq(format!("{role}-api@example.com")))
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the API user")
        .id
}

/// How many `create` rows of company `id` the audit log holds, by `actor` (None: no one).
async fn created_rows(app: &TestApp, id: i64, actor: Option<i64>) -> i64 {
    let by = actor.map_or("actor_id IS NULL".to_string(), |a| {
        format!("actor_id = {a}")
    });
    let filter =
        format!(" WHERE entity = 'company' AND entity_id = {id} AND action = 'create' AND {by}");
    app.count_where("audit_log", &filter).await
}

#[actix_web::test]
async fn a_contact_created_with_a_new_company_name_audits_the_company() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let admin = api_user_id(&app, "admin").await;
    let body = json!({"first_name": "Ann", "last_name": "Lee", "company": "Globex Corp"});
    c.add("contacts", &token, body).await;
    let id = company_called(&app, "Globex Corp").await;
    assert_eq!(
        created_rows(&app, id, Some(admin)).await,
        1,
        "one row, by the writer"
    );
}

#[actix_web::test]
async fn a_contact_updated_with_a_new_company_name_audits_the_company() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let admin = api_user_id(&app, "admin").await;
    let contact = c.add_contact(&token, "Cy", "Moss", "cy@example.com").await;
    let path = format!("/api/v1/contacts/{contact}");
    let res = c
        .api(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"company": "Umbrella Ltd"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let id = company_called(&app, "Umbrella Ltd").await;
    assert_eq!(created_rows(&app, id, Some(admin)).await, 1);
}

#[actix_web::test]
async fn a_web_form_naming_a_new_company_audits_it_by_no_one() {
    use crate::forms_given::*;
    let app = TestApp::new().await;
    let olive = app.user("olive@example.com", "rep").await;
    let f = form_for(&app, &olive, |i| {
        i.fields.push(field("company", "Company", false))
    })
    .await;
    let sent = [
        ("first_name", "Ana"),
        ("last_name", "Silva"),
        ("email", "ana@example.com"),
        ("company", "Hooli"),
    ];
    let res = app.client().await.submit_form(&f.public_key, &sent).await;
    assert_eq!(res.status, 200, "the thank-you page: {}", res.text());
    let id = company_called(&app, "Hooli").await;
    assert_eq!(
        created_rows(&app, id, None).await,
        1,
        "a row naming no user"
    );
}

#[actix_web::test]
async fn a_contact_naming_a_known_company_audits_no_company() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    c.add_company(&token, "Initech").await;
    let body = json!({"first_name": "Bo", "last_name": "Ray", "company": "initech"});
    c.add("contacts", &token, body).await;
    let rows = app
        .count_where(
            "audit_log",
            " WHERE entity = 'company' AND action = 'create'",
        )
        .await;
    assert_eq!(rows, 1, "only the company's own creation");
}
