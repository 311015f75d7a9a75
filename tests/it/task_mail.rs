//! Task emails: "assigned to you" from someone else, the reminder at its time (and never
//! for a task completed, re-dated or reassigned meanwhile), date-only tasks at 09:00 in
//! the assignee's zone, preferences honoured, and the daily digest for those who opted in.
use std::time::Duration as StdDuration;

use cairn::domain::Actor;
use cairn::domain::tasks::{self, Task, TaskInput, TaskPatch, notices};
use cairn::entities::{job, outbox};
use cairn::jobs::{Clock, NewJob, queue};
use cairn::mail::prefs::{self, Prefs};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::email::runner;
use crate::email_server::*;
use crate::jobs::wait_for;
use crate::support::*;

async fn task_for(app: &TestApp, by: &Actor, to: &Actor, due_at: Option<DateTime<Utc>>) -> Task {
    tasks::create(
        &app.db,
        by,
        &TaskInput {
            title: "Call Ada back".into(),
            due_at: due_at.map(|t| t.to_rfc3339()),
            assignee_id: Some(to.id),
            ..Default::default()
        },
    )
    .await
    .expect("create the task")
}

/// The subjects of the emails queued for `user`, oldest first.
async fn subjects(app: &TestApp, user: &Actor) -> Vec<String> {
    outbox::Entity::find()
        .filter(outbox::Column::UserId.eq(user.id))
        .order_by_asc(outbox::Column::Id)
        .all(&app.db.read)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

async fn count_with(app: &TestApp, user: &Actor, what: &str) -> usize {
    subjects(app, user)
        .await
        .iter()
        .filter(|s| s.contains(what))
        .count()
}

/// The task's reminder jobs, in the order they were scheduled.
async fn reminders(app: &TestApp, task_id: i64) -> Vec<job::Model> {
    job::Entity::find()
        .filter(job::Column::Kind.eq(notices::REMIND))
        .filter(job::Column::IdempotencyKey.starts_with(format!("task-{task_id}:")))
        .order_by_asc(job::Column::Id)
        .all(&app.db.read)
        .await
        .unwrap()
}

async fn wait_done(app: &TestApp, j: &job::Model) {
    wait_for(&app.db, j.id, "done", |j| j.state == "done").await;
}

async fn with_lead(app: &TestApp, who: &Actor, lead: i32) {
    prefs::save(
        &app.db,
        who,
        &Prefs {
            task_due_lead_minutes: lead,
            ..Default::default()
        },
    )
    .await
    .expect("save the preferences");
}

#[actix_web::test]
async fn a_task_assigned_by_someone_else_emails_the_assignee_once() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    configure(&app.db, &admin, &test_server_url(), "", "Acme").await;
    let to = unique_address("assigned");
    let rep = app.user(&to, "rep").await;
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    let t = task_for(&app, &admin, &rep, None).await;
    let mail = wait_for_mail(&to, 1).await;
    let m = unfolded(&mail[0]);
    assert!(
        m.contains("Call Ada back") && m.contains("/tasks"),
        "the task in the email: {m}"
    );
    let patch = TaskPatch {
        title: Some("Call Ada back today".into()),
        ..Default::default()
    };
    tasks::update(&app.db, &admin, t.id, patch)
        .await
        .expect("retitle");
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(
        messages_to(&to).len(),
        1,
        "a change that keeps the assignee sends nothing"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_task_you_give_yourself_sends_no_assigned_email() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    task_for(&app, &rep, &rep, None).await;
    assert_eq!(
        count_with(&app, &rep, "assigned").await,
        0,
        "{:?}",
        subjects(&app, &rep).await
    );
}

#[actix_web::test]
async fn with_task_emails_turned_off_nothing_is_sent() {
    let app = TestApp::new().await;
    let admin = app.user("admin@example.com", "admin").await;
    let rep = app.user("rep@example.com", "rep").await;
    let off = Prefs {
        task_assigned: false,
        task_due: false,
        ..Default::default()
    };
    prefs::save(&app.db, &rep, &off)
        .await
        .expect("save preferences");
    let t = task_for(&app, &admin, &rep, Some(Utc::now() + Duration::hours(1))).await;
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    clock.advance(Duration::hours(2));
    wait_done(&app, &reminders(&app, t.id).await[0]).await;
    assert!(
        subjects(&app, &rep).await.is_empty(),
        "{:?}",
        subjects(&app, &rep).await
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn the_reminder_is_sent_its_lead_time_before_the_due() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    with_lead(&app, &rep, 30).await;
    let due = Utc::now() + Duration::hours(2);
    let t = task_for(&app, &rep, &rep, Some(due)).await;
    let jobs = reminders(&app, t.id).await;
    assert_eq!(jobs.len(), 1, "one reminder: {jobs:?}");
    let at = jobs[0].run_after.unwrap();
    let want = t.due_at.unwrap() - Duration::minutes(30);
    assert!(
        (at - want).num_seconds().abs() <= 1,
        "runs at {at}, not {want}"
    );
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    clock.advance(Duration::hours(1));
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(
        count_with(&app, &rep, "Task due").await,
        0,
        "not before its time"
    );
    clock.advance(Duration::minutes(45));
    wait_done(&app, &jobs[0]).await;
    assert_eq!(count_with(&app, &rep, "Task due: Call Ada back").await, 1);
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_completed_tasks_reminder_is_not_sent() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let t = task_for(&app, &rep, &rep, Some(Utc::now() + Duration::hours(1))).await;
    tasks::set_done(&app.db, &rep, t.id, true)
        .await
        .expect("complete it");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    clock.advance(Duration::hours(2));
    wait_done(&app, &reminders(&app, t.id).await[0]).await;
    assert_eq!(
        count_with(&app, &rep, "Task due").await,
        0,
        "{:?}",
        subjects(&app, &rep).await
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_redated_task_reminds_at_the_new_due_only() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let t = task_for(&app, &rep, &rep, Some(Utc::now() + Duration::hours(1))).await;
    let later = (Utc::now() + Duration::hours(3)).to_rfc3339();
    let patch = TaskPatch {
        due_at: Some(Some(later)),
        ..Default::default()
    };
    tasks::update(&app.db, &rep, t.id, patch)
        .await
        .expect("re-date");
    let jobs = reminders(&app, t.id).await;
    assert_eq!(jobs.len(), 2, "the old reminder and the new: {jobs:?}");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    clock.advance(Duration::hours(2));
    wait_done(&app, &jobs[0]).await;
    assert_eq!(
        count_with(&app, &rep, "Task due").await,
        0,
        "not at the old due"
    );
    clock.advance(Duration::hours(2));
    wait_done(&app, &jobs[1]).await;
    assert_eq!(
        count_with(&app, &rep, "Task due").await,
        1,
        "once at the new due"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_reassigned_tasks_reminder_goes_to_the_new_assignee_only() {
    let app = TestApp::new().await;
    let manager = app.user("manager@example.com", "manager").await;
    let (old, new) = (
        app.user("old@example.com", "rep").await,
        app.user("new@example.com", "rep").await,
    );
    let t = task_for(&app, &manager, &old, Some(Utc::now() + Duration::hours(1))).await;
    let patch = TaskPatch {
        assignee_id: Some(new.id),
        ..Default::default()
    };
    tasks::update(&app.db, &manager, t.id, patch)
        .await
        .expect("reassign");
    let jobs = reminders(&app, t.id).await;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    clock.advance(Duration::hours(2));
    for j in &jobs {
        wait_done(&app, j).await;
    }
    assert_eq!(
        count_with(&app, &old, "Task due").await,
        0,
        "{:?}",
        subjects(&app, &old).await
    );
    assert_eq!(
        count_with(&app, &new, "Task due").await,
        1,
        "{:?}",
        subjects(&app, &new).await
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_date_only_task_reminds_at_nine_in_the_assignees_zone() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    app.set_zone(&rep, "Pacific/Auckland").await;
    let tz: chrono_tz::Tz = "Pacific/Auckland".parse().unwrap();
    let date: NaiveDate = (Utc::now() + Duration::days(2))
        .with_timezone(&tz)
        .date_naive();
    let t = tasks::create(
        &app.db,
        &rep,
        &TaskInput {
            title: "Renew the lease".into(),
            due_date: Some(date.to_string()),
            ..Default::default()
        },
    )
    .await
    .expect("create the task");
    let jobs = reminders(&app, t.id).await;
    let at = jobs[0].run_after.unwrap().with_timezone(&tz);
    assert_eq!(
        (at.date_naive(), at.hour(), at.minute()),
        (date, 9, 0),
        "reminds at 09:00 in Auckland on the due date"
    );
    let clock = Clock::system();
    let running = runner(&app.db, &clock);
    clock.advance(Duration::days(3));
    wait_done(&app, &jobs[0]).await;
    assert_eq!(count_with(&app, &rep, "Task due: Renew the lease").await, 1);
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn the_digest_goes_once_a_day_to_those_who_asked_for_it() {
    let app = TestApp::new().await;
    let (keen, other) = (
        app.user("keen@example.com", "rep").await,
        app.user("other@example.com", "rep").await,
    );
    let digest = Prefs {
        daily_digest: true,
        ..Default::default()
    };
    prefs::save(&app.db, &keen, &digest).await.expect("opt in");
    // The clock at the next 08:30 UTC, the users' zone.
    let now = Utc::now();
    let target = cairn::jobs::schedule::next_daily(now, 8) + Duration::minutes(30);
    for who in [&keen, &other] {
        for (title, date) in [
            ("Overdue thing", target.date_naive() - Duration::days(1)),
            ("Today thing", target.date_naive()),
        ] {
            let input = TaskInput {
                title: title.into(),
                due_date: Some(date.to_string()),
                ..Default::default()
            };
            tasks::create(&app.db, who, &input)
                .await
                .expect("create a task");
        }
    }
    let clock = Clock::system();
    clock.advance(target - now);
    let running = runner(&app.db, &clock);
    for _ in 0..2 {
        let id = queue::enqueue(&app.db, &NewJob::new(notices::DIGEST, json!({})))
            .await
            .unwrap();
        wait_for(&app.db, id, "done", |j| j.state == "done").await;
    }
    assert_eq!(
        count_with(&app, &keen, "Your tasks: 1 overdue, 1 due today").await,
        1,
        "{:?}",
        subjects(&app, &keen).await
    );
    assert_eq!(
        count_with(&app, &other, "Your tasks").await,
        0,
        "not opted in"
    );
    assert!(running.finish(StdDuration::from_secs(5)).await);
}

#[actix_web::test]
async fn a_task_saved_already_overdue_gets_no_reminder() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let t = task_for(&app, &rep, &rep, Some(Utc::now() - Duration::hours(1))).await;
    assert!(
        reminders(&app, t.id).await.is_empty(),
        "no reminder for a past due"
    );
}
