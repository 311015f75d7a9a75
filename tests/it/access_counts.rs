//! Record-level access and counts: with "reps see only their own records" on, a count a
//! rep is told leaves out what they may not see. Deleting their company counts only their
//! contacts of it (another rep's contact there, a manager's link, is neither counted nor
//! a reason to refuse).
use actix_web::http::Method;
use serde_json::json;

use crate::access::{rule, world};
use crate::support::*;

#[actix_web::test]
async fn deleting_a_rep_s_company_counts_only_their_contacts_of_it() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let hidden = format!("/api/v1/contacts/{}", w.quin.contact);
    let link = json!({"company_id": w.zeb.company});
    c.api_ok(Method::PATCH, &hidden, &manager, Some(link)).await;
    rule(&app, true).await;
    let path = format!("/api/v1/companies/{}", w.zeb.company);
    let res = c.api(Method::DELETE, &path, &w.rep1, None).await;
    assert_eq!(res.status, 409, "{}", res.text());
    let message = res.json()["error"]["message"].to_string();
    assert!(message.contains("still has 1 contact."), "{message}");
    let detach = format!("{path}?detach=true");
    c.api_ok(Method::DELETE, &detach, &w.rep1, None).await;
    let theirs = c.get_json(&hidden, &manager).await;
    assert_eq!(theirs["company_id"], serde_json::Value::Null, "{theirs}");
}

#[actix_web::test]
async fn a_rep_whose_company_holds_only_another_rep_s_contact_deletes_it_at_once() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let company = c.add_company(&w.rep1, "Zebedee Annex").await;
    let hidden = format!("/api/v1/contacts/{}", w.quin.contact);
    let link = json!({"company_id": company});
    c.api_ok(Method::PATCH, &hidden, &manager, Some(link)).await;
    rule(&app, true).await;
    let path = format!("/api/v1/companies/{company}");
    // As for a company with no contact: nothing tells the rep one is there.
    c.api_ok(Method::DELETE, &path, &w.rep1, None).await;
    let theirs = c.get_json(&hidden, &manager).await;
    assert_eq!(theirs["company_id"], serde_json::Value::Null, "{theirs}");
}
