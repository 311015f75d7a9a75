//! Bulk actions on contacts: all-or-nothing, by ids or by filter, through pages and API.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

pub async fn seed(app: &TestApp, n: u64) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .env("CAIRN_DATABASE_URL", &app.url)
        .args(["seed", "--contacts", &n.to_string(), "--seed", "9"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bulk action on contacts through the API; its answer.
async fn bulk(c: &mut Client<impl TestService>, token: &str, body: serde_json::Value) -> Response {
    c.api(Method::POST, "/api/v1/contacts/bulk", token, Some(body))
        .await
}

/// The `total` a contact list answers for `query`.
async fn total(c: &mut Client<impl TestService>, token: &str, query: &str) -> u64 {
    let list = c
        .get_json(&format!("/api/v1/contacts?{query}"), token)
        .await;
    list["total"].as_u64().expect("a list total")
}

/// Every paid contact changes owner in one go; everyone else is untouched.
#[actix_web::test]
async fn bulk_by_filter_changes_the_owner_of_every_match_and_audits_each() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    seed(&app, 600).await;
    let other = app.user("other@example.com", "rep").await;
    let mut c = app.client().await;
    let paid = total(&mut c, &token, "source=paid&per_page=1").await;
    assert!(paid > 0, "the seed has paid contacts");
    let body =
        json!({"action": "change_owner", "owner_id": other.id, "filter": {"source": "paid"}});
    let res = bulk(&mut c, &token, body).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], paid);
    let owned = total(&mut c, &token, &format!("owner={}&per_page=1", other.id)).await;
    assert_eq!(
        owned, paid,
        "the new owner has the paid contacts and no others"
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'bulk_change_owner'")
            .await as u64,
        paid
    );
}

/// Each audit row of a bulk owner change has the record's own old owner, as a single
/// edit's diff would.
#[actix_web::test]
async fn a_bulk_owner_change_records_each_records_old_owner() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let first = app.user("first@example.com", "rep").await;
    let second = app.user("second@example.com", "rep").await;
    let mut c = app.client().await;
    let mut body = contact_json("Ada", "Lovelace", "ada@example.com");
    body["owner_id"] = json!(first.id);
    let id = c.create("/api/v1/contacts", &token, body).await;
    let res = bulk(
        &mut c,
        &token,
        json!({"action": "change_owner", "owner_id": second.id, "ids": [id]}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let audit = c
        .get_json("/api/v1/audit?action=bulk_change_owner", &token)
        .await;
    let change = &audit["items"][0]["detail"]["changes"]["owner_id"];
    assert_eq!(
        change,
        &json!({"old": first.id, "new": second.id}),
        "the row should carry the old and new owner: {audit}"
    );
}

/// All 12 000 deleted by filter: more than one statement's parameters or one batch hold.
/// (How fast is for `scripts/bench`, not a timed test on a shared machine.)
#[actix_web::test]
async fn bulk_delete_by_filter_removes_12000_contacts() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    seed(&app, 12_000).await;
    let mut c = app.client().await;
    let res = bulk(&mut c, &token, json!({"action": "delete", "filter": {}})).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], 12_000);
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(total(&mut c, &token, "").await, 0, "the counter followed");
}

/// Three contacts made through the API; their ids.
async fn three_contacts(c: &mut Client<impl TestService>, token: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = contact_json("A", &format!("B{i}"), &format!("x{i}@example.com"));
        ids.push(c.create("/api/v1/contacts", token, body).await);
    }
    ids
}

#[actix_web::test]
async fn bulk_delete_by_ids_removes_those_contacts_only() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    let ids = three_contacts(&mut c, &token).await;
    let res = bulk(
        &mut c,
        &token,
        json!({"action": "delete", "ids": &ids[..2]}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], 2);
    assert_eq!(app.count("contacts").await, 1);
}

#[actix_web::test]
async fn bad_bulk_requests_are_422_and_change_nothing() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    let ids = three_contacts(&mut c, &token).await;
    for body in [
        json!({"action": "delete"}),
        json!({"action": "delete", "ids": []}),
        json!({"action": "delete", "ids": [1], "filter": {}}),
        json!({"action": "change_owner", "ids": [ids[2]]}),
        json!({"action": "change_owner", "ids": [ids[2]], "owner_id": 999999}),
        json!({"action": "explode", "ids": [ids[2]]}),
        json!({"action": "delete", "filter": {"source": "bogus"}}),
    ] {
        let res = bulk(&mut c, &token, body.clone()).await;
        assert_eq!(res.status, 422, "{body}: {}", res.text());
    }
    assert_eq!(app.count("contacts").await, 3, "nothing was deleted");
}

#[actix_web::test]
async fn a_failure_mid_way_changes_nothing() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    seed(&app, 3000).await;
    // Fault injection: the database refuses to trash (update) one contact in the middle.
    let victim = app.count("contacts").await / 2;
    let trigger = if app.url.starts_with("postgres") {
        vec![
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$".to_string(),
            format!("CREATE TRIGGER refuse_one BEFORE UPDATE ON contacts FOR EACH ROW WHEN (OLD.id = {victim}) EXECUTE FUNCTION refuse()"),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER refuse_one BEFORE UPDATE ON contacts WHEN OLD.id = {victim} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )]
    };
    for sql in &trigger {
        exec(&app.db, sql).await;
    }
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(json!({"action": "delete", "filter": {}})),
        )
        .await;
    assert_eq!(res.status, 500);
    assert_eq!(res.code(), "internal");
    assert_eq!(app.count("contacts").await, 3000, "nothing was deleted");
    assert_eq!(
        app.count("audit_log WHERE action = 'bulk_delete'").await,
        0,
        "nothing was recorded"
    );
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts", &token, None)
            .await
            .json()["total"],
        3000
    );
}

#[actix_web::test]
async fn bulk_from_the_list_page_asks_first_with_a_count() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let mut ids = Vec::new();
    for (i, source) in ["paid", "paid", "event"].iter().enumerate() {
        let body = json!({"first_name": "P", "last_name": format!("N{i}"), "source": source});
        ids.push(c.create("/api/v1/contacts", &token, body).await);
    }
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let list = c.get("/contacts?source=paid").await.text();
    assert!(list.contains("data-select-page") && list.contains("form=\"bulk\""));

    let res = c
        .post_form(
            "/contacts/bulk",
            &[("action", "delete"), ("scope", "all"), ("source", "paid")],
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.text().contains("Delete 2 contacts?"));
    assert_eq!(app.count("contacts").await, 3, "asking deletes nothing");
    let res = c
        .post_form(
            "/contacts/bulk",
            &[
                ("action", "delete"),
                ("scope", "all"),
                ("source", "paid"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/contacts?source=paid");
    assert!(
        c.get(&res.location())
            .await
            .text()
            .contains("2 contacts were deleted.")
    );
    assert_eq!(app.count("contacts").await, 1);

    let id = ids[2].to_string();
    let res = c
        .post_form(
            "/contacts/bulk",
            &[("action", "delete"), ("scope", "selected"), ("ids", &id)],
        )
        .await;
    assert!(res.text().contains("Delete 1 contact?"));
    c.post_form(
        "/contacts/bulk",
        &[
            ("action", "delete"),
            ("scope", "selected"),
            ("ids", &id),
            ("confirm", "1"),
        ],
    )
    .await;
    assert_eq!(app.count("contacts").await, 0);

    // Viewers cannot.
    let mut viewer = app.client().await;
    app.user("viewer@example.com", "viewer").await;
    viewer.sign_in("viewer@example.com", PASSWORD).await;
    viewer.get("/contacts").await;
    assert_eq!(
        viewer
            .post_form("/contacts/bulk", &[("action", "delete"), ("scope", "all")])
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn bulk_tag_and_untag() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for (i, source) in ["paid", "paid", "event"].iter().enumerate() {
        let body = json!({"first_name": "P", "last_name": format!("N{i}"), "source": source, "tags": if i == 0 { json!(["hot"]) } else { json!([]) }});
        assert_eq!(
            c.api(Method::POST, "/api/v1/contacts", &token, Some(body))
                .await
                .status,
            201
        );
    }
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(json!({"action": "tag", "tag": "Hot", "filter": {"source": "paid"}})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], 2);
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts?tags=hot", &token, None)
            .await
            .json()["total"],
        2,
        "the one already tagged is not doubled"
    );
    assert_eq!(app.count("contact_tags").await, 2);
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(json!({"action": "untag", "tag": "hot", "filter": {}})),
        )
        .await;
    assert_eq!(res.json()["affected"], 3);
    assert_eq!(app.count("contact_tags").await, 0);
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(json!({"action": "untag", "tag": "never-made", "filter": {}})),
        )
        .await;
    assert_eq!(res.status, 422);
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &token,
            Some(json!({"action": "tag", "filter": {}})),
        )
        .await;
    assert_eq!(res.status, 422, "no tag named");
}

#[actix_web::test]
async fn bulk_on_the_company_list() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let mut ids = Vec::new();
    for (name, industry) in [
        ("Acme", "software"),
        ("Globex", "software"),
        ("Initech", "fintech"),
    ] {
        let body = json!({"name": name, "industry": industry});
        ids.push(c.create("/api/v1/companies", &token, body).await);
    }
    c.api_ok(
        Method::POST,
        "/api/v1/contacts",
        &token,
        Some(json!({"first_name": "A", "last_name": "B", "company_id": ids[0]})),
    )
    .await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/companies/bulk",
            &token,
            Some(json!({"action": "tag", "tag": "target", "filter": {"industry": "software"}})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], 2);
    assert_eq!(
        c.api(Method::GET, "/api/v1/companies?tags=target", &token, None)
            .await
            .json()["total"],
        2
    );

    c.sign_in("rep-api@example.com", PASSWORD).await;
    let list = c.get("/companies?industry=software").await.text();
    assert!(list.contains("data-select-page"));
    let res = c
        .post_form(
            "/companies/bulk",
            &[
                ("action", "delete"),
                ("scope", "all"),
                ("industry", "software"),
            ],
        )
        .await;
    assert!(res.text().contains("Delete 2 companies?"));
    let res = c
        .post_form(
            "/companies/bulk",
            &[
                ("action", "delete"),
                ("scope", "all"),
                ("industry", "software"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("companies").await, 1);
    // The trashed company keeps its link for a restore, but shows nowhere.
    assert_eq!(
        app.count(
            "contacts c WHERE c.deleted_at IS NULL AND NOT EXISTS \
             (SELECT 1 FROM companies o WHERE o.id = c.company_id AND o.deleted_at IS NULL)"
        )
        .await,
        1,
        "the contact stays, without a company"
    );
}
