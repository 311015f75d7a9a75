//! Record-level access and merging: with "reps see only their own records" on, a rep
//! merging two of their contacts, one linked by a manager to another rep's company, keeps
//! that link as it is, adds no company, and is answered without the company's name.
use actix_web::http::Method;
use serde_json::json;

use crate::access::{rule, world};
use crate::support::*;

#[actix_web::test]
async fn a_rep_s_merge_keeps_a_link_to_another_rep_s_company_unnamed() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let path = format!("/api/v1/contacts/{}", w.zeb.contact);
    let link = json!({"company_id": w.quin.company});
    c.api_ok(Method::PATCH, &path, &manager, Some(link)).await;
    let twin = c
        .add_contact(&w.rep1, "Zebedee", "Twin", "twin@zebedee.example")
        .await;
    rule(&app, true).await;
    let merge = json!({"merge_id": twin});
    let res = c
        .api_ok(Method::POST, &format!("{path}/merge"), &w.rep1, Some(merge))
        .await;
    assert!(
        !res.text().to_lowercase().contains("quintessa"),
        "the merged contact names no hidden company: {}",
        res.text()
    );
    assert_eq!(app.count("companies").await, 2, "no company was added");
    let merged = c.get_json(&path, &manager).await;
    assert_eq!(merged["company_id"], w.quin.company, "{merged}");
    assert_eq!(merged["company"], "Quintessa Works", "{merged}");
}
