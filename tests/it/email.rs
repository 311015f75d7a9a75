//! Email through a real SMTP server: both parts arrive with the right recipient and From;
//! a server that is down makes the job fail and retry, then the message arrives once;
//! without a server the message is held in the outbox.
use std::time::Duration as StdDuration;

use cairn::domain::Db;
use cairn::entities::outbox as row;
use cairn::jobs::{Clock, Options, Runner, Running, kinds};
use cairn::mail::content::{Content, Letter};
use cairn::mail::outbox::{self, NewEmail};
use chrono::Duration;
use sea_orm::{EntityTrait, TransactionTrait};

use crate::email_server::*;
use crate::jobs::wait_for;
use crate::support::*;

pub(crate) fn runner(db: &Db, clock: &Clock) -> Running {
    let options = Options {
        workers: 2,
        poll: StdDuration::from_millis(20),
        clock: clock.clone(),
        ..Default::default()
    };
    Runner::new(db.clone(), kinds::registry(), options).start()
}

/// Enqueues a deal-assigned email to `to` in a transaction of its own; its outbox id.
pub(crate) async fn enqueue(db: &Db, to: &str, key: &str) -> i64 {
    let tx = db.write.begin().await.unwrap();
    let email = NewEmail {
        user_id: None,
        to: to.into(),
        subject: "[Acme] Deal assigned to you: Big renewal".into(),
        letter: Letter {
            to_name: "Rita Rep".into(),
            content: Content::DealAssigned {
                deal_id: 42,
                title: "Big renewal".into(),
                by: "Ada Admin".into(),
            },
        },
        key: key.into(),
    };
    let id = outbox::enqueue(&tx, &email)
        .await
        .unwrap()
        .expect("a new message");
    tx.commit().await.unwrap();
    cairn::jobs::wake();
    id
}

pub(crate) async fn outbox_row(db: &Db, id: i64) -> row::Model {
    row::Entity::find_by_id(id)
        .one(&db.read)
        .await
        .unwrap()
        .expect("the outbox row")
}

/// The job that sends outbox message `id`.
async fn job_of(db: &Db, id: i64) -> i64 {
    use sea_orm::{ColumnTrait, QueryFilter};
    cairn::entities::job::Entity::find()
        .filter(cairn::entities::job::Column::IdempotencyKey.eq(format!("outbox-{id}")))
        .one(&db.read)
        .await
        .unwrap()
        .expect("the message's job")
        .id
}

#[actix_web::test]
async fn a_message_arrives_with_both_parts_the_recipient_and_the_from() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(
        &app.db,
        &admin,
        &test_server_url(),
        "Acme CRM <crm@acme.test>",
        "Acme",
    )
    .await;
    let to = unique_address("rita");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let id = enqueue(&app.db, &to, "arrives").await;
    let mail = wait_for_mail(&to, 1).await;
    let m = unfolded(&mail[0]);
    assert!(
        m.contains(&format!("X-Envelope-To: {to}")),
        "envelope recipient: {m}"
    );
    assert!(m.contains(&format!("To: {to}")), "To header: {m}");
    assert!(
        m.contains("From: \"Acme CRM\" <crm@acme.test>")
            || m.contains("From: Acme CRM <crm@acme.test>"),
        "From: {m}"
    );
    assert!(
        m.contains("multipart/alternative"),
        "two alternative parts: {m}"
    );
    assert!(
        m.contains("Content-Type: text/plain"),
        "a plain-text part: {m}"
    );
    assert!(m.contains("Content-Type: text/html"), "an HTML part: {m}");
    assert!(
        m.contains("Big renewal") && m.contains("/deals/42"),
        "the deal and its link: {m}"
    );
    assert!(m.contains("Acme"), "the organisation's name: {m}");
    let j = wait_for(&app.db, job_of(&app.db, id).await, "done", |j| {
        j.state == "done"
    })
    .await;
    assert_eq!(j.attempts, 1);
    let r = outbox_row(&app.db, id).await;
    assert_eq!(r.state, "sent", "{r:?}");
    assert!(
        r.sent_at.is_some()
            && r.server_reply
                .as_deref()
                .is_some_and(|s| s.starts_with("250")),
        "{r:?}"
    );
    assert!(
        r.html_body.is_some() && r.text_body.is_some(),
        "the bodies are kept: {r:?}"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_server_that_is_down_fails_the_job_which_retries_and_delivers_once() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(&app.db, &admin, &down_server_url(), "", "Acme").await;
    let to = unique_address("down");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let id = enqueue(&app.db, &to, "down-then-up").await;
    let job = job_of(&app.db, id).await;
    let failed = wait_for(&app.db, job, "failed", |j| j.state == "failed").await;
    assert_eq!(failed.attempts, 1);
    let error = failed.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("SMTP server at 127.0.0.1"),
        "the job says why: {error}"
    );
    let r = outbox_row(&app.db, id).await;
    assert_eq!((r.state.as_str(), r.attempts), ("failed", 1), "{r:?}");
    assert_eq!(
        r.last_error.as_deref(),
        Some(error.as_str()),
        "the outbox shows the error"
    );
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    let jobs_page = c.get("/settings/jobs").await.text();
    assert!(
        jobs_page.contains("email.send") && jobs_page.contains("SMTP server at 127.0.0.1"),
        "Settings → Jobs shows the failure"
    );
    assert!(
        messages_to(&to).is_empty(),
        "nothing arrived while the server was down"
    );
    // The server is back; the retry comes after the backoff.
    configure(&app.db, &admin, &test_server_url(), "", "Acme").await;
    clock.advance(Duration::hours(1));
    let done = wait_for(&app.db, job, "done", |j| j.state == "done").await;
    assert_eq!(done.attempts, 2, "delivered on the retry");
    assert_eq!(wait_for_mail(&to, 1).await.len(), 1);
    clock.advance(Duration::days(2));
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(messages_to(&to).len(), 1, "delivered exactly once");
    let r = outbox_row(&app.db, id).await;
    assert_eq!((r.state.as_str(), r.attempts), ("sent", 2), "{r:?}");
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn without_a_server_the_message_is_held_in_the_outbox() {
    let app = TestApp::new().await;
    let to = unique_address("held");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let id = enqueue(&app.db, &to, "held").await;
    wait_for(&app.db, job_of(&app.db, id).await, "done", |j| {
        j.state == "done"
    })
    .await;
    let r = outbox_row(&app.db, id).await;
    assert_eq!(r.state, "held", "{r:?}");
    assert!(
        r.text_body
            .as_deref()
            .is_some_and(|t| t.contains("Big renewal")),
        "rendered for reading: {r:?}"
    );
    assert!(messages_to(&to).is_empty());
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn the_same_key_makes_one_message() {
    let app = TestApp::new().await;
    let first = enqueue(&app.db, "a@example.com", "once").await;
    let email = NewEmail {
        user_id: None,
        to: "a@example.com".into(),
        subject: "again".into(),
        letter: Letter {
            to_name: "A".into(),
            content: Content::Test {
                requested_by: "A".into(),
            },
        },
        key: "once".into(),
    };
    assert_eq!(
        outbox::enqueue(&app.db.write, &email).await.unwrap(),
        None,
        "a second enqueue adds nothing"
    );
    assert_eq!(app.count("outbox").await, 1);
    assert_eq!(
        outbox_row(&app.db, first).await.subject,
        "[Acme] Deal assigned to you: Big renewal"
    );
}

#[test]
fn every_kind_of_message_renders_both_parts_with_the_organisation() {
    use cairn::mail::content::{Frame, TaskLine};
    let line = |id, title: &str| TaskLine {
        id,
        title: title.into(),
        due: "9 Dec 09:00".into(),
    };
    let all = [
        Content::Test {
            requested_by: "Ada <script>".into(),
        },
        Content::DealAssigned {
            deal_id: 7,
            title: "Deal <b>".into(),
            by: "Ada".into(),
        },
        Content::TaskAssigned {
            task_id: 8,
            title: "Call <i>".into(),
            by: "Ada".into(),
            due: Some("tomorrow".into()),
        },
        Content::TaskDue {
            task_id: 9,
            title: "Send quote".into(),
            due: "at 15:00".into(),
        },
        Content::Digest {
            date: "2026-12-09".into(),
            overdue: vec![line(1, "Late one")],
            today: vec![line(2, "Today's")],
        },
        Content::FormSubmitted {
            form: "Webinar <b>".into(),
            contact_id: 10,
            contact_name: "Ana <i>".into(),
            created: true,
        },
    ];
    let frame = Frame {
        org: "Acme & Co",
        base_url: "https://crm.acme.test",
        to_name: "Rita",
    };
    for c in all {
        let (html, text) = c.render(&frame).unwrap();
        assert!(
            html.contains("Acme &#38; Co") && text.contains("Acme & Co"),
            "the organisation in {c:?}"
        );
        assert!(
            html.contains("Hello Rita") && text.contains("Hello Rita"),
            "the greeting in {c:?}"
        );
        assert!(
            !html.contains("<script>") && !html.contains("<b>") && !html.contains("<i>"),
            "escaped HTML: {html}"
        );
        assert!(
            text.contains("https://crm.acme.test/"),
            "a link in the text part of {c:?}: {text}"
        );
        assert!(
            c.subject("Acme").starts_with("[Acme] "),
            "{}",
            c.subject("Acme")
        );
    }
}

#[actix_web::test]
async fn held_mail_goes_out_once_a_server_is_configured_and_an_admin_releases_it() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let to = unique_address("released");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let id = enqueue(&app.db, &to, "release").await;
    wait_for(&app.db, job_of(&app.db, id).await, "done", |j| {
        j.state == "done"
    })
    .await;
    assert_eq!(outbox_row(&app.db, id).await.state, "held");
    configure(&app.db, &admin, &test_server_url(), "", "Acme").await;
    let mut c = app.client().await;
    c.sign_in("admin@example.com", PASSWORD).await;
    let page = c.get("/settings/email").await.text();
    assert!(
        page.contains("Send the 1 held emails now"),
        "the page offers to send them"
    );
    c.post_form_ok("/settings/email/release-held", &[]).await;
    assert_eq!(wait_for_mail(&to, 1).await.len(), 1);
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert_eq!(outbox_row(&app.db, id).await.state, "sent");
    c.post_form_ok("/settings/email/release-held", &[]).await;
    tokio::time::sleep(StdDuration::from_millis(200)).await;
    assert_eq!(
        messages_to(&to).len(),
        1,
        "a sent message is not released again"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}
