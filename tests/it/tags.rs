//! Tags: on the fly from forms and the API, filters, and rename/merge in settings.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn tags_from_the_api_filter_lists_and_follow_edits() {
    let app = TestApp::new().await;
    let token = app.api_user("manager").await;
    let mut c = app.client().await;
    let ana = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(
                json!({"first_name": "Ana", "last_name": "S", "tags": ["VIP", " partner ", "vip"]}),
            ),
        )
        .await;
    assert_eq!(ana.status, 201, "{}", ana.text());
    assert_eq!(
        ana.json()["tags"],
        json!(["partner", "VIP"]),
        "deduplicated in any case, alphabetical"
    );
    let ana_id = ana.json()["id"].as_i64().unwrap();
    let ben = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "Ben", "last_name": "O", "tags": ["vip"]})),
        )
        .await;
    assert_eq!(
        ben.json()["tags"],
        json!(["VIP"]),
        "an existing tag keeps its name"
    );
    c.api_ok(
        Method::POST,
        "/api/v1/contacts",
        &token,
        Some(json!({"first_name": "Cy", "last_name": "L"})),
    )
    .await;
    assert_eq!(app.count("tags").await, 2);

    let vip = c
        .api(Method::GET, "/api/v1/contacts?tags=vip", &token, None)
        .await
        .json();
    assert_eq!(vip["total"], 2);
    let both = c
        .api(
            Method::GET,
            "/api/v1/contacts?tags=VIP,Partner",
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(both["total"], 1, "all tags must match");
    assert_eq!(both["items"][0]["first_name"], "Ana");
    let res = c
        .api(Method::GET, "/api/v1/contacts?tags=nope", &token, None)
        .await;
    assert_eq!(
        res.status, 422,
        "an unknown tag is an error, not an empty list"
    );

    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{ana_id}"),
            &token,
            Some(json!({"tags": ["partner", "Board"]})),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["tags"], json!(["Board", "partner"]));
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/contacts/{ana_id}"),
            &token,
            Some(json!({"title": "CEO"})),
        )
        .await;
    assert_eq!(
        res.json()["tags"],
        json!(["Board", "partner"]),
        "a patch without tags keeps them"
    );
    let res = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": "D", "last_name": "E", "tags": ["x".repeat(61)]})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["tags"].is_string());

    // Deleting a contact removes its tag links, not the tags.
    c.api_ok(
        Method::DELETE,
        &format!("/api/v1/contacts/{ana_id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(app.count("contact_tags").await, 1);
    assert_eq!(app.count("tags").await, 3);
}

#[actix_web::test]
async fn tags_are_renamed_merged_and_deleted_in_settings() {
    let app = TestApp::new().await;
    let token = app.api_user("manager").await;
    let mut c = app.client().await;
    for (name, tags) in [
        ("A", json!(["customer", "vip"])),
        ("B", json!(["client"])),
        ("C", json!(["client", "customer"])),
    ] {
        c.api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(json!({"first_name": name, "last_name": "X", "tags": tags})),
        )
        .await;
    }
    let id_of = |name: &str| {
        let name = name.to_string();
        let db = app.db.clone();
        async move {
            cairn::domain::tags::list(&db)
                .await
                .unwrap()
                .into_iter()
                .find(|t| t.name == name)
                .unwrap()
                .id
        }
    };
    let (client, customer, vip) = (
        id_of("client").await,
        id_of("customer").await,
        id_of("vip").await,
    );
    c.sign_in("manager-api@example.com", PASSWORD).await;
    let page = c.get("/settings/tags").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("2 contacts"));

    // Renaming onto an existing name is refused with a pointer to merge.
    let res = c
        .post_form(
            &format!("/settings/tags/{client}"),
            &[("name", "Customer"), ("color", "blue")],
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(res.text().contains("merge into it instead"));
    // Merging moves every use; a contact that had both keeps one.
    let res = c
        .post_form(
            &format!("/settings/tags/{client}/merge"),
            &[("into", &customer.to_string())],
        )
        .await;
    assert_eq!(res.status, 303);
    let list = c
        .api(Method::GET, "/api/v1/contacts?tags=customer", &token, None)
        .await
        .json();
    assert_eq!(list["total"], 3);
    assert_eq!(app.count("tags").await, 2);
    assert_eq!(
        c.api(Method::GET, "/api/v1/contacts?tags=client", &token, None)
            .await
            .status,
        422
    );

    let res = c
        .post_form(
            &format!("/settings/tags/{vip}"),
            &[("name", "Very important"), ("color", "purple")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        c.api(
            Method::GET,
            "/api/v1/contacts?tags=very%20important",
            &token,
            None
        )
        .await
        .json()["total"],
        1
    );
    let res = c
        .post_form(
            &format!("/settings/tags/{vip}"),
            &[("name", "x"), ("color", "chartreuse")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(
        c.post_form(&format!("/settings/tags/{vip}/delete"), &[])
            .await
            .status,
        303
    );
    assert_eq!(app.count("tags").await, 1);
    assert_eq!(app.count("contacts").await, 3, "records stay");

    // Reps may use tags but not manage them.
    app.user("rep@example.com", "rep").await;
    let mut rep = app.client().await;
    rep.sign_in("rep@example.com", PASSWORD).await;
    assert_eq!(rep.get("/settings/tags").await.status, 403);
    rep.get("/contacts").await;
    assert_eq!(
        rep.post_form(&format!("/settings/tags/{customer}/delete"), &[])
            .await
            .status,
        403
    );
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
