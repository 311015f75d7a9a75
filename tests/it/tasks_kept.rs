//! My tasks boards kept under the `tasks` change counter: a kept board is served while
//! nothing it shows has changed, and is retired by a task write or a rename from any
//! process, and when a task changes group with the clock.
use std::sync::Arc;

use cairn::domain::Actor;
use cairn::domain::tasks::{self, Board, Scope, TaskInput};
use cairn::entities::change_counter;
use sea_orm::EntityTrait;

use crate::support::*;
use crate::tasks_groups::{at, task};

/// `who`'s own My tasks in UTC at `now`.
async fn board(app: &TestApp, who: &Actor, now: &str) -> Arc<Board> {
    tasks::board(&app.db, who, Scope::User(who.id), chrono_tz::UTC, at(now))
        .await
        .expect("My tasks")
}

fn titles(g: &tasks::GroupList) -> Vec<&str> {
    g.tasks.iter().map(|t| t.title.as_str()).collect()
}

async fn counter(app: &TestApp) -> i64 {
    change_counter::Entity::find_by_id("tasks")
        .one(&app.db.read)
        .await
        .unwrap()
        .expect("the tasks counter's row")
        .n
}

const NOW: &str = "2026-12-02T11:00:00Z";

#[actix_web::test]
async fn a_board_is_kept_under_the_counter_and_a_task_write_moves_it() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    task(&app, &rep, "Call Ana", None, None).await;
    board(&app, &rep, NOW).await;
    let before = counter(&app).await;
    let key = (Scope::User(rep.id), chrono_tz::UTC);
    assert!(
        app.db.task_boards.get(&key, before).is_some(),
        "the board built is kept under the counter it read"
    );
    task(&app, &rep, "Send the quote", None, None).await;
    assert!(counter(&app).await > before, "a new task moves the counter");
}

#[actix_web::test]
async fn a_task_added_by_another_process_shows_at_once() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    task(&app, &rep, "Call Ana", None, None).await;
    assert_eq!(titles(&board(&app, &rep, NOW).await.upcoming), ["Call Ana"]);
    let other = app.other_process().await;
    let input = TaskInput {
        title: "Send the quote".into(),
        ..TaskInput::default()
    };
    tasks::create(&other.db, &rep, &input)
        .await
        .expect("create elsewhere");
    assert_eq!(
        titles(&board(&app, &rep, NOW).await.upcoming),
        ["Call Ana", "Send the quote"],
        "the kept board was retired by the other process's write"
    );
}

#[actix_web::test]
async fn a_contact_renamed_by_another_process_is_renamed_on_a_kept_board() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    let token = app.token("rep@example.com").await;
    let mut c = app.client().await;
    let ana = c.add_contact(&token, "Ana", "Adeyemi", "ana@x.test").await;
    let input = TaskInput {
        title: "Call".into(),
        contact_id: Some(ana),
        ..TaskInput::default()
    };
    tasks::create(&app.db, &rep, &input).await.expect("create");
    let name = |b: Arc<Board>| b.upcoming.tasks[0].contact_name.clone();
    assert_eq!(
        name(board(&app, &rep, NOW).await).as_deref(),
        Some("Ana Adeyemi")
    );
    let other = app.other_process().await;
    exec(
        &other.db,
        &format!("UPDATE contacts SET first_name = 'Anna' WHERE id = {ana}"),
    )
    .await;
    assert_eq!(
        name(board(&app, &rep, NOW).await).as_deref(),
        Some("Anna Adeyemi"),
        "the rename retired the kept board"
    );
}

#[actix_web::test]
async fn a_kept_board_moves_a_timed_task_to_overdue_once_it_is_due() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    task(
        &app,
        &rep,
        "Call at 11:30",
        Some("2026-12-02T11:30:00Z"),
        None,
    )
    .await;
    let before = board(&app, &rep, NOW).await;
    assert_eq!(titles(&before.today), ["Call at 11:30"], "due later today");
    let after = board(&app, &rep, "2026-12-02T11:31:00Z").await;
    assert_eq!(
        (titles(&after.overdue), titles(&after.today)),
        (vec!["Call at 11:30"], vec![]),
        "overdue a minute after its time, though no task changed"
    );
}

#[actix_web::test]
async fn a_kept_board_turns_the_day_at_midnight() {
    let app = TestApp::new().await;
    let rep = app.user("rep@example.com", "rep").await;
    task(&app, &rep, "Renew Acme", None, Some("2026-12-03")).await;
    let before = board(&app, &rep, "2026-12-02T23:59:00Z").await;
    assert_eq!(titles(&before.upcoming), ["Renew Acme"], "tomorrow's");
    let after = board(&app, &rep, "2026-12-03T00:01:00Z").await;
    assert_eq!(
        titles(&after.today),
        ["Renew Acme"],
        "today's after midnight"
    );
}
