//! A contact's tag links carry copies of its source, owner, company and trash state
//! (migration 000055), from which a tag beside those filters is counted: every kind of
//! write keeps them equal to the contact's, and the lists counted from them are the
//! plain lists' tagged contacts.
use actix_web::http::Method;
use cairn::domain::Actor;
use cairn::domain::import::{ObjectKind, OnMatch, Target};
use serde_json::json;

use crate::import_given::{options, run, sourced, with_admin};
use crate::support::*;

/// Links whose copies differ from their contact's columns.
async fn stale(app: &TestApp) -> i64 {
    app.count_where(
        "contact_tags ct JOIN contacts c ON c.id = ct.contact_id",
        " WHERE NOT (COALESCE(ct.source, '') = c.source \
           AND COALESCE(ct.owner_id, 0) = c.owner_id \
           AND COALESCE(ct.company_id, 0) = COALESCE(c.company_id, 0) \
           AND ((ct.deleted_at IS NULL AND c.deleted_at IS NULL) \
                OR ct.deleted_at = c.deleted_at))",
    )
    .await
}

/// Asserts every link's copies are its contact's, after `write`, and that there are
/// `links` links.
async fn exact(app: &TestApp, write: &str, links: i64) {
    let n = stale(app).await;
    assert_eq!(
        n, 0,
        "after {write}: {n} links' copies differ from their contact"
    );
    let all = app.count("contact_tags").await;
    assert_eq!(all, links, "after {write}: the links");
}

/// POST /api/v1/contacts/bulk `body`, which must succeed.
async fn bulk(c: &mut Client<impl TestService>, token: &str, body: serde_json::Value) {
    let path = "/api/v1/contacts/bulk";
    c.api_ok(Method::POST, path, token, Some(body)).await;
}

async fn patch(c: &mut Client<impl TestService>, token: &str, id: i64, body: serde_json::Value) {
    let path = format!("/api/v1/contacts/{id}");
    c.api_ok(Method::PATCH, &path, token, Some(body)).await;
}

/// An admin's token, a rep, and a contact Ana (paid, of company Acme, tagged Vip and
/// Beta); Acme's and Globex's ids.
async fn ana(app: &TestApp, c: &mut Client<impl TestService>) -> (String, Actor, i64, i64) {
    let token = app.token("admin@example.com").await;
    let rep = app.user("rep2@example.com", "rep").await;
    let acme = c
        .create("/api/v1/companies", &token, json!({"name": "Acme"}))
        .await;
    let globex = c
        .create("/api/v1/companies", &token, json!({"name": "Globex"}))
        .await;
    let body = json!({"first_name": "Ana", "last_name": "One", "source": "paid",
        "company_id": acme, "tags": ["Vip", "Beta"]});
    let ana = c.create("/api/v1/contacts", &token, body).await;
    (token, rep, ana, globex)
}

#[actix_web::test]
async fn record_and_bulk_writes_keep_the_links_copies_exact() {
    let (app, admin) = with_admin().await;
    let mut c = app.client().await;
    let (token, rep, ana, globex) = ana(&app, &mut c).await;
    exact(&app, "a create", 2).await;
    let moved = json!({"source": "event", "owner_id": rep.id, "company_id": globex});
    patch(&mut c, &token, ana, moved).await;
    exact(&app, "an edit of source, owner and company", 2).await;
    patch(
        &mut c,
        &token,
        ana,
        json!({"tags": ["Vip", "Gamma", "Delta"]}),
    )
    .await;
    exact(&app, "an edit of the tags", 3).await;
    let body = json!({"first_name": "Bo", "last_name": "Two", "email": "bo@example.com",
        "source": "organic", "tags": ["Omega"]});
    let bo = c.create("/api/v1/contacts", &token, body).await;
    bulk(
        &mut c,
        &token,
        json!({"action": "tag", "tag": "Wide", "filter": {}}),
    )
    .await;
    exact(&app, "bulk tagging", 6).await;
    let owner = json!({"action": "change_owner", "owner_id": admin.id, "filter": {}});
    bulk(&mut c, &token, owner).await;
    exact(&app, "a bulk owner change", 6).await;
    let untag = json!({"action": "untag", "tag": "Wide", "filter": {"source": "organic"}});
    bulk(&mut c, &token, untag).await;
    exact(&app, "bulk untagging", 5).await;
    let path = format!("/api/v1/contacts/{bo}/merge");
    let body = json!({"merge_id": ana, "take": ["company"]});
    c.api_ok(Method::POST, &path, &token, Some(body)).await;
    // Bo keeps his tag and takes Ana's four; Ana is deleted with hers.
    exact(&app, "a merge", 5).await;
    let taken = format!(" WHERE contact_id = {bo} AND company_id = {globex}");
    let n = app.count_where("contact_tags", &taken).await;
    assert_eq!(n, 5, "Bo's links carry the company he took from Ana");
}

#[actix_web::test]
async fn trash_restore_purge_and_import_keep_the_links_copies_exact() {
    let (app, admin) = with_admin().await;
    let mut c = app.client().await;
    let (token, _, ana, _) = ana(&app, &mut c).await;
    c.trash("contacts", ana, &token).await;
    exact(&app, "a trashing", 2).await;
    let trashed = " WHERE deleted_at IS NOT NULL";
    assert_eq!(
        app.count_where("contact_tags", trashed).await,
        2,
        "both links trashed"
    );
    c.restore("contacts", ana, &token).await;
    exact(&app, "a restore", 2).await;
    let body = json!({"first_name": "Bo", "last_name": "Two", "email": "bo@example.com",
        "source": "organic", "tags": ["Omega", "Beta"]});
    let bo = c.create("/api/v1/contacts", &token, body).await;
    let header = [
        ("First", "first_name"),
        ("Last", "last_name"),
        ("Email", "email"),
        ("Source", "source"),
    ];
    let rows: &[&[&str]] = &[
        &[
            "1",
            "Cy",
            "Three",
            "cy@example.com",
            "referral",
            "Vip; Import",
        ],
        &["2", "Bo", "Two", "bo@example.com", "stripe", "Vip"],
    ];
    let tags = [("Tags", Target::Tags)];
    let file = sourced("c.csv", ObjectKind::Contact, "Id", &header, &tags, rows);
    let (_, report) = run(&app, &admin, vec![file], &options(OnMatch::Update)).await;
    assert!(report.written, "the import is written: {report:#?}");
    // Ana's two, Cy's two, and Bo's replaced by Vip.
    exact(
        &app,
        "an import creating one contact and updating another",
        5,
    )
    .await;
    let bo_stripe = format!(" WHERE contact_id = {bo} AND source = 'stripe'");
    assert_eq!(
        app.count_where("contact_tags", &bo_stripe).await,
        1,
        "Bo's link updated"
    );
    c.trash("contacts", ana, &token).await;
    let mut web = app.client().await;
    web.sign_in("admin@example.com", PASSWORD).await;
    web.get("/settings/trash").await;
    web.post_form_ok(&format!("/settings/trash/contact/{ana}/purge"), &[])
        .await;
    exact(&app, "a purge", 3).await;
}

/// Two writers at once on the same contacts, one changing their owner and the other
/// their tags (in bulk, or one contact's by its form): on PostgreSQL a link is inserted
/// under a lock of its contact, so neither leaves a link with a copy the other changed.
/// (Without that lock, 27 to 60 of the 60 contacts' links kept a stale owner by round 4.)
#[actix_web::test]
async fn owner_changes_racing_tag_changes_leave_the_copies_exact() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 60).await;
    let owners = [
        app.user("rep2@example.com", "rep").await.id,
        app.user("boss@example.com", "admin").await.id,
    ];
    let (mut c1, mut c2) = (app.client().await, app.client().await);
    let ana = c1.get_json("/api/v1/contacts?per_page=1", &token).await["items"][0]["id"]
        .as_i64()
        .expect("a contact");
    for round in 0..8 {
        let owner = json!({"action": "change_owner", "owner_id": owners[round % 2], "filter": {}});
        let action = ["tag", "untag"][round % 2];
        let tag = json!({"action": action, "tag": "Hot", "filter": {}});
        tokio::join!(bulk(&mut c1, &token, owner), bulk(&mut c2, &token, tag));
        assert_eq!(
            stale(&app).await,
            0,
            "round {round}, in bulk: links' copies differ"
        );
        let tags = [json!(["Vip", "Beta"]), json!(["Gamma"])][round % 2].clone();
        let owner = json!({"owner_id": owners[(round + 1) % 2]});
        tokio::join!(
            patch(&mut c1, &token, ana, owner),
            patch(&mut c2, &token, ana, json!({"tags": tags})),
        );
        assert_eq!(
            stale(&app).await,
            0,
            "round {round}, one contact: links' copies differ"
        );
    }
}

/// Every item of the contact list `query` (`per_page` a page, page after page) and the
/// total its first page gave.
async fn every_page(
    c: &mut Client<impl TestService>,
    token: &str,
    query: &str,
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut all = Vec::new();
    let mut total = serde_json::Value::Null;
    for page in 1.. {
        let path = format!("/api/v1/contacts?{query}&per_page=50&page={page}");
        let list = c.get_json(&path, token).await;
        if page == 1 {
            total = list["total"].clone();
        }
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        all.extend(items);
    }
    (all, total)
}

/// The ids of `items`, only those carrying tag `tag` when it is given.
fn ids(items: &[serde_json::Value], tag: Option<&str>) -> Vec<i64> {
    items
        .iter()
        .filter(|i| {
            tag.is_none_or(|tag| {
                i["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!(tag)))
            })
        })
        .filter_map(|i| i["id"].as_i64())
        .collect()
}

/// A tag beside a source, an owner, a company (by id or name) or two of them, counted
/// and read from the links' copies: the plain list's tagged contacts in its order, a
/// trashed one and one moved to another owner left out, with the exact total.
#[actix_web::test]
async fn a_tag_beside_copied_filters_lists_the_plain_lists_tagged_contacts() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 300).await;
    let mut c = app.client().await;
    let rep = app.user("rep2@example.com", "rep").await;
    bulk(
        &mut c,
        &token,
        json!({"action": "tag", "tag": "Wide", "filter": {}}),
    )
    .await;
    let untag = json!({"action": "untag", "tag": "Wide", "filter": {"source": "event"}});
    bulk(&mut c, &token, untag).await;
    let paid = c
        .get_json("/api/v1/contacts?source=paid&per_page=100", &token)
        .await;
    let items = paid["items"].as_array().cloned().unwrap_or_default();
    assert!(items.len() > 4, "a few paid contacts: {paid}");
    let company = items[2..]
        .iter()
        .find(|i| i["company_id"].is_i64())
        .cloned()
        .expect("a paid contact with a company");
    c.trash("contacts", items[0]["id"].as_i64().expect("an id"), &token)
        .await;
    let mine = json!({"owner_id": rep.id});
    patch(
        &mut c,
        &token,
        items[1]["id"].as_i64().expect("an id"),
        mine,
    )
    .await;
    let name = company["company"].as_str().expect("a company name");
    let filters = [
        "source=paid".to_string(),
        format!("owner={}", rep.id),
        format!("company_id={}", company["company_id"]),
        format!("company={}", name.replace(' ', "%20")),
        format!("source=paid&owner={}", company["owner_id"]),
    ];
    for sort in ["newest", "name_desc"] {
        for filter in &filters {
            let (plain, _) = every_page(&mut c, &token, &format!("{filter}&sort={sort}")).await;
            let want = ids(&plain, Some("Wide"));
            assert!(!want.is_empty(), "{filter}: a tagged contact matches");
            let query = format!("{filter}&tags=wide&sort={sort}");
            let (list, total) = every_page(&mut c, &token, &query).await;
            assert_eq!(
                ids(&list, None),
                want,
                "{filter} {sort}: the plain list's tagged contacts"
            );
            assert_eq!(
                total.as_u64(),
                Some(want.len() as u64),
                "{filter}: the exact total"
            );
        }
    }
}

/// A rep's tag beside a source is counted from the links' copies of the owner too: only
/// the rep's own tagged contacts of that source, however many others match.
#[actix_web::test]
async fn a_reps_tag_beside_a_source_lists_only_their_own_contacts() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    crate::bulk::seed(&app, 300).await;
    let mut c = app.client().await;
    let rep = app.user("rep2@example.com", "rep").await;
    let rep_token = app.token("rep2@example.com").await;
    crate::access::rule(&app, true).await;
    bulk(
        &mut c,
        &token,
        json!({"action": "tag", "tag": "Wide", "filter": {}}),
    )
    .await;
    let paid = c
        .get_json("/api/v1/contacts?source=paid&per_page=3", &token)
        .await;
    let mine: Vec<i64> = ids(paid["items"].as_array().expect("items"), None)[..2].to_vec();
    for id in &mine {
        patch(&mut c, &token, *id, json!({"owner_id": rep.id})).await;
    }
    let (list, total) = every_page(&mut c, &rep_token, "source=paid&tags=wide").await;
    let mut got = ids(&list, None);
    got.sort();
    let mut want = mine.clone();
    want.sort();
    assert_eq!(got, want, "the rep's own paid contacts only");
    assert_eq!(total.as_u64(), Some(2), "the rep's exact total");
}
