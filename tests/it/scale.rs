//! Lists at scale: a filtered total past the exact limit is an estimate that pages call
//! "about", and keyset paging (`after`) gives the pages OFFSET gives.
use actix_web::http::Method;
use serde_json::json;

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

/// Every item of a contact list, read `per_page` at a time by keyset (`after`).
async fn every_page(
    c: &mut Client<impl TestService>,
    token: &str,
    query: &str,
    per_page: u64,
) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = Vec::new();
    loop {
        let after = all
            .last()
            .map(|i| format!("&after={}", i["id"]))
            .unwrap_or_default();
        let list = c
            .get_json(
                &format!("/api/v1/contacts?{query}&per_page={per_page}{after}"),
                token,
            )
            .await;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return all;
        }
        all.extend(items);
    }
}

/// A filter with a sort of its own index (source by name) or sorted from its index
/// (company by name) gives the unfiltered list's order, ties in name by id included,
/// and its keyset pages follow it.
#[actix_web::test]
async fn a_filtered_list_keeps_the_full_lists_order_in_every_sort() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 150).await;
    let mut c = app.client().await;
    for _ in 0..3 {
        let body = json!({"first_name": "Ana", "last_name": "Silva", "source": "event"});
        c.create("/api/v1/contacts", &token, body).await;
    }
    let firsts = every_page(&mut c, &token, "sort=oldest", 100).await;
    let company = firsts
        .iter()
        .find_map(|i| i["company"].as_str())
        .expect("a seeded contact with a company")
        .to_string();
    for sort in ["name", "name_desc", "newest", "oldest"] {
        let full = every_page(&mut c, &token, &format!("sort={sort}"), 100).await;
        assert_eq!(full.len(), 153, "{sort}: every contact");
        let filters: [(String, Keeps); 2] = [
            ("source=event".into(), Box::new(|i| i["source"] == "event")),
            (
                format!("company={}", company.replace(' ', "%20")),
                Box::new(|i| {
                    let name = i["company"].as_str().unwrap_or("").to_lowercase();
                    name.contains(&company.to_lowercase())
                }),
            ),
        ];
        for (filter, keeps) in filters {
            let want: Vec<i64> = full.iter().filter(|i| keeps(i)).map(id).collect();
            let got: Vec<i64> = every_page(&mut c, &token, &format!("{filter}&sort={sort}"), 2)
                .await
                .iter()
                .map(id)
                .collect();
            assert!(want.len() >= 3, "{filter}: a few contacts match");
            assert_eq!(got, want, "{filter} sorted {sort}: the full list's order");
        }
    }
}

/// Whether a list item matches a filter, judged from the item.
type Keeps<'a> = Box<dyn Fn(&serde_json::Value) -> bool + 'a>;

fn id(item: &serde_json::Value) -> i64 {
    item["id"].as_i64().expect("an id")
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

/// A tag on more contacts than the exact limit: the list walks each sort's index testing
/// every contact for the tag (past the limit) instead of reading every tagged one. Its
/// first page and the page after it are the full list's tagged contacts in order, a
/// trashed one left out; the total is "about" past the limit and exact under it.
#[actix_web::test]
async fn a_tag_past_ten_thousand_pages_as_the_full_list_does_in_every_sort() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 10_020).await;
    let mut c = app.client().await;
    for tag in ["Wide", "Broad"] {
        let body = json!({"action": "tag", "tag": tag, "filter": {}});
        let res = c
            .api(Method::POST, "/api/v1/contacts/bulk", &token, Some(body))
            .await;
        assert_eq!(res.status, 200, "tagging every contact: {}", res.text());
    }
    for (first, last) in [("Ann", "Aardvark"), ("Zoe", "Zzyzx")] {
        let body = json!({"first_name": first, "last_name": last, "source": "paid"});
        c.create("/api/v1/contacts", &token, body).await;
    }
    let newest_tagged = ids(&c
        .get_json("/api/v1/contacts?tags=wide&per_page=1", &token)
        .await);
    c.trash("contacts", newest_tagged[0], &token).await;
    for sort in ["newest", "oldest", "name", "name_desc"] {
        let full = c
            .get_json(&format!("/api/v1/contacts?sort={sort}&per_page=60"), &token)
            .await;
        let want: Vec<i64> = full["items"]
            .as_array()
            .expect("a list")
            .iter()
            .filter(|i| {
                i["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("Wide")))
            })
            .map(id)
            .collect();
        // One tag is counted from its links; two by probing each linked contact.
        for tags in ["wide", "wide,broad"] {
            let base = format!("/api/v1/contacts?tags={tags}&sort={sort}&per_page=20");
            let first = c.get_json(&base, &token).await;
            assert_eq!(
                first["total_is_estimate"], true,
                "{tags} {sort}: about: {first}"
            );
            assert_eq!(
                ids(&first),
                want[..20],
                "{tags} {sort}: the tagged first page"
            );
            let after = ids(&c
                .get_json(&format!("{base}&after={}", want[19]), &token)
                .await);
            assert_eq!(
                after,
                want[20..40],
                "{tags} {sort}: the page after, by keyset"
            );
        }
    }
    let paid = c
        .get_json("/api/v1/contacts?tags=wide&source=paid&per_page=1", &token)
        .await;
    let tagged = "contacts t JOIN contact_tags ct ON ct.contact_id = t.id \
                  JOIN tags g ON g.id = ct.tag_id";
    let paid_live = " WHERE g.name_norm = 'wide' AND t.source = 'paid' AND t.deleted_at IS NULL";
    let exact = app.count_where(tagged, paid_live).await;
    assert!(
        paid.get("total_is_estimate").is_none(),
        "under 10 000: {paid}"
    );
    assert_eq!(
        paid["total"].as_i64(),
        Some(exact),
        "the exact count: {paid}"
    );
}

/// The contacts of a list whose items carry `tag`, in the list's order.
fn tagged_ids(items: &[serde_json::Value], tag: &str) -> Vec<i64> {
    items
        .iter()
        .filter(|i| {
            i["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!(tag)))
        })
        .map(id)
        .collect()
}

/// A tag on more contacts than the exact limit beside a narrower filter: the list reads
/// the other filter's matches and tests each for the tag (a source's or an owner's index
/// walked in order, a company name's contacts sorted), or, when that walk could be long
/// (a source of 1 200 contacts, two of them tagged), reads the tag's links. Each gives
/// the filtered list's tagged contacts in its order, page after page, with an exact
/// total.
#[actix_web::test]
async fn a_wide_tag_beside_a_narrower_filter_pages_as_the_filtered_list_in_every_sort() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 12_000).await;
    let mut c = app.client().await;
    for body in [
        json!({"action": "tag", "tag": "Wide", "filter": {}}),
        json!({"action": "untag", "tag": "Wide", "filter": {"source": "event"}}),
    ] {
        let res = c
            .api(Method::POST, "/api/v1/contacts/bulk", &token, Some(body))
            .await;
        assert_eq!(res.status, 200, "tagging: {}", res.text());
    }
    let seeded = c.get_json("/api/v1/contacts?per_page=100", &token).await;
    let item = seeded["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["company_id"].is_i64()))
        .cloned()
        .expect("a seeded contact with a company");
    let rep = app.user("rep2@example.com", "rep").await;
    for (n, tags) in [(0, json!([])), (1, json!(["Wide"])), (2, json!(["Wide"]))] {
        let last = format!("Late{n}");
        for body in [
            json!({"first_name": "Pat", "last_name": last, "source": "paid", "tags": tags}),
            json!({"first_name": "Pat", "last_name": last, "company_id": item["company_id"], "tags": tags}),
            json!({"first_name": "Pat", "last_name": last, "owner_id": rep.id, "tags": tags}),
            json!({"first_name": "Pat", "last_name": last, "source": "event", "tags": tags}),
        ] {
            c.create("/api/v1/contacts", &token, body).await;
        }
    }
    let company = item["company"].as_str().expect("its company's name");
    let filters = [
        "source=paid".to_string(),
        format!("company={}", company.replace(' ', "%20")),
        format!("owner={}", rep.id),
        "source=event".to_string(),
    ];
    for sort in ["newest", "oldest", "name", "name_desc"] {
        for filter in &filters {
            let plain = every_page(&mut c, &token, &format!("{filter}&sort={sort}"), 100).await;
            let want = tagged_ids(&plain, "Wide");
            assert!(want.len() >= 2, "{filter}: a few tagged contacts match");
            let base = format!("/api/v1/contacts?{filter}&tags=wide&sort={sort}&per_page=20");
            let first = c.get_json(&base, &token).await;
            assert_eq!(
                first["total"].as_u64(),
                Some(want.len() as u64),
                "{filter} {sort}: the exact total: {first}"
            );
            let end = want.len().min(20);
            assert_eq!(ids(&first), want[..end], "{filter} {sort}: the first page");
            if want.len() > 20 {
                let next = ids(&c
                    .get_json(&format!("{base}&after={}", want[19]), &token)
                    .await);
                let end = want.len().min(40);
                assert_eq!(next, want[20..end], "{filter} {sort}: the page after");
            }
        }
    }
}

/// A list whose tags no contact carries together, or a page past its last match,
/// answers an empty page and the exact total without reading one.
#[actix_web::test]
async fn a_tag_list_with_no_match_or_past_its_end_is_an_empty_page() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    for (last, tags) in [
        ("One", json!(["Gold"])),
        ("Two", json!(["Gold"])),
        ("Three", json!(["Rare"])),
    ] {
        let body = json!({"first_name": "Kim", "last_name": last, "tags": tags});
        c.create("/api/v1/contacts", &token, body).await;
    }
    let both = c.get_json("/api/v1/contacts?tags=gold,rare", &token).await;
    assert_eq!(both["total"], 0, "no contact carries both: {both}");
    assert_eq!(both["items"], json!([]), "an empty page: {both}");
    let past = c
        .get_json("/api/v1/contacts?tags=gold&per_page=1&page=3", &token)
        .await;
    assert_eq!(past["total"], 2, "the total stays exact: {past}");
    assert_eq!(past["items"], json!([]), "page 3 of 2: {past}");
    let last = c
        .get_json("/api/v1/contacts?tags=gold&per_page=1&page=2", &token)
        .await;
    assert_eq!(ids(&last).len(), 1, "page 2 of 2 has its contact: {last}");
}

/// A list's estimated total is kept for its filters and scope, whatever the sort or page,
/// so writes in between leave it as it was (for up to a minute); other filters are
/// estimated afresh, and an exact total is counted again after every write.
#[actix_web::test]
async fn an_estimated_total_is_kept_while_an_exact_one_follows_every_write() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 12_000).await;
    let mut c = app.client().await;
    let first = c
        .get_json("/api/v1/contacts?q=example&per_page=1", &token)
        .await;
    assert_eq!(first["total_is_estimate"], true, "12 000 match: {first}");
    assert_eq!(first["total"], 12_000, "every contact matches: {first}");
    let paid = app.count_where("contacts", " WHERE source = 'paid'").await;
    assert!(paid >= 1000, "seeding made {paid} paid contacts: too few");
    let before = c.get_json("/api/v1/contacts?source=paid", &token).await;
    assert_eq!(before["total"].as_i64(), Some(paid), "exact: {before}");
    let body = json!({"action": "delete", "filter": {"source": "paid"}});
    let res = c
        .api(Method::POST, "/api/v1/contacts/bulk", &token, Some(body))
        .await;
    assert_eq!(
        res.status,
        200,
        "trashing the paid contacts: {}",
        res.text()
    );
    let kept = c
        .get_json(
            "/api/v1/contacts?q=example&per_page=5&sort=name&page=2",
            &token,
        )
        .await;
    assert_eq!(kept["total"], 12_000, "the kept estimate: {kept}");
    assert_eq!(kept["total_is_estimate"], true, "still about: {kept}");
    let fresh = c
        .get_json("/api/v1/contacts?q=exampl&per_page=1", &token)
        .await;
    let left = fresh["total"].as_i64().unwrap_or(0);
    assert!(
        (10_000..12_000).contains(&left),
        "another filter's estimate counts {} live contacts: {fresh}",
        12_000 - paid
    );
    let after = c.get_json("/api/v1/contacts?source=paid", &token).await;
    assert_eq!(
        after["total"], 0,
        "the exact total after the write: {after}"
    );
    assert!(after.get("total_is_estimate").is_none(), "exact: {after}");
}

/// A wide tag beside an owner of more contacts than the exact limit, whose tagged
/// contacts are fewer: the owner's size is estimated (not counted) to choose how the tag
/// is read, and the list is still the owner's tagged contacts in order, exactly counted.
#[actix_web::test]
async fn a_wide_tag_beside_a_broad_owner_is_the_owners_tagged_contacts() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 12_000).await;
    let mut c = app.client().await;
    let rep = app.user("rep2@example.com", "rep").await;
    for body in [
        json!({"action": "change_owner", "owner_id": rep.id, "filter": {"source": "paid"}}),
        json!({"action": "tag", "tag": "Wide", "filter": {}}),
        json!({"action": "untag", "tag": "Wide", "filter": {"source": "event"}}),
    ] {
        let res = c
            .api(Method::POST, "/api/v1/contacts/bulk", &token, Some(body))
            .await;
        assert_eq!(res.status, 200, "bulk: {}", res.text());
    }
    let admin = c
        .get_json("/api/v1/contacts?source=organic&per_page=1", &token)
        .await;
    let owner = admin["items"][0]["owner_id"].as_i64().expect("an owner");
    let owned = format!(" WHERE owner_id = {owner} AND deleted_at IS NULL");
    let both = format!("{owned} AND source NOT IN ('paid', 'event')");
    let wide = app
        .count_where("contacts", " WHERE source <> 'event'")
        .await;
    let (owned, both) = (
        app.count_where("contacts", &owned).await,
        app.count_where("contacts", &both).await,
    );
    assert!(
        owned > 10_000 && wide > 10_000,
        "{owned} owned, {wide} wide"
    );
    assert!(
        both <= 10_000,
        "{both} wide owned contacts: over the exact limit"
    );
    for sort in ["newest", "name"] {
        let plain = c
            .get_json(
                &format!("/api/v1/contacts?owner={owner}&sort={sort}&per_page=100"),
                &token,
            )
            .await;
        let want = tagged_ids(plain["items"].as_array().expect("items"), "Wide");
        let url = format!("/api/v1/contacts?owner={owner}&tags=wide&sort={sort}&per_page=20");
        let list = c.get_json(&url, &token).await;
        assert_eq!(list["total"].as_i64(), Some(both), "{sort}: exact: {list}");
        assert_eq!(ids(&list), want[..20], "{sort}: the first page");
    }
}

/// A total estimated far past the exact limit is answered from the kept estimate without
/// counting, but only while the list's pages are full: once its records are gone, the
/// next page is short and the list is counted again, so an empty list never says "about
/// 21 000".
#[actix_web::test]
async fn a_kept_estimate_is_dropped_once_the_lists_page_comes_back_short() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 21_000).await;
    let mut c = app.client().await;
    let first = c.get_json("/api/v1/contacts?q=example", &token).await;
    assert_eq!(first["total"], 21_000, "every contact matches: {first}");
    assert_eq!(first["total_is_estimate"], true, "21 000 match: {first}");
    let kept = c
        .get_json("/api/v1/contacts?q=example&sort=name", &token)
        .await;
    assert_eq!(kept["total"], 21_000, "the kept estimate: {kept}");
    assert_eq!(ids(&kept).len(), 25, "a full page: {kept}");
    let body = json!({"action": "delete", "filter": {}});
    let res = c
        .api(Method::POST, "/api/v1/contacts/bulk", &token, Some(body))
        .await;
    assert_eq!(res.status, 200, "trashing every contact: {}", res.text());
    let after = c.get_json("/api/v1/contacts?q=example", &token).await;
    assert_eq!(after["total"], 0, "counted once the page is short: {after}");
    assert!(after.get("total_is_estimate").is_none(), "exact: {after}");
}
