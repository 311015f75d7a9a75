//! Lists at scale: a filtered total past the exact limit is an estimate that pages call
//! "about", and keyset paging (`after`) gives the pages OFFSET gives.
use actix_web::http::Method;

use crate::support::*;

/// The ids of a list answer's items.
fn ids(list: &serde_json::Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|i| i["id"].as_i64().expect("an id"))
        .collect()
}

#[actix_web::test]
async fn a_filtered_total_past_ten_thousand_is_an_estimate_and_pages_say_about() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 12_000).await;
    let mut c = app.client().await;
    let all = c
        .get_json("/api/v1/contacts?q=example&per_page=1", &token)
        .await;
    assert_eq!(all["total_is_estimate"], true, "12 000 match: {all}");
    assert_eq!(
        all["total"], 12_000,
        "every sampled contact matches, so the estimate is the live count: {all}"
    );
    let paid = c
        .get_json("/api/v1/contacts?source=paid&per_page=1", &token)
        .await;
    assert!(
        paid.get("total_is_estimate").is_none(),
        "under 10 000 paid contacts are counted exactly: {paid}"
    );
    let exact = app.count_where("contacts", " WHERE source = 'paid'").await;
    assert_eq!(paid["total"].as_i64(), Some(exact), "the exact count");
    let mut web = app.signed_in("web@example.com", "manager").await;
    let html = web.get("/contacts?q=example").await.text();
    assert!(
        html.contains("about 12000 contacts match"),
        "the page says the total is an estimate"
    );
}

#[actix_web::test]
async fn the_page_after_a_record_is_the_next_page_in_every_sort() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 80).await;
    let mut c = app.client().await;
    for (list, sorts) in [
        ("contacts", &["newest", "oldest", "name", "name_desc"][..]),
        ("companies", &["name", "name_desc", "newest", "oldest"][..]),
    ] {
        for sort in sorts {
            let base = format!("/api/v1/{list}?sort={sort}&per_page=3");
            let first = ids(&c.get_json(&base, &token).await);
            let second = ids(&c.get_json(&format!("{base}&page=2"), &token).await);
            let after = ids(&c
                .get_json(&format!("{base}&after={}", first[2]), &token)
                .await);
            assert_eq!(after, second, "{list} sorted {sort}: page 2 by keyset");
        }
    }
    let res = c
        .api(Method::GET, "/api/v1/contacts?after=last", &token, None)
        .await;
    res.refuses_field("after");
}

#[actix_web::test]
async fn the_list_pages_next_link_seeks_after_its_last_row() {
    let app = TestApp::new().await;
    let mut web = app.signed_in("web@example.com", "manager").await;
    crate::bulk::seed(&app, 30).await;
    let html = web.get("/contacts").await.text().replace("&#38;", "&");
    let next = html.lines().find(|l| l.contains("rel=\"next\""));
    assert!(
        next.is_some_and(|l| l.contains("/contacts?page=2&after=")),
        "Next links to the page after the last row: {next:?}"
    );
}
