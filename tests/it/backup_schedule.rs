//! The scheduled backup: Settings → Backups (admins) saves the schedule and plans the job;
//! the job writes the day's copy and keeps the last N. On PostgreSQL the page and the
//! setting point to pg_dump instead.
use std::path::Path;
use std::time::Duration as StdDuration;

use cairn::domain::backup::{self, schedule};
use cairn::jobs::clock::Clock;
use cairn::jobs::queue::{self, NewJob};
use cairn::jobs::{Options, Runner, kinds};
use chrono::{NaiveDate, Utc};
use serde_json::json;

use crate::backup::scratch;
use crate::jobs::wait_for;
use crate::support::*;

/// The copies in `dir`, oldest first.
fn copies(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("cairn-") && n.ends_with(".db"))
        .collect();
    names.sort();
    names
}

fn on(folder: &Path, keep: u32) -> schedule::Schedule {
    schedule::Schedule {
        enabled: true,
        time: "02:00".into(),
        folder: folder.display().to_string(),
        keep,
    }
}

#[actix_web::test]
async fn a_scheduled_run_writes_the_day_s_copy_and_keeps_the_last_n() {
    let app = TestApp::new().await;
    let dir = scratch("keep");
    for day in ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"] {
        std::fs::write(dir.join(format!("cairn-{day}.db")), "an older copy").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not a copy").unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let result = schedule::run_now(&app.db, &on(&dir, 3), day).await;
    if !app.db.is_sqlite() {
        let said = result.unwrap_err().to_string();
        assert!(said.contains("pg_dump"), "{said}");
        return;
    }
    let (file, removed) = result.unwrap();
    assert_eq!(removed, 2, "the two oldest went");
    assert_eq!(
        copies(&dir),
        [
            "cairn-2026-11-30.db",
            "cairn-2026-12-01.db",
            "cairn-2026-12-03.db"
        ]
    );
    assert!(dir.join("notes.txt").exists(), "other files stay");
    backup::check(&file)
        .await
        .expect("the day's copy is a whole Cairn database");
}

#[actix_web::test]
async fn an_admin_saves_the_schedule_and_the_next_run_is_planned() {
    let app = TestApp::new().await;
    let dir = scratch("page");
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/backups").await;
    let folder = dir.join("nightly").display().to_string();
    let fields = [
        ("enabled", "on"),
        ("time", "02:30"),
        ("folder", folder.as_str()),
        ("keep", "5"),
    ];
    let res = c.post_form("/settings/backups", &fields).await;
    if !app.db.is_sqlite() {
        assert_eq!(res.status, 400, "{}", res.text());
        assert!(res.text().contains("pg_dump"), "{}", res.text());
        let page = c.get("/settings/backups").await;
        assert!(
            page.text().contains("pg_dump --format=custom"),
            "the page says to use pg_dump"
        );
        return;
    }
    assert_eq!(res.status, 303, "{}", res.text());
    let page = c.get("/settings/backups").await.text();
    assert!(
        page.contains("02:30") && page.contains(&folder),
        "the page shows it: {page}"
    );
    assert_eq!(
        app.count_where("jobs", " WHERE kind = 'backup.scheduled'")
            .await,
        1,
        "one run planned"
    );
    assert!(Path::new(&folder).is_dir(), "the folder was made");
}

#[actix_web::test]
async fn a_bad_time_or_count_is_shown_on_the_form_and_a_manager_is_refused() {
    let app = TestApp::new().await;
    if !app.db.is_sqlite() {
        return assert_eq!(
            app.signed_in("m@example.com", "manager")
                .await
                .get("/settings/backups")
                .await
                .status,
            403
        );
    }
    let mut c = app.signed_in("admin@example.com", "admin").await;
    c.get("/settings/backups").await;
    let res = c
        .post_form(
            "/settings/backups",
            &[
                ("enabled", "on"),
                ("time", "25:00"),
                ("folder", "/tmp"),
                ("keep", "0"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    assert!(res.text().contains("HH:MM"), "{}", res.text());
    let mut m = app.signed_in("m@example.com", "manager").await;
    assert_eq!(m.get("/settings/backups").await.status, 403);
    m.get("/contacts").await;
    let res = m
        .post_form("/settings/backups", &[("time", "02:00"), ("keep", "3")])
        .await;
    assert_eq!(res.status, 403);
}

#[actix_web::test]
async fn the_job_queue_runs_the_planned_backup_and_plans_the_next() {
    let app = TestApp::new().await;
    if !app.db.is_sqlite() {
        return; // the setting is refused on PostgreSQL: see the test above.
    }
    let dir = scratch("job");
    let admin = app.user("admin@example.com", "admin").await;
    let form = schedule::Form {
        enabled: Some("on".into()),
        time: "02:00".into(),
        folder: dir.display().to_string(),
        keep: "2".into(),
    };
    schedule::save(&app.db, &admin, &form).await.unwrap();
    // The run planned for 02:00 today (UTC, the workspace's default zone), due now.
    let at = Utc::now()
        .date_naive()
        .and_hms_opt(2, 0, 0)
        .unwrap()
        .and_utc();
    let id = queue::enqueue(&app.db, &NewJob::new(schedule::JOB, json!({"at": at})))
        .await
        .unwrap();
    let options = Options {
        workers: 1,
        poll: StdDuration::from_millis(20),
        clock: Clock::system(),
        ..Default::default()
    };
    let running = Runner::new(app.db.clone(), kinds::registry(), options).start();
    wait_for(&app.db, id, "done", |j| j.state == "done").await;
    assert!(running.finish(StdDuration::from_secs(5)).await);
    assert_eq!(
        copies(&dir),
        [format!("cairn-{}.db", at.date_naive())],
        "today's copy"
    );
    let planned = app
        .count_where(
            "jobs",
            " WHERE kind = 'backup.scheduled' AND state = 'queued'",
        )
        .await;
    assert!(planned >= 1, "the next run is planned");
}
