//! Record-level access and links: with "reps see only their own records" on, a rep
//! cannot link their deal to another rep's company or contacts (by id: as one that does
//! not exist; by name: told it is another rep's), while links a manager made stay when
//! the rep edits the deal.
use actix_web::http::Method;
use serde_json::json;

use crate::access::{REP1, World, rule, world};
use crate::support::*;

/// The first rep's deal's company and contact ids (sorted), as a manager reads them.
async fn links(app: &TestApp, w: &World, manager: &str) -> (Option<i64>, Vec<i64>) {
    let mut c = app.client().await;
    let deal = c
        .get_json(&format!("/api/v1/deals/{}", w.zeb.deal), manager)
        .await;
    let contacts = deal["contacts"].as_array().expect("contacts");
    let mut ids: Vec<i64> = contacts.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort();
    (deal["company_id"].as_i64(), ids)
}

/// A world whose manager linked the first rep's deal to the other rep's company and
/// contact too, with own-records-only then turned on; the manager's token.
async fn deal_linked_by_a_manager() -> (TestApp, World, String) {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let path = format!("/api/v1/deals/{}", w.zeb.deal);
    let linked =
        json!({"company_id": w.quin.company, "contact_ids": [w.zeb.contact, w.quin.contact]});
    app.client()
        .await
        .api_ok(Method::PATCH, &path, &manager, Some(linked))
        .await;
    rule(&app, true).await;
    (app, w, manager)
}

/// The manager's links on the first rep's deal are all still there.
async fn assert_manager_s_links_kept(app: &TestApp, w: &World, manager: &str) {
    let mut want = vec![w.zeb.contact, w.quin.contact];
    want.sort();
    assert_eq!(
        links(app, w, manager).await,
        (Some(w.quin.company), want),
        "the manager's links stay"
    );
}

/// The first rep opens the edit form of the record at `record` (which must not name the
/// other rep's Quintessa) and saves it as it came.
async fn save_unchanged_as_rep1(app: &TestApp, record: &str) -> Response {
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    let form = rep.get(&format!("{record}/edit")).await;
    assert_eq!(form.status, 200, "{record}/edit: {}", form.text());
    assert!(!form.text().contains("Quintessa"), "{}", form.text());
    let fields = edit_form_fields(&form.text());
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    rep.post_form_ok(record, &pairs).await
}

#[actix_web::test]
async fn a_rep_s_deal_edit_cannot_link_another_rep_s_company_or_contact_by_id() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let path = format!("/api/v1/deals/{}", w.zeb.deal);
    for (field, body) in [
        ("company_id", json!({"company_id": w.quin.company})),
        (
            "contact_ids",
            json!({"contact_ids": [w.zeb.contact, w.quin.contact]}),
        ),
    ] {
        let res = c.api(Method::PATCH, &path, &w.rep1, Some(body)).await;
        res.refuses_field(field);
        assert!(!res.text().contains("Quintessa"), "{}", res.text());
    }
    assert_eq!(
        links(&app, &w, &manager).await,
        (Some(w.zeb.company), vec![w.zeb.contact]),
        "the deal's links are unchanged"
    );
}

#[actix_web::test]
async fn links_a_manager_made_stay_when_the_rep_edits_the_deal() {
    let (app, w, manager) = deal_linked_by_a_manager().await;
    let path = format!("/api/v1/deals/{}", w.zeb.deal);
    app.client()
        .await
        .api_ok(
            Method::PATCH,
            &path,
            &w.rep1,
            Some(json!({"title": "Renamed"})),
        )
        .await;
    assert_manager_s_links_kept(&app, &w, &manager).await;
}

#[actix_web::test]
async fn the_deal_form_refuses_another_rep_s_company_by_name() {
    let app = TestApp::new().await;
    world(&app).await;
    rule(&app, true).await;
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    rep.get("/deals/new").await;
    let res = rep
        .post_form(
            "/deals",
            &[("title", "Linked"), ("company", "quintessa works")],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.text()
            .contains("Another rep&#39;s company has this name")
            || res.text().contains("Another rep's company has this name"),
        "{}",
        res.text()
    );
    assert_eq!(app.count_where("deals", " WHERE title = 'Linked'").await, 0);
}

#[actix_web::test]
async fn the_deal_form_refuses_another_rep_s_contact_by_name_or_email() {
    let app = TestApp::new().await;
    world(&app).await;
    rule(&app, true).await;
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    rep.get("/deals/new").await;
    for named in ["Quintessa Person", "quintessa@quintessa.example"] {
        let res = rep
            .post_form("/deals", &[("title", "Linked"), ("add_contact", named)])
            .await;
        assert_eq!(res.status, 422, "{named}: {}", res.text());
        assert!(
            res.text().contains("contact has this name"),
            "{}",
            res.text()
        );
    }
    assert_eq!(app.count_where("deals", " WHERE title = 'Linked'").await, 0);
}

#[actix_web::test]
async fn a_refused_deal_form_does_not_name_another_rep_s_contact_it_was_sent() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    rep.get("/deals/new").await;
    let id = w.quin.contact.to_string();
    let res = rep
        .post_form("/deals", &[("title", ""), ("contact_ids", &id)])
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(!res.text().contains("Quintessa"), "{}", res.text());
}

#[actix_web::test]
async fn the_deal_form_keeps_a_manager_s_links_when_the_rep_saves_it() {
    let (app, w, manager) = deal_linked_by_a_manager().await;
    let res = save_unchanged_as_rep1(&app, &format!("/deals/{}", w.zeb.deal)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_manager_s_links_kept(&app, &w, &manager).await;
}

#[actix_web::test]
async fn the_contact_form_keeps_a_manager_s_company_link_when_the_rep_saves_it() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    let path = format!("/api/v1/contacts/{}", w.zeb.contact);
    let linked = json!({"company_id": w.quin.company});
    c.api_ok(Method::PATCH, &path, &manager, Some(linked)).await;
    rule(&app, true).await;
    save_unchanged_as_rep1(&app, &format!("/contacts/{}", w.zeb.contact)).await;
    let contact = c.get_json(&path, &manager).await;
    assert_eq!(contact["company_id"], json!(w.quin.company), "{contact}");
    assert_eq!(app.count("companies").await, 2, "no company was added");
}

/// The named inputs of a form as the page filled them (text inputs, ticked
/// checkboxes, selected options), as a browser would post them.
fn edit_form_fields(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(
            tag[at..]
                .split('"')
                .next()?
                .replace("&#x27;", "'")
                .replace("&amp;", "&"),
        )
    };
    let mut out = Vec::new();
    for piece in html.split('<').skip(1) {
        let tag = piece.split('>').next().unwrap_or("");
        if tag.starts_with("input") {
            let (Some(name), value) = (attr(tag, "name"), attr(tag, "value")) else {
                continue;
            };
            let checkbox = tag.contains("type=\"checkbox\"");
            if name == "_csrf" || (checkbox && !tag.contains(" checked")) {
                continue;
            }
            out.push((name, value.unwrap_or_default()));
        }
    }
    out
}

/// A manager's shared view filtering by the other rep's company is left out of the
/// rep's list of views (its link would name the company); other shared views stay.
#[actix_web::test]
async fn a_shared_view_naming_another_rep_s_company_is_not_shown_to_the_rep() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let manager = app.user("boss@example.com", "manager").await;
    let query = format!("company_id={}", w.quin.company);
    for (name, query) in [("Key account", query.as_str()), ("By name", "sort=name")] {
        cairn::domain::views::create(&app.db, &manager, "contacts", name, query, true)
            .await
            .expect("a shared view");
    }
    rule(&app, true).await;
    let mut rep = app.client().await;
    rep.sign_in(REP1, PASSWORD).await;
    let page = rep.get("/contacts").await.text();
    assert!(page.contains("By name"), "{page}");
    assert!(!page.contains("Key account"), "{page}");
    assert!(!page.contains(&query), "{page}");
}

#[actix_web::test]
async fn a_rep_s_deal_without_a_company_is_not_said_to_have_another_rep_s() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let mut c = app.client().await;
    let path = format!("/api/v1/deals/{}", w.zeb.deal);
    c.api_ok(
        Method::PATCH,
        &path,
        &w.rep1,
        Some(json!({"company_id": null})),
    )
    .await;
    let deal = c.get_json(&path, &w.rep1).await;
    assert!(deal["company"].is_null(), "no company is no name: {deal}");
    let board = c.get_json("/api/v1/deals?per_page=100", &w.rep1).await;
    assert!(
        !board
            .to_string()
            .contains(cairn::domain::access::OTHERS_COMPANY),
        "the rep's own deals have no hidden company: {board}"
    );
}
