//! Companies through the API and the pages.
use actix_web::http::Method;
use serde_json::json;

use crate::support::*;

/// A rep's token and a client of a fresh app.
async fn rep(app: &TestApp) -> (String, Client<impl TestService>) {
    (app.api_user("rep").await, app.client().await)
}

/// Acme Inc, created through the API with every field typed loosely; its JSON.
async fn acme(c: &mut Client<impl TestService>, token: &str) -> serde_json::Value {
    let body = json!({"name": "  Acme   Inc ", "domain": "https://www.Acme.com/pricing?x=1", "industry": "Software",
        "size_band": "11-50", "website": "https://acme.com", "phone": "+1 555 0100", "address": "1 Main St\nSpringfield"});
    let res = c
        .api(Method::POST, "/api/v1/companies", token, Some(body))
        .await;
    assert_eq!(res.status, 201, "create Acme: {}", res.text());
    res.json()
}

/// A contact created through the API with `body`; its JSON.
async fn contact(
    c: &mut Client<impl TestService>,
    token: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    c.api_ok(Method::POST, "/api/v1/contacts", token, Some(body))
        .await
        .json()
}

#[actix_web::test]
async fn a_new_company_has_its_name_domain_and_industry_tidied() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    let acme = acme(&mut c, &token).await;
    assert_eq!(acme["name"], "Acme Inc");
    assert_eq!(acme["domain"], "acme.com");
    assert_eq!(acme["industry"], "software");
    assert_eq!(acme["address"], "1 Main St\nSpringfield");
    assert_eq!(acme["contact_count"], 0);
    assert_eq!(acme["owner_name"], "rep rep-api@example.com");
}

#[actix_web::test]
async fn company_domains_are_normalised_and_belong_to_one_company() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    acme(&mut c, &token).await;
    for (raw, normalised) in [
        ("ACME.com.", "acme.com"),
        ("http://www.sub.Example.org:8080/x", "sub.example.org"),
        ("user@mail.example.co.uk", "mail.example.co.uk"),
    ] {
        let body = json!({"name": format!("N {raw}"), "domain": raw});
        let res = c
            .api(Method::POST, "/api/v1/companies", &token, Some(body))
            .await;
        if normalised == "acme.com" {
            assert_eq!(res.status, 409, "acme.com is taken");
            assert!(res.json()["error"]["fields"]["domain"].is_string());
        } else {
            assert_eq!(res.status, 201, "{raw}: {}", res.text());
            assert_eq!(res.json()["domain"], normalised);
        }
    }
}

#[actix_web::test]
async fn the_website_gives_a_company_its_domain_when_none_is_typed() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    let body = json!({"name": "Globex", "website": "https://www.globex.io/about"});
    let res = c
        .api_ok(Method::POST, "/api/v1/companies", &token, Some(body))
        .await;
    assert_eq!(res.json()["domain"], "globex.io");
}

#[actix_web::test]
async fn a_company_patch_changes_only_the_fields_sent() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    let id = acme(&mut c, &token).await["id"].as_i64().unwrap();
    let res = c
        .api(
            Method::PATCH,
            &format!("/api/v1/companies/{id}"),
            &token,
            Some(json!({"size_band": "51-200", "phone": null})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["size_band"], "51-200");
    assert_eq!(res.json()["phone"], serde_json::Value::Null);
    assert_eq!(res.json()["domain"], "acme.com");
}

/// Acme's id, and two contacts who joined it: one by company_id, one by its name in
/// another case.
async fn acme_with_two_contacts(
    c: &mut Client<impl TestService>,
    token: &str,
) -> (i64, serde_json::Value, serde_json::Value) {
    let id = acme(c, token).await["id"].as_i64().unwrap();
    let by_id = json!({"first_name": "A", "last_name": "B", "company_id": id});
    let by_id = contact(c, token, by_id).await;
    let by_name = json!({"first_name": "C", "last_name": "D", "company": "acme inc"});
    let by_name = contact(c, token, by_name).await;
    (id, by_id, by_name)
}

/// A contact joins by company_id, or by name in any case; both link the same row.
#[actix_web::test]
async fn a_contact_joins_a_company_by_id_or_by_its_name_in_any_case() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    let (id, by_id, by_name) = acme_with_two_contacts(&mut c, &token).await;
    assert_eq!(by_id["company"], "Acme Inc");
    assert_eq!(by_name["company_id"], id);
    let res = c
        .get_json(&format!("/api/v1/contacts?company_id={id}"), &token)
        .await;
    assert_eq!(res["total"], 2);
    let company = c.get_json(&format!("/api/v1/companies/{id}"), &token).await;
    assert_eq!(company["contact_count"], 2);
}

#[actix_web::test]
async fn a_contact_naming_a_missing_company_or_two_different_ones_is_422() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    let id = acme(&mut c, &token).await["id"].as_i64().unwrap();
    let body = json!({"first_name": "E", "last_name": "F", "company_id": 999999});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(res.status, 422);
    assert!(res.json()["error"]["fields"]["company_id"].is_string());
    let body = json!({"first_name": "E", "last_name": "F", "company_id": id, "company": "Globex"});
    let res = c
        .api(Method::POST, "/api/v1/contacts", &token, Some(body))
        .await;
    assert_eq!(res.status, 422, "name and id disagree");
}

/// Deleting a company with contacts needs a decision; nothing dangles either way.
#[actix_web::test]
async fn a_company_with_contacts_goes_only_when_they_are_detached() {
    let app = TestApp::new().await;
    let (token, mut c) = rep(&app).await;
    let (id, by_id, _) = acme_with_two_contacts(&mut c, &token).await;
    let path = format!("/api/v1/companies/{id}");
    let res = c.api(Method::DELETE, &path, &token, None).await;
    assert_eq!(res.status, 409);
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 contacts")
    );
    let res = c.api(Method::GET, &path, &token, None).await;
    assert_eq!(res.status, 200, "the refused delete kept the company");
    let res = c
        .api(Method::DELETE, &format!("{path}?detach=true"), &token, None)
        .await;
    assert_eq!(res.status, 204, "{}", res.text());
    let res = c.api(Method::GET, &path, &token, None).await;
    assert_eq!(res.status, 404, "the company is gone");
    let kept = c
        .get_json(&format!("/api/v1/contacts/{}", by_id["id"]), &token)
        .await;
    assert_eq!(kept["company_id"], serde_json::Value::Null);
    assert_eq!(kept["company"], serde_json::Value::Null);
}

#[actix_web::test]
async fn company_bad_input_is_422_with_the_field() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "A", "domain": "not a domain"}), "domain"),
        (json!({"name": "A", "domain": "localhost"}), "domain"),
        (json!({"name": "A", "industry": "alchemy"}), "industry"),
        (json!({"name": "A", "size_band": "huge"}), "size_band"),
        (json!({"name": "A", "website": "acme"}), "website"),
        (json!({"name": "A", "website": "ftp://acme.com"}), "website"),
        (json!({"name": "A", "phone": "call me"}), "phone"),
        (json!({"name": "A", "owner_id": 424242}), "owner_id"),
        (json!({"name": "A\u{0}"}), "name"),
    ] {
        let res = c
            .api(
                Method::POST,
                "/api/v1/companies",
                &token,
                Some(body.clone()),
            )
            .await;
        assert_eq!(res.status, 422, "{body}");
        assert!(
            res.json()["error"]["fields"][field].is_string(),
            "{body}: {}",
            res.text()
        );
    }
    assert_eq!(
        c.api(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "Acme"}))
        )
        .await
        .status,
        201
    );
    let dup = c
        .api(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "ACME"})),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert!(dup.json()["error"]["fields"]["name"].is_string());
    for query in [
        "industry=alchemy",
        "size=huge",
        "sort=up",
        "owner=x",
        "per_page=0",
        "q=a%00",
    ] {
        let res = c
            .api(
                Method::GET,
                &format!("/api/v1/companies?{query}"),
                &token,
                None,
            )
            .await;
        assert_eq!(res.status, 422, "{query}");
    }
    assert_eq!(app.count("companies").await, 1);
}

#[actix_web::test]
async fn company_list_filters_and_sorts() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for (name, industry, size) in [
        ("Zeta", "software", "1-10"),
        ("Alpha", "fintech", "11-50"),
        ("Mid", "software", "11-50"),
    ] {
        let body = json!({"name": name, "industry": industry, "size_band": size, "domain": format!("{}.example", name.to_lowercase())});
        assert_eq!(
            c.api(Method::POST, "/api/v1/companies", &token, Some(body))
                .await
                .status,
            201
        );
    }
    let all = c
        .api(Method::GET, "/api/v1/companies", &token, None)
        .await
        .json();
    assert_eq!(all["total"], 3);
    assert_eq!(all["items"][0]["name"], "Alpha", "name order by default");
    let sw = c
        .api(
            Method::GET,
            "/api/v1/companies?industry=software&sort=name_desc",
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(sw["total"], 2);
    assert_eq!(sw["items"][0]["name"], "Zeta");
    let both = c
        .api(
            Method::GET,
            "/api/v1/companies?industry=software&size=11-50",
            &token,
            None,
        )
        .await;
    let both = both.json();
    assert_eq!(both["total"], 1, "{both}");
    let by_domain = c
        .api(Method::GET, "/api/v1/companies?q=zeta.exa", &token, None)
        .await
        .json();
    assert_eq!(by_domain["total"], 1);
    let newest = c
        .api(
            Method::GET,
            "/api/v1/companies?sort=newest&per_page=1",
            &token,
            None,
        )
        .await
        .json();
    assert_eq!(newest["items"][0]["name"], "Mid");
    assert_eq!(newest["total"], 3);
}

#[actix_web::test]
async fn company_pages_create_show_and_delete_with_detach() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    c.sign_in("rep-api@example.com", PASSWORD).await;
    assert_eq!(c.get("/companies").await.status, 200);
    c.get("/companies/new").await;
    let res = c
        .post_form(
            "/companies",
            &[("name", ""), ("domain", "nope"), ("industry", "software")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("Name is required."));
    assert!(res.text().contains("Enter a domain like acme.com."));
    let res = c
        .post_form(
            "/companies",
            &[
                ("name", "Acme"),
                ("domain", "www.acme.com"),
                ("industry", "software"),
                ("size_band", "11-50"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let url = res.location();
    let id: i64 = url.rsplit('/').next().unwrap().parse().unwrap();
    for who in ["Ana", "Ben"] {
        let body = json!({"first_name": who, "last_name": "X", "company_id": id});
        c.api(Method::POST, "/api/v1/contacts", &token, Some(body))
            .await;
    }
    let page = c.get(&url).await.text();
    assert!(
        page.contains("acme.com")
            && page.contains("Software")
            && page.contains("Ana X")
            && page.contains("Ben X")
    );
    assert!(page.contains("added it"), "history");
    let list = c.hx_get("/companies?q=acm").await.text();
    assert!(list.contains("Acme") && !list.contains("<html"));

    let confirm = c.get(&format!("{url}/delete")).await.text();
    assert!(confirm.contains("Detach 2 contacts and delete"));
    // Without the choice the company stays.
    let res = c.post_form(&format!("{url}/delete"), &[]).await;
    assert_eq!(res.status, 409);
    assert_eq!(app.count("companies").await, 1);
    let res = c
        .post_form(&format!("{url}/delete"), &[("contacts", "detach")])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.count("companies").await, 0);
    assert_eq!(app.count("contacts WHERE company_id IS NULL").await, 2);
    assert!(
        c.get("/companies")
            .await
            .text()
            .contains("remain, without a company")
    );
}

#[actix_web::test]
async fn the_company_list_exports_as_csv_with_its_filters() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    for (name, industry) in [
        ("Acme, Inc.", "software"),
        ("Globex", "fintech"),
        ("=Evil", "software"),
    ] {
        let body = json!({"name": name, "industry": industry});
        assert_eq!(
            c.api(Method::POST, "/api/v1/companies", &token, Some(body))
                .await
                .status,
            201
        );
    }
    c.sign_in("rep-api@example.com", PASSWORD).await;
    let res = c.get("/companies/export.csv?industry=software").await;
    assert_eq!(res.status, 200);
    let text = res.text();
    assert!(text.starts_with("id,name,domain,industry,size_band,website,phone,address,contacts,owner,owner_id,created_at,updated_at,tags\r\n"));
    assert_eq!(text.matches("\r\n").count(), 3);
    assert!(
        text.contains(",\"Acme, Inc.\",")
            && text.contains(",\"'=Evil\",")
            && !text.contains("Globex")
    );
}

#[actix_web::test]
async fn a_website_typed_without_https_is_stored_with_it() {
    let app = TestApp::new().await;
    let token = app.api_user("rep").await;
    let mut c = app.client().await;
    let company = c
        .api_ok(
            Method::POST,
            "/api/v1/companies",
            &token,
            Some(json!({"name": "Northwind", "website": "northwind.test/about"})),
        )
        .await
        .json();
    assert_eq!(company["website"], "https://northwind.test/about");
    assert_eq!(company["domain"], "northwind.test");
}

#[actix_web::test]
async fn a_name_already_taken_on_the_form_links_the_company_that_has_it() {
    let app = TestApp::new().await;
    let (mut c, token) = app.rep_signed_in().await;
    let id = acme(&mut c, &token).await["id"].as_i64().unwrap();
    assert_eq!(c.get("/companies/new").await.status, 200);
    let res = c.post_form("/companies", &[("name", "ACME inc")]).await;
    assert_eq!(res.status, 409, "{}", res.text());
    let html = res.text();
    assert!(
        html.contains(&format!(
            "<a href=\"/companies/{id}\" target=\"_blank\" rel=\"noopener\">Open Acme Inc</a>"
        )),
        "the refusal links the existing company: {html}"
    );
}
