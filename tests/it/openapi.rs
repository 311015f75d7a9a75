//! The OpenAPI document stays true to the routes: every documented operation is served,
//! and every other method on a documented path is refused.
use actix_web::http::Method;

use crate::support::*;

#[actix_web::test]
async fn every_documented_operation_exists_and_nothing_else_does() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    let doc = c.get("/api/openapi.json").await;
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/contacts"));
    assert!(paths.contains_key("/api/v1/contacts/{id}"));
    assert!(paths.contains_key("/api/v1/companies"));
    assert!(paths.contains_key("/api/v1/companies/{id}"));
    assert!(paths.contains_key("/api/v1/companies"));
    assert!(paths.contains_key("/api/v1/companies/{id}"));
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "1");
        for method in ["get", "post", "put", "patch", "delete"] {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = matches!(method, "post" | "patch" | "put").then(|| serde_json::json!({}));
            let res = c.api(m, &concrete, &token, body).await;
            if item.get(method).is_some() {
                operations += 1;
                assert_ne!(
                    res.status, 405,
                    "{method} {path} is documented but not routed"
                );
                if res.status == 404 {
                    let message = res.json()["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    assert_ne!(
                        message, "There is nothing at this address.",
                        "{method} {path}: a record's 404, not a missing route"
                    );
                }
                let documented: Vec<&String> = item[method]["responses"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect();
                assert!(
                    documented.iter().any(|s| s.as_str() == res.status.as_str()),
                    "{method} {path} answered {} which is not documented ({documented:?})",
                    res.status
                );
            } else {
                assert_eq!(
                    res.status, 405,
                    "{method} {path} is routed but not documented"
                );
            }
        }
    }
    assert_eq!(operations, 64);
    assert!(paths.contains_key("/api/v1/reports/revenue"));
    assert!(paths.contains_key("/api/v1/scoring/models"));
    assert!(doc["components"]["schemas"]["Contact"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// `schema` with its `$ref`s and nullable `oneOf` followed.
fn resolved<'a>(doc: &'a serde_json::Value, mut s: &'a serde_json::Value) -> &'a serde_json::Value {
    loop {
        if let Some(r) = s["$ref"].as_str() {
            s = doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{r} is referenced but the document has no such thing"));
        } else if let Some(branch) = s["oneOf"]
            .as_array()
            .and_then(|b| b.iter().find(|v| v["type"] != "null"))
        {
            s = branch;
        } else {
            return s;
        }
    }
}

/// The schema at `pointer` in the document, resolved.
fn schema_at<'a>(doc: &'a serde_json::Value, pointer: &str) -> &'a serde_json::Value {
    let s = doc
        .pointer(pointer)
        .unwrap_or_else(|| panic!("the document has nothing at {pointer}"));
    resolved(doc, s)
}

/// Every `$ref` in `value`.
fn all_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                out.push(r.to_string());
            }
            map.values().for_each(|v| all_refs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| all_refs(v, out)),
        _ => {}
    }
}

/// The limits and value sets the document states are the ones the domain enforces, and
/// everything the document points at is in it.
/// The served OpenAPI document.
async fn document() -> serde_json::Value {
    let app = TestApp::new().await;
    let mut c = app.client().await;
    let doc = c.get("/api/openapi.json").await;
    assert_eq!(doc.status, 200, "the OpenAPI document");
    doc.json()
}

#[actix_web::test]
async fn every_reference_in_the_document_resolves() {
    let doc = document().await;
    let mut refs = Vec::new();
    all_refs(&doc, &mut refs);
    for r in &refs {
        assert!(
            doc.pointer(r.trim_start_matches('#')).is_some(),
            "{r} is referenced but the document has no such thing"
        );
    }
    assert!(refs.len() > 50, "only {} references found", refs.len());
}

#[actix_web::test]
async fn documented_limits_and_choices_are_the_domains() {
    use cairn::domain::{companies, contacts, deals, tags};
    let doc = document().await;
    let props =
        |schema: &str, field: &str| format!("/components/schemas/{schema}/properties/{field}");
    let name = contacts::NAME_MAX as i64;
    let (phone, title) = (contacts::PHONE_MAX as i64, contacts::TITLE_MAX as i64);
    let company = companies::NAME_MAX as i64;
    let address = companies::ADDRESS_MAX as i64;
    let (website, tags_max) = (companies::WEBSITE_MAX as i64, tags::PER_RECORD_MAX as i64);
    for (schema, field, key, limit) in [
        ("ContactInput", "first_name", "maxLength", name),
        ("ContactInput", "last_name", "maxLength", name),
        ("ContactInput", "phone", "maxLength", phone),
        ("ContactInput", "title", "maxLength", title),
        ("ContactInput", "company", "maxLength", company),
        ("ContactInput", "tags", "maxItems", tags_max),
        ("ContactPatch", "first_name", "maxLength", name),
        ("CompanyInput", "name", "maxLength", company),
        ("CompanyInput", "address", "maxLength", address),
        ("CompanyInput", "website", "maxLength", website),
        ("CompanyPatch", "address", "maxLength", address),
        ("DealInput", "amount", "maximum", deals::MAX_AMOUNT),
        ("DealPatch", "amount", "maximum", deals::MAX_AMOUNT),
    ] {
        let s = schema_at(&doc, &props(schema, field));
        assert_eq!(
            s[key].as_f64(),
            Some(limit as f64),
            "{schema}.{field} documents {key} {} but the domain's limit is {limit}",
            s[key]
        );
    }
    assert_eq!(
        schema_at(&doc, "/components/schemas/TagName")["maxLength"],
        tags::NAME_MAX,
        "the tag name length"
    );
    let sources: Vec<&str> = std::iter::once("").chain(contacts::SOURCES).collect();
    assert_eq!(
        schema_at(&doc, &props("ContactInput", "source"))["enum"],
        serde_json::json!(sources),
        "a contact's sources"
    );
}

/// Every value a query parameter's documented value set holds is accepted (a 200, not
/// the 422 of an unknown value), so the document promises nothing the API refuses.
#[actix_web::test]
async fn every_documented_query_choice_is_accepted() {
    let app = TestApp::new().await;
    let token = app.api_user("admin").await;
    let mut c = app.client().await;
    let doc = c.get("/api/openapi.json").await.json();
    let mut tried = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            let schema = resolved(&doc, &param["schema"]);
            for value in schema["enum"].as_array().into_iter().flatten() {
                let value = value.as_str().expect("a string choice");
                let uri = format!("{path}?{name}={}", value.replace('+', "%2B"));
                let res = c.api(Method::GET, &uri, &token, None).await;
                assert_eq!(
                    res.status,
                    200,
                    "GET {uri} refuses a documented value: {}",
                    res.text()
                );
                tried += 1;
            }
        }
    }
    assert!(tried >= 30, "only {tried} documented choices were found");
}

/// The query parameters a list documents, by name.
fn documented_params(doc: &serde_json::Value, path: &str) -> std::collections::BTreeSet<String> {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("GET {path} documents its parameters"))
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

/// The parameters a list's parser reads: the fields of its `ListParams`.
fn accepted_params<P: serde::Serialize + Default>() -> std::collections::BTreeSet<String> {
    serde_json::to_value(P::default())
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[actix_web::test]
async fn every_list_parameter_the_api_reads_is_documented_and_no_other() {
    let app = TestApp::new().await;
    let doc = app.client().await.get("/api/openapi.json").await.json();
    for (path, accepted) in [
        (
            "/api/v1/contacts",
            accepted_params::<cairn::domain::contacts::ListParams>(),
        ),
        (
            "/api/v1/companies",
            accepted_params::<cairn::domain::companies::ListParams>(),
        ),
        (
            "/api/v1/deals",
            accepted_params::<cairn::domain::deals::ListParams>(),
        ),
    ] {
        assert_eq!(
            documented_params(&doc, path),
            accepted,
            "GET {path}: the document and the parser disagree"
        );
    }
}

/// The other way round from `every_documented_operation_exists_and_nothing_else_does`:
/// an API route added to `src/web/mod.rs` without its `#[utoipa::path]` in the document
/// fails here.
#[actix_web::test]
async fn every_api_route_is_in_the_document() {
    let app = TestApp::new().await;
    let doc = app.client().await.get("/api/openapi.json").await.json();
    let api: Vec<(String, String)> = crate::routes_table::declared()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/v1/"))
        .collect();
    assert!(api.len() > 30, "read only {} API routes", api.len());
    let missing: Vec<String> = api
        .iter()
        .filter(|(method, path)| doc["paths"][path][method.to_lowercase()].is_null())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routed but not in the OpenAPI document: {missing:?}"
    );
}
