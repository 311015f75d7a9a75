//! Settings → Webhooks: an admin adds an endpoint with the form (its secret shown once,
//! masked after), a bad form is answered 422 with its messages, a test event arrives,
//! and every other role is refused.
use std::time::Duration as StdDuration;

use cairn::jobs::Clock;

use crate::support::*;
use crate::webhooks_receiver::*;

#[actix_web::test]
async fn an_admin_adds_an_endpoint_sees_its_secret_once_and_sends_a_test_event() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    admin.get("/settings/webhooks/new").await;
    let res = admin
        .post_form(
            "/settings/webhooks",
            &[
                ("url", &rx.url),
                ("kind", "json"),
                ("events", "deal.won"),
                ("events", "contact.created"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let html = res.text();
    let start = html.find("whsec_").expect("the secret is shown");
    let secret: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(secret.len(), "whsec_".len() + 48, "{secret}");
    let list = admin.get("/settings/webhooks").await;
    assert!(
        list.text().contains(&rx.url) && list.text().contains("deal.won, contact.created"),
        "{}",
        list.text()
    );
    let id = app.count("webhook_endpoints").await;
    let page = admin.get(&format!("/settings/webhooks/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.text().contains(&secret),
        "the secret is not shown again"
    );
    assert!(
        page.text()
            .contains(&format!("whsec_…{}", &secret[secret.len() - 4..])),
        "masked"
    );
    rx.expect_secret(&secret);
    let running = runner(&app.db, &Clock::system(), true);
    let res = admin
        .post_form(&format!("/settings/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let got = rx.wait_for(1).await;
    assert!(got[0].signed, "{got:?}");
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_bad_endpoint_form_is_answered_with_its_messages() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("admin@example.com", "admin").await;
    admin.get("/settings/webhooks/new").await;
    let res = admin
        .post_form(
            "/settings/webhooks",
            &[
                ("url", "ftp://example.com/x"),
                ("kind", "json"),
                ("events", "deal.exploded"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(
        res.text().contains("must start with http:// or https://"),
        "{}",
        res.text()
    );
    assert!(
        res.text().contains("“deal.exploded” is not an event type"),
        "{}",
        res.text()
    );
    assert_eq!(app.count("webhook_endpoints").await, 0);
}

#[actix_web::test]
async fn only_admins_may_see_or_change_webhooks() {
    let app = TestApp::new().await;
    for role in ["manager", "rep", "viewer"] {
        let email = format!("{role}@example.com");
        let mut c = app.signed_in(&email, role).await;
        let page = c.get("/settings/webhooks").await;
        assert_eq!(page.status, 403, "{role}: {}", page.text());
        c.get("/").await;
        let res = c
            .post_form(
                "/settings/webhooks",
                &[("url", "https://example.com/hook"), ("events", "deal.won")],
            )
            .await;
        assert_eq!(res.status, 403, "{role}: {}", res.text());
    }
    assert_eq!(app.count("webhook_endpoints").await, 0);
}
