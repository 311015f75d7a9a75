//! Record-level access and filters: with "reps see only their own records" on, a rep's
//! company filter (deals and contacts, API and pages) matches only companies the rep sees.
//! Another rep's company name is answered as a name of no company, so a rep cannot learn
//! it by trying names, even through their own records that a manager linked to it.
use actix_web::http::Method;
use serde_json::json;

use crate::access::{REP1, World, rule, world};
use crate::support::*;

/// The reps' records, with the first rep's contact and deal linked by a manager to the
/// second rep's company; the rule on. Also the manager's token.
async fn linked_to_hidden_company(app: &TestApp) -> (World, String) {
    let w = world(app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let link = json!({"company_id": w.quin.company});
    for path in [
        format!("/api/v1/deals/{}", w.zeb.deal),
        format!("/api/v1/contacts/{}", w.zeb.contact),
    ] {
        c.api_ok(Method::PATCH, &path, &manager, Some(link.clone()))
            .await;
    }
    rule(app, true).await;
    (w, manager)
}

/// `GET path` as the API user `token`, its status and body.
async fn api_get(app: &TestApp, token: &str, path: &str) -> Response {
    app.client().await.api(Method::GET, path, token, None).await
}

#[actix_web::test]
async fn a_rep_s_deal_filter_by_another_rep_s_company_name_is_a_name_of_none() {
    let app = TestApp::new().await;
    let (w, _) = linked_to_hidden_company(&app).await;
    let unknown = api_get(&app, &w.rep1, "/api/v1/deals?company=nobody%20works").await;
    assert_eq!(unknown.status, 422, "{}", unknown.text());
    for name in ["Quintessa%20Works", "quintessa%20works"] {
        let res = api_get(&app, &w.rep1, &format!("/api/v1/deals?company={name}")).await;
        assert_eq!(
            (res.status, res.text()),
            (unknown.status, unknown.text()),
            "company={name} is answered as a company that does not exist"
        );
    }
    let mut rep = app.client().await;
    assert_eq!(rep.sign_in(REP1, PASSWORD).await.status, 303);
    for page in ["/deals/list", "/deals"] {
        let none = rep.get(&format!("{page}?company=Nobody+Works")).await;
        let res = rep.get(&format!("{page}?company=Quintessa+Works")).await;
        assert_eq!(res.status, none.status, "GET {page}: {}", res.text());
        assert!(
            !res.text().contains("Zebedee Deal"),
            "{page}: {}",
            res.text()
        );
    }
}

#[actix_web::test]
async fn a_manager_s_deal_filter_by_company_name_still_finds_it() {
    let app = TestApp::new().await;
    let (_, manager) = linked_to_hidden_company(&app).await;
    let res = api_get(&app, &manager, "/api/v1/deals?company=quintessa%20works").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 2, "both deals are at that company");
}

#[actix_web::test]
async fn a_rep_s_contact_filter_matches_only_companies_they_see() {
    let app = TestApp::new().await;
    let (w, _) = linked_to_hidden_company(&app).await;
    for query in ["company=quint", "company=Quintessa%20Works", "q=quintessa"] {
        let res = api_get(&app, &w.rep1, &format!("/api/v1/contacts?{query}")).await;
        assert_eq!(res.status, 200, "{query}: {}", res.text());
        assert_eq!(
            res.json()["total"],
            0,
            "{query} finds nothing: {}",
            res.text()
        );
    }
    let mut rep = app.client().await;
    assert_eq!(rep.sign_in(REP1, PASSWORD).await.status, 303);
    let res = rep.get("/contacts?company=quint").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let link = format!("/contacts/{}\"", w.zeb.contact);
    assert!(!res.text().contains(&link), "the page lists no contact");
    // The rep's own company still filters (the manager's link moved the contact).
    let res = api_get(&app, &w.rep1, "/api/v1/contacts?q=zebedee").await;
    assert_eq!(res.json()["total"], 1, "{}", res.text());
}

#[actix_web::test]
async fn a_manager_s_contact_filter_by_company_name_finds_both_reps_contacts() {
    let app = TestApp::new().await;
    let (_, manager) = linked_to_hidden_company(&app).await;
    let res = api_get(&app, &manager, "/api/v1/contacts?company=quint").await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["total"], 2, "{}", res.text());
}
