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
    assert_eq!(operations, 32);
    assert!(doc["components"]["schemas"]["Contact"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
