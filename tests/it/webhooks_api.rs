//! `/api/v1/webhooks`: outbound endpoints and their delivery log over the JSON API, as
//! Settings → Webhooks has them; admins only.
use actix_web::http::Method;
use serde_json::{Value, json};

use crate::support::*;
use crate::webhooks_receiver::*;

/// Registers an endpoint for `url` over the API as `token`; the answer's JSON.
async fn registered<S: TestService>(
    c: &mut Client<S>,
    token: &str,
    url: &str,
    events: &[&str],
) -> Value {
    let res = c
        .api(
            Method::POST,
            "/api/v1/webhooks",
            token,
            Some(json!({"url": url, "events": events})),
        )
        .await;
    assert_eq!(res.status, 201, "registered: {}", res.text());
    res.json()
}

#[actix_web::test]
async fn an_admin_registers_an_endpoint_and_sees_its_secret_once() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = registered(
        &mut c,
        &token,
        "https://hooks.example.com/in",
        &["deal.won"],
    )
    .await;
    let secret = made["secret"].as_str().expect("the secret").to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 20, "{made}");
    assert_eq!(made["events"], json!(["deal.won"]), "{made}");
    assert_eq!(made["kind"], "json", "{made}");
    let id = made["id"].as_i64().expect("an id");
    let one = c.get_json(&format!("/api/v1/webhooks/{id}"), &token).await;
    assert_eq!(one["url"], "https://hooks.example.com/in", "{one}");
    let list = c.get_json("/api/v1/webhooks", &token).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    for shown in [one.to_string(), list.to_string()] {
        assert!(
            !shown.contains(&secret),
            "the secret is never shown again: {shown}"
        );
        assert!(
            shown.contains(&secret[secret.len() - 4..]),
            "its last four: {shown}"
        );
    }
}

#[actix_web::test]
async fn a_bad_endpoint_is_refused_with_its_fields() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let body = json!({"url": "ftp://x", "events": ["contact.exploded"]});
    let res = c
        .api(Method::POST, "/api/v1/webhooks", &token, Some(body))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let fields = &res.json()["error"]["fields"];
    assert!(
        fields["url"].is_string() && fields["events"].is_string(),
        "{fields}"
    );
    assert_eq!(c.get_json("/api/v1/webhooks", &token).await, json!([]));
}

#[actix_web::test]
async fn a_patch_changes_what_it_gives_and_keeps_the_rest() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = registered(
        &mut c,
        &token,
        "https://hooks.example.com/in",
        &["deal.won"],
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", made["id"]);
    let body = json!({"events": ["deal.lost", "task.created"]});
    let res = c.api(Method::PATCH, &path, &token, Some(body)).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let saved = c.get_json(&path, &token).await;
    assert_eq!(
        saved["events"],
        json!(["deal.lost", "task.created"]),
        "{saved}"
    );
    assert_eq!(
        saved["url"], "https://hooks.example.com/in",
        "the URL kept: {saved}"
    );
    assert_eq!(saved["secret_hint"], made["secret_hint"], "the secret kept");
    let bad = c
        .api(Method::PATCH, &path, &token, Some(json!({"url": "nope"})))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text());
}

#[actix_web::test]
async fn a_deleted_endpoint_is_gone() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = registered(
        &mut c,
        &token,
        "https://hooks.example.com/in",
        &["deal.won"],
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", made["id"]);
    let res = c.api(Method::DELETE, &path, &token, None).await;
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(c.api(Method::GET, &path, &token, None).await.status, 404);
    assert_eq!(c.get_json("/api/v1/webhooks", &token).await, json!([]));
}

#[actix_web::test]
async fn a_delivery_in_the_log_is_redelivered_with_the_same_event_id() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = registered(&mut c, &token, &rx.url, &["contact.created"]).await;
    rx.expect_secret(made["secret"].as_str().expect("the secret"));
    let _running = runner(&app.db, &cairn::jobs::Clock::system(), true);
    c.add_contact(&token, "Ada", "Hook", "ada@example.com")
        .await;
    let first = rx.wait_for(1).await;
    let log_path = format!("/api/v1/webhooks/{}/deliveries", made["id"]);
    let log = c.get_json(&log_path, &token).await;
    assert_eq!(log["total"], 1, "{log}");
    let delivery = &log["items"][0];
    let id = delivery["id"].as_i64().expect("a delivery id");
    wait_delivery(&app.db, id, "delivered", |d| d.status == "delivered").await;
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/webhooks/deliveries/{id}/redeliver"),
            &token,
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["status"],
        "pending",
        "queued again: {}",
        res.text()
    );
    let both = rx.wait_for(2).await;
    assert!(both.iter().all(|g| g.signed), "signed: {both:?}");
    assert_eq!(
        both[1].json()["id"],
        first[0].json()["id"],
        "the same event id"
    );
}

#[actix_web::test]
async fn a_rep_may_not_use_the_webhooks_api() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("rep").await;
    let list = c.api(Method::GET, "/api/v1/webhooks", &token, None).await;
    assert_eq!(list.status, 403, "{}", list.text());
    let body = json!({"url": "https://hooks.example.com/in", "events": ["deal.won"]});
    let made = c
        .api(Method::POST, "/api/v1/webhooks", &token, Some(body))
        .await;
    assert_eq!(made.status, 403, "{}", made.text());
    let admin = app.api_user("admin").await;
    assert_eq!(
        c.get_json("/api/v1/webhooks", &admin).await,
        json!([]),
        "nothing was registered"
    );
}

#[actix_web::test]
async fn a_test_event_is_queued_to_the_endpoint_and_shows_in_its_log() {
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = registered(
        &mut c,
        &token,
        "https://hooks.example.com/in",
        &["deal.won"],
    )
    .await;
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/webhooks/{}/test", made["id"]),
            &token,
            None,
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let log = c
        .get_json(
            &format!("/api/v1/webhooks/{}/deliveries", made["id"]),
            &token,
        )
        .await;
    assert_eq!(log["items"][0]["id"], res.json()["delivery_id"], "{log}");
    assert_eq!(log["items"][0]["event_type"], "webhook.test", "{log}");
}

#[actix_web::test]
async fn a_disabled_endpoint_is_enabled_again() {
    use cairn::entities::webhook_endpoint as e;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
    let app = TestApp::new().await;
    let (token, mut c) = app.api_client("admin").await;
    let made = registered(
        &mut c,
        &token,
        "https://hooks.example.com/in",
        &["deal.won"],
    )
    .await;
    let id = made["id"].as_i64().expect("an id");
    let mut row = e::Entity::find_by_id(id)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    row.active = Set(false);
    row.disabled_reason = Set(Some("Failing for a day".into()));
    row.update(&app.db.write).await.unwrap();
    let test = c
        .api(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/test"),
            &token,
            None,
        )
        .await;
    assert_eq!(test.status, 409, "a disabled endpoint: {}", test.text());
    let res = c
        .api(
            Method::POST,
            &format!("/api/v1/webhooks/{id}/enable"),
            &token,
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let back = res.json();
    assert_eq!(back["active"], true, "{back}");
    assert!(back["disabled_reason"].is_null(), "{back}");
}
