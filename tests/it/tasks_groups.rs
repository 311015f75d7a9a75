//! My tasks' groups by the viewer's time zone and day boundaries, with "now" given: the
//! same tasks fall in different groups for a user in Pacific/Auckland and one in
//! America/Los_Angeles, and cross into Overdue at the right instant.
use std::sync::Arc;

use cairn::domain::tasks::{self, Scope, TaskInput};
use cairn::domain::{Actor, tasks::Board};
use chrono::{DateTime, Utc};

use crate::support::*;

pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A task for `who`, due at `due_at` (RFC 3339) or on `due_date` (or never).
pub(crate) async fn task(
    app: &TestApp,
    who: &Actor,
    title: &str,
    due_at: Option<&str>,
    due_date: Option<&str>,
) {
    let input = TaskInput {
        title: title.into(),
        due_at: due_at.map(Into::into),
        due_date: due_date.map(Into::into),
        ..TaskInput::default()
    };
    tasks::create(&app.db, who, &input)
        .await
        .unwrap_or_else(|e| panic!("create task {title}: {e}"));
}

async fn board(app: &TestApp, who: &Actor, zone: &str, now: &str) -> Arc<Board> {
    let tz = tasks::due::zone(zone);
    tasks::board(&app.db, who, Scope::User(who.id), tz, at(now))
        .await
        .expect("My tasks")
}

fn titles(g: &tasks::GroupList) -> Vec<&str> {
    g.tasks.iter().map(|t| t.title.as_str()).collect()
}

/// At 2026-12-02T11:00Z it is already 3 December (00:00) in Auckland and still
/// 2 December (03:00) in Los Angeles.
const NOW: &str = "2026-12-02T11:00:00Z";

#[actix_web::test]
async fn a_date_only_task_is_overdue_in_auckland_and_today_in_los_angeles() {
    let app = TestApp::new().await;
    let nz = app.user("nz@example.com", "rep").await;
    let la = app.user("la@example.com", "rep").await;
    task(&app, &nz, "Send quote", None, Some("2026-12-02")).await;
    task(&app, &la, "Send quote", None, Some("2026-12-02")).await;
    let nz_board = board(&app, &nz, "Pacific/Auckland", NOW).await;
    let la_board = board(&app, &la, "America/Los_Angeles", NOW).await;
    assert_eq!(
        titles(&nz_board.overdue),
        ["Send quote"],
        "Auckland is past 2 Dec"
    );
    assert_eq!(
        titles(&la_board.today),
        ["Send quote"],
        "Los Angeles is on 2 Dec"
    );
}

#[actix_web::test]
async fn a_task_due_at_23_30_auckland_time_is_today_there_and_upcoming_in_los_angeles() {
    let app = TestApp::new().await;
    let manager = app.user("m@example.com", "manager").await;
    // 23:30 on 3 December in Auckland (UTC+13) is 10:30Z, 02:30 on 3 Dec in Los Angeles.
    task(
        &app,
        &manager,
        "Call Ana",
        Some("2026-12-03T10:30:00Z"),
        None,
    )
    .await;
    let nz = board(&app, &manager, "Pacific/Auckland", NOW).await;
    let la = board(&app, &manager, "America/Los_Angeles", NOW).await;
    assert_eq!(
        titles(&nz.today),
        ["Call Ana"],
        "due later on Auckland's today"
    );
    assert_eq!(
        titles(&la.upcoming),
        ["Call Ana"],
        "due on Los Angeles' tomorrow"
    );
}

#[actix_web::test]
async fn a_date_only_task_stays_today_until_local_midnight_then_is_overdue() {
    let app = TestApp::new().await;
    let nz = app.user("nz@example.com", "rep").await;
    task(&app, &nz, "Renewal", None, Some("2026-12-02")).await;
    let last_second = board(&app, &nz, "Pacific/Auckland", "2026-12-02T10:59:59Z").await;
    assert_eq!(
        titles(&last_second.today),
        ["Renewal"],
        "23:59:59 on its day"
    );
    let next_day = board(&app, &nz, "Pacific/Auckland", "2026-12-02T11:00:00Z").await;
    assert_eq!(titles(&next_day.overdue), ["Renewal"], "00:00 the next day");
}

#[actix_web::test]
async fn a_timed_task_is_overdue_once_its_time_has_passed() {
    let app = TestApp::new().await;
    let la = app.user("la@example.com", "rep").await;
    // 23:30 on 2 December in Los Angeles (UTC-8).
    task(&app, &la, "Email deck", Some("2026-12-03T07:30:00Z"), None).await;
    let before = board(&app, &la, "America/Los_Angeles", "2026-12-03T07:29:00Z").await;
    assert_eq!(titles(&before.today), ["Email deck"], "23:29 local");
    let after = board(&app, &la, "America/Los_Angeles", "2026-12-03T07:31:00Z").await;
    assert_eq!(titles(&after.overdue), ["Email deck"], "23:31 local");
}

#[actix_web::test]
async fn a_task_due_on_the_next_local_day_is_upcoming_until_midnight() {
    let app = TestApp::new().await;
    let la = app.user("la@example.com", "rep").await;
    task(&app, &la, "Demo", Some("2026-12-02T08:30:00Z"), None).await;
    // 23:59 on 1 December in Los Angeles, then 00:00 on 2 December; the task is at 00:30
    // on 2 December.
    let eve = board(&app, &la, "America/Los_Angeles", "2026-12-02T07:59:00Z").await;
    assert_eq!(titles(&eve.upcoming), ["Demo"], "the day before");
    let day = board(&app, &la, "America/Los_Angeles", "2026-12-02T08:00:00Z").await;
    assert_eq!(titles(&day.today), ["Demo"], "its day has begun");
}

#[actix_web::test]
async fn today_lists_the_days_date_only_tasks_before_its_timed_ones_and_undated_go_last() {
    let app = TestApp::new().await;
    let who = app.user("u@example.com", "rep").await;
    task(&app, &who, "At ten", Some("2026-12-02T10:00:00Z"), None).await;
    task(&app, &who, "Some time today", None, Some("2026-12-02")).await;
    task(&app, &who, "Tomorrow", None, Some("2026-12-03")).await;
    task(&app, &who, "Whenever", None, None).await;
    let b = board(&app, &who, "UTC", "2026-12-02T09:00:00Z").await;
    assert_eq!(titles(&b.today), ["Some time today", "At ten"]);
    assert_eq!(titles(&b.upcoming), ["Tomorrow", "Whenever"]);
}

#[actix_web::test]
async fn a_rep_sees_only_their_own_tasks_even_when_asking_for_everyone() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let other = app.user("other@example.com", "rep").await;
    task(&app, &other, "Not mine", None, Some("2026-12-02")).await;
    let b = tasks::board(&app.db, &rep, Scope::Everyone, chrono_tz::Tz::UTC, at(NOW))
        .await
        .unwrap();
    assert!(
        b.today.tasks.is_empty() && b.overdue.tasks.is_empty(),
        "{b:?}"
    );
}

#[actix_web::test]
async fn a_manager_sees_everyones_tasks() {
    let app = TestApp::new().await;
    let manager = app.user("m@example.com", "manager").await;
    let rep = app.user("rep@example.com", "rep").await;
    task(&app, &rep, "Rep's", None, Some("2026-12-02")).await;
    let b = tasks::board(
        &app.db,
        &manager,
        Scope::Everyone,
        chrono_tz::Tz::UTC,
        at("2026-12-02T09:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(titles(&b.today), ["Rep's"]);
}

#[actix_web::test]
async fn the_overdue_count_follows_the_users_zone() {
    let app = TestApp::new().await;
    let nz = app.user("nz@example.com", "rep").await;
    task(&app, &nz, "Yesterday's", None, Some("2026-12-02")).await;
    let count = |zone: &'static str| {
        let (db, nz) = (app.db.clone(), nz.clone());
        async move {
            db.forget_task_counts();
            tasks::overdue_count(&db, &nz, tasks::due::zone(zone), at(NOW))
                .await
                .unwrap()
        }
    };
    assert_eq!(count("Pacific/Auckland").await, 1, "3 Dec in Auckland");
    assert_eq!(
        count("America/Los_Angeles").await,
        0,
        "2 Dec in Los Angeles"
    );
}
