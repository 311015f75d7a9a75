//! Tags: on the fly from forms and the API, filters, and rename/merge in settings.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A contact created through the API; its JSON.
async fn contact(
    c: &mut Client<impl TestService>,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    c.api_ok(Method::POST, "/api/v1/contacts", token, Some(body))
        .await
        .json()
}

/// A manager's token and client, with Ana (tagged VIP, partner and vip), Ben (vip) and
/// Cy (no tags); Ana's and Ben's JSON.
async fn ana_ben_and_cy(
    app: &TestApp,
) -> (
    String,
    Client<impl TestService>,
    serde_json::Value,
    serde_json::Value,
) {
    let token = app.api_user("manager").await;
    let mut c = app.client().await;
    let ana = json!({"first_name": "Ana", "last_name": "S", "tags": ["VIP", " partner ", "vip"]});
    let ana = contact(&mut c, &token, ana).await;
    let ben = json!({"first_name": "Ben", "last_name": "O", "tags": ["vip"]});
    let ben = contact(&mut c, &token, ben).await;
    contact(
        &mut c,
        &token,
        json!({"first_name": "Cy", "last_name": "L"}),
    )
    .await;
    (token, c, ana, ben)
}

#[actix_web::test]
async fn tags_are_deduplicated_in_any_case_and_an_existing_one_keeps_its_name() {
    let app = TestApp::new().await;
    let (_, _, ana, ben) = ana_ben_and_cy(&app).await;
    assert_eq!(
        ana["tags"],
        json!(["partner", "VIP"]),
        "deduplicated in any case, alphabetical"
    );
    assert_eq!(
        ben["tags"],
        json!(["VIP"]),
        "an existing tag keeps its name"
    );
    assert_eq!(app.count("tags").await, 2);
}

#[actix_web::test]
async fn contact_lists_filter_by_tags_of_which_all_must_match() {
    let app = TestApp::new().await;
    let (token, mut c, _, _) = ana_ben_and_cy(&app).await;
    let vip = c.get_json("/api/v1/contacts?tags=vip", &token).await;
    assert_eq!(vip["total"], 2);
    let both = c
        .get_json("/api/v1/contacts?tags=VIP,Partner", &token)
        .await;
    assert_eq!(both["total"], 1, "all tags must match");
    assert_eq!(both["items"][0]["first_name"], "Ana");
    let res = c
        .api(Method::GET, "/api/v1/contacts?tags=nope", &token, None)
        .await;
    assert_eq!(
        res.status, 422,
        "an unknown tag is an error, not an empty list"
    );
}

#[actix_web::test]
async fn a_patch_replaces_the_tags_it_sends_and_keeps_them_otherwise() {
    let app = TestApp::new().await;
    let (token, mut c, ana, _) = ana_ben_and_cy(&app).await;
    let path = format!("/api/v1/contacts/{}", ana["id"]);
    let body = json!({"tags": ["partner", "Board"]});
    let res = c.api(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["tags"], json!(["Board", "partner"]));
    let body = json!({"title": "CEO"});
    let res = c.api_ok(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(
        res.json()["tags"],
        json!(["Board", "partner"]),
        "a patch without tags keeps them"
    );
}

#[actix_web::test]
async fn a_tag_longer_than_60_characters_is_422() {
    let app = TestApp::new().await;
    let token = app.api_user("manager").await;
    let mut c = app.client().await;
    let body = json!({"first_name": "D", "last_name": "E", "tags": ["x".repeat(61)]});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["tags"].is_string());
}

/// Deleting a contact keeps its tag links while it is in the trash (a restore brings them
/// back); purging it removes them, not the tags.
#[actix_web::test]
async fn deleting_a_contact_removes_its_tag_links_but_not_the_tags() {
    let app = TestApp::new().await;
    let (token, mut c, ana, _) = ana_ben_and_cy(&app).await;
    let path = format!("/api/v1/contacts/{}", ana["id"]);
    c.api_ok(Method::DELETE, &path, &token, None).await;
    assert_eq!(app.count("contact_tags").await, 3, "kept in the trash");
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    cairn::domain::trash::purge_expired(&app.db, later)
        .await
        .expect("purge the trash");
    assert_eq!(app.count("contact_tags").await, 1, "Ben's VIP is left");
    assert_eq!(app.count("tags").await, 2, "partner stays");
}

/// A manager's token and client, signed in on Settings → Tags, with contacts A
/// (customer, vip), B (client) and C (client, customer); the ids of client, customer
/// and vip.
struct TagsPage<C> {
    token: String,
    c: C,
    client: i64,
    customer: i64,
    vip: i64,
}

async fn tags_page(app: &TestApp) -> TagsPage<Client<impl TestService>> {
    let mut c = app.signed_in("manager-api@example.com", "manager").await;
    let token = app.token("manager-api@example.com").await;
    for (name, tags) in [
        ("A", json!(["customer", "vip"])),
        ("B", json!(["client"])),
        ("C", json!(["client", "customer"])),
    ] {
        let body = json!({"first_name": name, "last_name": "X", "tags": tags});
        contact(&mut c, &token, body).await;
    }
    let tags = cairn::domain::tags::list(&app.db).await.unwrap();
    let id_of = |name: &str| tags.iter().find(|t| t.name == name).expect(name).id;
    let (client, customer, vip) = (id_of("client"), id_of("customer"), id_of("vip"));
    TagsPage {
        token,
        c,
        client,
        customer,
        vip,
    }
}

#[actix_web::test]
async fn the_tags_page_counts_each_tags_contacts() {
    let app = TestApp::new().await;
    let TagsPage { mut c, .. } = tags_page(&app).await;
    let page = c.get("/settings/tags").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("2 contacts"));
}

/// Renaming onto an existing name is refused with a pointer to merge.
#[actix_web::test]
async fn renaming_a_tag_onto_an_existing_name_points_to_merging() {
    let app = TestApp::new().await;
    let TagsPage { mut c, client, .. } = tags_page(&app).await;
    c.get("/settings/tags").await;
    let fields = [("name", "Customer"), ("color", "blue")];
    let res = c
        .post_form(&format!("/settings/tags/{client}"), &fields)
        .await;
    assert_eq!(res.status, 409);
    assert!(res.text().contains("merge into it instead"));
}

/// Merging moves every use; a contact that had both keeps one.
#[actix_web::test]
async fn merging_a_tag_moves_every_use_onto_the_other() {
    let app = TestApp::new().await;
    let TagsPage {
        token,
        mut c,
        client,
        customer,
        ..
    } = tags_page(&app).await;
    c.get("/settings/tags").await;
    let into = customer.to_string();
    let path = format!("/settings/tags/{client}/merge");
    let res = c.post_form(&path, &[("into", into.as_str())]).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let list = c.get_json("/api/v1/contacts?tags=customer", &token).await;
    assert_eq!(list["total"], 3);
    assert_eq!(app.count("tags").await, 2);
    let res = c
        .api(Method::GET, "/api/v1/contacts?tags=client", &token, None)
        .await;
    assert_eq!(res.status, 422, "client is gone: {}", res.text());
}

#[actix_web::test]
async fn a_renamed_tag_filters_by_its_new_name_and_needs_a_known_colour() {
    let app = TestApp::new().await;
    let TagsPage {
        token, mut c, vip, ..
    } = tags_page(&app).await;
    c.get("/settings/tags").await;
    let path = format!("/settings/tags/{vip}");
    let fields = [("name", "Very important"), ("color", "purple")];
    let res = c.post_form(&path, &fields).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let list = c
        .get_json("/api/v1/contacts?tags=very%20important", &token)
        .await;
    assert_eq!(list["total"], 1);
    let res = c
        .post_form(&path, &[("name", "x"), ("color", "chartreuse")])
        .await;
    assert_eq!(res.status, 422, "an unknown colour");
}

#[actix_web::test]
async fn a_deleted_tag_leaves_its_records() {
    let app = TestApp::new().await;
    let TagsPage { mut c, vip, .. } = tags_page(&app).await;
    c.get("/settings/tags").await;
    c.post_form_ok(&format!("/settings/tags/{vip}/delete"), &[])
        .await;
    assert_eq!(app.count("tags").await, 2, "client and customer are left");
    assert_eq!(app.count("contacts").await, 3, "records stay");
}

/// Reps may use tags but not manage them.
#[actix_web::test]
async fn reps_may_use_tags_but_not_manage_them() {
    let app = TestApp::new().await;
    let TagsPage { customer, .. } = tags_page(&app).await;
    let mut rep = app.signed_in("rep@example.com", "rep").await;
    assert_eq!(rep.get("/settings/tags").await.status, 403);
    rep.get("/contacts").await;
    let res = rep
        .post_form(&format!("/settings/tags/{customer}/delete"), &[])
        .await;
    assert_eq!(res.status, 403, "{}", res.text());
}

#[actix_web::test]
async fn the_contact_form_takes_tags_as_text() {
    let app = TestApp::new().await;
    app.user("rep@example.com", "rep").await;
    let mut c = app.client().await;
    c.sign_in("rep@example.com", PASSWORD).await;
    c.get("/contacts/new").await;
    let res = c
        .post_form(
            "/contacts",
            &[
                ("first_name", "Ana"),
                ("last_name", "S"),
                ("tags", "vip, Partner ,"),
            ],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = c.get(&res.location()).await.text();
    assert!(page.contains(">Partner</a>") && page.contains(">vip</a>"));
    let list = c.get("/contacts?tags=vip").await.text();
    assert!(list.contains("Ana S"));
    let edit = c.get(&format!("{}/edit", res.location())).await.text();
    assert!(
        edit.contains("value=\"Partner, vip\""),
        "the form shows them back"
    );
}

#[actix_web::test]
async fn companies_carry_tags_too() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let acme = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "Acme", "tags": ["Enterprise", "churn risk"]})),
        )
        .await;
    assert_eq!(acme.status, 201, "{}", acme.text());
    assert_eq!(acme.json()["tags"], json!(["churn risk", "Enterprise"]));
    c.api(
        Method::POST,
        "/api/v1/companies",
        &token,
        Some(json!({"name": "Globex", "tags": ["enterprise"]})),
    )
    .await;
    let list = c
        .api(
            Method::GET,
            "/api/v1/companies?tags=enterprise",
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(list["total"], 2);
    let list = c
        .api(
            Method::GET,
            "/api/v1/companies?tags=enterprise,churn%20risk",
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(
        c.api(Method::GET, "/api/v1/companies?tags=nope", &token, None)
            .await
            .status,
        422
    );
    let id = acme.json()["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/companies/{id}"),
            &token,
            Some(json!({"tags": []})),
        )
        .await;
    assert_eq!(res.json()["tags"], json!([]));
    assert_eq!(app.count("company_tags").await, 1);
}

#[actix_web::test]
async fn tag_links_encode_the_name() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let body = json!({"first_name": "A", "last_name": "B", "tags": ["R&D team"]});
    let id = c.create("/api/v1/contacts", &token, body).await;
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let page = c.get(&format!("/contacts/{id}")).await.text();
    assert!(
        page.contains("href=\"/contacts?tags=R%26D%20team\""),
        "the tag's link carries its name encoded"
    );
}
