//! "Export this person's data": every row about the person, for admins only, audited.
use actix_web::http::Method;
use serde_json::Value;

use crate::gdpr_given::*;
use crate::support::*;

async fn exported(c: &mut Client<impl TestService>, p: &Person) -> Value {
    let path = format!("/api/v1/contacts/{}/personal-data", p.id);
    c.get_json(&path, &p.token).await
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect()
}

#[actix_web::test]
async fn the_export_holds_the_person_s_fields_records_payments_submissions_and_audit() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let data = exported(&mut c, &p).await;
    assert_eq!(data["contact"]["email"], EMAIL, "{data}");
    assert_eq!(data["contact"]["phone"], PHONE, "{data}");
    assert_eq!(
        data["tags"],
        serde_json::json!(["vip", "webinar"]),
        "the form's tag too: {data}"
    );
    let notes = ids(&data["activities"]);
    assert!(notes.contains(&p.note), "their note: {notes:?}");
    assert!(
        !notes.contains(&p.other_note),
        "not the bystander's: {notes:?}"
    );
    assert_eq!(ids(&data["tasks"]), [p.task], "their task");
    assert_eq!(ids(&data["deals"]), [p.deal], "their deal link");
    let payments = data["payments"].as_array().expect("payments");
    assert_eq!(payments.len(), 1, "the Stripe payment: {payments:?}");
    assert_eq!(payments[0]["amount_minor"], 4900, "{payments:?}");
    assert!(
        data["billing"]["stripe_customer_id"] == "cus_gdpr",
        "{}",
        data["billing"]
    );
    assert!(
        !ids(&data["stripe_events"]).is_empty(),
        "the raw Stripe event"
    );
    assert!(
        !ids(&data["form_submissions"]).is_empty(),
        "the form submission"
    );
    let actions: Vec<&str> = data["audit"]
        .as_array()
        .expect("audit entries")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"create") && actions.contains(&"update"),
        "{actions:?}"
    );
}

#[actix_web::test]
async fn the_api_answers_a_download_named_after_the_contact() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let path = format!("/api/v1/contacts/{}/personal-data", p.id);
    let res = c.api_ok(Method::GET, &path, &p.token, None).await;
    let name = format!("contact-{}-personal-data.json", p.id);
    let disposition = res.header("content-disposition").unwrap_or_default();
    assert!(disposition.contains(&name), "{disposition}");
}

#[actix_web::test]
async fn a_manager_is_refused_the_export_by_api_and_page() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let token = app.api_user("manager").await;
    let path = format!("/api/v1/contacts/{}/personal-data", p.id);
    assert_eq!(c.api(Method::GET, &path, &token, None).await.status, 403);
    let mut page = app.signed_in("manager2@example.com", "manager").await;
    let res = page.get(&format!("/contacts/{}/personal-data", p.id)).await;
    assert_eq!(res.status, 403, "{}", res.text());
    let show = page.get(&format!("/contacts/{}", p.id)).await.text();
    assert!(
        !show.contains("/personal-data"),
        "no export button for a manager"
    );
}

#[actix_web::test]
async fn an_admin_downloads_it_from_the_contact_page_and_the_export_is_audited() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let p = person(&app, &mut c).await;
    let mut page = app.signed_in("admin2@example.com", "admin").await;
    let show = page.get(&format!("/contacts/{}", p.id)).await.text();
    let link = format!("/contacts/{}/personal-data", p.id);
    assert!(show.contains(&link), "the contact page offers the export");
    let res = page.get(&link).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["contact"]["email"], EMAIL);
    let filter = format!(
        " WHERE action = 'export_personal_data' AND entity = 'contact' AND entity_id = {}",
        p.id
    );
    assert_eq!(
        app.count_where("audit_log", &filter).await,
        1,
        "the export is audited"
    );
}
