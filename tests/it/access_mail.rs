//! Record-level access and email: with "reps see only their own records" on, no email to
//! a rep names another rep's records (the daily digest lists what My tasks does; a task
//! about a record they may not see sends them nothing).
use std::time::Duration as StdDuration;

use cairn::domain::tasks::{self, TaskInput, notices};
use cairn::domain::{Actor, Role};
use cairn::entities::outbox;
use cairn::jobs::{Clock, NewJob, queue};
use cairn::mail::prefs::{self, Prefs};
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::access::{REP1, REP2, rule, world};
use crate::email::runner;
use crate::jobs::wait_for;
use crate::support::*;

fn rep(id: i64, email: &str) -> Actor {
    Actor {
        id,
        name: email.into(),
        email: email.into(),
        role: Role::Rep,
        ip: None,
    }
}

/// Everything queued for `user_id`: subjects and bodies.
async fn mail_to(app: &TestApp, user_id: i64) -> String {
    outbox::Entity::find()
        .filter(outbox::Column::UserId.eq(user_id))
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|m| format!("{}\n{}\n", m.subject, m.content))
        .collect()
}

#[actix_web::test]
async fn the_digest_names_no_task_about_another_rep_s_record() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let rep1 = rep(w.rep1_id, REP1);
    let digest = Prefs {
        daily_digest: true,
        ..Default::default()
    };
    prefs::save(&app.db, &rep1, &digest).await.expect("opt in");
    let now = Utc::now();
    let clock = Clock::system();
    clock.advance(cairn::jobs::schedule::next_daily(now, 8) + Duration::minutes(30) - now);
    let running = runner(&app.db, &clock);
    let id = queue::enqueue(&app.db, &NewJob::new(notices::DIGEST, json!({})))
        .await
        .unwrap();
    wait_for(&app.db, id, "done", |j| j.state == "done").await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
    let all = mail_to(&app, w.rep1_id).await;
    let mail = all.split("[Cairn] ").find(|m| m.starts_with("Your tasks"));
    let mail = mail.unwrap_or_else(|| panic!("a digest was sent: {all}"));
    assert!(mail.contains("Zebedee task"), "{mail}");
    assert!(!mail.contains("Quintessa"), "{mail}");
}

#[actix_web::test]
async fn a_task_about_another_rep_s_record_emails_its_assignee_nothing() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    rule(&app, true).await;
    let rep2 = rep(w.rep2_id, REP2);
    let before = mail_to(&app, w.rep1_id).await;
    let input = TaskInput {
        title: "Quintessa follow-up".into(),
        deal_id: Some(w.quin.deal),
        assignee_id: Some(w.rep1_id),
        due_at: Some((Utc::now() + Duration::hours(2)).to_rfc3339()),
        ..Default::default()
    };
    tasks::create(&app.db, &rep2, &input)
        .await
        .expect("the second rep makes the task");
    assert_eq!(
        mail_to(&app, w.rep1_id).await,
        before,
        "nothing more was queued"
    );
}
