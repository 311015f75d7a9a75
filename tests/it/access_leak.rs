//! The leak test: with "reps see only their own records" on, nothing the first rep can
//! fetch (lists, searches, exports, the board, timelines, tasks, the API) holds any trace
//! of the second rep's records, all named "Quintessa"; the same answers for a manager do,
//! so the check would catch a leak.
use actix_web::http::Method;
use serde_json::json;

use crate::access::{REP1, rule, world};
use crate::support::*;

/// Every list, search, export, board, timeline and task answer a signed-in person fetches
/// (paths for a session), for the first rep's records `w`.
fn page_paths(w: &crate::access::World) -> Vec<String> {
    let (contact, company, deal) = (w.zeb.contact, w.zeb.company, w.zeb.deal);
    let mut paths: Vec<String> = [
        "/contacts",
        "/contacts?q=Person",
        "/contacts?q=p",
        "/contacts?sort=oldest",
        "/companies",
        "/companies?q=Works",
        "/contacts/export.csv",
        "/companies/export.csv",
        "/deals",
        "/deals?sort=amount",
        "/deals/list",
        "/deals/list?status=open",
        "/tasks",
        "/tasks?assignee=all",
        "/tasks/done?offset=0",
        "/search?q=person",
        "/search?q=p",
        "/search?q=works",
        "/search?q=deal",
        "/pick/options?kind=company&company=Works",
        "/pick/options?kind=contact&add_contact=Person",
        "/pick/options?company=w",
        "/deals/options?company=w",
        "/deals/options?add_contact=p",
        "/pick/contact?email=quintessa@quintessa.example",
        "/pick/contact?first_name=quintessa&last_name=person",
        // Typed text that is the start of the other rep's names (the page echoes it).
        "/pick/options?kind=company&company=quint&note=1",
        "/pick/options?kind=company&company=quint&note=pick",
        "/pick/options?with=quint",
        "/deals/options?company=quint",
        "/search?q=quint",
        "/contacts?q=quint",
        "/contacts?company=quint",
        "/companies?q=quint",
        "/contacts/new",
        "/companies/new",
        "/deals/new",
        "/account",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    paths.extend([
        format!("/contacts/{contact}"),
        format!("/companies/{company}"),
        format!("/deals/{deal}"),
        format!("/contacts/{contact}/edit"),
        format!("/deals/{deal}/edit"),
        format!("/contacts/{contact}/merge"),
        // The other rep's records by id, as a chosen suggestion names them.
        format!("/contacts/{contact}/merge?with=X%20(%23{})", w.quin.contact),
        format!(
            "/companies/{company}/merge?with=X%20(%23{})",
            w.quin.company
        ),
        // Filters naming the other rep's company (as a manager's shared view may).
        format!("/contacts?company_id={}", w.quin.company),
        format!("/deals?company={}", w.quin.company),
        format!("/deals/list?company={}", w.quin.company),
        format!("/deals?company=X%20(%23{})", w.quin.company),
        format!("/activities?contact_id={contact}&with_deals=true"),
        format!("/activities?company_id={company}&with_deals=true"),
        format!("/activities?deal_id={deal}"),
        format!("/contacts/{contact}/delete"),
        format!("/companies/{company}/edit"),
        format!("/companies/{company}/delete"),
        format!("/companies/{company}/merge"),
        format!("/tasks/{}/edit", w.zeb.task),
        format!("/tasks/{}/notes", w.zeb.task),
        format!("/activities/{}/history", w.zeb.note),
    ]);
    paths
}

/// The API's lists, search, timelines and tasks for the first rep's records.
fn api_paths(w: &crate::access::World) -> Vec<String> {
    let (contact, company, deal) = (w.zeb.contact, w.zeb.company, w.zeb.deal);
    vec![
        "/api/v1/contacts".into(),
        "/api/v1/contacts?q=Person".into(),
        "/api/v1/companies".into(),
        "/api/v1/deals".into(),
        "/api/v1/deals?status=open&sort=amount".into(),
        "/api/v1/tasks".into(),
        "/api/v1/tasks?done=false".into(),
        "/api/v1/search?q=person".into(),
        "/api/v1/search?q=works".into(),
        "/api/v1/search?q=p".into(),
        "/api/v1/search?q=quint".into(),
        "/api/v1/contacts?q=quint".into(),
        "/api/v1/contacts?company=quint".into(),
        "/api/v1/companies?q=quint".into(),
        "/api/v1/pipelines".into(),
        format!("/api/v1/tasks/{}", w.zeb.task),
        format!("/api/v1/deals/{deal}/stage-changes"),
        format!("/api/v1/activities/{}/revisions", w.zeb.note),
        format!("/api/v1/contacts/{contact}"),
        format!("/api/v1/companies/{company}"),
        format!("/api/v1/deals/{deal}"),
        format!("/api/v1/activities?contact_id={contact}&with_deals=true"),
        format!("/api/v1/activities?company_id={company}&with_deals=true"),
        format!("/api/v1/activities?deal_id={deal}"),
    ]
}

/// Where `body` (the answer to `path`) names the second rep's records, with the text
/// around the first mention.
fn leak(path: &str, body: &str) -> Option<String> {
    let at = body.to_lowercase().find("quintessa")?;
    let around: String = body
        .char_indices()
        .filter(|(i, _)| *i + 120 > at && *i < at + 60)
        .map(|(_, c)| c)
        .collect();
    Some(format!("GET {path} leaks: …{around}…"))
}

fn leaks(body: &str) -> bool {
    body.to_lowercase().contains("quintessa")
}

#[actix_web::test]
async fn nothing_a_rep_fetches_names_another_rep_s_records() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    assert_nothing_leaks(&app, &w).await;
}

/// Links a manager made from the first rep's records to the second rep's (the deal's
/// company and contacts, the contact's company) show no name of those either.
#[actix_web::test]
async fn nothing_a_rep_fetches_names_another_rep_s_records_linked_to_theirs() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let deal =
        json!({"company_id": w.quin.company, "contact_ids": [w.zeb.contact, w.quin.contact]});
    let path = format!("/api/v1/deals/{}", w.zeb.deal);
    c.api_ok(Method::PATCH, &path, &manager, Some(deal)).await;
    let path = format!("/api/v1/contacts/{}", w.zeb.contact);
    let contact = json!({"company_id": w.quin.company});
    c.api_ok(Method::PATCH, &path, &manager, Some(contact))
        .await;
    rule(&app, true).await;
    assert_nothing_leaks(&app, &w).await;
}

/// Fetches every page and API answer as the first rep and fails on any trace of the
/// second rep's records.
async fn assert_nothing_leaks(app: &TestApp, w: &crate::access::World) {
    let mut rep = app.client().await;
    let res = rep.sign_in(REP1, PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let (mut seen_own, mut leaked) = (0, Vec::new());
    for path in page_paths(w) {
        let res = rep.get(&path).await;
        // The merge page names a record the rep may not see as it names one that is not.
        let refused = path.contains("merge?with") && res.status == 422;
        assert!(res.status == 200 || refused, "GET {path}: {}", res.text());
        leaked.extend(leak(&path, &res.text()));
        seen_own += usize::from(res.text().contains("Zebedee"));
    }
    let mut api = app.client().await;
    let pipelines = api.get_json("/api/v1/pipelines", &w.rep1).await;
    for stage in pipelines[0]["stages"].as_array().expect("stages") {
        let path = format!("/deals/column/{}?offset=0", stage["id"]);
        let res = rep.hx_get(&path).await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        leaked.extend(leak(&path, &res.text()));
    }
    for path in api_paths(w) {
        let res = api.api(Method::GET, &path, &w.rep1, None).await;
        assert_eq!(res.status, 200, "GET {path}: {}", res.text());
        leaked.extend(leak(&path, &res.text()));
        seen_own += usize::from(res.text().contains("Zebedee"));
    }
    assert!(leaked.is_empty(), "{}", leaked.join("\n"));
    assert!(
        seen_own > 20,
        "the rep's own records show ({seen_own} answers)"
    );
}

/// The same answers name the second rep's records for a manager: the marker is there
/// to be found, so the rep's test can fail.
#[actix_web::test]
async fn a_manager_fetching_the_same_answers_sees_both_reps() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut manager = app.signed_in("boss@example.com", "manager").await;
    for path in [
        "/contacts",
        "/companies",
        "/contacts/export.csv",
        "/deals",
        "/deals/list",
        "/search?q=person",
    ] {
        let res = manager.get(path).await;
        assert_eq!(res.status, 200, "GET {path}");
        assert!(leaks(&res.text()), "the manager sees Quintessa on {path}");
    }
    let token = app.api_user("manager").await;
    let mut api = app.client().await;
    for path in [
        "/api/v1/contacts",
        "/api/v1/deals",
        "/api/v1/tasks",
        "/api/v1/search?q=person",
    ] {
        let res = api.api(Method::GET, path, &token, None).await;
        assert_eq!(res.status, 200, "GET {path}");
        assert!(leaks(&res.text()), "the manager sees Quintessa on {path}");
    }
    let _ = w;
}
