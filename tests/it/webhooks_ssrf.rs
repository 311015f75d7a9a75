//! Deliveries never reach what only the server can reach: literal loopback, private,
//! link-local (metadata) and IPv6 loopback addresses are refused before sending, a name
//! resolving to loopback is refused at connect time, and a redirect is not followed;
//! each with its reason stored and nothing arriving at the receiver.
use std::time::Duration as StdDuration;

use cairn::jobs::Clock;

use crate::support::*;
use crate::webhooks_receiver::*;

#[actix_web::test]
async fn literal_private_addresses_are_refused_with_a_stored_reason() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let port = rx
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let urls = [
        format!("http://127.0.0.1:{port}/hook"),
        "http://10.1.2.3/hook".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        format!("http://[::1]:{port}/hook"),
    ];
    let mut ids = Vec::new();
    for url in &urls {
        ids.push(endpoint(&app, url, "json", &["contact.created"]).await.0);
    }
    let running = runner(&app.db, &Clock::system(), false);
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    for (endpoint, url) in ids.iter().zip(&urls) {
        let id = deliveries(&app.db, *endpoint).await[0].id;
        let d = wait_delivery(&app.db, id, "dead", |d| d.status == "dead").await;
        let error = d.error.clone().unwrap_or_default();
        assert!(
            error.starts_with("Refused: ") && error.contains("webhooks are not sent there"),
            "{url}: {d:?}"
        );
        assert_eq!(d.status_code, None, "{url}: nothing was sent");
    }
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(
        rx.got().is_empty(),
        "the receiver got nothing: {:?}",
        rx.got()
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_name_resolving_to_loopback_is_refused_at_connect_time() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let url = rx.url.replace("127.0.0.1", "localhost");
    let (endpoint, _) = endpoint(&app, &url, "json", &["contact.created"]).await;
    let running = runner(&app.db, &Clock::system(), false);
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let id = deliveries(&app.db, endpoint).await[0].id;
    let d = wait_delivery(&app.db, id, "dead", |d| d.status == "dead").await;
    let error = d.error.unwrap_or_default();
    assert!(
        error.contains("localhost resolves to a loopback address"),
        "{error}"
    );
    assert!(
        rx.got().is_empty(),
        "the receiver got nothing: {:?}",
        rx.got()
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_redirect_to_a_private_address_is_not_followed() {
    let app = TestApp::new().await;
    let target = Receiver::start().await;
    let redirector = Receiver::start().await;
    redirector.redirect_to(&target.url);
    let (endpoint, _) = endpoint(&app, &redirector.url, "json", &["contact.created"]).await;
    // Allowed to reach the (local) redirector; the redirect itself is never followed.
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let id = deliveries(&app.db, endpoint).await[0].id;
    let d = wait_delivery(&app.db, id, "failed", |d| d.status == "failed").await;
    assert_eq!(d.status_code, Some(302), "{d:?}");
    let error = d.error.unwrap_or_default();
    assert!(
        error.contains("webhooks do not follow redirects") && error.contains(&target.url),
        "{error}"
    );
    assert_eq!(redirector.got().len(), 1);
    assert!(
        target.got().is_empty(),
        "the redirect's target got nothing: {:?}",
        target.got()
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}
