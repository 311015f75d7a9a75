//! "Select all N matching" covers exactly what the list showed, whatever filter made it:
//! every filter kind, custom fields included, for tag, untag, owner change and delete; the
//! confirmed count is what changes, and a changed selection is refused.
use actix_web::http::Method;
use cairn::domain::{Actor, custom_fields};
use serde_json::json;

use crate::support::*;

/// One contact per filter kind, each the only match of its filter, plus one matching none.
struct Dataset {
    token: String,
    other: Actor,
    /// (query-string filter, value, name of the one contact it matches)
    filters: Vec<(&'static str, String, &'static str)>,
}

async fn dataset(app: &TestApp) -> Dataset {
    let token = app.api_user("admin").await;
    let admin = cairn::domain::users::find_by_email(&app.db.read, "admin-api@example.com")
        .await
        .unwrap()
        .expect("the admin");
    let admin = Actor::from(&admin);
    custom_fields::create(&app.db, &admin, "contact", "Region", "text", &[], false)
        .await
        .expect("define the custom field");
    let other = app.user("other@example.com", "rep").await;
    let mut c = app.client().await;
    let contact = |first: &str, extra: serde_json::Value| {
        let mut body = json!({"first_name": first, "last_name": "Row", "tags": ["everyone"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    c.create("/api/v1/contacts", &token, contact("Plain", json!({})))
        .await;
    c.create("/api/v1/contacts", &token, contact("Zebedee", json!({})))
        .await;
    c.create(
        "/api/v1/contacts",
        &token,
        contact("Paid", json!({"source": "paid"})),
    )
    .await;
    c.create(
        "/api/v1/contacts",
        &token,
        contact("Acme", json!({"company": "Acme"})),
    )
    .await;
    c.create(
        "/api/v1/contacts",
        &token,
        contact("Beta", json!({"company": "Beta"})),
    )
    .await;
    let beta = c
        .api(Method::GET, "/api/v1/companies?q=beta", &token, None)
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .expect("Beta's id");
    let owned = json!({"owner_id": other.id});
    c.create("/api/v1/contacts", &token, contact("Owned", owned))
        .await;
    let tagged = json!({"tags": ["everyone", "vip"]});
    c.create("/api/v1/contacts", &token, contact("Vip", tagged))
        .await;
    let eu = json!({"custom_fields": {"region": "EU"}});
    c.create("/api/v1/contacts", &token, contact("European", eu))
        .await;
    Dataset {
        token,
        filters: vec![
            ("owner", other.id.to_string(), "Owned"),
            ("q", "zebedee".into(), "Zebedee"),
            ("source", "paid".into(), "Paid"),
            ("company", "acme".into(), "Acme"),
            ("company_id", beta.to_string(), "Beta"),
            ("tags", "vip".into(), "Vip"),
            ("cf.region", "EU".into(), "European"),
        ],
        other,
    }
}

/// Runs a bulk action from the list page as a person would: ask, read the count on the
/// confirmation, confirm. Returns the count that was shown.
async fn bulk_via_page(c: &mut Client<impl TestService>, fields: &[(&str, &str)]) -> u64 {
    let mut ask = vec![("scope", "all")];
    ask.extend_from_slice(fields);
    let res = c.post_form("/contacts/bulk", &ask).await;
    assert_eq!(res.status, 200, "asking {fields:?}: {}", res.text());
    let page = res.text();
    let at = page
        .find("name=\"expected\" value=\"")
        .unwrap_or_else(|| panic!("the confirmation carries its count: {page}"))
        + "name=\"expected\" value=\"".len();
    let shown = page[at..].split('"').next().unwrap().to_string();
    let mut confirm = ask.clone();
    confirm.push(("confirm", "1"));
    confirm.push(("expected", &shown));
    let res = c.post_form("/contacts/bulk", &confirm).await;
    assert_eq!(res.status, 303, "confirming {fields:?}: {}", res.text());
    shown.parse().unwrap()
}

/// The first names of the contacts `query` lists through the API.
async fn names(c: &mut Client<impl TestService>, token: &str, query: &str) -> Vec<String> {
    let res = c
        .api(
            Method::GET,
            &format!("/api/v1/contacts?per_page=100&{query}"),
            token,
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{query}: {}", res.text());
    let mut names: Vec<String> = res.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

async fn signed_in_admin(
    app: &TestApp,
) -> Client<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let mut c = app.client().await;
    c.sign_in("admin-api@example.com", PASSWORD).await;
    c.get("/contacts").await;
    c
}

#[actix_web::test]
async fn bulk_tag_covers_exactly_each_filter() {
    let app = TestApp::new().await;
    let d = dataset(&app).await;
    let mut c = signed_in_admin(&app).await;
    for (filter, value, name) in &d.filters {
        let tag = format!("picked-{}", filter.replace('.', "-"));
        let shown =
            bulk_via_page(&mut c, &[("action", "tag"), ("tag", &tag), (filter, value)]).await;
        assert_eq!(shown, 1, "{filter}={value} shows one match");
        let tagged = names(&mut c, &d.token, &format!("tags={tag}")).await;
        assert_eq!(tagged, vec![name.to_string()], "tag by {filter}={value}");
    }
}

#[actix_web::test]
async fn bulk_untag_covers_exactly_each_filter() {
    let app = TestApp::new().await;
    let d = dataset(&app).await;
    let mut c = signed_in_admin(&app).await;
    for (filter, value, name) in &d.filters {
        let before = names(&mut c, &d.token, "tags=everyone").await;
        let shown = bulk_via_page(
            &mut c,
            &[("action", "untag"), ("tag", "everyone"), (filter, value)],
        )
        .await;
        assert_eq!(shown, 1, "{filter}={value} shows one match");
        let after = names(&mut c, &d.token, "tags=everyone").await;
        let lost: Vec<_> = before.iter().filter(|n| !after.contains(n)).collect();
        assert_eq!(lost, vec![name], "untag by {filter}={value}");
    }
}

#[actix_web::test]
async fn bulk_owner_change_covers_exactly_each_filter() {
    let app = TestApp::new().await;
    let d = dataset(&app).await;
    let third = app.user("third@example.com", "rep").await;
    let mut c = signed_in_admin(&app).await;
    let owner = third.id.to_string();
    let mut moved = Vec::new();
    // The owner filter comes first, while its contact still has that owner.
    for (filter, value, name) in &d.filters {
        let fields = [
            ("action", "change_owner"),
            ("owner_id", &owner),
            (filter, value),
        ];
        assert_eq!(bulk_via_page(&mut c, &fields).await, 1, "{filter}={value}");
        moved.push(name.to_string());
        moved.sort();
        let owned = names(&mut c, &d.token, &format!("owner={owner}")).await;
        assert_eq!(owned, moved, "owner change by {filter}={value}");
    }
    assert!(
        names(&mut c, &d.token, &format!("owner={}", d.other.id))
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn bulk_delete_covers_exactly_each_filter() {
    let app = TestApp::new().await;
    let d = dataset(&app).await;
    let mut c = signed_in_admin(&app).await;
    for (filter, value, name) in &d.filters {
        let before = names(&mut c, &d.token, "").await;
        let shown = bulk_via_page(&mut c, &[("action", "delete"), (filter, value)]).await;
        assert_eq!(shown, 1, "{filter}={value} shows one match");
        let after = names(&mut c, &d.token, "").await;
        let gone: Vec<_> = before.iter().filter(|n| !after.contains(n)).collect();
        assert_eq!(gone, vec![name], "delete by {filter}={value}");
    }
    assert_eq!(names(&mut c, &d.token, "").await, vec!["Plain"]);
}

#[actix_web::test]
async fn the_api_bulk_filter_takes_custom_fields_and_refuses_unknown_keys() {
    let app = TestApp::new().await;
    let d = dataset(&app).await;
    let mut c = app.client().await;
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &d.token,
            Some(json!({"action": "tag", "tag": "eu", "filter": {"cf.region": "EU"}})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["affected"], 1);
    assert_eq!(names(&mut c, &d.token, "tags=eu").await, vec!["European"]);

    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &d.token,
            Some(json!({"action": "delete", "filter": {"sorce": "paid"}})),
        )
        .await;
    assert_eq!(
        res.status, 422,
        "a mistyped filter must not select everything"
    );
    assert!(res.json()["error"]["fields"]["filter.sorce"].is_string());
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &d.token,
            Some(json!({"action": "delete", "filter": {"cf.nope": "x"}})),
        )
        .await;
    assert_eq!(
        res.status,
        422,
        "an unknown custom field is refused: {}",
        res.text()
    );
    assert_eq!(app.count("contacts").await, 8, "nothing was deleted");
}

#[actix_web::test]
async fn a_selection_that_changed_since_the_confirmation_is_refused() {
    let app = TestApp::new().await;
    let d = dataset(&app).await;
    let mut c = signed_in_admin(&app).await;
    let res = c
        .post_form(
            "/contacts/bulk",
            &[
                ("action", "delete"),
                ("scope", "all"),
                ("cf.region", "EU"),
                ("confirm", "1"),
                ("expected", "2"),
            ],
        )
        .await;
    assert_eq!(res.status, 409, "1 matches, 2 were confirmed");
    assert!(res.text().contains("not the 2 you confirmed"));
    assert_eq!(app.count("contacts").await, 8);
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &d.token,
            Some(json!({"action": "delete", "filter": {"source": "paid"}, "expected": 1})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(app.count("contacts").await, 7);
}

#[actix_web::test]
async fn a_rep_deletes_at_most_a_page_at_once() {
    let app = TestApp::new().await;
    let rep = app.api_user("rep").await;
    let manager = app.api_user("manager").await;
    let mut c = app.client().await;
    for i in 0..101 {
        let body = json!({"first_name": "Bulk", "last_name": format!("N{i}")});
        c.create("/api/v1/contacts", &rep, body).await;
    }
    let all = json!({"action": "delete", "filter": {}});
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts/bulk",
            &rep,
            Some(all.clone()),
        )
        .await;
    assert_eq!(res.status, 403, "a rep deleting 101: {}", res.text());
    assert_eq!(app.count("contacts").await, 101, "nothing was deleted");
    let one = json!({"action": "delete", "filter": {"q": "N100"}});
    let res = c
        .api(Method::POST, "/api/v1/contacts/bulk", &rep, Some(one))
        .await;
    assert_eq!(res.json()["affected"], 1, "a rep may delete a page's worth");
    let res = c
        .api(Method::POST, "/api/v1/contacts/bulk", &manager, Some(all))
        .await;
    assert_eq!(res.json()["affected"], 100, "a manager may delete them all");
}

#[actix_web::test]
async fn the_company_list_bulk_keeps_its_custom_field_filter() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let admin = cairn::domain::users::find_by_email(&app.db.read, "admin-api@example.com")
        .await
        .unwrap()
        .unwrap();
    custom_fields::create(
        &app.db,
        &Actor::from(&admin),
        "company",
        "Tier",
        "text",
        &[],
        false,
    )
    .await
    .expect("define the custom field");
    let mut c = app.client().await;
    c.create(
        "/api/v1/companies",
        &token,
        json!({"name": "Gold Co", "custom_fields": {"tier": "gold"}}),
    )
    .await;
    c.add_company(&token, "Plain Co").await;
    c.sign_in("admin-api@example.com", PASSWORD).await;
    c.get("/companies").await;
    let ask = [("action", "delete"), ("scope", "all"), ("cf.tier", "gold")];
    let res = c.post_form("/companies/bulk", &ask).await;
    let shown = "name=\"expected\" value=\"1\"";
    assert!(
        res.text().contains(shown),
        "one company matches: {}",
        res.text()
    );
    let mut confirm = ask.to_vec();
    confirm.extend([("confirm", "1"), ("expected", "1")]);
    assert_eq!(c.post_form("/companies/bulk", &confirm).await.status, 303);
    assert_eq!(app.count("companies").await, 1, "only Gold Co went");
}
