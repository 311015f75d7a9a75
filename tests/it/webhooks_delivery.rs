//! Outbound webhooks against a real local receiver that checks every signature itself:
//! each event arrives once, signed, with its headers; a rolled-back write sends nothing;
//! a failing receiver gets the delivery again after the backoff; Redeliver sends it
//! again; an endpoint failing for a day is disabled and its admin emailed; Slack gets a
//! readable line.
use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use actix_web::http::Method;
use cairn::domain::webhooks::{self, Event, EventType};
use cairn::entities::{outbox, webhook_endpoint};
use cairn::jobs::Clock;
use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::json;

use crate::support::*;
use crate::webhooks_receiver::*;

/// Every request `got` carried a valid signature and the delivery headers.
fn all_signed(got: &[Got]) {
    for g in got {
        assert!(g.signed, "the receiver refused the signature: {g:?}");
        assert_eq!(g.headers["content-type"], "application/json", "{g:?}");
        assert!(g.headers["user-agent"].starts_with("Cairn/"), "{g:?}");
        assert_eq!(g.headers["cairn-event-id"], g.json()["id"], "{g:?}");
    }
}

fn types(got: &[Got]) -> BTreeSet<String> {
    got.iter()
        .map(|g| g.json()["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Lets a stray second delivery arrive before counting.
async fn settle() {
    tokio::time::sleep(StdDuration::from_millis(400)).await;
}

#[actix_web::test]
async fn a_contact_created_updated_and_deleted_each_arrive_once_signed() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let events = ["contact.created", "contact.updated", "contact.deleted"];
    let (endpoint, secret) = endpoint(&app, &rx.url, "json", &events).await;
    rx.expect_secret(&secret);
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    let id = c
        .add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let path = format!("/api/v1/contacts/{id}");
    c.api_ok(
        Method::PATCH,
        &path,
        &token,
        Some(json!({"title": "Countess"})),
    )
    .await;
    c.trash("contacts", id, &token).await;
    rx.wait_for(3).await;
    settle().await;
    let got = rx.got();
    assert_eq!(got.len(), 3, "each event once: {got:?}");
    all_signed(&got);
    assert_eq!(types(&got), events.iter().map(|s| s.to_string()).collect());
    for g in &got {
        let body = g.json();
        assert_eq!(body["data"]["id"], id, "{body}");
        assert_eq!(body["data"]["email"], "ada@example.com", "{body}");
        assert!(body["created"].is_i64() && body["id"].as_str().unwrap().starts_with("evt_"));
        if body["type"] == "contact.updated" {
            assert_eq!(
                body["data"]["title"], "Countess",
                "the record after the change"
            );
        }
    }
    let log = deliveries(&app.db, endpoint).await;
    assert_eq!(log.len(), 3);
    for d in &log {
        assert_eq!(
            (d.status.as_str(), d.attempts, d.status_code),
            ("delivered", 1, Some(200)),
            "{d:?}"
        );
        assert!(d.latency_ms.is_some() && d.delivered_at.is_some(), "{d:?}");
        assert_eq!(d.response_excerpt.as_deref(), Some("{\"received\":200}"));
    }
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_deal_won_and_a_task_created_arrive_once_and_unsubscribed_events_do_not() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (_, secret) = endpoint(&app, &rx.url, "json", &["deal.won", "task.created"]).await;
    rx.expect_secret(&secret);
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    let deal = c.add_deal(&token, "Acme pilot").await;
    let pipelines = c.get_json("/api/v1/pipelines", &token).await;
    let won = stage_id(&pipelines[0], "Won");
    let path = format!("/api/v1/deals/{deal}/move");
    c.api_ok(
        Method::POST,
        &path,
        &token,
        Some(json!({"stage_id": won, "version": 1})),
    )
    .await;
    c.add_task(
        &token,
        json!({"title": "Send the contract", "deal_id": deal}),
    )
    .await;
    rx.wait_for(2).await;
    settle().await;
    let got = rx.got();
    assert_eq!(got.len(), 2, "deal.created is not subscribed: {got:?}");
    all_signed(&got);
    assert_eq!(
        types(&got),
        BTreeSet::from(["deal.won".to_string(), "task.created".to_string()])
    );
    let deal_event = got
        .iter()
        .map(Got::json)
        .find(|b| b["type"] == "deal.won")
        .unwrap();
    assert_eq!(deal_event["data"]["id"], deal);
    assert_eq!(deal_event["data"]["stage_kind"], "won", "{deal_event}");
    let task_event = got
        .iter()
        .map(Got::json)
        .find(|b| b["type"] == "task.created")
        .unwrap();
    assert_eq!(
        task_event["data"]["title"], "Send the contract",
        "{task_event}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_rolled_back_write_queues_and_sends_nothing() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (endpoint, _) = endpoint(&app, &rx.url, "json", &["contact.created"]).await;
    let running = runner(&app.db, &Clock::system(), true);
    let tx = app.db.write.begin().await.unwrap();
    let event = Event::of_value(EventType::ContactCreated, json!({"id": 1}));
    let queued = webhooks::emit(&app.db, &tx, &event).await.unwrap();
    assert_eq!(queued, 1, "the endpoint is subscribed");
    tx.rollback().await.unwrap();
    // A refused write (a duplicate email) emits nothing either.
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let dup = c
        .api(
            Method::POST,
            "/api/v1/contacts",
            &token,
            Some(contact_json("A", "L", "ada@example.com")),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.text());
    rx.wait_for(1).await;
    settle().await;
    assert_eq!(
        rx.got().len(),
        1,
        "only the committed contact: {:?}",
        rx.got()
    );
    assert_eq!(deliveries(&app.db, endpoint).await.len(), 1);
    assert_eq!(
        app.count_where("jobs", " WHERE kind = 'webhook.deliver'")
            .await,
        1
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_receiver_that_fails_then_recovers_gets_the_delivery_again_after_the_backoff() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (endpoint, secret) = endpoint(&app, &rx.url, "json", &["contact.created"]).await;
    rx.expect_secret(&secret);
    rx.then_answer(&[500]);
    let clock = Clock::system();
    let running = runner(&app.db, &clock, true);
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let id = deliveries(&app.db, endpoint).await[0].id;
    let failed = wait_delivery(&app.db, id, "failed", |d| d.status == "failed").await;
    assert_eq!(
        (failed.attempts, failed.status_code),
        (1, Some(500)),
        "{failed:?}"
    );
    assert!(
        failed.error.as_deref().unwrap_or("").contains("500"),
        "{failed:?}"
    );
    let ep = webhook_endpoint::Entity::find_by_id(endpoint)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    assert!(
        ep.failing_since.is_some() && ep.active,
        "failing, still active: {ep:?}"
    );
    clock.advance(Duration::minutes(15));
    let done = wait_delivery(&app.db, id, "delivered", |d| d.status == "delivered").await;
    assert_eq!(
        (done.attempts, done.status_code, done.error),
        (2, Some(200), None)
    );
    let got = rx.got();
    assert_eq!(got.len(), 2, "{got:?}");
    all_signed(&got);
    assert_eq!(
        got[0].json()["id"],
        got[1].json()["id"],
        "the same event id both times"
    );
    let ep = webhook_endpoint::Entity::find_by_id(endpoint)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    assert!(ep.failing_since.is_none(), "a success clears it: {ep:?}");
    let mut admin = app.signed_in("log@example.com", "admin").await;
    let page = admin.get(&format!("/settings/webhooks/{endpoint}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("delivered") && page.text().contains("<td>2</td>"),
        "the log shows two attempts: {}",
        page.text()
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn redeliver_sends_the_same_event_again_and_answers_htmx_with_its_row() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (endpoint, secret) = endpoint(&app, &rx.url, "json", &["company.created"]).await;
    rx.expect_secret(&secret);
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    c.add_company(&token, "Acme").await;
    rx.wait_for(1).await;
    let id = deliveries(&app.db, endpoint).await[0].id;
    wait_delivery(&app.db, id, "delivered", |d| d.status == "delivered").await;
    let mut admin = app.signed_in("redo@example.com", "admin").await;
    admin.get(&format!("/settings/webhooks/{endpoint}")).await;
    let res = admin
        .hx_post_form(
            &format!("/settings/webhooks/deliveries/{id}/redeliver"),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(
        res.text().starts_with(&format!("<tr id=\"delivery-{id}\"")),
        "{}",
        res.text()
    );
    assert!(res.text().contains("pending"), "{}", res.text());
    let got = rx.wait_for(2).await;
    all_signed(&got);
    assert_eq!(got[0].body, got[1].body, "the same event, byte for byte");
    let d = wait_delivery(&app.db, id, "delivered again", |d| {
        d.status == "delivered" && d.attempts == 2
    })
    .await;
    assert_eq!(d.status_code, Some(200));
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn an_endpoint_failing_for_a_day_is_disabled_and_its_admin_emailed() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (endpoint, _) = endpoint(&app, &rx.url, "json", &["contact.created"]).await;
    rx.answer(500);
    let clock = Clock::system();
    let running = runner(&app.db, &clock, true);
    let (token, mut c) = app.api_client("admin").await;
    c.add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let id = deliveries(&app.db, endpoint).await[0].id;
    wait_delivery(&app.db, id, "failed", |d| d.status == "failed").await;
    clock.advance(Duration::hours(25));
    wait_delivery(&app.db, id, "tried again", |d| d.attempts == 2).await;
    let ep = webhook_endpoint::Entity::find_by_id(endpoint)
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    assert!(!ep.active, "disabled: {ep:?}");
    assert!(
        ep.disabled_reason
            .as_deref()
            .unwrap_or("")
            .contains("24 hours"),
        "{ep:?}"
    );
    let creator = cairn::entities::user::Entity::find_by_id(ep.created_by.unwrap())
        .one(&app.db.read)
        .await
        .unwrap()
        .unwrap();
    let mail = outbox::Entity::find()
        .filter(outbox::Column::ToEmail.eq(creator.email.clone()))
        .all(&app.db.read)
        .await
        .unwrap();
    assert_eq!(
        mail.len(),
        1,
        "one email to the endpoint's creator: {mail:?}"
    );
    assert!(
        mail[0].subject.contains("Webhook disabled"),
        "{:?}",
        mail[0]
    );
    // Nothing more is queued for a disabled endpoint.
    c.add_contact(&token, "Grace", "Hopper", "grace@example.com")
        .await;
    assert_eq!(deliveries(&app.db, endpoint).await.len(), 1);
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_slack_endpoint_gets_a_readable_line_with_a_link() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    endpoint(&app, &rx.url, "slack", &["deal.created"]).await;
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    let deal = c.add_deal(&token, "Acme pilot").await;
    let got = rx.wait_for(1).await;
    let body = got[0].json();
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["text"], "only text: {body}");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.starts_with("New deal: ")
            && text.contains(&format!(
                "<https://crm.example.com/deals/{deal}|Acme pilot>"
            )),
        "{text}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn bulk_actions_and_merges_send_an_event_per_record() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let events = ["contact.updated", "contact.deleted"];
    let (_, secret) = endpoint(&app, &rx.url, "json", &events).await;
    rx.expect_secret(&secret);
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    let a = c
        .add_contact(&token, "Ada", "Lovelace", "ada@example.com")
        .await;
    let b = c
        .add_contact(&token, "Grace", "Hopper", "grace@example.com")
        .await;
    let d = c
        .add_contact(&token, "Dup", "Lovelace", "dup@example.com")
        .await;
    let tag = json!({"action": "tag", "tag": "vip", "ids": [a, b]});
    c.api_ok(Method::POST, "/api/v1/contacts/bulk", &token, Some(tag))
        .await;
    let merge = json!({"merge_id": d});
    c.api_ok(
        Method::POST,
        &format!("/api/v1/contacts/{a}/merge"),
        &token,
        Some(merge),
    )
    .await;
    let delete = json!({"action": "delete", "ids": [b]});
    c.api_ok(Method::POST, "/api/v1/contacts/bulk", &token, Some(delete))
        .await;
    // Tagging: two updates; the merge: one update, one delete; the bulk delete: one.
    rx.wait_for(5).await;
    settle().await;
    let got = rx.got();
    assert_eq!(got.len(), 5, "{got:?}");
    all_signed(&got);
    let seen: Vec<(String, i64)> = got
        .iter()
        .map(|g| {
            let b = g.json();
            (
                b["type"].as_str().unwrap().to_string(),
                b["data"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    for want in [
        ("contact.updated", a),
        ("contact.updated", b),
        ("contact.deleted", d),
        ("contact.deleted", b),
    ] {
        assert!(
            seen.contains(&(want.0.to_string(), want.1)),
            "{want:?} in {seen:?}"
        );
    }
    let tagged = got
        .iter()
        .map(Got::json)
        .find(|j| j["type"] == "contact.updated" && j["data"]["id"] == b)
        .unwrap();
    assert_eq!(
        tagged["data"]["tags"],
        json!(["vip"]),
        "the record after the change: {tagged}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

/// The README's Python verification snippet, as printed there.
fn readme_snippet() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```python\nimport hashlib, hmac, time")
        .expect("the README's snippet");
    let code = &readme[start + "```python\n".len()..];
    code[..code.find("```").unwrap()].to_string()
}

/// Runs the README's `verify` on a delivery; what it printed.
fn python_verifies(secret: &str, header: &str, body: &str) -> String {
    use std::io::Write;
    let script = format!(
        "{}\nimport json, sys\na = json.load(sys.stdin)\nprint(verify(a['secret'], a['header'], a['body'].encode()))\n",
        readme_snippet()
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let input = json!({"secret": secret, "header": header, "body": body}).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[actix_web::test]
async fn the_readme_snippet_verifies_a_real_delivery_and_refuses_another_secret() {
    let app = TestApp::new().await;
    let rx = Receiver::start().await;
    let (_, secret) = endpoint(&app, &rx.url, "json", &["company.created"]).await;
    let running = runner(&app.db, &Clock::system(), true);
    let (token, mut c) = app.api_client("admin").await;
    c.add_company(&token, "Zoë's Café").await;
    let got = rx.wait_for(1).await;
    let header = &got[0].headers["cairn-signature"];
    assert_eq!(python_verifies(&secret, header, &got[0].body), "True");
    assert_eq!(
        python_verifies("whsec_other", header, &got[0].body),
        "False"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}
