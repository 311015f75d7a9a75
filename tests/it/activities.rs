//! Activities: logged on deals, contacts and companies through the API and the pages,
//! newest first, validated, removable by their author or a manager, kept through merges.
use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::*;

async fn deal(
    c: &mut Client<
        impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
            Error = actix_web::Error,
        >,
    >,
    token: &str,
    title: &str,
) -> i64 {
    let res = c
        .api(
            Method::POST,
            "/api/v1/deals",
            token,
            Some(json!({"title": title, "amount": 1000, "currency": "USD"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

/// Logs an activity through the API; its JSON. Anything but success fails the test.
async fn log(
    c: &mut Client<impl TestService>,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    c.api_ok(Method::POST, "/api/v1/activities", token, Some(body))
        .await
        .json()
}

/// A rep's token, a client, a deal of theirs and two entries on it: a call logged at
/// 15:00 +01:00 on 20 November 2026, then a note logged now.
struct CallAndNote {
    rep: String,
    d: i64,
    call: serde_json::Value,
    note: serde_json::Value,
}

async fn call_and_note(app: &TestApp, c: &mut Client<impl TestService>) -> CallAndNote {
    let rep = app.api_user("rep").await;
    let d = deal(c, &rep, "Pilot").await;
    let call = json!({"kind": "call", "body": "Talked budget.\nNext: send the quote.",
                      "occurred_at": "2026-11-20T15:00:00+01:00", "deal_id": d});
    let call = log(c, &rep, call).await;
    let note = json!({"kind": "note", "body": "Champion is the CTO.", "deal_id": d});
    let note = log(c, &rep, note).await;
    CallAndNote { rep, d, call, note }
}

#[actix_web::test]
async fn an_activity_logged_on_a_deal_names_its_author_and_is_stored_in_utc() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let CallAndNote { d, call, .. } = call_and_note(&app, &mut c).await;
    assert_eq!(call["kind"], "call");
    assert_eq!(call["deal_id"], d);
    assert_eq!(call["author_name"], "rep rep-api@example.com");
    assert!(
        call["occurred_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-20T14:00:00"),
        "stored in UTC: {}",
        call["occurred_at"]
    );
}

#[actix_web::test]
async fn a_deals_activities_list_newest_first() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let CallAndNote { rep, d, call, note } = call_and_note(&app, &mut c).await;
    let list = c
        .api(
            Method::GET,
            &format!("/api/v1/activities?deal_id={d}"),
            &rep,
            None,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    let list = list.json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["page"], 1);
    assert_eq!(list["items"][0]["id"], note["id"], "newest first");
    assert_eq!(list["items"][1]["id"], call["id"]);
}

#[actix_web::test]
async fn bad_activity_input_names_its_field_and_writes_nothing() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let d = deal(&mut c, &rep, "Pilot").await;
    for (body, field) in [
        (json!({"kind": "fax", "body": "x", "deal_id": d}), "kind"),
        (json!({"kind": "note", "body": "   ", "deal_id": d}), "body"),
        (json!({"kind": "note", "body": "x"}), "deal_id"),
        (
            json!({"kind": "note", "body": "x", "deal_id": d, "contact_id": 1}),
            "deal_id",
        ),
        (
            json!({"kind": "note", "body": "x", "deal_id": 999999}),
            "deal_id",
        ),
        (
            json!({"kind": "note", "body": "x", "company_id": 999999}),
            "company_id",
        ),
        (
            json!({"kind": "note", "body": "x", "deal_id": d, "occurred_at": "yesterday"}),
            "occurred_at",
        ),
        (
            json!({"kind": "note", "body": "x", "deal_id": d, "occurred_at": "9999-01-01T00:00:00Z"}),
            "occurred_at",
        ),
    ] {
        let res = c
            .api(Method::POST, "/api/v1/activities", &rep, Some(body.clone()))
            .await;
        assert_eq!(res.status, 422, "{body}: {}", res.text());
        assert!(
            res.json()["error"]["fields"][field].is_string(),
            "{body}: {}",
            res.text()
        );
    }
    assert_eq!(app.count("activities").await, 0, "nothing was written");
}

#[actix_web::test]
async fn viewers_read_activities_but_cannot_log_them() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let CallAndNote { d, .. } = call_and_note(&app, &mut c).await;
    let viewer = app.api_user("viewer").await;
    let body = json!({"kind": "note", "body": "x", "deal_id": d});
    let res = c
        .api(Method::POST, "/api/v1/activities", &viewer, Some(body))
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
    let list = c
        .get_json(&format!("/api/v1/activities?deal_id={d}"), &viewer)
        .await;
    assert_eq!(list["total"], 2, "viewers read");
}

#[actix_web::test]
async fn an_activity_list_needs_a_known_record_and_valid_paging() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let d = deal(&mut c, &rep, "Pilot").await;
    let res = c
        .api(Method::GET, "/api/v1/activities?deal_id=999999", &rep, None)
        .await;
    assert_eq!(res.status, 404, "an unknown deal: {}", res.text());
    let res = c.api(Method::GET, "/api/v1/activities", &rep, None).await;
    assert_eq!(res.status, 422, "no record named: {}", res.text());
    for q in [
        "page=0",
        "page=99999999999999999999",
        "per_page=500",
        "page=x",
    ] {
        let path = format!("/api/v1/activities?deal_id={d}&{q}");
        let res = c.api(Method::GET, &path, &rep, None).await;
        assert_eq!(res.status, 422, "{q}: {}", res.text());
    }
}

#[actix_web::test]
async fn an_activity_list_pages_by_number_and_by_the_entry_before() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let CallAndNote { rep, d, call, note } = call_and_note(&app, &mut c).await;
    let path = format!("/api/v1/activities?deal_id={d}&per_page=1&page=2");
    let res = c.get_json(&path, &rep).await;
    assert_eq!(res["items"][0]["id"], call["id"], "pages by number too");
    let path = format!(
        "/api/v1/activities?deal_id={d}&before={}_{}",
        note["occurred_at"].as_str().unwrap(),
        note["id"]
    );
    let res = c.api(Method::GET, &path, &rep, None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["items"][0]["id"],
        call["id"],
        "older than the note"
    );
}

#[actix_web::test]
async fn only_the_author_a_manager_or_an_admin_removes_an_activity() {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let CallAndNote {
        rep, call, note, ..
    } = call_and_note(&app, &mut c).await;
    app.user("rep2@example.com", "rep").await;
    let other_rep = app.token("rep2@example.com").await;
    let manager = app.api_user("manager").await;
    let path = format!("/api/v1/activities/{}", call["id"]);
    let res = c.api(Method::DELETE, &path, &other_rep, None).await;
    assert_eq!(res.status, 403, "another rep: {}", res.text());
    let res = c.api(Method::DELETE, &path, &manager, None).await;
    assert_eq!(res.status, 204, "a manager: {}", res.text());
    let res = c.api(Method::DELETE, &path, &rep, None).await;
    assert_eq!(res.status, 404, "already gone: {}", res.text());
    let path = format!("/api/v1/activities/{}", note["id"]);
    let res = c.api(Method::DELETE, &path, &rep, None).await;
    assert_eq!(res.status, 204, "the author: {}", res.text());
    assert_eq!(app.count("activities").await, 0);
}

/// Deleting trashes the deal, its activities kept for a restore; the purge takes both.
#[actix_web::test]
async fn a_deleted_deal_takes_its_activities_with_it() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let mut c = app.client().await;
    let d = deal(&mut c, &rep, "Pilot").await;
    log(
        &mut c,
        &rep,
        json!({"kind": "meeting", "body": "Demo", "deal_id": d}),
    )
    .await;
    assert_eq!(app.count("activities").await, 1);
    let res = c
        .api(Method::DELETE, &format!("/api/v1/deals/{d}"), &rep, None)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(app.count("activities").await, 1, "kept while in the trash");
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    cairn::domain::trash::purge_expired(&app.db, later)
        .await
        .expect("purge the trash");
    assert_eq!(app.count("activities").await, 0);
}

/// A rep's token, their client signed in, and a deal of theirs.
async fn rep_with_a_deal(app: &TestApp) -> (String, Client<impl TestService>, i64) {
    let mut c = app.signed_in("rep-api@example.com", "rep").await;
    let token = app.token("rep-api@example.com").await;
    let d = deal(&mut c, &token, "Expansion").await;
    (token, c, d)
}

#[actix_web::test]
async fn the_deal_page_has_an_activity_panel_that_starts_empty() {
    let app = TestApp::new().await;
    let (_, mut c, d) = rep_with_a_deal(&app).await;
    let page = c.get(&format!("/deals/{d}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("id=\"activity\""),
        "the deal page has the panel"
    );
    assert!(html.contains("Nothing logged yet."));
}

/// htmx: the answer is the panel with the new entry, to swap in place.
#[actix_web::test]
async fn logging_from_the_deal_page_with_htmx_answers_the_panel_with_the_entry_escaped() {
    let app = TestApp::new().await;
    let (_, mut c, d) = rep_with_a_deal(&app).await;
    c.get(&format!("/deals/{d}")).await;
    let csrf = c.csrf.clone().expect("the deal page's CSRF token");
    let d_text = d.to_string();
    let body = serde_html_form::to_string([
        ("_csrf", csrf.as_str()),
        ("deal_id", d_text.as_str()),
        ("kind", "call"),
        ("body", "Asked for <b>pricing</b>"),
        ("occurred_at", ""),
    ])
    .unwrap();
    let res = c
        .send(
            TestRequest::post()
                .uri("/activities")
                .insert_header(("HX-Request", "true"))
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let panel = res.text();
    assert!(panel.starts_with("<section class=\"card activity\" id=\"activity\">"));
    assert!(
        panel.contains("Asked for &#60;b&#62;pricing&#60;/b&#62;")
            || panel.contains("Asked for &lt;b&gt;pricing&lt;/b&gt;")
    );
    assert!(!panel.contains("<b>pricing"), "the text is escaped");
    assert!(!panel.contains("<html"), "a fragment, not a page");
}

#[actix_web::test]
async fn logging_from_the_deal_page_without_htmx_goes_back_to_it_with_the_entry() {
    let app = TestApp::new().await;
    let (_, mut c, d) = rep_with_a_deal(&app).await;
    c.get(&format!("/deals/{d}")).await;
    let d_text = d.to_string();
    let fields = [
        ("deal_id", d_text.as_str()),
        ("kind", "note"),
        ("body", "Sent the deck"),
    ];
    let res = c.post_form("/activities", &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert_eq!(res.location(), format!("/deals/{d}#activity"));
    let html = c.get(&format!("/deals/{d}")).await.text();
    assert!(html.contains("Sent the deck"));
    assert!(html.contains("Note logged."));
}

#[actix_web::test]
async fn an_empty_note_from_the_deal_page_is_refused_with_the_reason() {
    let app = TestApp::new().await;
    let (_, mut c, d) = rep_with_a_deal(&app).await;
    c.get(&format!("/deals/{d}")).await;
    let d_text = d.to_string();
    let res = c
        .post_form(
            "/activities",
            &[("deal_id", &d_text), ("kind", "note"), ("body", " ")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Write what happened."));
    assert_eq!(app.count("activities").await, 0, "nothing was written");
}

/// Twenty per batch, then "Show older" loads the next; an entry logged meanwhile
/// neither shifts the next batch nor shows in it.
#[actix_web::test]
async fn the_deal_page_shows_twenty_entries_and_show_older_loads_the_rest() {
    let app = TestApp::new().await;
    let (token, mut c, d) = rep_with_a_deal(&app).await;
    for i in 0..25 {
        let at = format!("2026-01-01T00:{i:02}:00Z");
        let body =
            json!({"kind": "note", "body": format!("Entry {i}"), "occurred_at": at, "deal_id": d});
        log(&mut c, &token, body).await;
    }
    let html = c.get(&format!("/deals/{d}")).await.text();
    assert_eq!(html.matches("class=\"body markdown\"").count(), 20);
    let start = html
        .find("hx-get=\"/activities?")
        .expect("a Show older button")
        + 8;
    let next = html[start..start + html[start..].find('"').unwrap()].replace("&#38;", "&");
    assert!(
        next.starts_with(&format!("/activities?deal_id={d}&before=")),
        "{next}"
    );
    log(
        &mut c,
        &token,
        json!({"kind": "note", "body": "Newest", "deal_id": d}),
    )
    .await;
    let older = c.hx_get(&next).await;
    assert_eq!(older.status, 200, "{}", older.text());
    let older = older.text();
    assert_eq!(older.matches("class=\"body markdown\"").count(), 5);
    assert!(older.contains("Entry 0"), "the oldest comes last");
    assert!(!older.contains("Newest"));
    assert!(
        older.contains("Entry 4<") && !older.contains("Entry 5<"),
        "the batch starts right after the last one shown: {older}"
    );
    assert!(!older.contains("Show older"), "nothing older is left");
}

#[actix_web::test]
async fn show_older_refuses_a_cursor_that_is_not_an_entry() {
    let app = TestApp::new().await;
    let (_, mut c, d) = rep_with_a_deal(&app).await;
    let res = c
        .hx_get(&format!("/activities?deal_id={d}&before=yesterday"))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
}

#[actix_web::test]
async fn contacts_and_companies_have_activity_that_follows_merges() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let mut ids = Vec::new();
    for (first, email) in [("Ann", "ann@example.com"), ("Anne", "anne@example.com")] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/contacts",
                &token,
                Some(contact_json(first, "Lee", email)),
            )
            .await;
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    let mut companies = Vec::new();
    for name in ["Globex", "Globex Inc"] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/companies",
                &token,
                Some(json!({"name": name})),
            )
            .await;
        companies.push(res.json()["id"].as_i64().unwrap());
    }
    for (field, id) in [("contact_id", ids[1]), ("company_id", companies[1])] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/activities",
                &token,
                Some(json!({"kind": "email", "body": "Intro email", field: id})),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    c.sign_in("rep-api@example.com", PASSWORD).await;
    assert!(
        c.get(&format!("/contacts/{}", ids[1]))
            .await
            .text()
            .contains("Intro email")
    );
    assert!(
        c.get(&format!("/companies/{}", companies[1]))
            .await
            .text()
            .contains("Intro email")
    );

    // Merging keeps the history on the survivor.
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/contacts/{}/merge", ids[0]),
            &token,
            Some(json!({"merge_id": ids[1]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/companies/{}/merge", companies[0]),
            &token,
            Some(json!({"merge_id": companies[1]})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for q in [
        format!("contact_id={}", ids[0]),
        format!("company_id={}", companies[0]),
    ] {
        let list = c
            .api(
                Method::GET,
                &format!("/api/v1/activities?{q}"),
                &token,
                None,
            )
            .await
            .json();
        assert_eq!(list["total"], 1, "{q}");
    }
    assert_eq!(app.count("activities").await, 2);
}

/// A contact's and a company's pages also show what was logged on their deals, naming the
/// deal; the API gives the same with `with_deals=true`.
#[actix_web::test]
async fn contact_and_company_timelines_include_their_deals_activity() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let company = c.add_company(&token, "Pied Piper").await;
    let contact = c
        .add_contact(&token, "Richard", "Hendricks", "richard@piedpiper.test")
        .await;
    let other = c
        .add_contact(&token, "Gavin", "Belson", "gavin@hooli.test")
        .await;
    let deal = c.create("/api/v1/deals", &token, json!({"title": "Compression licence", "company_id": company, "contact_ids": [contact]}))
        .await;
    for body in [
        json!({"kind": "call", "body": "Pricing call", "deal_id": deal}),
        json!({"kind": "note", "body": "Prefers email", "contact_id": contact}),
        json!({"kind": "note", "body": "Not related", "contact_id": other}),
    ] {
        let res = c
            .api(Method::POST, "/api/v1/activities", &token, Some(body))
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let own = c
        .api(
            Method::GET,
            &format!("/api/v1/activities?contact_id={contact}"),
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(own["total"], 1, "by default only the contact's own");
    let all = c
        .api(
            Method::GET,
            &format!("/api/v1/activities?contact_id={contact}&with_deals=true"),
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"][0]["body"], "Prefers email", "newest first");
    assert_eq!(all["items"][1]["deal_title"], "Compression licence");
    let of_company = c
        .api(
            Method::GET,
            &format!("/api/v1/activities?company_id={company}&with_deals=true"),
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(of_company["total"], 1);

    c.sign_in("rep-api@example.com", PASSWORD).await;
    let page = c.get(&format!("/contacts/{contact}")).await.text();
    assert!(page.contains("Pricing call") && page.contains("Prefers email"));
    assert!(page.contains(&format!(
        "on <a href=\"/deals/{deal}\">Compression licence</a>"
    )));
    assert!(!page.contains("Not related"));
    let page = c.get(&format!("/companies/{company}")).await.text();
    assert!(page.contains("Pricing call"));
    let page = c.get(&format!("/deals/{deal}")).await.text();
    assert!(page.contains("Pricing call") && !page.contains("Prefers email"));
    assert!(
        !page.contains(" · on <a"),
        "a deal's own page does not name itself"
    );
}
